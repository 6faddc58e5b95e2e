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
//! See [`DirectoryKeyRing`]: its docs are the user-facing text (this
//! module is private).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use super::{PublishedJwks, DEFAULT_ASSERTION_WINDOW};
use crate::algorithm::Algorithm;
use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::keys::settle::{self, Admission, Settler};
use crate::keys::{JwkSet, KeyMetadata, KeySource, PrivateKey, PublicJwk};
use crate::time::{unix_seconds, Clock, SystemClock};

struct FileEntry {
    /// SHA-256 of the content `key` came from (or was refused).
    digest: [u8; 32],
    activates_at: u64,
    key: Option<Arc<PrivateKey>>,
    error: Option<Error>,
    settler: Settler,
}

/// A key's rank: its activation time, then its file name.
type Rank = (u64, String);

struct View {
    active: Arc<PrivateKey>,
    /// The rank of the active key's file (kept when that file vanishes).
    rank: Rank,
    published: PublishedJwks,
    public: Vec<PublicJwk>,
}

struct Scan {
    files: BTreeMap<String, FileEntry>,
    next_check: std::time::SystemTime,
    problems: Vec<(PathBuf, Error)>,
    settling: Vec<PathBuf>,
}

/// How the ring reads its files.
#[derive(Clone, Copy)]
struct Settings {
    grace: Duration,
    window: Duration,
    backend: Backend,
}

