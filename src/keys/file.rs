//! A key source backed by a key file that may be replaced while in service.
//!
//! The file is re-checked lazily, on the signing path, at most once per
//! check interval (time from the injectable clock). A new file is parsed
//! fully before it replaces the key in service, and the swap is one pointer
//! store: a signature is made either entirely with the old key or entirely
//! with the new one. A missing, unreadable, partial or malformed file never
//! takes the old key out of service; the problem is reported as
//! [`ReloadStatus::Failed`] (from [`FileKey::reload`], [`FileKey::last_status`]
//! and the optional listener), and the next check tries again.
//!
//! When a changed file enters service (at once if its encoding is
//! self-checked, else once it has settled) is documented on [`FileKey`],
//! with the argument and its limit; the mechanism is in `settle.rs`.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use crate::algorithm::Algorithm;
use crate::backend::Backend;
use crate::error::Error;
use crate::keys::settle::{self, Admission, Settler};
use crate::keys::{KeyMetadata, KeySource, PrivateKey, PublicJwk};
use crate::time::{Clock, SystemClock};

/// The default interval between two checks of the key file.
pub(crate) const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(10);

/// The outcome of a check of the key file.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ReloadStatus {
    /// The file has not changed since the key in service was loaded.
    Unchanged,
    /// A new key was loaded and is now in service.
    Reloaded {
        /// The `kid` of the new key.
        kid: String,
    },
    /// The file holds a usable key in an encoding that is not self-checked,
    /// and has not yet stayed unchanged for the settle window (see the
    /// [`FileKey`](crate::FileKey#when-a-changed-file-enters-service));
    /// the previous key stays in service.
    Settling {
        /// The `kid` of the key still in service.
        kept_kid: String,
    },
    /// The file could not be read or parsed; the previous key stays in service.
    Failed {
        /// Why the file was not taken (an [`ErrorKind::Io`](crate::ErrorKind::Io) or key error).
        error: Error,
        /// The `kid` of the key still in service.
        kept_kid: String,
    },
}

type Listener = Box<dyn Fn(&ReloadStatus) + Send + Sync>;

struct CheckState {
    next_check: SystemTime,
    /// SHA-256 of the file content the key in service came from.
    in_service: [u8; 32],
    /// SHA-256 of the content last refused (not parsed again).
    refused: Option<[u8; 32]>,
    settler: Settler,
    window: Duration,
    last: ReloadStatus,
}

/// A private key read from a file (PEM, DER or private JWK) and re-read
/// when the file is replaced.
///
/// The file is checked lazily, on the signing path, at most once per check
/// interval; a new key replaces the old one in one pointer store. A
/// missing, unreadable, partial or malformed file never takes the key in
/// service out of service: the check reports [`ReloadStatus::Failed`] and
/// the next check tries again.
///
/// # When a changed file enters service
/// A file written in place (not through a rename) can be read half old,
/// half new, and for some encodings such a torn file is a valid key of its
/// own, a key nobody published: every assertion signed with it would be
/// refused (`unknown_key`). So a changed file enters service only when it
/// is known to be whole:
///
/// - **at once** if its encoding is *self-checked*: it carries redundancy a
///   torn file cannot satisfy. That is an RSA key in PKCS#1 or PKCS#8
///   (`n = p·q` and `d·e ≡ 1 mod p−1, q−1` are checked, the file's CRT
///   values are not used), an EC key whose SEC1 or PKCS#8 document embeds
///   its public key, an Ed25519 PKCS#8 v2 document (with its public key),
///   and a private JWK that names nothing but its key (no `alg`; no `kid`,
///   or its RFC 7638 thumbprint as `kid`; its public members are
///   required): the embedded public key must equal the one derived from
///   the private part. A torn file then parses as the old key, the new
///   key, or nothing.
/// - **once settled** otherwise (Ed25519 PKCS#8 v1, which OpenSSL writes
///   without the public key; an EC key without its public key; a JWK with
///   an `alg` or a `kid` of its own, which a torn file could pair with
///   another key): when two
///   checks at least the settle window apart (default
///   [`FileKey::DEFAULT_SETTLE_WINDOW`], 1 s, see
///   [`FileKey::with_settle_window`]) read the same bytes (SHA-256) with
///   the same file metadata (length, modification time, and on Unix inode
///   and change time). Meanwhile the status is [`ReloadStatus::Settling`]
///   and the previous key stays in service; the next check is due when the
///   window ends (or at the check interval, if that is sooner).
///
/// Why this is enough: a torn file exists only while a writer is between
/// two writes of the same file. Every write changes the file's change time,
/// so two reads that see the same bytes and the same metadata saw a file
/// nobody wrote in between. If the writer's pause between its writes is
/// shorter than the settle window, no two such reads can both fall inside
/// it, and the torn content is never admitted. The honest limit: a writer
/// that stops for longer than the window in the middle of a file that is
/// not self-checked (it crashed, or was suspended) leaves a stable file,
/// and if that torn file happens to be a valid key it is admitted, until
/// the writer finishes and the whole file settles in turn. Write key files
/// with a rename (as Kubernetes secret volumes and
/// [`FileKeyFactory`](crate::client::FileKeyFactory) do), or in a
/// self-checked encoding, and this cannot happen. On a file system whose
/// timestamps are coarse (FAT: 2 s) only the bytes tell writes apart.
///
/// [`FileKey::open`] has no previous key to keep: it takes the file as it
/// reads it.
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use client_assertion::{AssertionSigner, FileKey};
///
/// let key = FileKey::open("/var/run/secrets/client-key.pem")?
///     .with_check_interval(Duration::from_secs(30));
/// let signer = AssertionSigner::builder(Arc::new(key), "my-client", "https://as.example")
///     .build()?;
/// let assertion = signer.sign()?;
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct FileKey {
    path: PathBuf,
    interval: Duration,
    clock: Arc<dyn Clock>,
    current: RwLock<Arc<PrivateKey>>,
    check: Mutex<CheckState>,
    listener: Option<Listener>,
    backend: Backend,
}

