//! The pure-Rust backend: `p256`, `p384`, `ed25519-dalek`, `rsa` (constant
//! time since 0.10, and blinded) and `hmac` + `sha2`. Its key objects double
//! as the parsed form every key has (other backends are converted from them
//! once).

// One `signature` major (3) for ECDSA, Ed25519 and RSA.
use hmac::{Hmac, KeyInit, Mac};
use p256::elliptic_curve::Generate as _;
use rsa::signature::{SignatureEncoding, Signer, Verifier as _};
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use super::{
    ed25519, mismatch, sec1_uncompressed, PublicParams, MAX_RSA_VERIFY_BITS, MIN_RSA_BITS,
};
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

/// RSA signing keys prepared once for both padding schemes. `rsa` 0.10
/// exponentiates in constant time (`crypto-bigint`) and blinds with the OS
/// RNG (its `getrandom` feature) for both.
pub(crate) struct RsaSecret {
    pkcs1: rsa::pkcs1v15::SigningKey<Sha256>,
    pss: rsa::pss::SigningKey<Sha256>,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl Secret {
    /// A fresh P-256, P-384 or Ed25519 key from the operating system's
    /// CSPRNG (RSA: [`Secret::generate_rsa`]).
    pub(crate) fn generate(key_type: KeyType) -> Result<Self, Error> {
        // Keys come from the OS RNG through getrandom (p256/p384 0.14
        // `Generate`, an Ed25519 seed filled directly); a failing OS RNG is
        // an error, not a panic.
        Ok(match key_type {
            KeyType::P256 => {
                Self::P256(p256::ecdsa::SigningKey::try_generate().map_err(crate::random::failed)?)
            }
            KeyType::P384 => {
                Self::P384(p384::ecdsa::SigningKey::try_generate().map_err(crate::random::failed)?)
            }
            KeyType::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                crate::random::fill(&mut seed[..])?;
                Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            KeyType::Rsa => return Self::generate_rsa(2048),
        })
    }

    /// A fresh RSA key of `bits` bits (the caller checks the range).
    pub(crate) fn generate_rsa(bits: usize) -> Result<Self, Error> {
        let key = RsaPrivateKey::new(&mut getrandom::SysRng, bits)
            .map_err(|e| Error::with_source(ErrorKind::KeyBackend, e))?;
        Ok(Self::rsa(key))
    }

    pub(crate) fn rsa(key: RsaPrivateKey) -> Self {
        // Minimal big-endian bytes (`to_be_bytes` would pad to the limb
        // precision and change the JWK and its thumbprint).
        let n = key.n_bytes().into_vec();
        let e = key.e_bytes().into_vec();
        Self::Rsa(Box::new(RsaSecret {
            pkcs1: rsa::pkcs1v15::SigningKey::new(key.clone()),
            pss: rsa::pss::SigningKey::new(key),
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
        fn failed(_: rsa::signature::Error) -> Error {
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
            // Both blind with (and PSS salts from) the OS RNG.
            (Self::Rsa(k), Algorithm::Rs256) => k.pkcs1.try_sign(msg).map_err(failed)?.to_vec(),
            (Self::Rsa(k), Algorithm::Ps256) => k.pss.try_sign(msg).map_err(failed)?.to_vec(),
            _ => return Err(mismatch()),
        })
    }

    /// The private key as PKCS#8 DER.
    pub(crate) fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        use pkcs8::EncodePrivateKey;
        // Every key type encodes through pkcs8 0.11.
        let doc = match self {
            Self::P256(k) => k.to_pkcs8_der(),
            Self::P384(k) => k.to_pkcs8_der(),
            Self::Ed25519(k) => k.to_pkcs8_der(),
            Self::Rsa(k) => AsRef::<RsaPrivateKey>::as_ref(&k.pkcs1).to_pkcs8_der(),
        }
        .map_err(|e| Error::with_source(ErrorKind::KeyBackend, e))?;
        Ok(Zeroizing::new(doc.as_bytes().to_vec()))
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
                // Sizes were checked when parsed.
                let key = RsaPublicKey::new_with_size_limits(
                    public_uint(n),
                    public_uint(e),
                    MIN_RSA_BITS..=MAX_RSA_VERIFY_BITS,
                )
                .map_err(bad)?;
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

/// A public big-endian integer (an RSA modulus or exponent) as a
/// `BoxedUint` of the precision its bytes need (variable time: public data
/// only; leading zero bytes are dropped).
pub(crate) fn public_uint(bytes: &[u8]) -> BoxedUint {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    BoxedUint::from_be_slice_vartime(&bytes[start..])
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

fn keyed<M: Mac + KeyInit>(key: &[u8], input: &[u8]) -> Option<M> {
    // HMAC takes keys of any length: this never fails.
    let mut m = <M as KeyInit>::new_from_slice(key).ok()?;
    m.update(input);
    Some(m)
}

fn mac<M: Mac + KeyInit>(key: &[u8], input: &[u8]) -> Vec<u8> {
    keyed::<M>(key, input)
        .map(|m| m.finalize().into_bytes().to_vec())
        .unwrap_or_default()
}

/// `verify_slice` compares in constant time and refuses a tag of another
/// length (a truncated MAC is never accepted).
fn verify<M: Mac + KeyInit>(key: &[u8], input: &[u8], tag: &[u8]) -> bool {
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
