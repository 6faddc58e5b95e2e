//! Keys of a JWK Set that a signature verifier cannot use, and the keys
//! that must never be in a published set at all.
//!
//! A client publishes its signing and encryption keys in one JWK Set
//! (OpenID Connect Dynamic Client Registration; `use` tells them apart).
//! [`JwkSet::from_json`](crate::JwkSet::from_json) keeps the keys that can
//! verify a signature and records every other key as a [`SkippedJwk`] with
//! its [`SkipReason`]. Nothing here parses key material: the rules look at
//! the members `use`, `key_ops`, `alg`, `kty` and `crv` only, and at the
//! names of the private members.

use std::fmt;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};

/// Why a key of a JWK Set is not used for signature verification.
///
/// Each reason has a stable [`code`](SkipReason::code) (for logs and the
/// `key.skipped` audit event) and a one-line [`Display`](fmt::Display).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// `use` is present and is not `sig` (e.g. `enc`).
    NotForSignature,
    /// `key_ops` is present and does not contain `verify`.
    NoVerifyOperation,
    /// `alg` is a key management or content encryption algorithm
    /// (`RSA-OAEP`, `RSA-OAEP-256`, `ECDH-ES*`, `A*KW`, `dir`, ...).
    EncryptionAlgorithm,
    /// `alg` names a signature algorithm this crate does not verify
    /// (`RS384`, `ES512`, `ES256K`, ...) or no registered algorithm at all.
    UnsupportedAlgorithm,
    /// `kty` is not `EC`, `OKP` or `RSA` (e.g. `AKP`).
    UnsupportedKeyType,
    /// `crv` is not `P-256` or `P-384` (EC), or not `Ed25519` (OKP): e.g.
    /// `P-521`, `secp256k1`, `Ed448`, `X25519`.
    UnsupportedCurve,
}

impl SkipReason {
    /// The stable reason code, e.g. `"use_not_sig"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::NotForSignature => "use_not_sig",
            Self::NoVerifyOperation => "key_ops_without_verify",
            Self::EncryptionAlgorithm => "encryption_alg",
            Self::UnsupportedAlgorithm => "unsupported_alg",
            Self::UnsupportedKeyType => "unsupported_kty",
            Self::UnsupportedCurve => "unsupported_crv",
        }
    }

    const fn description(self) -> &'static str {
        match self {
            Self::NotForSignature => "the key's use is not sig",
            Self::NoVerifyOperation => "the key's key_ops do not include verify",
            Self::EncryptionAlgorithm => "the key's alg is an encryption algorithm",
            Self::UnsupportedAlgorithm => "the key's alg is not a supported signature algorithm",
            Self::UnsupportedKeyType => "the key type (kty) is not supported",
            Self::UnsupportedCurve => {
                "the curve (crv) is not supported (P-256, P-384 and Ed25519 only)"
            }
        }
    }

    /// The error detail when every key of a set was skipped for this reason.
    const fn none_usable(self) -> &'static str {
        match self {
            Self::NotForSignature => "no usable signing key: every key has a use other than sig",
            Self::NoVerifyOperation => "no usable signing key: no key has verify in its key_ops",
            Self::EncryptionAlgorithm => "no usable signing key: every key has an encryption alg",
            Self::UnsupportedAlgorithm => {
                "no usable signing key: every key has an unsupported signature alg"
            }
            Self::UnsupportedKeyType => "no usable signing key: every key has an unsupported kty",
            Self::UnsupportedCurve => "no usable signing key: every key is on an unsupported curve",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// A key of a parsed JWK Set that is not used for verification: where it
/// was, its `kid` if it had one, and why it was skipped.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SkippedJwk {
    pub(crate) position: usize,
    pub(crate) kid: Option<String>,
    pub(crate) reason: SkipReason,
}

impl SkippedJwk {
    /// The key's index in the set's `keys` array (from 0).
    pub fn position(&self) -> usize {
        self.position
    }

