//! Crypto backends: which implementation signs and verifies.
//!
//! Every key ([`PrivateKey::with_backend`](crate::PrivateKey::with_backend))
//! and every registry ([`ClientRegistry::with_backend`](crate::ClientRegistry::with_backend))
//! chooses its [`Backend`] itself. There is **no process-global backend**:
//! nothing is installed, nothing is selected at start-up, and a process may
//! use both backends at once (and link other users of aws-lc-rs or ring,
//! e.g. `jsonwebtoken` with `aws_lc_rs`) without any of them panicking or
//! affecting the others.
//!
//! | | [`Backend::RustCrypto`] (default) | `Backend::AwsLc` (feature `aws-lc-rs`) |
//! |---|---|---|
//! | ES256, ES384 | `p256`, `p384` | AWS-LC, `ECDSA_P*_SHA*_FIXED` |
//! | EdDSA (Ed25519) | `ed25519-dalek` (`verify` + the small-order `R` check: `verify_strict`'s acceptance) | AWS-LC `ED25519` (+ the same small-order `R` check) |
//! | RS256, PS256 | `rsa` 0.10 (constant time, blinded) | AWS-LC (constant time) |
//! | HS256, HS384, HS512 (`client_secret_jwt` only) | `hmac` + `sha2` (`verify_slice`) | AWS-LC `hmac` (`hmac::verify`) |
//! | Build | pure Rust | C (AWS-LC, via `aws-lc-sys` and the `cc` crate) |
//!
//! # Same rules on both
//! Keys are parsed and validated by this crate first, identically for both
//! backends (RSA moduli below 2048 or above 8192 bits, even RSA moduli or
//! exponents, off-curve and small-order points are refused at
//! registration), then handed to the
//! backend once: a verifying key is parsed into the backend's key object at
//! registration and a signing key is converted into the backend's key pair
//! in [`PrivateKey::with_backend`](crate::PrivateKey::with_backend), never
//! per operation. The verification rules are the same:
//!
//! - ECDSA signatures are raw `r || s` of exactly 64 (ES256) or 96 (ES384)
//!   bytes; DER, truncated or padded signatures, `r` or `s` zero or not below
//!   the group order are refused. Like every mainstream ECDSA verifier, both
//!   accept the "high-S" twin `(r, n - s)` of a valid signature: ECDSA is
//!   malleable, which is harmless here because replay protection is keyed
//!   on `jti`, never on the signature bytes.
//! - Ed25519 verification is strict on both: a non-canonical `S` (at least
//!   the group order), a non-canonical encoding of `R` and a small-order `R`
//!   are refused. With `ed25519-dalek`, `verify` refuses the first two and this
//!   crate the small-order `R` (small-order keys are refused when parsed):
//!   exactly `verify_strict`'s acceptance, at `verify`'s speed; AWS-LC
//!   refuses non-canonical `S` and `R` encodings, and this crate refuses the
//!   eight small-order `R` encodings before calling it (AWS-LC alone would
//!   accept a signature whose `R` is the identity, which only the key's
//!   owner can make). Both use the cofactorless equation.
//! - RSA signatures must be exactly as long as the modulus and numerically
//!   below it; PS256 uses MGF1-SHA-256 with a 32-byte salt, RS256 PKCS#1
//!   v1.5 with SHA-256.
//!
//! # Signing
//! Both produce the same encodings (ECDSA `r || s`, 64-byte Ed25519, RSA
//! signatures of the modulus length with a 32-byte PSS salt). ECDSA nonces
//! are RFC 6979 deterministic with RustCrypto and random with AWS-LC, so
//! ES256/ES384 signatures differ between backends (both verify anywhere).
//! RS256 and EdDSA signatures are deterministic and byte-identical.
//!
//! # RSA and RUSTSEC-2023-0071
//! RUSTSEC-2023-0071 ("Marvin", a timing side channel in the private-key
//! operations of `rsa` up to 0.9) does not apply to either backend: `rsa`
//! 0.10.0, which this crate requires, computes with `crypto-bigint` in
//! constant time (and this crate still blinds, with the OS RNG), and
//! AWS-LC's RSA is constant time. Both sign and verify moduli of 2048 to
//! 8192 bits. Verification only uses public data. RSA signing is slower on
//! `rsa` 0.10 than on AWS-LC (BENCHMARKS.md has the figures); pick
//! `Backend::AwsLc` for speed, not for safety.
//!
//! # Zeroization
//! RustCrypto keys zeroize themselves on drop. AWS-LC key pairs live in C
//! memory and are freed with `EVP_PKEY_free`; AWS-LC's allocator
//! (`OPENSSL_free`) cleanses every allocation before releasing it, so the
//! private scalars and RSA primes are wiped when the key is dropped (unless
//! the process replaces AWS-LC's allocator with its own). A key
//! converted to `Backend::AwsLc` keeps its RustCrypto form too (for
//! [`PrivateKey::to_pkcs8_pem`](crate::PrivateKey::to_pkcs8_pem) and
//! [`PrivateKey::clone_key`](crate::PrivateKey::clone_key)); the PKCS#8 DER
//! used for the conversion is held in `Zeroizing` and wiped at once.
//!
//! ```
//! use client_assertion::Backend;
//!
//! assert_eq!(Backend::default(), Backend::RustCrypto);
//! assert_eq!("rust-crypto".parse::<Backend>()?, Backend::RustCrypto);
//! assert!(Backend::available().contains(&Backend::RustCrypto));
//! # Ok::<(), client_assertion::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

