//! Key rotation without downtime, client side.
//!
//! A [`KeyRing`] holds each key in one state:
//!
//! - **next**: published in the JWK Set, not yet signing;
//! - **active**: signs (exactly one);
//! - **retired**: still published until its grace period ends, no longer
//!   signs; then removed.
//!
//! The [`RotationPolicy`] makes the timing rule explicit:
//!
//! ```text
//! lead_time >= the authorization server's JWK Set cache age
//!              (a server must have seen the next key before it signs)
//! grace     >= the assertion acceptance window
//!              (a retired key stays published while what it signed is accepted)
//! ```
//!
//! Every rotation decision takes its time from the injectable clock. The
//! ring is itself a [`KeySource`]: sign through it and the active key signs;
//! publish [`KeyRing::jwks`] at your `jwks_uri`, with its ETag.
//!
//! For keys managed outside the process (a mounted Kubernetes secret), see
//! [`DirectoryKeyRing`].

use std::borrow::Cow;
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use crate::algorithm::{Algorithm, KeyType};
use crate::b64;
use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::keys::{JwkSet, KeyMetadata, KeySource, PrivateKey, PublicJwk};
use crate::time::{unix_seconds, Clock};

mod dir;

pub use dir::DirectoryKeyRing;

/// The default assertion acceptance window a retired key must outlive: the
/// verifier's maximum lifetime (1 hour) plus its maximum leeway (5 minutes).
pub(crate) const DEFAULT_ASSERTION_WINDOW: Duration = Duration::from_secs(3900);

/// The state of a key in a ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyState {
    /// Published, not yet signing.
    Next,
    /// Signing.
    Active,
    /// Published until its grace period ends, no longer signing.
    Retired,
}

/// When keys rotate, and how long they are published around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationPolicy {
    period: Duration,
    lead_time: Duration,
    grace: Duration,
    server_cache_age: Option<Duration>,
    assertion_window: Duration,
}

impl RotationPolicy {
    /// The default assertion acceptance window a retired key must outlive: the
    /// verifier's maximum lifetime (1 hour) plus its maximum leeway (5 minutes).
    pub const DEFAULT_ASSERTION_WINDOW: Duration = DEFAULT_ASSERTION_WINDOW;

    /// Rotate every `period`. Defaults: the next key is published half a
    /// period before it activates, and a retired key stays published for
    /// [`RotationPolicy::DEFAULT_ASSERTION_WINDOW`].
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            lead_time: period / 2,
            grace: DEFAULT_ASSERTION_WINDOW,
            server_cache_age: None,
            assertion_window: DEFAULT_ASSERTION_WINDOW,
        }
    }

    /// How long before activation the next key is published.
    pub fn lead_time(mut self, lead: Duration) -> Self {
        self.lead_time = lead;
        self
    }

    /// How long a retired key stays published.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The longest time the authorization server caches your JWK Set; the
    /// lead time must be at least this.
    pub fn server_cache_age(mut self, age: Duration) -> Self {
        self.server_cache_age = Some(age);
        self
    }

    /// How long the server accepts an assertion after it was signed (its
    /// maximum lifetime plus leeway); the grace must be at least this.
    /// Default [`RotationPolicy::DEFAULT_ASSERTION_WINDOW`].
    pub fn assertion_window(mut self, window: Duration) -> Self {
        self.assertion_window = window;
        self
    }

    /// The rotation period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Checks the timing rules.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] when the period is zero, the lead time is
    /// zero or not shorter than the period, the lead time is shorter than the
    /// server cache age, or the grace is shorter than the assertion window.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        if self.period.is_zero() || self.lead_time.is_zero() {
            return bad("rotation period and lead time must be positive");
        }
        if self.lead_time >= self.period {
            return bad("the lead time must be shorter than the rotation period");
        }
        if self
            .server_cache_age
            .is_some_and(|age| self.lead_time < age)
        {
            return bad("the lead time is shorter than the server's JWK Set cache age");
        }
        if self.grace < self.assertion_window {
            return bad("the grace period is shorter than the assertion acceptance window");
        }
        Ok(())
    }
}

