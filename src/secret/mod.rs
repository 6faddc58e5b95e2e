//! `client_secret_jwt` (OpenID Connect Core §9): client authentication with
//! an assertion MACed with a secret shared by the client and the server.
//!
//! This is a **separate mode**, kept apart from `private_key_jwt` by type:
//!
//! - [`Algorithm`](crate::Algorithm) still cannot name HMAC (or `none`); the
//!   HMAC algorithms are a different enum, [`HmacAlgorithm`], that only the
//!   APIs of this mode take or return.
//! - The client side is its own signer, [`ClientSecretJwtSigner`], holding a
//!   [`ClientSecret`] rather than a [`KeySource`](crate::KeySource). It mints
//!   the same claims and form parameters as
//!   [`AssertionSigner`](crate::AssertionSigner) (the assembly code is
//!   shared) and returns a `ClientAssertion<HmacAlgorithm>`.
//! - On the server a client is registered either with public keys or with a
//!   secret ([`ClientRegistry::register_client_secret`](crate::ClientRegistry::register_client_secret)),
//!   never both, and the registration alone decides how it is verified: a
//!   client with public keys is never verified with HMAC whatever the header
//!   says, so its public key bytes can never become an HMAC key (the classic
//!   RS256 → HS256 confusion); a client with a secret is verified only with
//!   the HMAC algorithms registered for it.
//! - The verifier accepts it only when asked twice: the policy must opt in
//!   ([`Policy::allow_client_secret_jwt`](crate::Policy::allow_client_secret_jwt),
//!   off by default, as FAPI 2.0 forbids shared secrets), and only
//!   [`Verifier::authenticate_client`](crate::Verifier::authenticate_client)
//!   can return an HMAC-verified client; [`Verifier::verify`](crate::Verifier::verify)
//!   stays `private_key_jwt` only.
//!
//! # Secrets
//! RFC 7518 §3.2: "A key of the same size as the hash output ... or larger
//! MUST be used". A [`ClientSecret`] has at least 32 bytes; HS384 needs 48
//! and HS512 64, checked when a signer is built or a client registered
//! ([`ErrorKind::WeakSecret`]). As in OpenID Connect Core §16.19, the MAC key
//! is the octets of the secret as given (for a `client_secret` string, its
//! UTF-8 bytes): nothing is decoded or derived.
//!
//! # Backends
//! [`Backend::RustCrypto`] MACs with the `hmac` crate (tags compared in
//! constant time by `verify_slice`); `Backend::AwsLc` (feature `aws-lc-rs`)
//! with `aws_lc_rs::hmac` (constant-time `hmac::verify`). The registry's
//! backend applies to its secret clients too; a signer picks one with
//! [`ClientSecretJwtSignerBuilder::backend`].

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::signing::JwsAlgorithm;

mod signer;

pub use signer::{ClientSecretJwtSigner, ClientSecretJwtSignerBuilder};

/// The shortest [`ClientSecret`] accepted, in bytes: the HS256 minimum of
/// RFC 7518 §3.2 (256 bits).
pub const MIN_CLIENT_SECRET_LEN: usize = 32;

/// An HMAC JWS algorithm (RFC 7518 §3.2), for `client_secret_jwt` only.
///
/// Deliberately a separate type from [`Algorithm`](crate::Algorithm): an API
/// that takes an `Algorithm` cannot be handed HMAC, and one that takes an
/// `HmacAlgorithm` cannot be handed an asymmetric algorithm or `none`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HmacAlgorithm {
    /// HMAC with SHA-256; the secret needs at least 32 bytes.
    Hs256,
    /// HMAC with SHA-384; the secret needs at least 48 bytes.
    Hs384,
    /// HMAC with SHA-512; the secret needs at least 64 bytes.
    Hs512,
}

impl HmacAlgorithm {
    /// Every HMAC algorithm.
    pub const ALL: [HmacAlgorithm; 3] = [Self::Hs256, Self::Hs384, Self::Hs512];

