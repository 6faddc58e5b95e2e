//! The client store contract: [`ClientStore`], implemented by an
//! authorization server over its own storage, and the [`StoredClient`]
//! record it returns.
//!
//! The store only answers "what is registered for this client id"; the
//! crate parses the key material once per version and caches it
//! ([`ClientCache`](crate::server::ClientCache)), caches unknown ids with a
//! bound, and lets one lookup per id run at a time. [`ClientRegistry`] is
//! itself a store (in memory, answering on the synchronous path, its keys
//! already parsed).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use super::binding::ClientAuthRules;
use crate::error::Error;
use crate::keys::JwkSet;
use crate::secret::{ClientSecret, HmacAlgorithm};
use crate::verify::registry::ClientEntry;
use crate::verify::{ClientRegistry, RemoteJwksConfig};

/// What a store lookup returns: the client's record, `None` for an unknown
/// client id, or an error (use a retryable kind such as
/// [`ErrorKind::KeysUnavailable`](crate::ErrorKind::KeysUnavailable) for a
/// database that cannot answer: the token endpoint then answers 503).
pub type Lookup = Result<Option<StoredClient>, Error>;

/// The future of [`ClientStore::find`].
pub type StoreFuture<'a> = Pin<Box<dyn Future<Output = Lookup> + Send + 'a>>;

/// An authorization server's client storage, as the crate reads it.
///
/// The contract implementers keep:
/// - `find` returns what is registered *now* for exactly `client_id`
///   (never another client's record: the cache checks the id);
/// - [`StoredClient::version`] changes whenever the client's method, pinned
///   algorithm or key material changes (a row version, an `updated_at`, an
///   ETag); the same version means the same material, whose parsed keys
///   are then reused;
/// - an unknown client id is `Ok(None)`, not an error: it is cached as
///   unknown for a while (a client registered meanwhile is seen when that
///   entry expires, or at once after
///   [`ClientCache::invalidate`](crate::server::ClientCache::invalidate));
/// - a store that cannot answer returns an error of a retryable kind.
///
/// `find_now` is the cheap synchronous path for stores that answer without
/// I/O (an in-memory map): the synchronous verifier methods need it, and
/// the async path takes it first when it answers.
pub trait ClientStore: fmt::Debug + Send + Sync {
    /// The record of `client_id`, if the store can answer without I/O
    /// (`None`: it cannot; the default).
    fn find_now(&self, client_id: &str) -> Option<Lookup> {
        let _ = client_id;
        None
    }

    /// The record of `client_id`.
    fn find<'a>(&'a self, client_id: &'a str) -> StoreFuture<'a>;
}

/// A client's key material, as the store keeps it.
#[derive(Clone)]
pub struct ClientCredentials(pub(crate) Material);

#[derive(Clone)]
pub(crate) enum Material {
    JwksJson(String),
    Jwks(JwkSet),
    Remote(RemoteJwksConfig),
    Secret(ClientSecretBox),
    /// An entry of a [`ClientRegistry`], parsed already.
    Registered(ClientEntry),
}

/// A secret and its algorithms (cloned only by the crate, explicitly).
pub(crate) struct ClientSecretBox {
    pub(crate) secret: ClientSecret,
    pub(crate) algorithms: Vec<HmacAlgorithm>,
}

impl Clone for ClientSecretBox {
    fn clone(&self) -> Self {
        Self {
            secret: self.secret.clone_secret(),
            algorithms: self.algorithms.clone(),
        }
    }
}

impl ClientCredentials {
    /// A static JWK Set given as JSON (`jwks` of RFC 7591), read by the
    /// rules of [`JwkSet::from_json`] when the version is first seen.
    pub fn jwks_json(json: impl Into<String>) -> Self {
        Self(Material::JwksJson(json.into()))
    }

    /// A static JWK Set.
    pub fn jwks(set: JwkSet) -> Self {
        Self(Material::Jwks(set))
    }

    /// A remote JWK Set (`jwks_uri`), fetched through the cache's
    /// [`JwksFetcher`](crate::server::JwksFetcher) with `config`.
    pub fn jwks_uri(config: RemoteJwksConfig) -> Self {
        Self(Material::Remote(config))
    }

    /// A `client_secret_jwt` secret with its HMAC algorithms.
    pub fn client_secret(secret: ClientSecret, algorithms: &[HmacAlgorithm]) -> Self {
        Self(Material::Secret(ClientSecretBox {
            secret,
            algorithms: algorithms.to_vec(),
        }))
    }

    fn is_secret(&self) -> bool {
        matches!(
            self.0,
            Material::Secret(_) | Material::Registered(ClientEntry::Secret(_))
        )
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Material::JwksJson(_) | Material::Jwks(_) => "ClientCredentials::Jwks",
            Material::Remote(_) => "ClientCredentials::JwksUri",
            Material::Secret(_) => "ClientCredentials::ClientSecret([secret elided])",
            Material::Registered(_) => "ClientCredentials::Registered",
        })
    }
}

/// One client's registration as the store returns it: id, version, how it
/// authenticates ([`ClientAuthRules`]) and its key material.
#[derive(Clone, Debug)]
pub struct StoredClient {
    pub(crate) client_id: String,
    pub(crate) version: String,
    pub(crate) rules: ClientAuthRules,
    pub(crate) credentials: ClientCredentials,
}

impl StoredClient {
    /// The record of `client_id` at `version`: `private_key_jwt` (for a
    /// secret, `client_secret_jwt`), no pinned algorithm, until
    /// [`StoredClient::rules`] says otherwise.
    pub fn new(
        client_id: impl Into<String>,
        version: impl Into<String>,
        credentials: ClientCredentials,
    ) -> Self {
        let rules = if credentials.is_secret() {
            ClientAuthRules::client_secret_jwt()
        } else {
            ClientAuthRules::private_key_jwt()
        };
        Self {
            client_id: client_id.into(),
            version: version.into(),
            rules,
            credentials,
        }
    }

    /// Sets the registered method and algorithm.
    pub fn rules(mut self, rules: ClientAuthRules) -> Self {
        self.rules = rules;
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The version (or ETag) of the record.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The registered method and algorithm.
    pub fn auth_rules(&self) -> ClientAuthRules {
        self.rules
    }
}

/// The registry is a store that answers at once, with keys parsed at
/// registration; its version is the registration's identity, so a client
/// registered again is picked up at the next request.
impl ClientStore for ClientRegistry {
    fn find_now(&self, client_id: &str) -> Option<Lookup> {
        Some(Ok(self.get(client_id).map(|entry| {
            let version = entry.identity().to_string();
            StoredClient::new(
                client_id,
                version,
                ClientCredentials(Material::Registered(entry)),
            )
        })))
    }

    fn find<'a>(&'a self, client_id: &'a str) -> StoreFuture<'a> {
        let found = self.find_now(client_id).unwrap_or(Ok(None));
        Box::pin(std::future::ready(found))
    }
}
