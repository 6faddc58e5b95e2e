//! A client's (or trusted issuer's) verifying keys, parsed once from its
//! JWK Set for the registry's backend: what the signature step selects
//! from, whether the set was registered or fetched from a `jwks_uri`.

use crate::algorithm::Algorithm;
use crate::backend::{self, Backend};
use crate::error::{Error, ErrorKind};
use crate::keys::{JwkSet, PublicJwk};

/// A public key ready to verify, with the algorithms it may verify.
pub(crate) struct VerifyingKey {
    pub(crate) kid: String,
    /// The JWK's `alg` if it had one, else every algorithm of the key type.
    pub(crate) algorithms: &'static [Algorithm],
    key: backend::VerifyingKey,
}

impl VerifyingKey {
    pub(crate) fn from_jwk(jwk: &PublicJwk, backend: Backend) -> Result<Self, Error> {
        let key = backend::VerifyingKey::new(&jwk.params, backend)?;
        let algorithms = match jwk.alg {
            Some(alg) => crate::algorithm::KeyType::only(alg),
            None => jwk.key_type().algorithms(),
        };
        Ok(Self {
            kid: jwk.kid.clone(),
            algorithms,
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
    pub(crate) keys: Vec<VerifyingKey>,
}

impl ClientKeys {
    /// Parses every key of `set` for `backend`; refuses an empty set or a
    /// `kid` used twice.
    pub(crate) fn from_set(set: &JwkSet, backend: Backend) -> Result<Self, Error> {
        if set.keys().is_empty() {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "a client needs at least one key",
            ));
        }
        let mut keys: Vec<VerifyingKey> = Vec::with_capacity(set.keys().len());
        for jwk in set.keys() {
            if keys.iter().any(|k| k.kid == jwk.kid()) {
                return Err(Error::detail(
                    ErrorKind::InvalidConfig,
                    "two keys of one client share a kid",
                ));
            }
            keys.push(VerifyingKey::from_jwk(jwk, backend)?);
        }
        Ok(Self { keys })
    }
}