/// Creates the keys a [`KeyRing`] rotates to.
pub trait KeyFactory: fmt::Debug + Send + Sync {
    /// Creates a new key that will activate at `activates_at`.
    ///
    /// # Errors
    /// Whatever creating the key fails with; the ring keeps its current keys
    /// and retries later.
    fn create(&self, activates_at: SystemTime) -> Result<Arc<dyn KeySource>, Error>;
}

/// Creates fresh in-memory keys.
#[derive(Clone, Copy, Debug)]
pub struct MemoryKeyFactory {
    key_type: KeyType,
    alg: Option<Algorithm>,
    backend: Backend,
}

impl MemoryKeyFactory {
    /// Keys of `key_type` (RSA: 2048 bits).
    pub fn new(key_type: KeyType) -> Self {
        Self {
            key_type,
            alg: None,
            backend: Backend::default(),
        }
    }

    /// Signs with `backend` (default [`Backend::RustCrypto`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Restricts created keys to `alg` (e.g. PS256 for RSA).
    pub fn algorithm(mut self, alg: Algorithm) -> Self {
        self.alg = Some(alg);
        self
    }

    fn generate(&self) -> Result<PrivateKey, Error> {
        let key = PrivateKey::generate(self.key_type)?.with_backend(self.backend)?;
        match self.alg {
            Some(alg) => key.with_algorithm(alg),
            None => Ok(key),
        }
    }
}

impl KeyFactory for MemoryKeyFactory {
    fn create(&self, _activates_at: SystemTime) -> Result<Arc<dyn KeySource>, Error> {
        Ok(Arc::new(self.generate()?))
    }
}

/// Creates fresh keys and stores each as a PKCS#8 PEM file
/// `<dir>/key-<activation unix seconds>.pem`, written atomically (a
/// temporary file with mode `0600`, synced, then renamed), so that a
/// [`DirectoryKeyRing`] over the same directory derives the same states.
#[derive(Clone, Debug)]
pub struct FileKeyFactory {
    dir: PathBuf,
    keys: MemoryKeyFactory,
}

impl FileKeyFactory {
    /// Keys of `key_type`, stored in `dir` (which must exist).
    pub fn new(dir: impl Into<PathBuf>, key_type: KeyType) -> Self {
        Self {
            dir: dir.into(),
            keys: MemoryKeyFactory::new(key_type),
        }
    }

    /// Signs with `backend` (default [`Backend::RustCrypto`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.keys = self.keys.backend(backend);
        self
    }
}

impl KeyFactory for FileKeyFactory {
    fn create(&self, activates_at: SystemTime) -> Result<Arc<dyn KeySource>, Error> {
        let key = self.keys.generate()?;
        let pem = key.to_pkcs8_pem()?;
        let name = format!("key-{}.pem", unix_seconds(activates_at));
        write_secret_file(&self.dir.join(name), pem.as_bytes())?;
        Ok(Arc::new(key))
    }
}

/// Creates fresh non-extractable key pairs on a PKCS#11 token (feature
/// `pkcs11`), labelled `<prefix>-<activation unix seconds>`.
///
/// `builder` returns a [`Pkcs11KeyBuilder`](crate::keys::pkcs11::Pkcs11KeyBuilder)
/// selecting the module, token and PIN (read the PIN afresh there, e.g.
/// with `Pin::from_env`); the factory adds the label and generates.
#[cfg(feature = "pkcs11")]
pub struct Pkcs11KeyFactory {
    key_type: KeyType,
    label_prefix: String,
    builder: Box<dyn Fn() -> Result<crate::keys::pkcs11::Pkcs11KeyBuilder, Error> + Send + Sync>,
}

#[cfg(feature = "pkcs11")]
impl Pkcs11KeyFactory {
    /// Keys of `key_type` (RSA: 2048 bits) labelled `<label_prefix>-<unix time>`.
    pub fn new(
        key_type: KeyType,
        label_prefix: impl Into<String>,
        builder: impl Fn() -> Result<crate::keys::pkcs11::Pkcs11KeyBuilder, Error>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        Self {
            key_type,
            label_prefix: label_prefix.into(),
            builder: Box::new(builder),
        }
    }
}

#[cfg(feature = "pkcs11")]
impl fmt::Debug for Pkcs11KeyFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11KeyFactory")
            .field("key_type", &self.key_type)
            .field("label_prefix", &self.label_prefix)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "pkcs11")]
