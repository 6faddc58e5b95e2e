//! A key source backed by a key file that may be replaced while in service.
//!
//! The file is re-checked lazily, on the signing path, at most once per
//! check interval (time from the injectable clock). A new file is parsed
//! fully before it replaces the key in service, and the swap is one pointer
//! store: a signature is made either entirely with the old key or entirely
//! with the new one. A missing, partial or malformed file never takes the
//! old key out of service; the problem is reported as [`ReloadStatus::Failed`]
//! (from [`FileKey::reload`], [`FileKey::last_status`] and the optional
//! listener), and the next check tries again.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
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
    /// The file could not be read or parsed; the previous key stays in service.
    Failed {
        /// Why the file was not taken (an [`ErrorKind::Io`] or key error).
        error: Error,
        /// The `kid` of the key still in service.
        kept_kid: String,
    },
}

type Listener = Box<dyn Fn(&ReloadStatus) + Send + Sync>;

struct CheckState {
    next_check: SystemTime,
    /// SHA-256 of the file content last looked at (good or bad).
    seen: [u8; 32],
    last: ReloadStatus,
}

/// A private key read from a file (PEM, DER or private JWK) and re-read
/// when the file is replaced.
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

fn read_and_parse(path: &Path, backend: Backend) -> (Option<[u8; 32]>, Result<PrivateKey, Error>) {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let digest: [u8; 32] = Sha256::digest(&*bytes).into();
            let key = PrivateKey::from_bytes(&bytes).and_then(|k| k.with_backend(backend));
            (Some(digest), key)
        }
        Err(e) => (None, Err(Error::with_source(ErrorKind::Io, e))),
    }
}

impl FileKey {
    /// The default interval between two checks of the key file.
    pub const DEFAULT_CHECK_INTERVAL: Duration = DEFAULT_CHECK_INTERVAL;

    /// Opens the key file. The first load must succeed.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] if the file cannot be read; the key errors of
    /// [`PrivateKey::from_bytes`] if it does not hold a usable private key.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref().to_path_buf();
        let (digest, key) = read_and_parse(&path, Backend::default());
        let key = key?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Ok(Self {
            check: Mutex::new(CheckState {
                next_check: clock.now() + DEFAULT_CHECK_INTERVAL,
                seen: digest.unwrap_or_default(),
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

    /// Checks the file at most once per `interval` (default 10 s).
    pub fn with_check_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        let now = self.clock.now();
        self.lock_check().next_check = now + interval;
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
    /// key or fails (not for unchanged files).
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

    fn check_locked(&self, state: &mut CheckState) -> ReloadStatus {
        state.next_check = self.clock.now() + self.interval;
        let (digest, parsed) = read_and_parse(&self.path, self.backend);
        let status = match (digest, parsed) {
            (Some(d), _) if d == state.seen => match &state.last {
                // Same bytes as last time: same verdict, no re-parse.
                failed @ ReloadStatus::Failed { .. } => return failed.clone(),
                _ => ReloadStatus::Unchanged,
            },
            (digest, Ok(key)) => {
                let kid = key.kid().to_owned();
                let new = Arc::new(key);
                match self.current.write() {
                    Ok(mut k) => *k = new,
                    Err(poisoned) => *poisoned.into_inner() = new,
                }
                state.seen = digest.unwrap_or_default();
                ReloadStatus::Reloaded { kid }
            }
            (digest, Err(error)) => {
                // An unreadable file forgets the content seen before, so
                // that the same content coming back is looked at again
                // instead of repeating this failure.
                state.seen = digest.unwrap_or_default();
                ReloadStatus::Failed {
                    error,
                    kept_kid: PrivateKey::kid(&self.current()).to_owned(),
                }
            }
        };
        if !matches!(status, ReloadStatus::Unchanged) {
            match &status {
                ReloadStatus::Reloaded { kid } => crate::audit::key_reloaded(kid, &self.path),
                ReloadStatus::Failed { error, kept_kid } => {
                    crate::audit::key_reload_failed(error, kept_kid, &self.path)
                }
                ReloadStatus::Unchanged => {}
            }
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
