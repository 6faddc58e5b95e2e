//! The pure-Rust backend: `p256`, `p384`, `ed25519-dalek`, `rsa` (blinded
//! signing) and `hmac` + `sha2`. Its key objects double as the parsed form
//! every key has (other backends are converted from them once).

// Two `signature` majors: 3 for ECDSA (p256/p384 0.14), 2 for Ed25519 and RSA.
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::elliptic_curve::Generate as _;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer, Verifier as _};
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use super::{ed25519, mismatch, sec1_uncompressed, PublicParams, MAX_RSA_VERIFY_BITS};
use crate::algorithm::{Algorithm, HmacAlgorithm, KeyType};
use crate::error::{Error, ErrorKind};

/// The private key material. Every variant zeroizes its secret on drop
/// (the RustCrypto key types implement `ZeroizeOnDrop`).
pub(crate) enum Secret {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(Box<RsaSecret>),
}

/// RSA signing keys prepared once for both padding schemes (blinded).
pub(crate) struct RsaSecret {
    pkcs1: rsa::pkcs1v15::SigningKey<Sha256>,
    pss: rsa::pss::BlindedSigningKey<Sha256>,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl Secret {
    /// A fresh P-256, P-384 or Ed25519 key from the operating system's
    /// CSPRNG (RSA: [`Secret::generate_rsa`]).
    pub(crate) fn generate(key_type: KeyType) -> Result<Self, Error> {
        // ECDSA keys come from the OS RNG through getrandom (p256/p384 0.14
        // `Generate`); a failing OS RNG is an error, not a panic.
        let rng_failed = |_| Error::detail(ErrorKind::KeyBackend, "the OS random generator failed");
        Ok(match key_type {
            KeyType::P256 => {
                Self::P256(p256::ecdsa::SigningKey::try_generate().map_err(rng_failed)?)
            }
            KeyType::P384 => {
                Self::P384(p384::ecdsa::SigningKey::try_generate().map_err(rng_failed)?)
            }
            KeyType::Ed25519 => {
                Self::Ed25519(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
            }
            KeyType::Rsa => return Self::generate_rsa(2048),
        })
    }

    /// A fresh RSA key of `bits` bits (the caller checks the range).
    pub(crate) fn generate_rsa(bits: usize) -> Result<Self, Error> {
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
            .map_err(|e| Error::with_source(ErrorKind::KeyBackend, e))?;
        Ok(Self::rsa(key))
    }

    pub(crate) fn rsa(key: RsaPrivateKey) -> Self {
        let n = key.n().to_bytes_be();
        let e = key.e().to_bytes_be();
        Self::Rsa(Box::new(RsaSecret {
            pkcs1: rsa::pkcs1v15::SigningKey::new(key.clone()),
            pss: rsa::pss::BlindedSigningKey::new(key),
            n,
            e,
        }))
    }

    pub(crate) fn key_type(&self) -> KeyType {
        match self {
            Self::P256(_) => KeyType::P256,
            Self::P384(_) => KeyType::P384,
            Self::Ed25519(_) => KeyType::Ed25519,
            Self::Rsa(_) => KeyType::Rsa,
        }
    }

    pub(crate) fn p256_params(key: &p256::ecdsa::VerifyingKey) -> PublicParams {
        let point = key.to_sec1_point(false);
        PublicParams::Ec {
            curve: KeyType::P256,
            x: point.x().map(|x| x.to_vec()).unwrap_or_default(),
            y: point.y().map(|y| y.to_vec()).unwrap_or_default(),
        }
    }

    pub(crate) fn p384_params(key: &p384::ecdsa::VerifyingKey) -> PublicParams {
        let point = key.to_sec1_point(false);
        PublicParams::Ec {
            curve: KeyType::P384,
            x: point.x().map(|x| x.to_vec()).unwrap_or_default(),
            y: point.y().map(|y| y.to_vec()).unwrap_or_default(),
        }
    }

    pub(crate) fn public_params(&self) -> PublicParams {
        match self {
            Self::P256(k) => Self::p256_params(k.verifying_key()),
            Self::P384(k) => Self::p384_params(k.verifying_key()),
            Self::Ed25519(k) => PublicParams::Ed25519 {
                x: k.verifying_key().to_bytes(),
            },
            Self::Rsa(k) => PublicParams::Rsa {
                n: k.n.clone(),
                e: k.e.clone(),
            },
        }
    }

    /// Signs `msg` with `alg`, which the caller has checked fits this key.
    pub(crate) fn sign(&self, alg: Algorithm, msg: &[u8]) -> Result<Vec<u8>, Error> {
        // Generic: ECDSA fails with `signature` 3's error, the others with 2's.
        fn failed<E>(_: E) -> Error {
            Error::detail(ErrorKind::KeyBackend, "signing failed")
        }
        Ok(match (self, alg) {
            (Self::P256(k), Algorithm::Es256) => {
                let sig: p256::ecdsa::Signature = k.try_sign(msg).map_err(failed)?;
                sig.to_vec()
            }
            (Self::P384(k), Algorithm::Es384) => {
                let sig: p384::ecdsa::Signature = k.try_sign(msg).map_err(failed)?;
                sig.to_vec()
            }
            (Self::Ed25519(k), Algorithm::EdDsa) => k.try_sign(msg).map_err(failed)?.to_vec(),
            (Self::Rsa(k), Algorithm::Rs256) => k
                .pkcs1
                .try_sign_with_rng(&mut rand::thread_rng(), msg)
                .map_err(failed)?
                .to_vec(),
            (Self::Rsa(k), Algorithm::Ps256) => k
                .pss
                .try_sign_with_rng(&mut rand::thread_rng(), msg)
                .map_err(failed)?
                .to_vec(),
            _ => return Err(mismatch()),
        })
    }

    /// The private key as PKCS#8 DER.
    pub(crate) fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        use pkcs8::EncodePrivateKey;
        // ECDSA keys encode through pkcs8 0.11 (p256/p384 0.14), Ed25519 and
        // RSA keys through pkcs8 0.10: two document types, the same DER.
        use p256::pkcs8::EncodePrivateKey as EcEncodePrivateKey;
        let der = match self {
            Self::P256(k) => EcEncodePrivateKey::to_pkcs8_der(k)
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
            Self::P384(k) => EcEncodePrivateKey::to_pkcs8_der(k)
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
            Self::Ed25519(k) => k
                .to_pkcs8_der()
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
            Self::Rsa(k) => AsRef::<RsaPrivateKey>::as_ref(&k.pkcs1)
                .to_pkcs8_der()
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
        }
        .map_err(|e| Error::with_source(ErrorKind::KeyBackend, e))?;
        Ok(Zeroizing::new(der))
    }

    pub(crate) fn clone_secret(&self) -> Self {
        match self {
            Self::P256(k) => Self::P256(k.clone()),
            Self::P384(k) => Self::P384(k.clone()),
            Self::Ed25519(k) => Self::Ed25519(k.clone()),
            Self::Rsa(k) => Self::Rsa(Box::new(RsaSecret {
                pkcs1: k.pkcs1.clone(),
                pss: k.pss.clone(),
                n: k.n.clone(),
                e: k.e.clone(),
            })),
        }
    }
}

/// A public key parsed once into RustCrypto key objects.
pub(crate) enum VerifyingKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa {
        pkcs1: rsa::pkcs1v15::VerifyingKey<Sha256>,
        pss: rsa::pss::VerifyingKey<Sha256>,
    },
}

