//! What a federated verification returns: [`FederatedClient`].

use std::time::SystemTime;

use super::preset::Preset;
use crate::algorithm::Algorithm;
use crate::verify::pipeline::Checked;

/// What a federated verification proved: which client, by which rule, and
/// what the platform said of the workload, for the caller to authorise.
#[derive(Clone, Debug, PartialEq)]
pub struct FederatedClient {
    client_id: String,
    rule: usize,
    preset: Preset,
    issuer: String,
    subject: String,
    claims: Vec<(&'static str, String)>,
    jti: String,
    kid: String,
    alg: Algorithm,
    expires_at: SystemTime,
    issued_at: Option<SystemTime>,
}

impl FederatedClient {
    pub(crate) fn new(
        checked: Checked,
        rule: usize,
        preset: Preset,
        issuer: String,
        claims: Vec<(&'static str, String)>,
        alg: Algorithm,
    ) -> Self {
        Self {
            client_id: checked.iss,
            rule,
            preset,
            issuer,
            subject: checked.claims.subject,
            claims,
            jti: checked.claims.jti,
            kid: checked.kid,
            alg,
            expires_at: checked.claims.expires_at,
            issued_at: checked.claims.issued_at,
        }
    }

    /// The authenticated client id (the matched rule's).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The position of the matched rule among the verifier's rules, in the
    /// order they were added.
    pub fn rule_index(&self) -> usize {
        self.rule
    }
    /// The matched rule's preset.
    pub fn preset(&self) -> Preset {
        self.preset
    }
    /// The issuer (the trust anchor: `spiffe://<trust domain>` for SPIFFE).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The token's `sub`.
    pub fn subject(&self) -> &str {
        &self.subject
    }
    /// The preset's chosen claims that the token carries as strings, by
    /// name: Kubernetes `namespace`, `service_account`,
    /// `service_account_uid`, `pod`, `pod_uid`, `node`, `node_uid`; GitHub
    /// Actions `repository`, `repository_id`, `repository_owner`,
    /// `repository_owner_id`, `job_workflow_ref`, `environment`, `ref`,
    /// `sha`, `run_id`.
    pub fn claims(&self) -> &[(&'static str, String)] {
        &self.claims
    }
    /// One of [`FederatedClient::claims`].
    pub fn claim(&self, name: &str) -> Option<&str> {
        self.claims
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
    /// The `jti` (empty when the token has none).
    pub fn jti(&self) -> &str {
        &self.jti
    }
    /// The `kid` of the key that verified the signature.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The algorithm that verified the signature.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }
    /// The `exp` claim.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
    /// The `iat` claim, if present.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.issued_at
    }
}
