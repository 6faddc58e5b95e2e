//! The keys step of the pipeline: which credential of a registered client
//! (or trusted issuer) a token is checked with, and which of its keys
//! verifies the signature.
//!
//! Finding the credential is the only step that differs between the
//! synchronous path (registered or cached keys only) and the async path (a
//! remote JWK Set is fetched or refreshed as its cache rules allow).

use std::sync::Arc;
use std::time::SystemTime;

use super::keyset::{ClientKeys, VerifyingKey};
use super::registry::ClientEntry;
use super::remote::Need;
use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::secret::{HmacAlgorithm, MacKey};

/// At most this many keys are tried for a token without `kid`.
pub(crate) const MAX_KEYS_TRIED_WITHOUT_KID: usize = 4;

/// The header `alg`: asymmetric, or HMAC where `client_secret_jwt` is
/// accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HeaderAlg {
    /// `private_key_jwt` and grants.
    Asymmetric(Algorithm),
    /// `client_secret_jwt`.
    Hmac(HmacAlgorithm),
}

impl HeaderAlg {
    /// The JWS `alg` name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Asymmetric(alg) => alg.name(),
            Self::Hmac(alg) => alg.name(),
        }
    }
}

/// What a token is verified with.
pub(crate) enum Credential {
    /// A client's (or issuer's) public keys.
    Keys(Arc<ClientKeys>),
    /// A `client_secret_jwt` secret.
    Secret(Arc<MacKey>),
}

/// Refuses a header `alg` of the other method than the registration's,
/// before any key is fetched: public keys never verify HMAC (their bytes
/// would become the MAC key), a secret never verifies anything else.
pub(crate) fn method_fits(entry: &ClientEntry, alg: HeaderAlg) -> Result<(), Error> {
    match (entry, alg) {
        (ClientEntry::Secret(_), HeaderAlg::Asymmetric(_)) => Err(Error::detail(
            ErrorKind::AlgorithmNotAllowed,
            "the client is registered for client_secret_jwt",
        )),
        (ClientEntry::Static(_) | ClientEntry::Remote(_), HeaderAlg::Hmac(_)) => {
            Err(Error::detail(
                ErrorKind::AlgorithmNotAllowed,
                "HMAC is never verified with a client's public keys",
            ))
        }
        _ => Ok(()),
    }
}

/// The credential of `entry` from registered or cached keys only.
pub(crate) fn cached(entry: ClientEntry, now: SystemTime) -> Result<Credential, Error> {
    Ok(match entry {
        ClientEntry::Static(keys) => Credential::Keys(keys),
        ClientEntry::Remote(remote) => Credential::Keys(remote.cached(now)?),
        ClientEntry::Secret(key) => Credential::Secret(key),
    })
}

/// The credential of `entry`; a remote key set is fetched or refreshed as
/// its cache rules allow, once more when it lacks the token's `kid` (the
/// key holder may have rotated; cooldown and single-flight apply).
pub(crate) async fn fetched(
    entry: ClientEntry,
    kid: Option<&str>,
    alg: HeaderAlg,
    now: SystemTime,
) -> Result<Credential, Error> {
    let remote = match entry {
        ClientEntry::Remote(remote) => remote,
        other => return cached(other, now),
    };
    let keys = remote.keys(now, Need::Current).await?;
    // A miss is a `kid` without a key of the token's type: a client may add
    // a key of another type under a `kid` it already uses.
    let key_type = match alg {
        HeaderAlg::Asymmetric(alg) => Some(alg.key_type()),
        HeaderAlg::Hmac(_) => None,
    };
    if kid.is_some_and(|kid| !keys.has_key(kid, key_type)) {
        return Ok(Credential::Keys(remote.keys(now, Need::Miss).await?));
    }
    Ok(Credential::Keys(keys))
}

/// The signed part of a token, as the signature step needs it.
pub(crate) struct Signed<'t> {
    pub(crate) kid: Option<&'t str>,
    pub(crate) alg: HeaderAlg,
    pub(crate) input: &'t [u8],
    pub(crate) signature: &'t [u8],
}

/// Checks the signature (or MAC) with `credential`; returns the `kid` of
/// the key that verified it (empty for a secret: a client has one).
pub(crate) fn verify_signature<'k>(
    credential: &'k Credential,
    token: &Signed<'_>,
) -> Result<&'k str, Error> {
    match (credential, token.alg) {
        (Credential::Keys(keys), HeaderAlg::Asymmetric(alg)) => {
            select_key(&keys.keys, token, alg).map(|key| key.kid.as_str())
        }
        (Credential::Secret(key), HeaderAlg::Hmac(alg)) => {
            if !key.algorithms().contains(&alg) {
                return Err(Error::detail(
                    ErrorKind::AlgorithmNotAllowed,
                    "the client is not registered for this HMAC algorithm",
                ));
            }
            if !key.verify(alg, token.input, token.signature) {
                return Err(Error::new(ErrorKind::BadSignature));
            }
            Ok("")
        }
        // `method_fits` refused these before any key was touched.
        _ => Err(Error::new(ErrorKind::AlgorithmNotAllowed)),
    }
}

/// The registered key that verifies the token: by `kid` and the key type
/// `alg` needs, or (without a `kid`)
/// the first of at most [`Verifier::MAX_KEYS_TRIED_WITHOUT_KID`] keys of its algorithm.
fn select_key<'k>(
    keys: &'k [Arc<VerifyingKey>],
    token: &Signed<'_>,
    alg: Algorithm,
) -> Result<&'k VerifyingKey, Error> {
    let (input, signature) = (token.input, token.signature);
    if let Some(kid) = token.kid {
        // Keys of different types may share the `kid`: the one whose type
        // fits `alg` is the only candidate (algorithms never overlap).
        let mut named = keys.iter().filter(|k| k.kid == kid).peekable();
        if named.peek().is_none() {
            return Err(Error::new(ErrorKind::UnknownKey));
        }
        let key = named
            .find(|k| k.algorithms.contains(&alg))
            .ok_or_else(|| Error::new(ErrorKind::AlgorithmNotAllowed))?;
        return if key.verify(alg, input, signature) {
            Ok(&**key)
        } else {
            Err(Error::new(ErrorKind::BadSignature))
        };
    }
    let mut candidates = keys
        .iter()
        .filter(|k| k.algorithms.contains(&alg))
        .take(MAX_KEYS_TRIED_WITHOUT_KID)
        .peekable();
    if candidates.peek().is_none() {
        return Err(Error::new(ErrorKind::AlgorithmNotAllowed));
    }
    candidates
        .find(|k| k.verify(alg, input, signature))
        .map(|k| &**k)
        .ok_or_else(|| Error::new(ErrorKind::BadSignature))
}