/// The implementation that signs and verifies, chosen per key and per
/// registry (never process-wide); see the [module documentation](crate::backend).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// Pure Rust: `p256`, `p384`, `ed25519-dalek`, `rsa`. The default.
    #[default]
    RustCrypto,
    /// AWS-LC through `aws-lc-rs` (C, constant-time RSA). Needs the
    /// `aws-lc-rs` feature.
    #[cfg(feature = "aws-lc-rs")]
    AwsLc,
}

impl Backend {
    /// Every backend compiled into this build, the default first.
    pub const fn available() -> &'static [Backend] {
        &[
            Backend::RustCrypto,
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc,
        ]
    }

    /// The backend's name: `rust-crypto` or `aws-lc` (what [`FromStr`]
    /// reads).
    pub const fn name(self) -> &'static str {
        match self {
            Backend::RustCrypto => "rust-crypto",
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => "aws-lc",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = Error;

    /// Reads `rust-crypto` or `aws-lc`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for another name, or for `aws-lc` when
    /// the `aws-lc-rs` feature is not compiled in.
    fn from_str(name: &str) -> Result<Self, Error> {
        match name {
            "rust-crypto" => Ok(Backend::RustCrypto),
            #[cfg(feature = "aws-lc-rs")]
            "aws-lc" => Ok(Backend::AwsLc),
            #[cfg(not(feature = "aws-lc-rs"))]
            "aws-lc" => Err(Error::detail(
                ErrorKind::InvalidConfig,
                "the aws-lc backend needs the aws-lc-rs feature",
            )),
            _ => Err(Error::detail(
                ErrorKind::InvalidConfig,
                "unknown backend (rust-crypto or aws-lc)",
            )),
        }
    }
}

#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
mod ed25519;
mod public;
mod rust_crypto;

pub(crate) use public::{sec1_uncompressed, PublicParams, MAX_RSA_VERIFY_BITS, MIN_RSA_BITS};
#[cfg(feature = "pkcs11")]
pub(crate) use rust_crypto::ecdsa_signature_from_der;
pub(crate) use rust_crypto::public_uint;
pub(crate) use rust_crypto::Secret;

use crate::algorithm::{Algorithm, HmacAlgorithm};

/// The error for an algorithm the key cannot sign with.
pub(crate) fn mismatch() -> Error {
    Error::detail(
        ErrorKind::AlgorithmNotAllowed,
        "the algorithm does not fit the key",
    )
}

/// A private key ready to sign on its backend: the parsed [`Secret`]
/// (kept for export and copies) and, for another backend, its key pair
/// converted once.
pub(crate) struct SigningKey {
    secret: Secret,
    native: NativeKey,
}

enum NativeKey {
    /// Signs with the [`Secret`] itself.
    RustCrypto,
    /// An AWS-LC key pair derived once from the secret's PKCS#8 DER.
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(Box<aws_lc::SigningKey>),
}

impl SigningKey {
    /// Signs with [`Backend::RustCrypto`].
    pub(crate) fn new(secret: Secret) -> Self {
        Self {
            secret,
            native: NativeKey::RustCrypto,
        }
    }

    /// Converts the key once for `backend` (for AWS-LC through its PKCS#8
    /// DER, zeroized as soon as AWS-LC has parsed it).
    ///
    /// # Errors
    /// [`ErrorKind::KeyBackend`] if the backend refuses the key.
    pub(crate) fn set_backend(&mut self, backend: Backend) -> Result<(), Error> {
        self.native = match backend {
            Backend::RustCrypto => NativeKey::RustCrypto,
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => {
                let der = self.secret.to_pkcs8_der()?;
                let key = aws_lc::SigningKey::from_pkcs8(self.secret.key_type(), &der)?;
                NativeKey::AwsLc(Box::new(key))
            }
        };
        Ok(())
    }

