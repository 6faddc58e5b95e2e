//! The client key registry: client id -> public keys, parsed once at
//! registration into ready-to-use verifying keys.
//!
//! # Which keys of a client's JWK Set are used
//!
//! Those [`JwkSet::from_json`] keeps, by the rules listed on [`JwkSet`]:
//! keys a verifier cannot use are skipped and reported in
//! [`Registration::skipped`] and by the `key.skipped` audit event; two keys
//! may share a `kid` when their key types differ, the same `kid` twice on
//! one key type is refused ([`ErrorKind::InvalidConfig`]).
//!
//! A set fetched from a `jwks_uri` follows the same rules at each fetch; a
//! fetched set that is refused (a private member, too large, no usable
//! key) leaves the previously fetched set in force, as a failed fetch does,
//! minus every key whose private half it published (those are never
//! trusted again by this registration, kept in memory), and is reported by
//! the `jwks.refused` audit event.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::keyset::{report_skipped, ClientKeys};
use crate::backend::Backend;
use crate::diagnostic::{Difference, NearMiss};
use crate::error::{Error, ErrorKind};
use crate::keys::{JwkSet, PublicJwk, SkippedJwk};
use crate::secret::{ClientSecret, HmacAlgorithm, MacKey};
use crate::verify::remote::{JwksFetcher, RemoteClient, RemoteJwksConfig};

/// Where a client's keys come from.
#[derive(Clone)]
pub(crate) enum ClientEntry {
    /// Registered keys.
    Static(Arc<ClientKeys>),
    /// A remote JWK Set, fetched through the user's fetcher and cached.
    Remote(Arc<RemoteClient>),
    /// A `client_secret_jwt` secret with its HMAC algorithms: a separate
    /// kind, never mixed with public keys.
    Secret(Arc<MacKey>),
}

impl ClientEntry {
    /// The identity of this registration: the same while the entry is in
    /// force, another one once the client is registered again.
    pub(crate) fn identity(&self) -> usize {
        match self {
            Self::Static(k) => Arc::as_ptr(k) as usize,
            Self::Remote(r) => Arc::as_ptr(r) as usize,
            Self::Secret(s) => Arc::as_ptr(s) as usize,
        }
    }
}

/// What a registration took: returned by every `ClientRegistry::register*`
/// (and `TrustedIssuers::register*`) call that succeeded.
///
/// For a JWK Set, [`Registration::skipped`] lists the keys a signature
/// verifier cannot use (encryption keys, unsupported curves, ...), which
/// were left out; a registration endpoint can show them to the client.
///
/// ```
/// use client_assertion::{jwk_set, ClientRegistry, KeyType, PrivateKey};
///
/// let key = PrivateKey::generate(KeyType::P256)?;
/// let registration = ClientRegistry::new().register("my-client", &jwk_set([&key]))?;
/// assert_eq!(registration.client_id(), "my-client");
/// assert_eq!(registration.usable_keys(), 1);
/// assert!(registration.skipped().is_empty());
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    client_id: String,
    usable_keys: usize,
    skipped: Vec<SkippedJwk>,
}

impl Registration {
    fn new(client_id: String, usable_keys: usize, skipped: Vec<SkippedJwk>) -> Self {
        Self {
            client_id,
            usable_keys,
            skipped,
        }
    }

    /// The registered client id (for
    /// [`TrustedIssuers`](crate::grant::TrustedIssuers), the issuer).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// How many keys of the set verify assertions. `0` for
    /// [`ClientRegistry::register_remote`] (keys arrive with the first
    /// fetch) and [`ClientRegistry::register_client_secret`] (no keys).
    pub fn usable_keys(&self) -> usize {
        self.usable_keys
    }

    /// The keys of the set that were left out, with their position, `kid`
    /// and [`SkipReason`](crate::keys::SkipReason); empty when every key is
    /// used, for a set built in code, and for remote and secret
    /// registrations.
    pub fn skipped(&self) -> &[SkippedJwk] {
        &self.skipped
    }
}