/// A key ring over a directory of key files.
///
/// Every regular file not starting with `.` is a key file (PEM, DER or
/// private JWK); a name whose stem ends in `-<digits>`
/// (`key-1767225600.pem`) activates at that Unix time, any other at time 0.
/// Among the files that hold a usable key, the one with the latest
/// activation time not in the future is **active** (ties: the greatest file
/// name), those activating later are **next** (published), older ones are
/// **retired** (published until `grace` after their successor activated).
///
/// # Safety rules
/// - The directory is re-read lazily, at most once per check interval.
/// - A changed file enters service under the rule of
///   [`FileKey`](crate::FileKey#when-a-changed-file-enters-service): at
///   once if its encoding is self-checked, else once its bytes and metadata
///   stayed unchanged for the settle window
///   ([`DirectoryKeyRing::with_settle_window`], default 1 s; files waiting
///   are listed by [`DirectoryKeyRing::settling`]), while the file's
///   previous key (if any) stays in force.
/// - A file that cannot be read or parsed never takes down signing: a file
///   that held a good key keeps that key; a new bad file is ignored; both
///   are reported ([`DirectoryKeyRing::problems`]).
/// - The ring never falls back to a key of an earlier rank. If the active
///   key's file vanishes (an `rm` then a write), that key stays active and
///   published (reported as [`ErrorKind::KeyNotFound`] in the problems)
///   until a usable, settled file of a later rank, or a file of the same
///   name, takes over; a retired key that is no longer published never
///   signs again. To take a key out of service, put its successor in place.
///   This holds within one process: a ring opened while the active file is
///   missing starts from the files it finds.
/// - If no file yields a usable key (the directory vanished, every file is
///   bad), the key in service stays in service.
/// - Every regular file whose name does not start with `.` is a key file:
///   write a replacement under a temporary name starting with `.` (or
///   outside the directory) and rename it into place. A temporary
///   `key-<t>.pem.tmp` would count as a key of the same activation time,
///   ranked above `key-<t>.pem`, and its key would stay active after the
///   rename removed it.
///
/// The first read ([`DirectoryKeyRing::open`]) has no key to keep and takes
/// every file as it reads it.
pub struct DirectoryKeyRing {
    dir: PathBuf,
    interval: Duration,
    settings: Settings,
    clock: Arc<dyn Clock>,
    view: RwLock<Arc<View>>,
    scan: Mutex<Scan>,
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
            settling: Vec::new(),
        };
        std::fs::read_dir(&dir).map_err(|e| Error::with_source(ErrorKind::Io, e))?;
        let settings = Settings {
            grace: DEFAULT_ASSERTION_WINDOW,
            window: settle::DEFAULT_SETTLE_WINDOW,
            backend: Backend::default(),
        };
        // The first read has no key to keep: every file is taken as read.
        let first = Settings {
            window: Duration::ZERO,
            ..settings
        };
        let view = Self::rescan(&dir, &mut scan, clock.now(), first, None).ok_or_else(|| {
            Error::detail(
                ErrorKind::InvalidKey,
                "the key directory holds no usable key",
            )
        })?;
        Ok(Self {
            dir,
            interval: crate::keys::file::DEFAULT_CHECK_INTERVAL,
            settings,
            clock,
            view: RwLock::new(Arc::new(view)),
            scan: Mutex::new(scan),
        })
    }

    /// Re-reads the directory at most once per `interval` (at most one day,
    /// a longer interval is taken as one day).
    pub fn with_check_interval(mut self, interval: Duration) -> Self {
        self.interval = settle::bounded(interval);
        self
    }

    /// How long a superseded key stays published (default
    /// [`RotationPolicy::DEFAULT_ASSERTION_WINDOW`](crate::client::RotationPolicy::DEFAULT_ASSERTION_WINDOW)).
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.settings.grace = grace;
        self.reload();
        self
    }

    /// How long a changed file whose encoding is not self-checked must stay
    /// unchanged before its key is used (default
    /// [`FileKey::DEFAULT_SETTLE_WINDOW`](crate::FileKey::DEFAULT_SETTLE_WINDOW),
    /// 1 s; at most one day); the rule is that of [`FileKey`](crate::FileKey#when-a-changed-file-enters-service).
    pub fn with_settle_window(mut self, window: Duration) -> Self {
        self.settings.window = settle::bounded(window);
        self
    }

    /// Signs with `backend` (default [`Backend::RustCrypto`]): every key read
    /// so far is converted, then the directory is read again.
    ///
    /// # Errors
    /// As [`PrivateKey::with_backend`].
    pub fn with_backend(mut self, backend: Backend) -> Result<Self, Error> {
        let convert = |k: &Arc<PrivateKey>| k.clone_key().with_backend(backend).map(Arc::new);
        let active = {
            let mut scan = self.scan.lock().unwrap_or_else(|p| p.into_inner());
            let previous = self.current();
            let mut active = None;
            for entry in scan.files.values_mut() {
                entry.settler.convert(backend)?;
                if let Some(key) = &entry.key {
                    let converted = convert(key)?;
                    if Arc::ptr_eq(key, &previous.active) {
                        active = Some(converted.clone());
                    }
                    entry.key = Some(converted);
                }
            }
            match active {
                Some(a) => a,
                None => convert(&previous.active)?,
            }
        };
        self.settings.backend = backend;
        let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
        *view = Arc::new(View {
            active,
            rank: view.rank.clone(),
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

    /// The files whose changed content holds a usable key that is not yet
    /// in use because it has not settled (see
    /// [`DirectoryKeyRing::with_settle_window`]), as of the last read.
    pub fn settling(&self) -> Vec<PathBuf> {
        self.scan
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .settling
            .clone()
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
        let previous = self.current();
        let view = Self::rescan(&self.dir, scan, now, self.settings, Some(&previous));
        scan.next_check = scan
            .files
            .values()
            .filter_map(|f| f.settler.due(self.settings.window))
            .fold(now + self.interval, SystemTime::min);
        if let Some(view) = view {
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
        now: SystemTime,
        settings: Settings,
        previous: Option<&View>,
    ) -> Option<View> {
        read_files(dir, scan, now, settings)?;
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
        let gone = previous.is_some_and(|p| !usable.iter().any(|(n, _, _)| **n == p.rank.1));
        let (active, rank) = choose_active(&usable, now_s, previous, gone)?;
        if gone && previous.is_some_and(|p| p.rank == rank) {
            scan.problems.push((
                dir.join(&rank.1),
                Error::detail(
                    ErrorKind::KeyNotFound,
                    "the active key's file is gone or holds no usable key yet; the key stays active",
                ),
            ));
        }
        let public = published_keys(&usable, &active, rank.0, now_s, settings.grace);
        let published = PublishedJwks::new(
            &JwkSet::from_keys(public.iter().cloned()),
            previous.map(|p| &p.published),
        );
        Some(View {
            active,
            rank,
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
fn read_files(dir: &Path, scan: &mut Scan, now: SystemTime, settings: Settings) -> Option<()> {
    scan.problems.clear();
    scan.settling.clear();
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
        let fresh = read_file(&path, &name, old, now, settings);
        if let Some(e) = &fresh.error {
            scan.problems.push((path.clone(), e.clone()));
        }
        if fresh.settler.due(settings.window).is_some() {
            scan.settling.push(path);
        }
        seen.insert(name, fresh);
    }
    scan.files = seen;
    Some(())
}

/// The entry for the key file `name` at `path`: `old` itself if the
/// contents are unchanged; else the new content's key if it is admitted
/// (see [`settle`]); else `old`'s key, with the error if the content was
/// refused, or its digest kept if the content is settling (so that the next
/// read looks at it again).
fn read_file(
    path: &Path,
    name: &str,
    old: Option<FileEntry>,
    now: SystemTime,
    settings: Settings,
) -> FileEntry {
    let (old_digest, kept, old_error, mut settler) = match old {
        Some(old) => (old.digest, old.key, old.error, old.settler),
        None => ([0; 32], None, None, Settler::default()),
    };
    let entry = |digest, key, error, settler| FileEntry {
        digest,
        activates_at: activation_of(name),
        key,
        error,
        settler,
    };
    let read = match settle::read(path) {
        Ok(read) => read,
        Err(e) => return entry([0; 32], kept, Some(e), Settler::default()),
    };
    if read.digest == old_digest {
        // Unchanged: the same key, or the same refusal.
        return entry(old_digest, kept, old_error, Settler::default());
    }
    match settler.admit(&read, now, settings.window, settings.backend) {
        Admission::Admit(key) => entry(read.digest, Some(key), None, settler),
        Admission::Settling { .. } => entry(old_digest, kept, None, settler),
        Admission::Refused(e) => entry(read.digest, kept, Some(e), settler),
    }
}

/// The key in service and its rank: the usable key with the latest
/// activation time not after `now_s` (ties: the greatest file name); if
/// none has activated yet, the previous active key, else the one that
/// activates first. When the previous active key's file is gone
/// (`previous_gone`), it stays active unless a key of a later rank is there:
/// the ring never falls back to an earlier key.
fn choose_active(
    usable: &[Usable<'_>],
    now_s: u64,
    previous: Option<&View>,
    previous_gone: bool,
) -> Option<(Arc<PrivateKey>, Rank)> {
    let ranked = |(n, f, k): &Usable<'_>| (Arc::clone(k), (f.activates_at, (*n).clone()));
    let previous = previous.map(|p| (p.active.clone(), p.rank.clone()));
    let best = usable
        .iter()
        .filter(|(_, f, _)| f.activates_at <= now_s)
        .max_by(|a, b| (a.1.activates_at, a.0).cmp(&(b.1.activates_at, b.0)))
        .map(ranked);
    match (best, previous) {
        (Some(best), Some(p)) if previous_gone && best.1 < p.1 => Some(p),
        (Some(best), _) => Some(best),
        (None, Some(p)) => Some(p),
        (None, None) => usable
            .iter()
            .min_by_key(|(n, f, _)| (f.activates_at, *n))
            .map(ranked),
    }
}

/// The public keys to publish: `active` (which activated at `active_at`)
/// first, then the next keys and the retired keys still within `grace` of
/// their successor's activation (one key per `kid` and key type).
fn published_keys(
    usable: &[Usable<'_>],
    active: &Arc<PrivateKey>,
    active_at: u64,
    now_s: u64,
    grace: Duration,
) -> Vec<PublicJwk> {
    let mut public = vec![active.public_jwk()];
    for (_, f, k) in usable {
        let same = |p: &PublicJwk| p.kid() == k.kid() && p.key_type() == k.key_type();
        if Arc::ptr_eq(k, active) || public.iter().any(same) {
            continue;
        }
        let keep = if f.activates_at > now_s {
            true // next
        } else {
            // Retired: published until `grace` after its successor activated.
            // The active key counts even when its file is gone.
            let superseded_at = usable
                .iter()
                .map(|(_, g, _)| g.activates_at)
                .chain([active_at])
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