impl VerifyingKey {
    /// Parses validated public parameters.
    pub(crate) fn from_params(params: &PublicParams) -> Result<Self, Error> {
        fn bad<E>(_: E) -> Error {
            Error::detail(ErrorKind::InvalidKey, "public key cannot be used")
        }
        Ok(match params {
            PublicParams::Ec { curve, x, y } => {
                let sec1 = sec1_uncompressed(x, y);
                if *curve == KeyType::P256 {
                    Self::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(bad)?)
                } else {
                    Self::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).map_err(bad)?)
                }
            }
            PublicParams::Ed25519 { x } => {
                let key = ed25519_dalek::VerifyingKey::from_bytes(x).map_err(bad)?;
                // Refused when parsed already; `verify` below relies on it.
                if key.is_weak() {
                    return Err(bad(()));
                }
                Self::Ed25519(key)
            }
            PublicParams::Rsa { n, e } => {
                let (n, e) = (BigUint::from_bytes_be(n), BigUint::from_bytes_be(e));
                // Sizes were checked when parsed.
                let key =
                    RsaPublicKey::new_with_max_size(n, e, MAX_RSA_VERIFY_BITS).map_err(bad)?;
                Self::Rsa {
                    pkcs1: rsa::pkcs1v15::VerifyingKey::new(key.clone()),
                    pss: rsa::pss::VerifyingKey::new(key),
                }
            }
        })
    }

    /// Checks `signature` over `input` with `alg` (the rules of the
    /// [backend documentation](crate::backend)).
    pub(crate) fn verify(&self, alg: Algorithm, input: &[u8], signature: &[u8]) -> bool {
        match (self, alg) {
            (Self::P256(k), Algorithm::Es256) => {
                signature.len() == 64
                    && p256::ecdsa::Signature::from_slice(signature)
                        .is_ok_and(|s| k.verify(input, &s).is_ok())
            }
            (Self::P384(k), Algorithm::Es384) => {
                signature.len() == 96
                    && p384::ecdsa::Signature::from_slice(signature)
                        .is_ok_and(|s| k.verify(input, &s).is_ok())
            }
            (Self::Ed25519(k), Algorithm::EdDsa) => {
                // `verify_strict`'s acceptance, 15 % faster: `verify` refuses a
                // non-canonical S and compares R's bytes with the canonical
                // encoding of the recomputed point; what `verify_strict` adds
                // is a small-order R or key, and the key was screened above.
                ed25519::screen(signature)
                    && ed25519_dalek::Signature::from_slice(signature)
                        .is_ok_and(|s| ed25519_dalek::Verifier::verify(k, input, &s).is_ok())
            }
            (Self::Rsa { pkcs1, .. }, Algorithm::Rs256) => {
                rsa::pkcs1v15::Signature::try_from(signature)
                    .is_ok_and(|s| pkcs1.verify(input, &s).is_ok())
            }
            (Self::Rsa { pss, .. }, Algorithm::Ps256) => rsa::pss::Signature::try_from(signature)
                .is_ok_and(|s| pss.verify(input, &s).is_ok()),
            _ => false,
        }
    }
}

