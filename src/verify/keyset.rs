//! A client's (or trusted issuer's) verifying keys, parsed once from its
//! JWK Set for the registry's backend: what the signature step selects
//! from, whether the set was registered or fetched from a `jwks_uri`.

use std::sync::Arc;

use crate::algorithm::{Algorithm, KeyType};
use crate::backend::{self, Backend};
use crate::error::{Error, ErrorKind};
use crate::keys::{JwkSet, PublicJwk};

/// A public key ready to verify, with the algorithms it may verify.
pub(crate) struct VerifyingKey {
    pub(crate) kid: String,
    /// With `kid`, what tells two keys of one client apart: keys of
    /// different types may share a `kid` (RFC 7517 §4.5).
    pub(crate) key_type: KeyType,
    /// The JWK's `alg` if it had one, else every algorithm of the key type.
    pub(crate) algorithms: &'static [Algorithm],
    /// The RFC 7638 thumbprint, which names the key whatever its `kid`.
    thumbprint: String,
    key: backend::VerifyingKey,
}

impl VerifyingKey {
    pub(crate) fn from_jwk(jwk: &PublicJwk, backend: Backend) -> Result<Self, Error> {
        let key = backend::VerifyingKey::new(&jwk.params, backend)?;
        let algorithms = match jwk.alg {
            Some(alg) => KeyType::only(alg),
            None => jwk.key_type().algorithms(),
        };
        Ok(Self {
            kid: jwk.kid.clone(),
            key_type: jwk.key_type(),
            algorithms,
            thumbprint: jwk.thumbprint(),
            key,
        })
    }

    /// Checks `signature` over `input` with `alg`, which the caller has
    /// matched against [`VerifyingKey::algorithms`]; the rules are the same
    /// on every backend (see [`crate::backend`]).
    pub(crate) fn verify(&self, alg: Algorithm, input: &[u8], signature: &[u8]) -> bool {
        self.key.verify(alg, input, signature)
    }
}

/// The verifying keys of one client.
pub(crate) struct ClientKeys {
    pub(crate) keys: Vec<Arc<VerifyingKey>>,
}

impl ClientKeys {
    /// Parses every key of `set` for `backend`; refuses an empty set or
    /// two keys sharing both `kid` and key type. Keys of different types
    /// may share a `kid`: their algorithms never overlap, so a token's
    /// `kid` and `alg` select at most one key.
    pub(crate) fn from_set(set: &JwkSet, backend: Backend) -> Result<Self, Error> {
        if set.keys().is_empty() {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "a client needs at least one key",
            ));
        }
        let mut keys: Vec<Arc<VerifyingKey>> = Vec::with_capacity(set.keys().len());
        for jwk in set.keys() {
            if keys
                .iter()
                .any(|k| k.kid == jwk.kid() && k.key_type == jwk.key_type())
            {
                return Err(Error::detail(
                    ErrorKind::InvalidConfig,
                    "two keys of one client share a kid and a key type",
                ));
            }
            keys.push(Arc::new(VerifyingKey::from_jwk(jwk, backend)?));
        }
        Ok(Self { keys })
    }

    /// These keys without those whose thumbprint is in `leaked` (keys whose
    /// private half was published); `None` when none of them is left.
    pub(crate) fn without(&self, leaked: &[String]) -> Option<Self> {
        let keys: Vec<_> = self
            .keys
            .iter()
            .filter(|k| !leaked.contains(&k.thumbprint))
            .cloned()
            .collect();
        (!keys.is_empty()).then_some(Self { keys })
    }

    /// Whether a key has this `kid` and, if given, this type.
    pub(crate) fn has_key(&self, kid: &str, key_type: Option<KeyType>) -> bool {
        self.keys
            .iter()
            .any(|k| k.kid == kid && key_type.is_none_or(|t| k.key_type == t))
    }
}

/// One `key.skipped` audit event per key `set` left out.
pub(crate) fn report_skipped(client_id: &str, set: &JwkSet) {
    for skipped in set.skipped() {
        crate::audit::key_skipped(
            client_id,
            skipped.kid(),
            skipped.position(),
            skipped.reason().code(),
        );
    }
}