    /// The key's `kid`, if it had one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Why the key was skipped.
    pub fn reason(&self) -> SkipReason {
        self.reason
    }
}

impl fmt::Display for SkippedJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key {} skipped: {}", self.position, self.reason)
    }
}

/// The members of a private JWK (RFC 7518 §6.2.2, §6.3.2, §6.4.1). `k` is
/// the whole secret of a symmetric key, so it counts as private too.
pub(crate) const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Refuses a JWK carrying a private member (whatever its value, even
/// `null`): its publisher has leaked the key.
pub(crate) fn refuse_private(jwk: &Map<String, Value>) -> Result<(), Error> {
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(Error::detail(
            ErrorKind::PrivateKeyPublished,
            "a key of the JWK Set carries a private member (d, p, q, dp, dq, qi, oth or k)",
        ));
    }
    Ok(())
}

/// Whether `alg` is a JWE key management or content encryption algorithm
/// (RFC 7518 §4.1 and §5.1, RFC 8037 §3.2).
pub(crate) fn is_encryption_alg(alg: &str) -> bool {
    matches!(
        alg,
        "RSA1_5"
            | "RSA-OAEP"
            | "RSA-OAEP-256"
            | "RSA-OAEP-384"
            | "RSA-OAEP-512"
            | "dir"
            | "A128KW"
            | "A192KW"
            | "A256KW"
            | "A128GCMKW"
            | "A192GCMKW"
            | "A256GCMKW"
            | "ECDH-ES"
            | "ECDH-ES+A128KW"
            | "ECDH-ES+A192KW"
            | "ECDH-ES+A256KW"
            | "PBES2-HS256+A128KW"
            | "PBES2-HS384+A192KW"
            | "PBES2-HS512+A256KW"
            | "A128CBC-HS256"
            | "A192CBC-HS384"
            | "A256CBC-HS512"
            | "A128GCM"
            | "A192GCM"
            | "A256GCM"
    )
}

/// The error for a set none of whose keys can verify: it names the reason
/// when all skipped keys share one.
pub(crate) fn no_usable_key(skipped: &[SkippedJwk]) -> Error {
    let detail = match skipped.split_first() {
        Some((first, rest)) if rest.iter().all(|s| s.reason == first.reason) => {
            first.reason.none_usable()
        }
        _ => "no usable signing key: every key was skipped (use, key_ops, alg, kty or crv)",
    };
    Error::detail(ErrorKind::UnsupportedKey, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_descriptions_name_the_member() {
        let all = [
            SkipReason::NotForSignature,
            SkipReason::NoVerifyOperation,
            SkipReason::EncryptionAlgorithm,
            SkipReason::UnsupportedAlgorithm,
            SkipReason::UnsupportedKeyType,
            SkipReason::UnsupportedCurve,
        ];
        let mut codes: Vec<_> = all.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for (r, member) in all
            .iter()
            .zip(["use", "key_ops", "alg", "alg", "kty", "crv"])
        {
            assert!(r.to_string().contains(member), "{r}");
            assert!(r.none_usable().starts_with("no usable signing key"));
        }
    }

    #[test]
    fn the_error_names_a_shared_reason() {
        let skip = |position, reason| SkippedJwk {
            position,
            kid: None,
            reason,
        };
        let one = no_usable_key(&[
            skip(0, SkipReason::NotForSignature),
            skip(1, SkipReason::NotForSignature),
        ]);
        assert_eq!(one.kind(), ErrorKind::UnsupportedKey);
        assert!(one.to_string().contains("use other than sig"), "{one}");
        let mixed = no_usable_key(&[
            skip(0, SkipReason::NotForSignature),
            skip(1, SkipReason::UnsupportedCurve),
        ]);
        assert!(
            mixed.to_string().contains("every key was skipped"),
            "{mixed}"
        );
    }
}