/// Maps client ids to their registered public keys (or, for
/// `client_secret_jwt`, a secret: [`ClientRegistry::register_client_secret`]).
///
/// Keys are parsed and validated once, at registration (RSA below 2048 bits,
/// off-curve points and symmetric keys are refused there; keys a verifier
/// cannot use, such as encryption keys, are skipped and reported in the
/// [`Registration`]), so verification does no key parsing. The registry can be updated
/// while verifiers use it: registration replaces a client's keys at once.
///
/// The registry verifies with one [`Backend`], [`Backend::RustCrypto`]
/// unless built with [`ClientRegistry::with_backend`]; its keys (remote ones
/// included) are parsed for that backend.
///
/// ```
/// use client_assertion::{ClientRegistry, jwk_set, KeySource, KeyType, PrivateKey};
///
/// let key = PrivateKey::generate(KeyType::Ed25519)?;
/// let registry = ClientRegistry::new();
/// registry.register_jwks_json("my-client", &jwk_set([&key]).to_json())?;
/// assert!(registry.contains("my-client"));
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct ClientRegistry {
    clients: Clients,
    backend: Backend,
}

impl Default for ClientRegistry {
    fn default() -> Self {
        Self::with_backend(Backend::default())
    }
}

/// A client id to register: any string but the empty one.
fn non_empty_id(client_id: String) -> Result<String, Error> {
    if client_id.is_empty() {
        return Err(Error::detail(
            ErrorKind::InvalidConfig,
            "a client needs a non-empty id",
        ));
    }
    Ok(client_id)
}

impl ClientRegistry {
    /// An empty registry verifying with [`Backend::RustCrypto`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry verifying with `backend`: every key registered
    /// (or fetched) later is parsed once for it. See [`crate::backend`].
    ///
    /// ```
    /// use client_assertion::{Backend, ClientRegistry};
    ///
    /// let registry = ClientRegistry::with_backend(Backend::RustCrypto);
    /// assert_eq!(registry.backend(), Backend::RustCrypto);
    /// ```
    pub fn with_backend(backend: Backend) -> Self {
        Self {
            clients: Clients::default(),
            backend,
        }
    }

    /// The backend this registry verifies with.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Registers (or replaces) `client_id` with the keys of `set`; keys the
    /// set skipped (see [`JwkSet::skipped`]) are reported in the returned
    /// [`Registration`] and, with the `tracing` feature, by one `key.skipped`
    /// audit event each.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty client id or key set or two
    /// keys sharing a `kid` and a key type; key errors for an unusable key
    /// (nothing is registered then).
    pub fn register(
        &self,
        client_id: impl Into<String>,
        set: &JwkSet,
    ) -> Result<Registration, Error> {
        let client_id = non_empty_id(client_id.into())?;
        let keys = ClientKeys::from_set(set, self.backend)?;
        report_skipped(&client_id, set);
        let usable = keys.keys.len();
        self.insert(client_id.clone(), ClientEntry::Static(Arc::new(keys)));
        Ok(Registration::new(client_id, usable, set.skipped().to_vec()))
    }

    /// Registers (or replaces) `client_id` with keys fetched from its
    /// `jwks_uri` through `fetcher` (your HTTP client), cached and refreshed
    /// as `config` says; see [`JwksFetcher`]. Nothing is fetched until the
    /// first verification.
    ///
    /// Each fetched set is read by the rules of [`JwkSet::from_json`]: its
    /// skipped keys are reported by `key.skipped` audit events, and a set
    /// that is refused (one carrying a private key above all) is reported
    /// by a `jwks.refused` event and leaves the previously fetched set in
    /// force, as a failed fetch does (see [`JwksFetcher`]), minus the keys
    /// whose private half it published, which stay distrusted. The returned
    /// [`Registration`] has no keys yet.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty client id or a cooldown
    /// below 1 s or above `max_age`.
    pub fn register_remote(
        &self,
        client_id: impl Into<String>,
        fetcher: Arc<dyn JwksFetcher>,
        config: RemoteJwksConfig,
    ) -> Result<Registration, Error> {
        let client_id = non_empty_id(client_id.into())?;
        config.validate()?;
        let remote = RemoteClient::new(client_id.clone(), fetcher, config, self.backend);
        self.insert(client_id.clone(), ClientEntry::Remote(Arc::new(remote)));
        Ok(Registration::new(client_id, 0, Vec::new()))
    }

