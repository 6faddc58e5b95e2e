//! The AWS-LC backend, through `aws-lc-rs` (feature `aws-lc-rs`): key pairs
//! and public keys converted once, constant-time RSA, `hmac::verify`.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, ParsedPublicKey, RsaKeyPair, RsaPublicKeyComponents,
};

use super::{ed25519, sec1_uncompressed, PublicParams};
use crate::algorithm::{Algorithm, HmacAlgorithm, KeyType};
use crate::error::{Error, ErrorKind};

/// A private key converted once into an AWS-LC key pair. The C memory
/// holding it is cleansed by `OPENSSL_free` when it is dropped.
pub(crate) enum SigningKey {
    P256(EcdsaKeyPair),
    P384(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

impl SigningKey {
    /// Converts a PKCS#8 document of a `key_type` key.
    pub(crate) fn from_pkcs8(key_type: KeyType, der: &[u8]) -> Result<Self, Error> {
        let rejected = |e: aws_lc_rs::error::KeyRejected| {
            Error::with_source(ErrorKind::KeyBackend, format!("aws-lc-rs: {e}"))
        };
        Ok(match key_type {
            KeyType::P256 => Self::P256(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(rejected)?,
            ),
            KeyType::P384 => Self::P384(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, der)
                    .map_err(rejected)?,
            ),
            KeyType::Ed25519 => Self::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
            KeyType::Rsa => Self::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rejected)?),
        })
    }

    /// Signs `msg` with `alg`, which the caller has checked fits the key.
    pub(crate) fn sign(&self, alg: Algorithm, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| Error::detail(ErrorKind::KeyBackend, "signing failed");
        // Zero-sized; aws-lc-rs draws its nonces from AWS-LC's own DRBG.
        let rng = SystemRandom::new();
        match (self, alg) {
            (Self::P256(k), Algorithm::Es256) | (Self::P384(k), Algorithm::Es384) => {
                Ok(k.sign(&rng, msg).map_err(failed)?.as_ref().to_vec())
            }
            (Self::Ed25519(k), Algorithm::EdDsa) => {
                Ok(k.try_sign(msg).map_err(failed)?.as_ref().to_vec())
            }
            (Self::Rsa(k), Algorithm::Rs256 | Algorithm::Ps256) => {
                let padding: &'static dyn signature::RsaEncoding = if alg == Algorithm::Rs256 {
                    &signature::RSA_PKCS1_SHA256
                } else {
                    &signature::RSA_PSS_SHA256
                };
                let mut sig = vec![0; k.public_modulus_len()];
                k.sign(padding, &rng, msg, &mut sig).map_err(failed)?;
                Ok(sig)
            }
            _ => Err(super::mismatch()),
        }
    }
}

/// A public key parsed once into AWS-LC key objects.
pub(crate) enum VerifyingKey {
    Es256(ParsedPublicKey),
    Es384(ParsedPublicKey),
    Ed25519(ParsedPublicKey),
    Rsa {
        pkcs1: ParsedPublicKey,
        pss: ParsedPublicKey,
    },
}

impl VerifyingKey {
    /// Parses validated public parameters.
    pub(crate) fn from_params(params: &PublicParams) -> Result<Self, Error> {
        let bad = |_| Error::detail(ErrorKind::InvalidKey, "public key cannot be used");
        Ok(match params {
            PublicParams::Ec { curve, x, y } => {
                let sec1 = sec1_uncompressed(x, y);
                if *curve == KeyType::P256 {
                    Self::Es256(
                        ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &sec1)
                            .map_err(bad)?,
                    )
                } else {
                    Self::Es384(
                        ParsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, &sec1)
                            .map_err(bad)?,
                    )
                }
            }
            PublicParams::Ed25519 { x } => {
                Self::Ed25519(ParsedPublicKey::new(&signature::ED25519, x).map_err(bad)?)
            }
            PublicParams::Rsa { n, e } => {
                let components = RsaPublicKeyComponents {
                    n: &n[..],
                    e: &e[..],
                };
                Self::Rsa {
                    pkcs1: components
                        .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256)
                        .map_err(bad)?,
                    pss: components
                        .to_parsed_public_key(&signature::RSA_PSS_2048_8192_SHA256)
                        .map_err(bad)?,
                }
            }
        })
    }

    /// Checks `signature` over `input` with `alg` (the rules of the
    /// module documentation).
    pub(crate) fn verify(&self, alg: Algorithm, input: &[u8], signature: &[u8]) -> bool {
        let (key, len) = match (self, alg) {
            (Self::Es256(k), Algorithm::Es256) => (k, Some(64)),
            (Self::Es384(k), Algorithm::Es384) => (k, Some(96)),
            (Self::Ed25519(k), Algorithm::EdDsa) => {
                if !ed25519::screen(signature) {
                    return false;
                }
                (k, None)
            }
            (Self::Rsa { pkcs1, .. }, Algorithm::Rs256) => (pkcs1, None),
            (Self::Rsa { pss, .. }, Algorithm::Ps256) => (pss, None),
            _ => return false,
        };
        len.is_none_or(|l| signature.len() == l) && key.verify_sig(input, signature).is_ok()
    }
}

/// An HMAC key for `alg`; AWS-LC cleanses the `HMAC_CTX` holding the keyed
/// state when it is dropped.
pub(crate) fn hmac_key(alg: HmacAlgorithm, secret: &[u8]) -> aws_lc_rs::hmac::Key {
    let alg = match alg {
        HmacAlgorithm::Hs256 => aws_lc_rs::hmac::HMAC_SHA256,
        HmacAlgorithm::Hs384 => aws_lc_rs::hmac::HMAC_SHA384,
        HmacAlgorithm::Hs512 => aws_lc_rs::hmac::HMAC_SHA512,
    };
    aws_lc_rs::hmac::Key::new(alg, secret)
}
