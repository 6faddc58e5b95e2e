//! The JWS algorithms this crate signs and verifies, and the key type each needs.
//!
//! [`Algorithm`] names only asymmetric algorithms: `none` and the HMAC family
//! cannot be named by it, so they cannot be chosen by a caller or taken from
//! a header. The HMAC algorithms of `client_secret_jwt` are a separate type,
//! [`HmacAlgorithm`], that only that mode's APIs take.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

/// A JWS signature algorithm (RFC 7518, RFC 8037, RFC 9864).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA with P-256 and SHA-256.
    Es256,
    /// ECDSA with P-384 and SHA-384.
    Es384,
    /// Ed25519 (`EdDSA` in RFC 8037; `Ed25519` in RFC 9864 is accepted as a name).
    EdDsa,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt.
    Ps256,
}

/// The kind of key an algorithm needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// An EC key on NIST P-256.
    P256,
    /// An EC key on NIST P-384.
    P384,
    /// An Ed25519 key.
    Ed25519,
    /// An RSA key of at least 2048 bits.
    Rsa,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 5] = [
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::EdDsa,
        Algorithm::Rs256,
        Algorithm::Ps256,
    ];

    /// The JWA name written in the `alg` header.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
        }
    }

    /// Parses a JWA name. `Ed25519` (RFC 9864) is read as [`Algorithm::EdDsa`].
    ///
    /// # Errors
    /// [`ErrorKind::AlgorithmNotAllowed`] for `none`, HMAC and every other name.
    pub fn from_name(name: &str) -> Result<Self, Error> {
        Ok(match name {
            "ES256" => Self::Es256,
            "ES384" => Self::Es384,
            "EdDSA" | "Ed25519" => Self::EdDsa,
            "RS256" => Self::Rs256,
            "PS256" => Self::Ps256,
            "none" | "None" | "NONE" => {
                return Err(Error::detail(
                    ErrorKind::AlgorithmNotAllowed,
                    "unsigned tokens (alg none) are never allowed",
                ))
            }
            n if n.starts_with("HS") => {
                return Err(Error::detail(
                    ErrorKind::AlgorithmNotAllowed,
                    "HMAC algorithms are not allowed with asymmetric keys",
                ))
            }
            _ => {
                return Err(Error::detail(
                    ErrorKind::AlgorithmNotAllowed,
                    "unknown or unsupported algorithm",
                ))
            }
        })
    }

    /// The key type this algorithm needs.
    pub const fn key_type(self) -> KeyType {
        match self {
            Self::Es256 => KeyType::P256,
            Self::Es384 => KeyType::P384,
            Self::EdDsa => KeyType::Ed25519,
            Self::Rs256 | Self::Ps256 => KeyType::Rsa,
        }
    }
}

impl KeyType {
    /// The algorithms a key of this type can sign with, the default first.
    ///
    /// RSA keys default to RS256, the algorithm every server supports; pick
    /// PS256 explicitly where the server allows it (FAPI requires it).
    pub const fn algorithms(self) -> &'static [Algorithm] {
        match self {
            Self::P256 => &[Algorithm::Es256],
            Self::P384 => &[Algorithm::Es384],
            Self::Ed25519 => &[Algorithm::EdDsa],
            Self::Rsa => &[Algorithm::Rs256, Algorithm::Ps256],
        }
    }

    /// A `'static` one-element slice holding `alg`, for key sources whose
    /// key is restricted to one algorithm.
    pub(crate) const fn only(alg: Algorithm) -> &'static [Algorithm] {
        match alg {
            Algorithm::Es256 => &[Algorithm::Es256],
            Algorithm::Es384 => &[Algorithm::Es384],
            Algorithm::EdDsa => &[Algorithm::EdDsa],
            Algorithm::Rs256 => &[Algorithm::Rs256],
            Algorithm::Ps256 => &[Algorithm::Ps256],
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_name(s)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_forbidden_names_fail() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()).unwrap(), alg);
            assert!(alg.key_type().algorithms().contains(&alg));
            assert_eq!(KeyType::only(alg), &[alg]);
        }
        assert_eq!(Algorithm::from_name("Ed25519").unwrap(), Algorithm::EdDsa);
        for bad in ["none", "HS256", "HS512", "RS384", "ES512", "", "es256"] {
            assert_eq!(
                Algorithm::from_name(bad).unwrap_err().kind(),
                ErrorKind::AlgorithmNotAllowed
            );
        }
    }
}
