//! Near-miss diagnostics: when a token fails a rule, the closest rule and
//! how the token differs from it, for the operator (through
//! [`Error::near_miss`](crate::Error::near_miss) and the `near_miss` field
//! of the `assertion.rejected` audit event). Never for the client, which
//! only gets the stable code (`invalid_client`).
//!
//! A leaf module: the verifiers compute a [`NearMiss`], the error carries
//! it. Its text names configured values (a rule's issuer, audience, claim
//! names) and numbers, never a value taken from the token.

use std::fmt;

/// The closest rule a rejected token missed, and how it missed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearMiss {
    rule: String,
    difference: Difference,
}

/// How a rejected token differs from the closest rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Difference {
    /// The token's issuer equals the rule's only when compared without
    /// ASCII case (issuers are compared exactly, RFC 3986 §6.2.1).
    IssuerCase {
        /// The rule's issuer.
        expected: String,
    },
    /// The token's issuer equals the rule's but for a trailing `/`.
    IssuerTrailingSlash {
        /// The rule's issuer.
        expected: String,
    },
    /// The audience is the token endpoint (the expected audience followed
    /// by a path), not the authorization server's issuer identifier.
    AudienceIsTokenEndpoint {
        /// The audience the rule expects.
        expected: String,
    },
    /// The audience is another value than the rule's.
    AudienceDiffers {
        /// The audience the rule expects.
        expected: String,
    },
    /// The subject is GitHub's legacy format (`repo:org/repo:...`) where the
    /// rule expects the immutable-ID one (`repo:org@123/repo@456:...`).
    LegacyGithubSubject,
    /// The subject is GitHub's immutable-ID format where the rule expects
    /// the legacy one.
    ImmutableGithubSubject,
    /// A claim the rule matches on is missing (a missing claim never
    /// matches).
    MissingClaim {
        /// The claim's path, `/`-separated.
        claim: String,
    },
    /// A claim the rule matches on has another value.
    ClaimDiffers {
        /// The claim's path, `/`-separated.
        claim: String,
    },
    /// The token was issued longer ago than the rule allows.
    TooOld {
        /// `now - iat`, in whole seconds.
        age_secs: u64,
        /// The rule's maximum age, in seconds.
        max_age_secs: u64,
    },
}

impl NearMiss {
    /// A near miss of the rule named `rule` (for a federated client, its
    /// client id and the rule's position, `client#0`).
    pub fn new(rule: impl Into<String>, difference: Difference) -> Self {
        Self {
            rule: rule.into(),
            difference,
        }
    }

    /// The closest rule's name.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// How the token differs from it.
    pub fn difference(&self) -> &Difference {
        &self.difference
    }
}

impl fmt::Display for NearMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "closest rule {}: ", self.rule)?;
        match &self.difference {
            Difference::IssuerCase { expected } => {
                write!(f, "issuer differs only by case from {expected}")
            }
            Difference::IssuerTrailingSlash { expected } => {
                write!(f, "issuer differs only by a trailing slash from {expected}")
            }
            Difference::AudienceIsTokenEndpoint { expected } => write!(
                f,
                "audience is the token endpoint, not the issuer identifier {expected}"
            ),
            Difference::AudienceDiffers { expected } => {
                write!(f, "audience is not {expected}")
            }
            Difference::LegacyGithubSubject => f.write_str(
                "subject is GitHub's legacy format; the rule expects the immutable-ID format",
            ),
            Difference::ImmutableGithubSubject => f.write_str(
                "subject is GitHub's immutable-ID format; the rule expects the legacy format",
            ),
            Difference::MissingClaim { claim } => write!(f, "claim {claim} is missing"),
            Difference::ClaimDiffers { claim } => write!(f, "claim {claim} does not match"),
            Difference::TooOld {
                age_secs,
                max_age_secs,
            } => write!(
                f,
                "issued {age_secs} s ago, the rule allows at most {max_age_secs} s"
            ),
        }
    }
}