impl KeyFactory for Pkcs11KeyFactory {
    fn create(&self, activates_at: SystemTime) -> Result<Arc<dyn KeySource>, Error> {
        let label = format!("{}-{}", self.label_prefix, unix_seconds(activates_at));
        let key = (self.builder)()?.key_label(label).generate(self.key_type)?;
        Ok(Arc::new(key))
    }
}

/// Writes `bytes` to `path` atomically with owner-only permissions.
pub(crate) fn write_secret_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |e| Error::with_source(ErrorKind::Io, e);
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("key");
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// A published JWK Set document with its validator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedJwks {
    json: Arc<str>,
    etag: String,
    version: u64,
}

impl PublishedJwks {
    fn new(set: &JwkSet, previous: Option<&PublishedJwks>) -> Self {
        let json = set.to_json();
        if let Some(p) = previous {
            if *p.json == *json {
                return p.clone();
            }
        }
        let digest = Sha256::digest(json.as_bytes());
        Self {
            etag: format!("\"{}\"", b64::encode(&digest[..16])),
            json: json.into(),
            version: previous.map_or(1, |p| p.version + 1),
        }
    }

    /// The JWK Set as JSON bytes, to serve at `jwks_uri`.
    pub fn as_bytes(&self) -> &[u8] {
        self.json.as_bytes()
    }

    /// The JWK Set as JSON text.
    pub fn as_str(&self) -> &str {
        &self.json
    }

    /// A strong HTTP ETag (quoted), derived from the content: it changes
    /// exactly when the content changes.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// A counter that increases by one each time the content changes.
    pub fn version(&self) -> u64 {
        self.version
    }
}

struct Slot {
    key: Arc<dyn KeySource>,
    kid: String,
    /// When the key activates (next) or activated (active, retired).
    activated_at: SystemTime,
    /// For retired keys: when they stop being published.
    retire_until: SystemTime,
}

impl Slot {
    fn new(key: Arc<dyn KeySource>, activates_at: SystemTime) -> Self {
        Self {
            kid: key.kid().into_owned(),
            key,
            activated_at: activates_at,
            retire_until: activates_at,
        }
    }
}

struct Ring {
    active: Option<Slot>,
    next: Option<Slot>,
    retired: Vec<Slot>,
    published: PublishedJwks,
    /// Nothing to do before this instant.
    next_event: SystemTime,
    last_error: Option<Error>,
    /// The public key of the most recent active key.
    last_public: PublicJwk,
}

/// A rotating set of keys with exactly one active signer.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use client_assertion::{AssertionSigner, KeyType};
/// use client_assertion::client::{KeyRing, MemoryKeyFactory, RotationPolicy};
/// use client_assertion::time::ManualClock;
///
/// let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
/// let policy = RotationPolicy::new(Duration::from_secs(86_400))
///     .lead_time(Duration::from_secs(2 * 3600))
///     .server_cache_age(Duration::from_secs(3600));
/// let ring = Arc::new(KeyRing::new(policy, Arc::new(MemoryKeyFactory::new(KeyType::P256)), clock.clone())?);
/// let signer = AssertionSigner::builder(ring.clone(), "my-client", "https://as.example")
///     .clock(clock.clone())
///     .build()?;
/// let first = signer.sign()?.kid().to_owned();
///
/// // Two hours before the rotation the next key is published...
/// clock.advance(Duration::from_secs(22 * 3600));
/// ring.tick()?;
/// assert_eq!(signer.sign()?.kid(), first);
/// // ...and at the rotation it signs.
/// clock.advance(Duration::from_secs(2 * 3600));
/// ring.tick()?;
/// assert_ne!(signer.sign()?.kid(), first);
/// // The retired key is still published for its grace period.
/// assert!(ring.jwks().as_str().contains(&first));
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct KeyRing {
    policy: RotationPolicy,
    factory: Arc<dyn KeyFactory>,
    clock: Arc<dyn Clock>,
    ring: RwLock<Ring>,
}

/// How long to wait before retrying a failed key creation.
const RETRY_AFTER: Duration = Duration::from_secs(60);

impl KeyRing {
    /// A ring whose first active key is created now by `factory`.
    ///
    /// # Errors
    /// The policy's validation errors; the factory's errors.
    pub fn new(
        policy: RotationPolicy,
        factory: Arc<dyn KeyFactory>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let now = clock.now();
        let first = factory.create(now)?;
        Self::with_active(policy, factory, clock, first)
    }