    /// Registers (or replaces) `client_id` for `client_secret_jwt` (OpenID
    /// Connect Core §9): its assertions are verified only with `secret` and
    /// only with one of `algorithms`, and never with public keys. A client
    /// has either keys or a secret: this replaces any keys it had, and
    /// registering keys later replaces the secret.
    ///
    /// Verifiers accept such a client only through
    /// [`Verifier::authenticate_client`](crate::Verifier::authenticate_client)
    /// with a policy that opts in
    /// ([`Policy::allow_client_secret_jwt`](crate::Policy::allow_client_secret_jwt)).
    /// The secret is MACed with this registry's [`Backend`].
    ///
    /// ```
    /// use client_assertion::ClientRegistry;
    /// use client_assertion::secret::{ClientSecret, HmacAlgorithm};
    ///
    /// let registry = ClientRegistry::new();
    /// let secret = ClientSecret::from_string("the secret the server issued, 32+ bytes")?;
    /// registry.register_client_secret("legacy-client", secret, &[HmacAlgorithm::Hs256])?;
    /// assert!(registry.contains("legacy-client"));
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty client id or algorithm
    /// list; [`ErrorKind::WeakSecret`] if the secret is shorter than one of
    /// the algorithms needs (48 bytes for HS384, 64 for HS512). Nothing is
    /// registered then.
    pub fn register_client_secret(
        &self,
        client_id: impl Into<String>,
        secret: ClientSecret,
        algorithms: &[HmacAlgorithm],
    ) -> Result<Registration, Error> {
        let client_id = non_empty_id(client_id.into())?;
        let key = crate::secret::mac_key(&secret, algorithms, self.backend)?;
        self.insert(client_id.clone(), ClientEntry::Secret(Arc::new(key)));
        Ok(Registration::new(client_id, 0, Vec::new()))
    }

    /// How many JWK Set fetches have been started for a remote client
    /// (`None` for an unknown or statically registered client).
    pub fn remote_fetch_count(&self, client_id: &str) -> Option<u64> {
        match self.get(client_id)? {
            ClientEntry::Remote(r) => Some(r.fetch_count()),
            ClientEntry::Static(_) | ClientEntry::Secret(_) => None,
        }
    }

    pub(crate) fn insert(&self, client_id: String, entry: ClientEntry) {
        let folded = fold(&client_id);
        let mut by_id = self.clients.by_id_mut(&client_id);
        self.clients
            .folded_mut(&folded)
            .insert(folded, client_id.clone());
        by_id.insert(client_id, entry);
    }

    /// Registers `client_id` with a JWK Set given as JSON.
    ///
    /// # Errors
    /// As [`JwkSet::from_json`] and [`ClientRegistry::register`].
    pub fn register_jwks_json(
        &self,
        client_id: impl Into<String>,
        json: &str,
    ) -> Result<Registration, Error> {
        self.register(client_id, &JwkSet::from_json(json)?)
    }