    /// The JWA name written in the `alg` header.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Hs384 => "HS384",
            Self::Hs512 => "HS512",
        }
    }

    /// Parses a JWA name, exactly (`HS256`, `HS384`, `HS512`).
    ///
    /// # Errors
    /// [`ErrorKind::AlgorithmNotAllowed`] for every other name, `none` and
    /// the asymmetric algorithms included.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        Self::lookup(name).ok_or_else(|| {
            Error::detail(
                ErrorKind::AlgorithmNotAllowed,
                "not an HMAC algorithm (HS256, HS384, HS512)",
            )
        })
    }

    /// [`HmacAlgorithm::from_name`] without building an error: the verifier
    /// asks this of every token's `alg`.
    pub(crate) fn lookup(name: &str) -> Option<Self> {
        match name {
            "HS256" => Some(Self::Hs256),
            "HS384" => Some(Self::Hs384),
            "HS512" => Some(Self::Hs512),
            _ => None,
        }
    }

    /// The shortest secret this algorithm accepts, in bytes: the hash output
    /// size (RFC 7518 §3.2). Also the length of its MAC.
    pub const fn min_secret_len(self) -> usize {
        match self {
            Self::Hs256 => 32,
            Self::Hs384 => 48,
            Self::Hs512 => 64,
        }
    }
}

impl JwsAlgorithm for HmacAlgorithm {
    fn jws_name(self) -> &'static str {
        self.name()
    }
}

impl fmt::Display for HmacAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for HmacAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_name(s)
    }
}

/// A `client_secret` used as an HMAC key: at least
/// [`MIN_CLIENT_SECRET_LEN`] bytes, wiped from memory when dropped.
///
/// `Debug` prints `ClientSecret([redacted])`; there is no `Display` and no
/// `Clone` (use [`ClientSecret::clone_secret`] where a second copy is really
/// needed). Load it from a file or an environment variable rather than a
/// command-line argument, which other local users can read.
///
/// ```
/// use client_assertion::{ClientSecret, ErrorKind};
///
/// let secret = ClientSecret::from_string("correct horse battery staple, 32+ bytes long")?;
/// assert_eq!(format!("{secret:?}"), "ClientSecret([redacted])");
/// let short = ClientSecret::from_string("hunter2").unwrap_err();
/// assert_eq!(short.kind(), ErrorKind::WeakSecret);
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct ClientSecret {
    bytes: Zeroizing<Vec<u8>>,
}

impl ClientSecret {
    fn new(bytes: Zeroizing<Vec<u8>>) -> Result<Self, Error> {
        if bytes.len() < MIN_CLIENT_SECRET_LEN {
            return Err(Error::detail(
                ErrorKind::WeakSecret,
                "a client secret needs at least 32 bytes",
            ));
        }
        Ok(Self { bytes })
    }

