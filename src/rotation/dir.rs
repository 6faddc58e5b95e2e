//! A key ring read from a directory of key files (e.g. a mounted
//! Kubernetes secret), with states derived from file names and the clock.
//!
//! # How states are derived
//! Every regular file not starting with `.` is a key file (PEM, DER or
//! private JWK). A name whose stem ends in `-<digits>` (`key-1767225600.pem`)
//! activates at that Unix time; any other name activates at time 0. Then,
//! among the files that hold a usable key:
//!
//! - **active**: the one with the latest activation time not in the future
//!   (ties: the greatest file name);
//! - **next**: those whose activation time is in the future (published);
//! - **retired**: older ones, published until `grace` after the key that
//!   superseded them activated, then no longer published (delete them at
//!   leisure).
//!
//! [`FileKeyFactory`](super::FileKeyFactory) writes files named this way, so
//! a process that creates keys and another that only reads the directory
//! agree on the states.
//!
//! # Safety rules (as for the single-file source)
//! The directory is re-read lazily, at most once per check interval. A file
//! that cannot be read or parsed never takes down signing: a file that held
//! a good key keeps that key; a new bad file is ignored; both are reported
//! ([`DirectoryKeyRing::problems`]). If no file yields a usable key (the
//! directory vanished, every file is bad), the key in service stays in
//! service.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{PublishedJwks, DEFAULT_ASSERTION_WINDOW};
use crate::algorithm::Algorithm;
use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::keys::{JwkSet, KeyMetadata, KeySource, PrivateKey, PublicJwk};
use crate::time::{unix_seconds, Clock, SystemClock};

struct FileEntry {
    digest: [u8; 32],
    activates_at: u64,
    key: Option<Arc<PrivateKey>>,
    error: Option<Error>,
}

struct View {
    active: Arc<PrivateKey>,
    published: PublishedJwks,
    public: Vec<PublicJwk>,
}

struct Scan {
    files: BTreeMap<String, FileEntry>,
    next_check: std::time::SystemTime,
    problems: Vec<(PathBuf, Error)>,
}

/// A key ring over a directory of key files; see the module docs for how
/// each file's state is derived.
pub struct DirectoryKeyRing {
    dir: PathBuf,
    interval: Duration,
    grace: Duration,
    clock: Arc<dyn Clock>,
    view: RwLock<Arc<View>>,
    scan: Mutex<Scan>,
    backend: Backend,
}

fn activation_of(name: &str) -> u64 {
    let stem = name.split('.').next().unwrap_or(name);
    match stem.rsplit_once('-') {
        Some((_, digits)) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse().unwrap_or(0)
        }
        _ => 0,
    }
}