    /// A ring whose active key is `active` (activated now).
    ///
    /// # Errors
    /// The policy's validation errors.
    pub fn with_active(
        policy: RotationPolicy,
        factory: Arc<dyn KeyFactory>,
        clock: Arc<dyn Clock>,
        active: Arc<dyn KeySource>,
    ) -> Result<Self, Error> {
        policy.validate()?;
        let now = clock.now();
        let last_public = active.public_jwk();
        let mut ring = Ring {
            published: PublishedJwks::new(&JwkSet::from_keys([last_public.clone()]), None),
            last_public,
            active: Some(Slot::new(active, now)),
            next: None,
            retired: Vec::new(),
            next_event: now,
            last_error: None,
        };
        ring.publish();
        let ring = Self {
            policy,
            factory,
            clock,
            ring: RwLock::new(ring),
        };
        ring.tick()?;
        Ok(ring)
    }

    /// The policy.
    pub fn policy(&self) -> &RotationPolicy {
        &self.policy
    }

    /// Performs every transition that is due now: drops retired keys past
    /// their grace, creates the next key `lead_time` before the rotation,
    /// promotes it at the rotation. Signing through the ring calls this
    /// lazily; call it from a timer to keep key creation (slow for RSA) off
    /// the signing path.
    ///
    /// # Errors
    /// The factory's error when a key could not be created (the ring keeps
    /// its keys and retries after a minute).
    pub fn tick(&self) -> Result<(), Error> {
        let now = self.clock.now();
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        self.advance(&mut ring, now)
    }

    fn advance(&self, ring: &mut Ring, now: SystemTime) -> Result<(), Error> {
        let p = &self.policy;
        let mut changed = false;
        let before = ring.retired.len();
        ring.retired.retain(|s| s.retire_until > now);
        changed |= ring.retired.len() != before;

        let mut result = Ok(());
        let rotation_at = ring.active.as_ref().map(|a| a.activated_at + p.period);
        let create_at = rotation_at.map(|r| r - p.lead_time);
        let due_for_next = match create_at {
            Some(t) => now >= t,
            None => true, // no active key: replace it at once
        };
        if ring.next.is_none() && due_for_next && ring.last_error_allows(now) {
            // Published now, it may sign once servers have had `lead_time`
            // to see it; with no active key (revoked), at once.
            let activates_at = match rotation_at {
                Some(r) => r.max(now + p.lead_time),
                None => now,
            };
            match self.factory.create(activates_at) {
                Ok(key) => {
                    ring.next = Some(Slot::new(key, activates_at));
                    ring.last_error = None;
                    changed = true;
                }
                Err(e) => {
                    ring.last_error = Some(e.clone());
                    ring.next_event = now + RETRY_AFTER;
                    result = Err(e);
                }
            }
        }
        if let Some(next) = &ring.next {
            if ring.active.is_none() || now >= next.activated_at {
                let mut next = ring.next.take().expect("checked above");
                next.activated_at = now;
                crate::audit::key_activated(&next.kid);
                if let Some(mut old) = ring.active.replace(next) {
                    old.retire_until = now + p.grace;
                    ring.retired.push(old);
                }
                changed = true;
            }
        }
        if changed {
            ring.publish();
        }
        if result.is_ok() {
            ring.next_event = self.next_event(ring, now);
        }
        result
    }

    fn next_event(&self, ring: &Ring, now: SystemTime) -> SystemTime {
        let p = &self.policy;
        let mut t = now + p.period;
        if let Some(a) = &ring.active {
            let rotation = a.activated_at + p.period;
            t = t.min(match &ring.next {
                None => rotation - p.lead_time,
                Some(n) => n.activated_at,
            });
        }
        for r in &ring.retired {
            t = t.min(r.retire_until);
        }
        t.max(now)
    }