/// The HMAC of `input` under `key` with `alg`.
pub(crate) fn hmac(alg: HmacAlgorithm, key: &[u8], input: &[u8]) -> Vec<u8> {
    match alg {
        HmacAlgorithm::Hs256 => mac::<Hmac<Sha256>>(key, input),
        HmacAlgorithm::Hs384 => mac::<Hmac<Sha384>>(key, input),
        HmacAlgorithm::Hs512 => mac::<Hmac<Sha512>>(key, input),
    }
}

/// Whether `tag` is the HMAC of `input` under `key` with `alg`, compared in
/// constant time.
pub(crate) fn hmac_verify(alg: HmacAlgorithm, key: &[u8], input: &[u8], tag: &[u8]) -> bool {
    match alg {
        HmacAlgorithm::Hs256 => verify::<Hmac<Sha256>>(key, input, tag),
        HmacAlgorithm::Hs384 => verify::<Hmac<Sha384>>(key, input, tag),
        HmacAlgorithm::Hs512 => verify::<Hmac<Sha512>>(key, input, tag),
    }
}

fn keyed<M: Mac + hmac::digest::KeyInit>(key: &[u8], input: &[u8]) -> Option<M> {
    // HMAC takes keys of any length: this never fails.
    let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).ok()?;
    m.update(input);
    Some(m)
}

fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], input: &[u8]) -> Vec<u8> {
    keyed::<M>(key, input)
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default()
}

/// `verify_slice` compares in constant time and refuses a tag of another
/// length (a truncated MAC is never accepted).
fn verify<M: Mac + hmac::digest::KeyInit>(key: &[u8], input: &[u8], tag: &[u8]) -> bool {
    keyed::<M>(key, input).is_some_and(|m| m.verify_slice(tag).is_ok())
}

/// Converts a DER ECDSA signature (as tokens return it) into raw `r || s`;
/// `None` if it is not one for `alg`.
#[cfg(feature = "pkcs11")]
pub(crate) fn ecdsa_signature_from_der(alg: Algorithm, der: &[u8]) -> Option<Vec<u8>> {
    match alg {
        Algorithm::Es256 => p256::ecdsa::Signature::from_der(der)
            .ok()
            .map(|s| s.to_vec()),
        Algorithm::Es384 => p384::ecdsa::Signature::from_der(der)
            .ok()
            .map(|s| s.to_vec()),
        _ => None,
    }
}
