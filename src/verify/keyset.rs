//! A client's (or trusted issuer's) verifying keys, parsed once from its
//! JWK Set for the registry's backend: what the signature step selects
//! from, whether the set was registered or fetched from a `jwks_uri`.

// `signature` 3 (p256/p384 0.14) for ECDSA, `signature` 2 for RSA.
use p256::ecdsa::signature::Verifier as _;
use rsa::signature::Verifier as _;
use rsa::{BigUint, RsaPublicKey};
use sha2::Sha256;

use crate::algorithm::{Algorithm, KeyType};
use crate::backend::{Backend, ED25519_SMALL_ORDER};
use crate::error::{Error, ErrorKind};
use crate::keys::jwk::PublicParams;
use crate::keys::{JwkSet, PublicJwk};

/// A public key ready to verify, with the algorithms it may verify.
pub(crate) struct VerifyingKey {
    pub(crate) kid: String,
    /// The JWK's `alg` if it had one, else every algorithm of the key type.
    pub(crate) algorithms: &'static [Algorithm],
    key: Parsed,
}

enum Parsed {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa {
        pkcs1: rsa::pkcs1v15::VerifyingKey<Sha256>,
        pss: rsa::pss::VerifyingKey<Sha256>,
    },
    /// Any key type, parsed once by AWS-LC.
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(crate::backend::aws_lc::VerifyingKey),
}

impl VerifyingKey {
    pub(crate) fn from_jwk(jwk: &PublicJwk, backend: Backend) -> Result<Self, Error> {
        let key = match backend {
            Backend::RustCrypto => Self::rust_crypto(&jwk.params)?,
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => Parsed::AwsLc(crate::backend::aws_lc::VerifyingKey::from_params(
                &jwk.params,
            )?),
        };
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

    fn rust_crypto(params: &PublicParams) -> Result<Parsed, Error> {
        fn bad<E>(_: E) -> Error {
            Error::detail(ErrorKind::InvalidKey, "public key cannot be used")
        }
        Ok(match params {
            PublicParams::Ec { curve, x, y } => {
                let sec1 = crate::keys::jwk::sec1_uncompressed(x, y);
                if *curve == KeyType::P256 {
                    Parsed::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(bad)?)
                } else {
                    Parsed::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(bad)?)
                }
            }
            PublicParams::Ed25519 { x } => {
                let key = ed25519_dalek::VerifyingKey::from_bytes(x).map_err(bad)?;
                // Refused when parsed already; `verify` below relies on it.
                if key.is_weak() {
                    return Err(bad(()));
                }
                Parsed::Ed25519(key)
            }
            PublicParams::Rsa { n, e } => {
                let key = RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e))
                    .map_err(bad)?;
                Parsed::Rsa {
                    pkcs1: rsa::pkcs1v15::VerifyingKey::new(key.clone()),
                    pss: rsa::pss::VerifyingKey::new(key),
                }
            }
        })
    }

    /// Checks `signature` over `input` with `alg`, which the caller has
    /// matched against [`VerifyingKey::algorithms`]. ECDSA signatures must be
    /// raw `r || s` of the exact size (DER is refused); Ed25519 uses strict
    /// verification; RSA signatures are exactly as long as the modulus and
    /// below it. Both backends apply the same rules (see [`crate::backend`]).
    pub(crate) fn verify(&self, alg: Algorithm, input: &[u8], signature: &[u8]) -> bool {
        match (&self.key, alg) {
            (Parsed::P256(k), Algorithm::Es256) => {
                signature.len() == 64
                    && p256::ecdsa::Signature::from_slice(signature)
                        .is_ok_and(|s| k.verify(input, &s).is_ok())
            }
            (Parsed::P384(k), Algorithm::Es384) => {
                signature.len() == 96
                    && p384::ecdsa::Signature::from_slice(signature)
                        .is_ok_and(|s| k.verify(input, &s).is_ok())
            }
            (Parsed::Ed25519(k), Algorithm::EdDsa) => {
                // `verify_strict`'s acceptance, 15 % faster: `verify` refuses a
                // non-canonical S and compares R's bytes with the canonical
                // encoding of the recomputed point; what `verify_strict` adds
                // is a small-order R or key, and the key was screened above.
                signature.len() == 64
                    && !ED25519_SMALL_ORDER.iter().any(|r| signature[..32] == r[..])
                    && ed25519_dalek::Signature::from_slice(signature)
                        .is_ok_and(|s| ed25519_dalek::Verifier::verify(k, input, &s).is_ok())
            }
            (Parsed::Rsa { pkcs1, .. }, Algorithm::Rs256) => {
                rsa::pkcs1v15::Signature::try_from(signature)
                    .is_ok_and(|s| pkcs1.verify(input, &s).is_ok())
            }
            (Parsed::Rsa { pss, .. }, Algorithm::Ps256) => rsa::pss::Signature::try_from(signature)
                .is_ok_and(|s| pss.verify(input, &s).is_ok()),
            #[cfg(feature = "aws-lc-rs")]
            (Parsed::AwsLc(k), alg) => k.verify(alg, input, signature),
            _ => false,
        }
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