    /// Registers `client_id` with public keys given as PEM (`PUBLIC KEY` or
    /// `RSA PUBLIC KEY` blocks, one per string); each `kid` is its RFC 7638
    /// thumbprint.
    ///
    /// # Errors
    /// As [`PublicJwk::from_pem`] and [`ClientRegistry::register`].
    pub fn register_pems<'a>(
        &self,
        client_id: impl Into<String>,
        pems: impl IntoIterator<Item = &'a str>,
    ) -> Result<Registration, Error> {
        let keys = pems
            .into_iter()
            .map(PublicJwk::from_pem)
            .collect::<Result<Vec<_>, _>>()?;
        self.register(client_id, &JwkSet::from_keys(keys))
    }

    /// Registers `client_id` with `jsonwebtoken`'s JWK Set type.
    ///
    /// # Errors
    /// As [`JwkSet::from_jsonwebtoken`] and [`ClientRegistry::register`].
    #[cfg(feature = "jsonwebtoken")]
    pub fn register_jsonwebtoken(
        &self,
        client_id: impl Into<String>,
        set: &jsonwebtoken::jwk::JwkSet,
    ) -> Result<Registration, Error> {
        self.register(client_id, &JwkSet::from_jsonwebtoken(set)?)
    }

    /// Removes a client; returns whether it was registered.
    pub fn remove(&self, client_id: &str) -> bool {
        let folded = fold(client_id);
        let mut by_id = self.clients.by_id_mut(client_id);
        let mut folded_ids = self.clients.folded_mut(&folded);
        if folded_ids.get(&folded).is_some_and(|id| id == client_id) {
            folded_ids.remove(&folded);
        }
        by_id.remove(client_id).is_some()
    }

    /// Whether `client_id` is registered.
    pub fn contains(&self, client_id: &str) -> bool {
        self.get(client_id).is_some()
    }

    /// The number of registered clients.
    pub fn len(&self) -> usize {
        self.clients
            .by_id
            .iter()
            .map(|s| s.read().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    /// Whether no client is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get(&self, client_id: &str) -> Option<ClientEntry> {
        self.clients.by_id(client_id).get(client_id).cloned()
    }

    /// For an unregistered `iss`: the registered client id it equals but
    /// for ASCII case or a trailing `/`, as the operator's near miss (the
    /// id is compared exactly; this only explains the rejection).
    pub(crate) fn near_miss(&self, iss: &str) -> Option<NearMiss> {
        let folded = fold(iss);
        let ids = self.clients.folded(&folded);
        let id = ids.get(&folded)?;
        let expected = id.clone();
        let difference = if id.trim_end_matches('/') == iss.trim_end_matches('/') {
            Difference::IssuerTrailingSlash { expected }
        } else {
            Difference::IssuerCase { expected }
        };
        Some(NearMiss::new("registry", difference))
    }
}

/// The number of independently locked shards of each map of [`Clients`].
const SHARDS: usize = 32;

/// The registered clients, and each id folded for near misses
/// ([`fold`]); when two ids fold alike, the later one is kept (a near miss
/// is an explanation, never a match).
///
/// Each map is split into [`SHARDS`] shards under their own `RwLock`, by a
/// keyed hash of the id (of the folded id for `folded`): verifications on
/// several threads take read locks of different shards, so they do not
/// even share a lock's cache line. A writer locks the id's shard, then
/// the folded id's (always in that order).
struct Clients {
    by_id: Box<[RwLock<HashMap<String, ClientEntry>>]>,
    folded: Box<[RwLock<HashMap<String, String>>]>,
    hasher: RandomState,
}

type Shard<'a, V> = RwLockReadGuard<'a, HashMap<String, V>>;
type ShardMut<'a, V> = RwLockWriteGuard<'a, HashMap<String, V>>;

impl Default for Clients {
    fn default() -> Self {
        Self {
            by_id: (0..SHARDS).map(|_| RwLock::default()).collect(),
            folded: (0..SHARDS).map(|_| RwLock::default()).collect(),
            hasher: RandomState::new(),
        }
    }
}

impl Clients {
    fn index(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    fn by_id(&self, id: &str) -> Shard<'_, ClientEntry> {
        let shard = &self.by_id[self.index(id)];
        shard.read().unwrap_or_else(|p| p.into_inner())
    }

    fn by_id_mut(&self, id: &str) -> ShardMut<'_, ClientEntry> {
        let shard = &self.by_id[self.index(id)];
        shard.write().unwrap_or_else(|p| p.into_inner())
    }

    fn folded(&self, folded: &str) -> Shard<'_, String> {
        let shard = &self.folded[self.index(folded)];
        shard.read().unwrap_or_else(|p| p.into_inner())
    }

    fn folded_mut(&self, folded: &str) -> ShardMut<'_, String> {
        let shard = &self.folded[self.index(folded)];
        shard.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A client id without its trailing `/`s, in ASCII lower case.
fn fold(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

impl fmt::Debug for ClientRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRegistry")
            .field("clients", &self.len())
            .field("backend", &self.backend)
            .finish()
    }
}