    pub(crate) fn backend(&self) -> Backend {
        match self.native {
            NativeKey::RustCrypto => Backend::RustCrypto,
            #[cfg(feature = "aws-lc-rs")]
            NativeKey::AwsLc(_) => Backend::AwsLc,
        }
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Signs `msg` with `alg`, which the caller has checked fits the key.
    pub(crate) fn sign(&self, alg: Algorithm, msg: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.native {
            NativeKey::RustCrypto => self.secret.sign(alg, msg),
            #[cfg(feature = "aws-lc-rs")]
            NativeKey::AwsLc(k) => k.sign(alg, msg),
        }
    }

    /// A copy on the same backend, owning its own key memory. (A backend
    /// cannot refuse a key it has already accepted; should it all the same,
    /// the copy signs with [`Backend::RustCrypto`] rather than panic.)
    pub(crate) fn clone_key(&self) -> Self {
        let mut copy = Self::new(self.secret.clone_secret());
        if copy.set_backend(self.backend()).is_err() {
            copy.native = NativeKey::RustCrypto;
        }
        copy
    }
}

/// A public key parsed once into its backend's key objects.
pub(crate) enum VerifyingKey {
    RustCrypto(rust_crypto::VerifyingKey),
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(aws_lc::VerifyingKey),
}

impl VerifyingKey {
    /// Parses validated public parameters for `backend`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidKey`] if the backend refuses the key.
    pub(crate) fn new(params: &PublicParams, backend: Backend) -> Result<Self, Error> {
        Ok(match backend {
            Backend::RustCrypto => {
                Self::RustCrypto(rust_crypto::VerifyingKey::from_params(params)?)
            }
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => Self::AwsLc(aws_lc::VerifyingKey::from_params(params)?),
        })
    }

    /// Checks `signature` over `input` with `alg` (the rules of the
    /// module documentation); `false` for an algorithm of another key type.
    pub(crate) fn verify(&self, alg: Algorithm, input: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::RustCrypto(k) => k.verify(alg, input, signature),
            #[cfg(feature = "aws-lc-rs")]
            Self::AwsLc(k) => k.verify(alg, input, signature),
        }
    }
}

/// A shared secret ready to MAC with, for one backend and a fixed set of
/// algorithms (the caller has checked the secret's length for each).
pub(crate) struct MacKey {
    algorithms: Vec<HmacAlgorithm>,
    inner: MacInner,
}

enum MacInner {
    RustCrypto(zeroize::Zeroizing<Vec<u8>>),
    /// One AWS-LC key per algorithm.
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(Vec<(HmacAlgorithm, aws_lc_rs::hmac::Key)>),
}

impl MacKey {
    /// Keys `secret` (copied into wiped memory) for `algorithms` on `backend`.
    pub(crate) fn new(secret: &[u8], algorithms: Vec<HmacAlgorithm>, backend: Backend) -> Self {
        let inner = match backend {
            Backend::RustCrypto => MacInner::RustCrypto(zeroize::Zeroizing::new(secret.to_vec())),
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => MacInner::AwsLc(
                algorithms
                    .iter()
                    .map(|alg| (*alg, aws_lc::hmac_key(*alg, secret)))
                    .collect(),
            ),
        };
        Self { algorithms, inner }
    }

    /// The algorithms this key may MAC with.
    pub(crate) fn algorithms(&self) -> &[HmacAlgorithm] {
        &self.algorithms
    }

    pub(crate) fn backend(&self) -> Backend {
        match self.inner {
            MacInner::RustCrypto(_) => Backend::RustCrypto,
            #[cfg(feature = "aws-lc-rs")]
            MacInner::AwsLc(_) => Backend::AwsLc,
        }
    }

    /// The MAC of `input` with `alg`; `None` if `alg` is not one of this
    /// key's algorithms.
    pub(crate) fn sign(&self, alg: HmacAlgorithm, input: &[u8]) -> Option<Vec<u8>> {
        if !self.algorithms.contains(&alg) {
            return None;
        }
        match &self.inner {
            MacInner::RustCrypto(key) => Some(rust_crypto::hmac(alg, key, input)),
            #[cfg(feature = "aws-lc-rs")]
            MacInner::AwsLc(keys) => {
                let (_, key) = keys.iter().find(|(a, _)| *a == alg)?;
                Some(aws_lc_rs::hmac::sign(key, input).as_ref().to_vec())
            }
        }
    }

    /// Whether `tag` is the MAC of `input` with `alg`, compared in constant
    /// time (a tag of another length is refused); `false` if `alg` is not
    /// one of this key's algorithms.
    pub(crate) fn verify(&self, alg: HmacAlgorithm, input: &[u8], tag: &[u8]) -> bool {
        if !self.algorithms.contains(&alg) {
            return false;
        }
        match &self.inner {
            MacInner::RustCrypto(key) => rust_crypto::hmac_verify(alg, key, input, tag),
            #[cfg(feature = "aws-lc-rs")]
            MacInner::AwsLc(keys) => keys
                .iter()
                .find(|(a, _)| *a == alg)
                .is_some_and(|(_, key)| aws_lc_rs::hmac::verify(key, input, tag).is_ok()),
        }
    }
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MacKey")
            .field("algorithms", &self.algorithms)
            .field("backend", &self.backend())
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for b in Backend::available() {
            assert_eq!(b.name().parse::<Backend>().unwrap(), *b);
            assert_eq!(b.to_string(), b.name());
        }
        let e = "openssl".parse::<Backend>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidConfig);
        #[cfg(not(feature = "aws-lc-rs"))]
        assert_eq!(
            "aws-lc".parse::<Backend>().unwrap_err().kind(),
            ErrorKind::InvalidConfig
        );
    }
}
