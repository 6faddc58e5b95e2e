//! Platform-issued assertions (workload identity federation).
//!
//! Some platforms mint the client assertion for the workload: a Kubernetes
//! projected service-account token, the file named by
//! `AZURE_FEDERATED_TOKEN_FILE`, a CI provider's OIDC token written to a
//! file. The workload then holds no key at all; it presents the platform's
//! token as its `client_assertion`.
//!
//! [`TokenFileSource`] reads such a file and re-reads it when it is replaced
//! (a new inode, modification time or length: platforms replace the file
//! atomically) or when the token it holds is within `refresh_before` of its
//! `exp`. It never
//! presents an expired token: that is a typed [`ErrorKind::Expired`] error.
//! A file caught half-written keeps the previous token in use while that one
//! is still valid. The token is a bearer credential: `Debug` never prints it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::b64;
use crate::error::{Error, ErrorKind};
use crate::params::FormParams;
use crate::time::{unix_seconds, Clock, SystemClock};

/// The default margin before `exp` at which the file is read again.
pub(crate) const DEFAULT_REFRESH_BEFORE: Duration = Duration::from_secs(60);

/// A token minted by the platform, ready to present.
#[derive(Clone, PartialEq, Eq)]
pub struct PlatformToken {
    token: Arc<str>,
    expires_at: SystemTime,
}

impl PlatformToken {
    /// The compact JWT.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// Its `exp` claim.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// `client_assertion_type` and `client_assertion`, exactly as for an
    /// assertion signed by this crate.
    pub fn form_params(&self) -> FormParams {
        FormParams::client_authentication(&self.token)
    }
}

impl fmt::Debug for PlatformToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformToken")
            .field("token", &"[assertion elided]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The `exp` claim of a compact JWT, read without verifying it (the
/// platform signed it; the authorization server verifies it).
fn expiry_of(token: &str) -> Result<u64, Error> {
    let bad = |d| Error::detail(ErrorKind::Malformed, d);
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("the platform token is not a compact JWT"));
    };
    let claims = b64::decode(payload.as_bytes())
        .ok_or_else(|| bad("the platform token is not base64url"))?;
    #[derive(serde::Deserialize)]
    struct Exp {
        exp: Option<f64>,
    }
    let exp: Exp = serde_json::from_slice(&claims)
        .map_err(|_| bad("the platform token claims are not JSON"))?;
    match exp.exp {
        Some(e) if e.is_finite() && e > 0.0 => Ok(e.floor() as u64),
        _ => Err(Error::detail(
            ErrorKind::MissingClaim,
            "the platform token has no usable exp",
        )),
    }
}

/// Inode (a replaced file is a new one), modification time and length.
type Stamp = (u64, SystemTime, u64);

fn stamp_of(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some((inode, m.modified().ok()?, m.len()))
}

struct Cached {
    token: PlatformToken,
    exp: u64,
    /// What identifies the file version the token was read from.
    stamp: Option<Stamp>,
}

/// Reads a platform-minted token from a file, re-reading it when it changes
/// or nears its expiry.
///
/// ```no_run
/// use client_assertion::platform::TokenFileSource;
///
/// let source = TokenFileSource::azure_from_env()?; // AZURE_FEDERATED_TOKEN_FILE
/// let body = source.token()?.form_params().with_client_id("app-id").to_urlencoded();
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct TokenFileSource {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    refresh_before: Duration,
    cached: Mutex<Option<Cached>>,
}

impl TokenFileSource {
    /// The default margin before `exp` at which the file is read again.
    pub const DEFAULT_REFRESH_BEFORE: Duration = DEFAULT_REFRESH_BEFORE;

    /// A source reading `path` (read on first use).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            clock: Arc::new(SystemClock),
            refresh_before: DEFAULT_REFRESH_BEFORE,
            cached: Mutex::new(None),
        }
    }

    /// The file named by `AZURE_FEDERATED_TOKEN_FILE` (Azure workload identity).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] if the variable is not set.
    pub fn azure_from_env() -> Result<Self, Error> {
        Self::from_env("AZURE_FEDERATED_TOKEN_FILE")
    }

    /// The file named by the environment variable `var`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] if the variable is not set or empty.
    pub fn from_env(var: &str) -> Result<Self, Error> {
        match std::env::var_os(var) {
            Some(path) if !path.is_empty() => Ok(Self::new(PathBuf::from(path))),
            _ => Err(Error::detail(
                ErrorKind::InvalidConfig,
                "the token file environment variable is not set",
            )),
        }
    }

    /// Takes time from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Re-reads the file once the token is within `margin` of its `exp`
    /// (default [`TokenFileSource::DEFAULT_REFRESH_BEFORE`]).
    pub fn with_refresh_before(mut self, margin: Duration) -> Self {
        self.refresh_before = margin;
        self
    }

    /// The path of the token file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The token to present now.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] if the file cannot be read and no valid token is
    /// cached; [`ErrorKind::Malformed`] or [`ErrorKind::MissingClaim`] if it
    /// does not hold a JWT with an `exp`; [`ErrorKind::Expired`] if the
    /// newest token available has expired.
    pub fn token(&self) -> Result<PlatformToken, Error> {
        let now = unix_seconds(self.clock.now());
        let margin = self.refresh_before.as_secs();
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        let stamp = stamp_of(&self.path);
        let fresh = cached
            .as_ref()
            .is_some_and(|c| c.stamp == stamp && now.saturating_add(margin) < c.exp);
        if !fresh {
            match self.read(stamp) {
                Ok(new) => *cached = Some(new),
                Err(e) => {
                    // A missing or half-written file: keep a still-valid token.
                    if cached.as_ref().is_none_or(|c| now >= c.exp) {
                        return Err(e);
                    }
                }
            }
        }
        match cached.as_ref() {
            Some(c) if now < c.exp => Ok(c.token.clone()),
            _ => Err(Error::detail(
                ErrorKind::Expired,
                "the platform token has expired and the file holds no newer one",
            )),
        }
    }

    fn read(&self, stamp: Option<Stamp>) -> Result<Cached, Error> {
        let text = std::fs::read_to_string(&self.path)
            .map_err(|e| Error::with_source(ErrorKind::Io, e))?;
        let token = text.trim();
        let exp = expiry_of(token)?;
        Ok(Cached {
            token: PlatformToken {
                token: token.into(),
                expires_at: UNIX_EPOCH + Duration::from_secs(exp),
            },
            exp,
            stamp,
        })
    }
}

impl fmt::Debug for TokenFileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenFileSource")
            .field("path", &self.path)
            .field("refresh_before", &self.refresh_before)
            .finish_non_exhaustive()
    }
}
