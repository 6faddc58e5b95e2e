//! Platform presets: the documented shape of each platform's tokens and
//! the rules a trust rule of that preset applies.
//!
//! | preset | source document | `alg` | `aud` | lifetime (`exp - iat`) | age (`now - iat`) | `jti` |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | [`Preset::Kubernetes`] | Kubernetes "Service account tokens" / `TokenRequest` | the key's | one string or a one-element array (Kubernetes writes an array) | ≤ 24 h | ≤ 3600 s, whatever `exp` says | not recorded |
//! | [`Preset::GithubActions`] | GitHub "OpenID Connect" (Actions security hardening) | RS256 | one string | ≤ 3600 s | ≤ 300 s | recorded |
//! | [`Preset::Spiffe`] | spiffe/spiffe `standards/JWT-SVID.md` | RS256, PS256, ES256, ES384 | one string or a one-element array | ≤ 3600 s | ≤ 3600 s | not recorded |
//! | [`Preset::Oidc`] | OpenID Connect Core §2 (ID token) | the key's | one string or a one-element array | ≤ 3600 s | ≤ 300 s | configurable, recorded by default |
//!
//! Why each `jti` rule: a Kubernetes service-account token carries a `jti`
//! (since 1.29) but the kubelet hands the *same* token to the workload for
//! most of its life (it refreshes at 80 %), so a client presents it again
//! and again: recording it would reject the second request. A JWT-SVID
//! may be reused until it expires (JWT-SVID §3: `jti` is optional) and
//! SPIRE caches them. A GitHub Actions token is minted per request
//! (`ACTIONS_ID_TOKEN_REQUEST_URL`), carries a unique `jti`, and is
//! single-use in spirit: it is recorded, and a replay is rejected. A
//! generic OIDC issuer may be either, so it is the rule's choice.
//!
//! `typ` is absent, `JWT` or `JOSE` for every preset (JWT-SVID §2.2 allows
//! only those); `client-authentication+jwt` is a client's own assertion,
//! never a platform token, and is refused.

use std::time::Duration;

use crate::algorithm::Algorithm;

/// A platform whose tokens a trust rule accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// Kubernetes service-account tokens (projected volumes,
    /// `TokenRequest`): `sub` = `system:serviceaccount:<ns>:<name>`,
    /// consistent with the `kubernetes.io` claim's `namespace` and
    /// `serviceaccount.name`.
    Kubernetes,
    /// GitHub Actions OIDC tokens (issuer
    /// `https://token.actions.githubusercontent.com`, a shared issuer: a
    /// rule must pin `repository_id` or `repository_owner_id`).
    GithubActions,
    /// SPIFFE JWT-SVIDs: `sub` a SPIFFE ID of the bundle's trust domain,
    /// keys from the SPIFFE bundle (`use` `jwt-svid`, with `kid`).
    Spiffe,
    /// Any OpenID Connect issuer.
    Oidc,
}

/// Algorithms of a JWT-SVID that this crate verifies (JWT-SVID §2.1:
/// RS/ES/PS only; never EdDSA, never HMAC).
const SPIFFE_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::Rs256,
    Algorithm::Ps256,
    Algorithm::Es256,
    Algorithm::Es384,
];

impl Preset {
    /// The preset's name in a trust file: `kubernetes`, `github_actions`,
    /// `spiffe`, `oidc`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Kubernetes => "kubernetes",
            Self::GithubActions => "github_actions",
            Self::Spiffe => "spiffe",
            Self::Oidc => "oidc",
        }
    }

    /// The preset named `name` (see [`Preset::name`]).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Kubernetes,
            Self::GithubActions,
            Self::Spiffe,
            Self::Oidc,
        ]
        .into_iter()
        .find(|p| p.name() == name)
    }

    /// The algorithms a token of this preset may be signed with (the key
    /// pins the one it takes).
    pub fn algorithms(self) -> &'static [Algorithm] {
        match self {
            Self::Spiffe => &SPIFFE_ALGORITHMS,
            Self::GithubActions => &[Algorithm::Rs256],
            Self::Kubernetes | Self::Oidc => &Algorithm::ALL,
        }
    }

    /// The default greatest `now - iat`.
    pub const fn max_age(self) -> Duration {
        match self {
            Self::Kubernetes | Self::Spiffe => Duration::from_secs(3600),
            Self::GithubActions | Self::Oidc => Duration::from_secs(300),
        }
    }

    /// The greatest `exp - iat`.
    pub const fn max_lifetime(self) -> Duration {
        match self {
            Self::Kubernetes => Duration::from_secs(24 * 3600),
            Self::GithubActions | Self::Spiffe | Self::Oidc => Duration::from_secs(3600),
        }
    }

    /// Whether `aud` may be a one-element array.
    pub const fn audience_array(self) -> bool {
        !matches!(self, Self::GithubActions)
    }

    /// Whether the `jti` is recorded by default (see the module docs for
    /// why); only [`Preset::Oidc`] lets a rule choose.
    pub const fn records_jti(self) -> bool {
        matches!(self, Self::GithubActions | Self::Oidc)
    }

    /// The claims a verified token reports
    /// ([`FederatedClient::claim`](super::FederatedClient::claim)), by
    /// name and path.
    pub(crate) fn reported_claims(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Self::Kubernetes => &[
                ("namespace", &["kubernetes.io", "namespace"]),
                (
                    "service_account",
                    &["kubernetes.io", "serviceaccount", "name"],
                ),
                (
                    "service_account_uid",
                    &["kubernetes.io", "serviceaccount", "uid"],
                ),
                ("pod", &["kubernetes.io", "pod", "name"]),
                ("pod_uid", &["kubernetes.io", "pod", "uid"]),
                ("node", &["kubernetes.io", "node", "name"]),
                ("node_uid", &["kubernetes.io", "node", "uid"]),
            ],
            Self::GithubActions => &[
                ("repository", &["repository"]),
                ("repository_id", &["repository_id"]),
                ("repository_owner", &["repository_owner"]),
                ("repository_owner_id", &["repository_owner_id"]),
                ("job_workflow_ref", &["job_workflow_ref"]),
                ("environment", &["environment"]),
                ("ref", &["ref"]),
                ("sha", &["sha"]),
                ("run_id", &["run_id"]),
            ],
            Self::Spiffe | Self::Oidc => &[],
        }
    }
}

/// Issuers shared by every customer of a platform, and the claims that
/// pin one customer's immutable identity there: a rule for such an issuer
/// without an exact pin on one of them would let anyone on the platform in.
pub(crate) const SHARED_ISSUERS: [(&str, &[&str]); 3] = [
    (
        "https://token.actions.githubusercontent.com",
        &["repository_id", "repository_owner_id"],
    ),
    ("https://gitlab.com", &["project_id", "namespace_id"]),
    (
        "https://app.terraform.io",
        &[
            "terraform_organization_id",
            "terraform_workspace_id",
            "terraform_project_id",
        ],
    ),
];

/// The pin claims of `issuer` if it is (or, compared without case and a
/// trailing slash, or as a path below it, looks like) a shared issuer.
pub(crate) fn shared_issuer_pins(issuer: &str) -> Option<&'static [&'static str]> {
    let lower = issuer.to_ascii_lowercase();
    let lower = lower.trim_end_matches('/');
    SHARED_ISSUERS.iter().find_map(|(shared, pins)| {
        let below = lower
            .strip_prefix(shared)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        below.then_some(*pins)
    })
}
