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
//! | RS256, PS256 | `rsa` (blinded) | AWS-LC (constant time) |
//! | HS256, HS384, HS512 (`client_secret_jwt` only) | `hmac` + `sha2` (`verify_slice`) | AWS-LC `hmac` (`hmac::verify`) |
//! | Build | pure Rust | C (AWS-LC, via `aws-lc-sys` and the `cc` crate) |
//!
//! # Same rules on both
//! Keys are parsed and validated by this crate first, identically for both
//! backends (RSA below 2048 bits, even RSA moduli or exponents, off-curve and
//! small-order points are refused at registration), then handed to the
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
//! The `rsa` crate's private-key operations are not constant time (the
//! "Marvin" timing side channel, RUSTSEC-2023-0071); this crate signs with
//! blinding, which mitigates but does not remove the leak. AWS-LC's RSA is
//! constant time: **prefer `Backend::AwsLc` for RSA signing keys.**
//! Verification only uses public data and is unaffected.
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

/// The eight small-order points of edwards25519, canonically encoded. A
/// strict Ed25519 verifier refuses a signature whose `R` is one of them
/// (non-canonical encodings never match AWS-LC's recomputed `R`).
pub(crate) const ED25519_SMALL_ORDER: [[u8; 32]; 8] = {
    const fn hex(s: &[u8; 64]) -> [u8; 32] {
        const fn nibble(c: u8) -> u8 {
            match c {
                b'0'..=b'9' => c - b'0',
                _ => c - b'a' + 10,
            }
        }
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
            i += 1;
        }
        out
    }
    [
        // The identity (order 1).
        hex(b"0100000000000000000000000000000000000000000000000000000000000000"),
        // (0, -1), order 2.
        hex(b"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        // (+-sqrt(-1), 0), order 4.
        hex(b"0000000000000000000000000000000000000000000000000000000000000000"),
        hex(b"0000000000000000000000000000000000000000000000000000000000000080"),
        // Order 8.
        hex(b"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        hex(b"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
        hex(b"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        hex(b"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
    ]
};

/// The AWS-LC implementations, through `aws-lc-rs`.
#[cfg(feature = "aws-lc-rs")]
pub(crate) mod aws_lc {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{
        self, EcdsaKeyPair, Ed25519KeyPair, ParsedPublicKey, RsaKeyPair, RsaPublicKeyComponents,
    };

    use super::ED25519_SMALL_ORDER;
    use crate::algorithm::{Algorithm, KeyType};
    use crate::error::{Error, ErrorKind};
    use crate::keys::jwk::PublicParams;

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
                KeyType::Ed25519 => {
                    Self::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?)
                }
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
                _ => Err(Error::detail(
                    ErrorKind::AlgorithmNotAllowed,
                    "the algorithm does not fit the key",
                )),
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
                    let sec1 = crate::keys::jwk::sec1_uncompressed(x, y);
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
                    if signature.len() != 64
                        || ED25519_SMALL_ORDER.iter().any(|r| signature[..32] == r[..])
                    {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_order_table_is_exactly_the_small_order_points() {
        for bytes in ED25519_SMALL_ORDER {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).expect("a curve point");
            assert!(key.is_weak(), "{bytes:02x?} is small-order");
            // Canonical: y (the sign bit masked) is below p = 2^255 - 19.
            let mut y = bytes;
            y[31] &= 0x7f;
            y.reverse();
            let mut p = [0xffu8; 32];
            p[0] = 0x7f;
            p[31] = 0xed;
            assert!(y < p, "{bytes:02x?} is canonical");
        }
        let mut distinct = ED25519_SMALL_ORDER.to_vec();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 8);
    }

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