    /// A secret of these octets (copied; wiping the caller's copy is the
    /// caller's business).
    ///
    /// # Errors
    /// [`ErrorKind::WeakSecret`] below [`MIN_CLIENT_SECRET_LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::new(Zeroizing::new(bytes.to_vec()))
    }

    /// A `client_secret` string; the key is its UTF-8 octets (OpenID Connect
    /// Core §16.19). A `String` passed by value is moved in, not copied.
    ///
    /// # Errors
    /// [`ErrorKind::WeakSecret`] below [`MIN_CLIENT_SECRET_LEN`] bytes.
    pub fn from_string(secret: impl Into<String>) -> Result<Self, Error> {
        Self::new(Zeroizing::new(secret.into().into_bytes()))
    }

    /// Reads the secret from a file (e.g. a mounted Kubernetes or Docker
    /// secret). One trailing line break (`\n` or `\r\n`) is removed, as
    /// `echo` and editors add one; every other byte is part of the secret.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] if the file cannot be read;
    /// [`ErrorKind::WeakSecret`] if the secret is too short.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new(
            std::fs::read(path.as_ref()).map_err(|e| Error::with_source(ErrorKind::Io, e))?,
        );
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        Self::new(bytes)
    }

    /// Reads the secret from the environment variable `name` (its UTF-8
    /// octets, as is). The process environment keeps its own copy, which
    /// this crate cannot wipe; prefer [`ClientSecret::from_file`] where you
    /// can.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] if the variable is unset or not UTF-8;
    /// [`ErrorKind::WeakSecret`] if the secret is too short.
    pub fn from_env(name: &str) -> Result<Self, Error> {
        let value = std::env::var(name).map_err(|_| {
            Error::detail(
                ErrorKind::InvalidConfig,
                "the client secret variable is unset or not UTF-8",
            )
        })?;
        Self::from_string(value)
    }

    /// A fresh random secret for a server to issue: 64 bytes from the
    /// operating system's CSPRNG, base64url-encoded into an 86-character
    /// printable `client_secret` (enough for every HMAC algorithm). Hand it
    /// to the client with [`ClientSecret::secret_bytes`].
    pub fn generate() -> Self {
        let mut raw = Zeroizing::new([0u8; 64]);
        rand::rngs::OsRng.fill_bytes(&mut raw[..]);
        let mut text = Zeroizing::new(String::with_capacity(86));
        crate::b64::encode_into(&raw[..], &mut text);
        Self {
            bytes: Zeroizing::new(std::mem::take(&mut *text).into_bytes()),
        }
    }

    /// The secret's octets, for handing a generated secret to its client or
    /// storing it. Do not log them.
    pub fn secret_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A second copy of the secret, also wiped on drop. Deliberately not
    /// `Clone`, so that copies are never made by accident.
    pub fn clone_secret(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
        }
    }

    /// Refuses a secret shorter than `alg`'s hash output (RFC 7518 §3.2).
    pub(crate) fn check_length(&self, alg: HmacAlgorithm) -> Result<(), Error> {
        if self.bytes.len() < alg.min_secret_len() {
            return Err(Error::detail(
                ErrorKind::WeakSecret,
                match alg {
                    HmacAlgorithm::Hs256 => "HS256 needs a secret of at least 32 bytes",
                    HmacAlgorithm::Hs384 => "HS384 needs a secret of at least 48 bytes",
                    HmacAlgorithm::Hs512 => "HS512 needs a secret of at least 64 bytes",
                },
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// A secret ready to MAC with, for one backend and a fixed set of
/// algorithms (each checked against the secret's length when built).
pub(crate) struct MacKey {
    algorithms: Vec<HmacAlgorithm>,
    inner: MacInner,
}

enum MacInner {
    RustCrypto(ClientSecret),
    /// One AWS-LC key per algorithm; AWS-LC cleanses the `HMAC_CTX` (which
    /// holds the keyed state) when it is dropped.
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(Vec<(HmacAlgorithm, aws_lc_rs::hmac::Key)>),
}

impl MacKey {
    /// Takes `secret` for `algorithms` on `backend`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty algorithm list;
    /// [`ErrorKind::WeakSecret`] if the secret is shorter than one of the
    /// algorithms needs.
    pub(crate) fn new(
        secret: ClientSecret,
        algorithms: &[HmacAlgorithm],
        backend: Backend,
    ) -> Result<Self, Error> {
        if algorithms.is_empty() {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "a client secret needs at least one HMAC algorithm",
            ));
        }
        let mut algs = algorithms.to_vec();
        algs.sort_unstable();
        algs.dedup();
        for alg in &algs {
            secret.check_length(*alg)?;
        }
        let inner = match backend {
            Backend::RustCrypto => MacInner::RustCrypto(secret),
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => MacInner::AwsLc(
                algs.iter()
                    .map(|alg| (*alg, aws_lc::key(*alg, secret.secret_bytes())))
                    .collect(),
            ),
        };
        Ok(Self {
            algorithms: algs,
            inner,
        })
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
            MacInner::RustCrypto(secret) => {
                let key = secret.secret_bytes();
                Some(match alg {
                    HmacAlgorithm::Hs256 => mac::<Hmac<Sha256>>(key, input).to_vec(),
                    HmacAlgorithm::Hs384 => mac::<Hmac<Sha384>>(key, input).to_vec(),
                    HmacAlgorithm::Hs512 => mac::<Hmac<Sha512>>(key, input).to_vec(),
                })
            }
            #[cfg(feature = "aws-lc-rs")]
            MacInner::AwsLc(keys) => {
                let (_, key) = keys.iter().find(|(a, _)| *a == alg)?;
                Some(aws_lc_rs::hmac::sign(key, input).as_ref().to_vec())
            }
        }
    }

    /// Whether `tag` is the MAC of `input` with `alg`, compared in constant
    /// time; `false` if `alg` is not one of this key's algorithms.
    pub(crate) fn verify(&self, alg: HmacAlgorithm, input: &[u8], tag: &[u8]) -> bool {
        if !self.algorithms.contains(&alg) {
            return false;
        }
        match &self.inner {
            MacInner::RustCrypto(secret) => {
                let key = secret.secret_bytes();
                match alg {
                    HmacAlgorithm::Hs256 => verify::<Hmac<Sha256>>(key, input, tag),
                    HmacAlgorithm::Hs384 => verify::<Hmac<Sha384>>(key, input, tag),
                    HmacAlgorithm::Hs512 => verify::<Hmac<Sha512>>(key, input, tag),
                }
            }
            #[cfg(feature = "aws-lc-rs")]
            MacInner::AwsLc(keys) => keys
                .iter()
                .find(|(a, _)| *a == alg)
                .is_some_and(|(_, key)| aws_lc_rs::hmac::verify(key, input, tag).is_ok()),
        }
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

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MacKey")
            .field("algorithms", &self.algorithms)
            .field("backend", &self.backend())
            .field("secret", &"[redacted]")
            .finish()
    }
}

#[cfg(feature = "aws-lc-rs")]
mod aws_lc {
    use super::HmacAlgorithm;

    pub(super) fn key(alg: HmacAlgorithm, secret: &[u8]) -> aws_lc_rs::hmac::Key {
        let alg = match alg {
            HmacAlgorithm::Hs256 => aws_lc_rs::hmac::HMAC_SHA256,
            HmacAlgorithm::Hs384 => aws_lc_rs::hmac::HMAC_SHA384,
            HmacAlgorithm::Hs512 => aws_lc_rs::hmac::HMAC_SHA512,
        };
        aws_lc_rs::hmac::Key::new(alg, secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_fail() {
        for alg in HmacAlgorithm::ALL {
            assert_eq!(HmacAlgorithm::from_name(alg.name()).unwrap(), alg);
            assert_eq!(alg.to_string().parse::<HmacAlgorithm>().unwrap(), alg);
        }
        for bad in ["none", "RS256", "ES256", "hs256", "HS1", "HS", ""] {
            assert_eq!(
                HmacAlgorithm::from_name(bad).unwrap_err().kind(),
                ErrorKind::AlgorithmNotAllowed
            );
        }
        // The asymmetric enum still cannot name HMAC.
        for alg in HmacAlgorithm::ALL {
            assert!(crate::Algorithm::from_name(alg.name()).is_err());
        }
    }

    #[test]
    fn lengths_follow_rfc7518() {
        let s = ClientSecret::from_bytes(&[7; 47]).unwrap();
        assert!(s.check_length(HmacAlgorithm::Hs256).is_ok());
        assert_eq!(
            s.check_length(HmacAlgorithm::Hs384).unwrap_err().kind(),
            ErrorKind::WeakSecret
        );
        assert_eq!(
            ClientSecret::from_bytes(&[7; 31]).unwrap_err().kind(),
            ErrorKind::WeakSecret
        );
        let g = ClientSecret::generate();
        assert_eq!(g.secret_bytes().len(), 86);
        assert!(g.check_length(HmacAlgorithm::Hs512).is_ok());
        assert_ne!(g.secret_bytes(), ClientSecret::generate().secret_bytes());
    }

    #[test]
    fn rfc4231_test_case_6() {
        // A 131-byte key (longer than the block size), HMAC-SHA-256.
        let key = MacKey::new(
            ClientSecret::from_bytes(&[0xaa; 131]).unwrap(),
            &[HmacAlgorithm::Hs256],
            Backend::RustCrypto,
        )
        .unwrap();
        let input = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let tag = key.sign(HmacAlgorithm::Hs256, input).unwrap();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        assert!(key.sign(HmacAlgorithm::Hs512, input).is_none());
        assert!(!key.verify(HmacAlgorithm::Hs512, input, &tag));
    }

    #[test]
    fn mac_round_trip() {
        let key = MacKey::new(
            ClientSecret::from_bytes(&[0x0b; 64]).unwrap(),
            &HmacAlgorithm::ALL,
            Backend::RustCrypto,
        )
        .unwrap();
        for alg in HmacAlgorithm::ALL {
            let tag = key.sign(alg, b"input").unwrap();
            assert_eq!(tag.len(), alg.min_secret_len());
            assert!(key.verify(alg, b"input", &tag));
            assert!(!key.verify(alg, b"inpuT", &tag));
            assert!(!key.verify(alg, b"input", &tag[..tag.len() - 1]));
        }
    }
}
