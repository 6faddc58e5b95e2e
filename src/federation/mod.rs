//! Workload identity federation, server side: platform-issued tokens
//! (Kubernetes service-account tokens, GitHub Actions OIDC tokens, SPIFFE
//! JWT-SVIDs, any OIDC issuer's ID tokens) accepted as client credentials,
//! so that a workload holds no key and no secret at all.
//!
//! A federated client is registered with one or more [`TrustRule`]s: the
//! issuer (an exact string; for SPIFFE the trust domain and its bundle),
//! its keys ([`TrustKeys`]: a JWK Set, a [`SpiffeBundle`], or a remote set
//! through a [`JwksFetcher`](crate::server::JwksFetcher)), the audience
//! this authorization server expects, and typed [`ClaimMatcher`]s. Rules
//! are checked when built: a rule for a shared issuer (GitHub Actions,
//! GitLab.com, Terraform Cloud) without an immutable id pin is
//! [`ErrorKind::SharedIssuerUnpinned`](crate::ErrorKind::SharedIssuerUnpinned).
//! The [`FederatedVerifier`] drives the crate's one verification pipeline
//! and returns a [`FederatedClient`]: which client, which rule, the issuer,
//! the subject and the preset's chosen claims. A rejection carries a
//! [`NearMiss`] for the operator ([`Error::near_miss`](crate::Error::near_miss)).
//!
//! | file | owns |
//! | --- | --- |
//! | `rule.rs` | [`TrustRule`], [`TrustKeys`], the build-time checks |
//! | `matcher.rs` | [`ClaimMatcher`], [`Match`] |
//! | `preset.rs` | [`Preset`]: each platform's documented rules (table there) |
//! | `spiffe.rs` | [`SpiffeId`], [`SpiffeBundle`] |
//! | `github.rs` | GitHub subjects, legacy and immutable-ID |
//! | `verifier.rs` | [`FederatedVerifier`], the driver |
//! | `anchor.rs` | one issuer's rules and their loosest policy |
//! | `client.rs` | [`FederatedClient`] |
//! | `matching.rs` | the rules step: which rule fits, or the closest miss |
//! | `diagnose.rs` | near misses: issuer, audience, subject format, age |
//! | `trust_file.rs` | [`TrustFile`]: federated clients from a JSON document |

mod anchor;
mod client;
mod diagnose;
mod github;
mod matcher;
mod matching;
mod preset;
mod rule;
mod spiffe;
mod trust_file;
mod verifier;

pub use crate::diagnostic::{Difference, NearMiss};
pub use client::FederatedClient;
pub use matcher::{ClaimMatcher, Match};
pub use preset::Preset;
pub use rule::{TrustKeys, TrustRule, TrustRuleBuilder, GITHUB_ACTIONS_ISSUER};
pub use spiffe::{
    validate_trust_domain, SpiffeBundle, SpiffeId, MAX_SPIFFE_ID_LEN, MAX_TRUST_DOMAIN_LEN,
};
pub use trust_file::TrustFile;
pub use verifier::{FederatedVerifier, FederatedVerifierBuilder};
