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

use zeroize::Zeroizing;

pub use crate::algorithm::HmacAlgorithm;
use crate::backend::Backend;
pub(crate) use crate::backend::MacKey;
use crate::error::{Error, ErrorKind};
use crate::signing::JwsAlgorithm;

mod signer;

pub use signer::{ClientSecretJwtSigner, ClientSecretJwtSignerBuilder};

/// The shortest [`ClientSecret`] accepted, in bytes: the HS256 minimum of
/// RFC 7518 §3.2 (256 bits).
pub(crate) const MIN_CLIENT_SECRET_LEN: usize = 32;

impl JwsAlgorithm for HmacAlgorithm {
    fn jws_name(self) -> &'static str {
        self.name()
    }
}

/// A `client_secret` used as an HMAC key: at least
/// [`ClientSecret::MIN_LEN`] bytes, wiped from memory when dropped.
///
/// `Debug` prints `ClientSecret([redacted])`; there is no `Display` and no
/// `Clone` (use [`ClientSecret::clone_secret`] where a second copy is really
/// needed). Load it from a file or an environment variable rather than a
/// command-line argument, which other local users can read.
///
/// ```
/// use client_assertion::ErrorKind;
/// use client_assertion::secret::ClientSecret;
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
    /// The shortest [`ClientSecret`] accepted, in bytes: the HS256 minimum of
    /// RFC 7518 §3.2 (256 bits).
    pub const MIN_LEN: usize = MIN_CLIENT_SECRET_LEN;

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
    /// [`ErrorKind::WeakSecret`] below [`ClientSecret::MIN_LEN`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::new(Zeroizing::new(bytes.to_vec()))
    }

    /// A `client_secret` string; the key is its UTF-8 octets (OpenID Connect
    /// Core §16.19). A `String` passed by value is moved in, not copied.
    ///
    /// # Errors
    /// [`ErrorKind::WeakSecret`] below [`ClientSecret::MIN_LEN`] bytes.
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
    ///
    /// # Errors
    /// [`ErrorKind::KeyBackend`] if the
    /// operating system's random generator fails (`getrandom`; only on a
    /// broken system): a secret is never made from anything else.
    pub fn generate() -> Result<Self, Error> {
        let mut raw = Zeroizing::new([0u8; 64]);
        crate::random::fill(&mut raw[..])?;
        let mut text = Zeroizing::new(String::with_capacity(86));
        crate::b64::encode_into(&raw[..], &mut text);
        Ok(Self {
            bytes: Zeroizing::new(std::mem::take(&mut *text).into_bytes()),
        })
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

/// A [`MacKey`] for `secret` and `algorithms` on `backend`.
///
/// # Errors
/// [`ErrorKind::InvalidConfig`] for an empty algorithm list;
/// [`ErrorKind::WeakSecret`] if the secret is shorter than one of the
/// algorithms needs.
pub(crate) fn mac_key(
    secret: &ClientSecret,
    algorithms: &[HmacAlgorithm],
    backend: Backend,
) -> Result<MacKey, Error> {
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
    Ok(MacKey::new(secret.secret_bytes(), algs, backend))
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
        let g = ClientSecret::generate().unwrap();
        assert_eq!(g.secret_bytes().len(), 86);
        assert!(g.check_length(HmacAlgorithm::Hs512).is_ok());
        assert_ne!(
            g.secret_bytes(),
            ClientSecret::generate().unwrap().secret_bytes()
        );
    }

    #[test]
    fn rfc4231_test_case_6() {
        // A 131-byte key (longer than the block size), HMAC-SHA-256.
        let key = mac_key(
            &ClientSecret::from_bytes(&[0xaa; 131]).unwrap(),
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
        let key = mac_key(
            &ClientSecret::from_bytes(&[0x0b; 64]).unwrap(),
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