impl DirectoryKeyRing {
    /// Reads `dir` (system clock, 10 s check interval, grace
    /// [`RotationPolicy::DEFAULT_ASSERTION_WINDOW`](crate::client::RotationPolicy::DEFAULT_ASSERTION_WINDOW)).
    ///
    /// # Errors
    /// [`ErrorKind::Io`] if the directory cannot be read;
    /// [`ErrorKind::InvalidKey`] if it holds no usable key.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with(dir, Arc::new(SystemClock))
    }

    /// Reads `dir` with time from `clock`.
    ///
    /// # Errors
    /// As [`DirectoryKeyRing::open`].
    pub fn open_with(dir: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        let dir = dir.as_ref().to_path_buf();
        let mut scan = Scan {
            files: BTreeMap::new(),
            next_check: clock.now(),
            problems: Vec::new(),
        };
        std::fs::read_dir(&dir).map_err(|e| Error::with_source(ErrorKind::Io, e))?;
        let grace = DEFAULT_ASSERTION_WINDOW;
        let view = Self::rescan(
            &dir,
            &mut scan,
            clock.now(),
            grace,
            None,
            Backend::default(),
        )
        .ok_or_else(|| {
            Error::detail(
                ErrorKind::InvalidKey,
                "the key directory holds no usable key",
            )
        })?;
        Ok(Self {
            dir,
            interval: crate::keys::file::DEFAULT_CHECK_INTERVAL,
            grace,
            clock,
            view: RwLock::new(Arc::new(view)),
            scan: Mutex::new(scan),
            backend: Backend::default(),
        })
    }

    /// Re-reads the directory at most once per `interval`.
    pub fn with_check_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// How long a superseded key stays published (default
    /// [`RotationPolicy::DEFAULT_ASSERTION_WINDOW`](crate::client::RotationPolicy::DEFAULT_ASSERTION_WINDOW)).
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self.reload();
        self
    }

    /// Signs with `backend` (default [`Backend::RustCrypto`]): every key file
    /// is read again and converted.
    ///
    /// # Errors
    /// As [`PrivateKey::with_backend`] for the key in service.
    pub fn with_backend(mut self, backend: Backend) -> Result<Self, Error> {
        self.backend = backend;
        let active = self.current().active.clone_key().with_backend(backend)?;
        {
            let mut scan = self.scan.lock().unwrap_or_else(|p| p.into_inner());
            scan.files.clear();
        }
        let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
        *view = Arc::new(View {
            active: Arc::new(active),
            published: view.published.clone(),
            public: view.public.clone(),
        });
        drop(view);
        self.reload();
        Ok(self)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Re-reads the directory now; returns the problems found (files that
    /// could not be read or parsed), which are also kept for
    /// [`DirectoryKeyRing::problems`].
    pub fn reload(&self) -> Vec<(PathBuf, Error)> {
        let mut scan = self.scan.lock().unwrap_or_else(|p| p.into_inner());
        self.reload_locked(&mut scan);
        scan.problems.clone()
    }

    /// The problems found by the last read of the directory.
    pub fn problems(&self) -> Vec<(PathBuf, Error)> {
        self.scan
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .problems
            .clone()
    }

    /// The published JWK Set (next, active and retired keys) with its ETag.
    pub fn jwks(&self) -> PublishedJwks {
        self.current().published.clone()
    }

    fn current(&self) -> Arc<View> {
        self.view.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn reload_locked(&self, scan: &mut Scan) {
        let now = self.clock.now();
        scan.next_check = now + self.interval;
        let previous = self.current();
        if let Some(view) = Self::rescan(
            &self.dir,
            scan,
            now,
            self.grace,
            Some(&previous),
            self.backend,
        ) {
            if view.active.kid() != previous.active.kid() {
                crate::audit::key_activated(&view.active.kid());
            }
            *self.view.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(view);
        }
    }

    fn maybe_reload(&self) {
        let Ok(mut scan) = self.scan.try_lock() else {
            return;
        };
        if self.clock.now() >= scan.next_check {
            self.reload_locked(&mut scan);
        }
    }

    /// Reads the directory into `scan` and derives the view; `None` when no
    /// usable key exists (the caller keeps the previous view).
    fn rescan(
        dir: &Path,
        scan: &mut Scan,
        now: std::time::SystemTime,
        grace: Duration,
        previous: Option<&View>,
        backend: Backend,
    ) -> Option<View> {
        read_files(dir, scan, backend)?;
        let now_s = unix_seconds(now);
        let usable: Vec<Usable<'_>> = scan
            .files
            .iter()
            .filter_map(|(n, f)| f.key.as_ref().map(|k| (n, f, k)))
            .collect();
        if usable.is_empty() {
            scan.problems.push((
                dir.to_path_buf(),
                Error::detail(
                    ErrorKind::InvalidKey,
                    "the key directory holds no usable key",
                ),
            ));
            return None;
        }
        let active = choose_active(&usable, now_s, previous)?;
        let public = published_keys(&usable, &active, now_s, grace);
        let published = PublishedJwks::new(
            &JwkSet::from_keys(public.iter().cloned()),
            previous.map(|p| &p.published),
        );
        Some(View {
            active,
            published,
            public,
        })
    }

    fn active(&self) -> Arc<PrivateKey> {
        self.maybe_reload();
        self.current().active.clone()
    }
}

/// A file that holds a usable key: its name, its entry and the key.
type Usable<'a> = (&'a String, &'a FileEntry, &'a Arc<PrivateKey>);

/// Reads every key file in `dir` into `scan.files` (clearing and refilling
/// `scan.problems`); `None` if the directory itself cannot be read (then
/// `scan.files` is left as it was).
fn read_files(dir: &Path, scan: &mut Scan, backend: Backend) -> Option<()> {
    scan.problems.clear();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            scan.problems
                .push((dir.to_path_buf(), Error::with_source(ErrorKind::Io, e)));
            return None;
        }
    };
    let mut seen = BTreeMap::new();
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let path = entry.path();
        if name.starts_with('.') || !path.is_file() {
            continue;
        }
        let old = scan.files.remove(&name);
        let fresh = read_file(&path, &name, old, backend);
        if let Some(e) = &fresh.error {
            scan.problems.push((path, e.clone()));
        }
        seen.insert(name, fresh);
    }
    scan.files = seen;
    Some(())
}