impl FileKey {
    /// The default interval between two checks of the key file.
    pub const DEFAULT_CHECK_INTERVAL: Duration = DEFAULT_CHECK_INTERVAL;

    /// The default settle window of a file whose encoding is not
    /// self-checked (see the [type docs](FileKey#when-a-changed-file-enters-service)).
    pub const DEFAULT_SETTLE_WINDOW: Duration = settle::DEFAULT_SETTLE_WINDOW;

    /// Opens the key file. The first load must succeed.
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if the file cannot be read;
    /// the key errors of [`PrivateKey::from_bytes`] if it does not hold a
    /// usable private key.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let read = settle::read(&path)?;
        let (key, _) = settle::parse(&read, Backend::default())?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Ok(Self {
            check: Mutex::new(CheckState {
                next_check: clock.now() + DEFAULT_CHECK_INTERVAL,
                in_service: read.digest,
                refused: None,
                settler: Settler::default(),
                window: settle::DEFAULT_SETTLE_WINDOW,
                last: ReloadStatus::Unchanged,
            }),
            path,
            interval: DEFAULT_CHECK_INTERVAL,
            clock,
            current: RwLock::new(Arc::new(key)),
            listener: None,
            backend: Backend::default(),
        })
    }

    /// Checks the file at most once per `interval` (default 10 s; at most
    /// one day, a longer interval is taken as one day).
    pub fn with_check_interval(mut self, interval: Duration) -> Self {
        let interval = settle::bounded(interval);
        self.interval = interval;
        let now = self.clock.now();
        self.lock_check().next_check = now + interval;
        self
    }

    /// How long a changed file whose encoding is not self-checked must stay
    /// unchanged before it enters service (default
    /// [`FileKey::DEFAULT_SETTLE_WINDOW`], 1 s; see the
    /// [type docs](FileKey#when-a-changed-file-enters-service)). Choose it
    /// longer than any pause of the writer between two writes of the file.
    /// Zero admits such a file at the first check that reads it; at most
    /// one day (a longer window is taken as one day).
    pub fn with_settle_window(self, window: Duration) -> Self {
        self.lock_check().window = settle::bounded(window);
        self
    }

    /// Takes time from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        self.clock = clock;
        self.lock_check().next_check = now + self.interval;
        self
    }

    /// Calls `listener` with the outcome of every check that loads a new
    /// key or fails, and of the first check that finds a new file settling
    /// (not for unchanged files).
    pub fn with_listener(
        mut self,
        listener: impl Fn(&ReloadStatus) + Send + Sync + 'static,
    ) -> Self {
        self.listener = Some(Box::new(listener));
        self
    }

    /// Signs with `backend` (default [`Backend::RustCrypto`]); the key in
    /// service and every key loaded later are converted to it.
    ///
    /// # Errors
    /// As [`PrivateKey::with_backend`].
    pub fn with_backend(mut self, backend: Backend) -> Result<Self, Error> {
        let converted = self.current().clone_key().with_backend(backend)?;
        self.lock_check().settler.convert(backend)?;
        self.backend = backend;
        *self.current.get_mut().unwrap_or_else(|p| p.into_inner()) = Arc::new(converted);
        Ok(self)
    }

    /// The path of the key file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key in service now.
    pub fn current(&self) -> Arc<PrivateKey> {
        match self.current.read() {
            Ok(k) => Arc::clone(&k),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The outcome of the most recent check.
    pub fn last_status(&self) -> ReloadStatus {
        self.lock_check().last.clone()
    }

    /// Checks the file now, whatever the interval, and returns the outcome.
    pub fn reload(&self) -> ReloadStatus {
        let mut state = self.lock_check();
        self.check_locked(&mut state)
    }

    fn lock_check(&self) -> std::sync::MutexGuard<'_, CheckState> {
        self.check.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn kept_kid(&self) -> String {
        PrivateKey::kid(&self.current()).to_owned()
    }

    /// Reads the file and decides; `None` when the verdict repeats the last
    /// one (the same refused bytes, or the same content still settling).
    fn decide(&self, state: &mut CheckState, now: SystemTime) -> Option<ReloadStatus> {
        let read = match settle::read(&self.path) {
            Ok(read) => read,
            Err(error) => {
                // A missing or unreadable file keeps the key in force, and
                // forgets what was seen, so that a file coming back is
                // looked at afresh.
                state.settler.reset();
                state.refused = None;
                let kept_kid = self.kept_kid();
                return Some(ReloadStatus::Failed { error, kept_kid });
            }
        };
        if read.digest == state.in_service {
            state.settler.reset();
            state.refused = None;
            return Some(ReloadStatus::Unchanged);
        }
        if state.refused == Some(read.digest) {
            return None;
        }
        match state.settler.admit(&read, now, state.window, self.backend) {
            Admission::Admit(key) => {
                state.refused = None;
                let kid = PrivateKey::kid(&key).to_owned();
                match self.current.write() {
                    Ok(mut k) => *k = key,
                    Err(poisoned) => *poisoned.into_inner() = key,
                }
                state.in_service = read.digest;
                Some(ReloadStatus::Reloaded { kid })
            }
            Admission::Settling { started } => {
                state.refused = None;
                started.then(|| ReloadStatus::Settling {
                    kept_kid: self.kept_kid(),
                })
            }
            Admission::Refused(error) => {
                state.refused = Some(read.digest);
                let kept_kid = self.kept_kid();
                Some(ReloadStatus::Failed { error, kept_kid })
            }
        }
    }

    fn check_locked(&self, state: &mut CheckState) -> ReloadStatus {
        let now = self.clock.now();
        let decided = self.decide(state, now);
        state.next_check = match state.settler.due(state.window) {
            Some(due) => due.min(now + self.interval),
            None => now + self.interval,
        };
        let Some(status) = decided else {
            return state.last.clone();
        };
        match &status {
            ReloadStatus::Reloaded { kid } => crate::audit::key_reloaded(kid, &self.path),
            ReloadStatus::Failed { error, kept_kid } => {
                crate::audit::key_reload_failed(error, kept_kid, &self.path)
            }
            // No audit event says "settling"; it is transient, and the
            // listener and `last_status` show it.
            ReloadStatus::Unchanged | ReloadStatus::Settling { .. } => {}
        }
        if !matches!(status, ReloadStatus::Unchanged) {
            if let Some(listener) = &self.listener {
                listener(&status);
            }
        }
        state.last = status.clone();
        status
    }

    /// Runs a check if one is due and no other thread is running one.
    fn maybe_reload(&self) {
        let Ok(mut state) = self.check.try_lock() else {
            return;
        };
        if self.clock.now() >= state.next_check {
            self.check_locked(&mut state);
        }
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileKey")
            .field("path", &self.path)
            .field("interval", &self.interval)
            .field("current", &self.current())
            .finish_non_exhaustive()
    }
}

impl KeyMetadata for FileKey {
    fn algorithms(&self) -> &'static [Algorithm] {
        self.current().algorithms()
    }

    fn kid(&self) -> Cow<'_, str> {
        Cow::Owned(PrivateKey::kid(&self.current()).to_owned())
    }

    fn public_jwk(&self) -> PublicJwk {
        self.current().public_jwk()
    }
}

impl KeySource for FileKey {
    fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        self.current().sign(alg, signing_input)
    }

    fn snapshot(&self) -> Option<Arc<dyn KeySource>> {
        self.maybe_reload();
        Some(self.current())
    }
}