    /// Removes a compromised or decommissioned key from signing and from the
    /// published set at once. If it was the active key, the next key takes
    /// over immediately; if there is none, signing fails
    /// ([`ErrorKind::KeyBackend`]) until [`KeyRing::tick`] has created and
    /// activated a replacement (servers learn it through their unknown-`kid`
    /// refresh).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] if no key of the ring has this `kid`.
    pub fn revoke(&self, kid: &str) -> Result<(), Error> {
        let now = self.clock.now();
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        let mut found = false;
        if ring.active.as_ref().is_some_and(|a| a.kid == kid) {
            ring.active = None;
            if let Some(mut next) = ring.next.take() {
                next.activated_at = now;
                crate::audit::key_activated(&next.kid);
                ring.active = Some(next);
            }
            found = true;
        } else if ring.next.as_ref().is_some_and(|n| n.kid == kid) {
            ring.next = None;
            found = true;
        } else if let Some(i) = ring.retired.iter().position(|r| r.kid == kid) {
            ring.retired.remove(i);
            found = true;
        }
        if !found {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "no key with this kid",
            ));
        }
        ring.publish();
        ring.next_event = now;
        Ok(())
    }

    /// The published JWK Set (next, active and retired keys) with its ETag.
    pub fn jwks(&self) -> PublishedJwks {
        self.ring
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .published
            .clone()
    }

    /// Every key of the ring with its state.
    pub fn keys(&self) -> Vec<(String, KeyState)> {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        ring.slots()
            .map(|(s, state)| (s.kid.clone(), state))
            .collect()
    }

    /// The error of the last failed key creation, if the ring has not
    /// recovered from it yet.
    pub fn last_error(&self) -> Option<Error> {
        self.ring
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .last_error
            .clone()
    }

    /// The active key, after performing due transitions.
    fn active(&self) -> Result<Arc<dyn KeySource>, Error> {
        let now = self.clock.now();
        {
            let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
            if now < ring.next_event {
                if let Some(a) = &ring.active {
                    return Ok(a.key.clone());
                }
            }
        }
        let mut ring = self.ring.write().unwrap_or_else(|p| p.into_inner());
        if now >= ring.next_event {
            // A creation failure is kept in `last_error`; signing goes on
            // with the current active key.
            let _ = self.advance(&mut ring, now);
        }
        ring.active.as_ref().map(|a| a.key.clone()).ok_or_else(|| {
            Error::detail(
                ErrorKind::KeyBackend,
                "the key ring has no active key (revoked, no replacement yet)",
            )
        })
    }
}

impl Ring {
    fn slots(&self) -> impl Iterator<Item = (&Slot, KeyState)> {
        self.active
            .iter()
            .map(|s| (s, KeyState::Active))
            .chain(self.next.iter().map(|s| (s, KeyState::Next)))
            .chain(self.retired.iter().map(|s| (s, KeyState::Retired)))
    }

    fn publish(&mut self) {
        if let Some(a) = &self.active {
            self.last_public = a.key.public_jwk();
        }
        let set = JwkSet::from_keys(self.slots().map(|(s, _)| s.key.public_jwk()));
        self.published = PublishedJwks::new(&set, Some(&self.published));
    }

    fn last_error_allows(&self, now: SystemTime) -> bool {
        self.last_error.is_none() || now >= self.next_event
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("policy", &self.policy)
            .field("keys", &self.keys())
            .finish_non_exhaustive()
    }
}

impl KeyMetadata for KeyRing {
    fn algorithms(&self) -> &'static [Algorithm] {
        self.active().map_or(&[], |k| k.algorithms())
    }

    fn kid(&self) -> Cow<'_, str> {
        Cow::Owned(
            self.active()
                .map(|k| k.kid().into_owned())
                .unwrap_or_default(),
        )
    }

    fn public_jwk(&self) -> PublicJwk {
        match self.active() {
            Ok(k) => k.public_jwk(),
            // Revoked with no replacement yet: the last active key's.
            Err(_) => self
                .ring
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .last_public
                .clone(),
        }
    }

    fn published_jwks(&self) -> Vec<PublicJwk> {
        let ring = self.ring.read().unwrap_or_else(|p| p.into_inner());
        ring.slots().map(|(s, _)| s.key.public_jwk()).collect()
    }
}

impl KeySource for KeyRing {
    fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        self.active()?.sign(alg, signing_input)
    }

    fn snapshot(&self) -> Option<Arc<dyn KeySource>> {
        // With no active key, the ring itself answers, and fails loudly.
        self.active().ok()
    }
}