/// The entry for the key file `name` at `path`: `old` itself if the
/// contents are unchanged, else the file parsed again; a file that cannot
/// be read or parsed keeps `old`'s key and records the error.
fn read_file(path: &Path, name: &str, old: Option<FileEntry>, backend: Backend) -> FileEntry {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => zeroize::Zeroizing::new(bytes),
        Err(e) => {
            return FileEntry {
                digest: [0; 32],
                activates_at: activation_of(name),
                key: old.and_then(|o| o.key),
                error: Some(Error::with_source(ErrorKind::Io, e)),
            }
        }
    };
    let digest: [u8; 32] = Sha256::digest(&*bytes).into();
    let kept = match old {
        Some(old) if old.digest == digest => return old,
        old => old.and_then(|o| o.key),
    };
    match PrivateKey::from_bytes(&bytes).and_then(|k| k.with_backend(backend)) {
        Ok(key) => FileEntry {
            digest,
            activates_at: activation_of(name),
            key: Some(Arc::new(key)),
            error: None,
        },
        Err(e) => FileEntry {
            digest,
            activates_at: activation_of(name),
            key: kept,
            error: Some(e),
        },
    }
}

/// The key in service: the usable key with the latest activation time not
/// after `now_s` (ties: the greatest file name); if none has activated yet,
/// the previous active key, else the one that activates first.
fn choose_active(
    usable: &[Usable<'_>],
    now_s: u64,
    previous: Option<&View>,
) -> Option<Arc<PrivateKey>> {
    usable
        .iter()
        .filter(|(_, f, _)| f.activates_at <= now_s)
        .max_by(|a, b| (a.1.activates_at, a.0).cmp(&(b.1.activates_at, b.0)))
        .map(|(_, _, k)| Arc::clone(k))
        .or_else(|| previous.map(|p| p.active.clone()))
        .or_else(|| {
            usable
                .iter()
                .min_by_key(|(n, f, _)| (f.activates_at, *n))
                .map(|(_, _, k)| Arc::clone(k))
        })
}

/// The public keys to publish: `active` first, then the next keys and the
/// retired keys still within `grace` of their successor's activation (one
/// key per kid).
fn published_keys(
    usable: &[Usable<'_>],
    active: &Arc<PrivateKey>,
    now_s: u64,
    grace: Duration,
) -> Vec<PublicJwk> {
    let mut public = vec![active.public_jwk()];
    for (_, f, k) in usable {
        if Arc::ptr_eq(k, active) || public.iter().any(|p| p.kid() == k.kid()) {
            continue;
        }
        let keep = if f.activates_at > now_s {
            true // next
        } else {
            // Retired: published until `grace` after its successor activated.
            let superseded_at = usable
                .iter()
                .map(|(_, g, _)| g.activates_at)
                .filter(|t| *t <= now_s && *t > f.activates_at)
                .min()
                .unwrap_or(now_s);
            now_s < superseded_at.saturating_add(grace.as_secs())
        };
        if keep {
            public.push(k.public_jwk());
        }
    }
    public
}

impl fmt::Debug for DirectoryKeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectoryKeyRing")
            .field("dir", &self.dir)
            .field("active", &self.current().active)
            .finish_non_exhaustive()
    }
}

impl KeyMetadata for DirectoryKeyRing {
    fn algorithms(&self) -> &'static [Algorithm] {
        self.active().algorithms()
    }

    fn kid(&self) -> Cow<'_, str> {
        Cow::Owned(PrivateKey::kid(&self.active()).to_owned())
    }

    fn public_jwk(&self) -> PublicJwk {
        self.active().public_jwk()
    }

    fn published_jwks(&self) -> Vec<PublicJwk> {
        self.maybe_reload();
        self.current().public.clone()
    }
}

impl KeySource for DirectoryKeyRing {
    fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        self.active().sign(alg, signing_input)
    }

    fn snapshot(&self) -> Option<Arc<dyn KeySource>> {
        Some(self.active())
    }
}

#[cfg(test)]
mod tests {
    use super::activation_of;

    #[test]
    fn activation_times_come_from_names() {
        assert_eq!(activation_of("key-1767225600.pem"), 1_767_225_600);
        assert_eq!(activation_of("a-b-42.jwk.json"), 42);
        assert_eq!(activation_of("key.pem"), 0);
        assert_eq!(activation_of("key-x1.pem"), 0);
        assert_eq!(activation_of("key-.pem"), 0);
    }
}
