//! A trust anchor: the rules of one issuer, the loosest policy its
//! tokens' claims are first checked with, and what a token that fits one
//! of them carries on.

use std::sync::Arc;

use super::rule::{TrustKeys, TrustRule};
use crate::algorithm::Algorithm;
use crate::error::Error;
use crate::verify::pipeline::Checked;
use crate::verify::{ClientRegistry, Policy};

/// The rules of one issuer (trust anchor) and the policy its tokens'
/// claims are first checked with: the loosest of its rules, each rule then
/// checked exactly.
pub(crate) struct Anchor {
    pub(crate) rules: Vec<(usize, Arc<TrustRule>)>,
    pub(crate) policy: Policy,
    pub(crate) algorithms: Vec<Algorithm>,
}

pub(crate) fn register_keys(registry: &ClientRegistry, rule: &TrustRule) -> Result<(), Error> {
    let issuer = rule.issuer.as_str();
    match &rule.keys {
        TrustKeys::Jwks(set) => registry.register(issuer, set).map(drop),
        TrustKeys::Bundle(bundle) => registry
            .register(issuer, bundle.jwt_authorities())
            .map(drop),
        TrustKeys::Remote(fetcher, config) => registry
            .register_remote(issuer, fetcher.clone(), *config)
            .map(drop),
    }
}

impl Anchor {
    /// The anchor's policy: every audience, the longest age and lifetime,
    /// and the algorithms, of its rules; no `jti` required (the rules that
    /// record one require it).
    pub(crate) fn loosen(&mut self, base: &Policy) {
        let mut policy = base.clone();
        policy.issuer_audience = self.rules.iter().any(|(_, r)| r.audience.is_none());
        for (_, rule) in &self.rules {
            if let Some(aud) = &rule.audience {
                policy.extra_audiences.push(aud.clone());
            }
            policy.single_element_array |= rule.preset.audience_array();
            policy.max_age = policy.max_age.max(rule.max_age);
            policy.max_lifetime = policy.max_lifetime.max(rule.preset.max_lifetime());
            for alg in rule.preset.algorithms() {
                if !self.algorithms.contains(alg) {
                    self.algorithms.push(*alg);
                }
            }
        }
        policy.max_age = self
            .rules
            .iter()
            .map(|(_, r)| r.max_age)
            .max()
            .unwrap_or(policy.max_age);
        policy.jti_required = false;
        self.policy = policy;
    }
}

/// A token that passed the pipeline and one rule.
pub(crate) struct Matched {
    pub(crate) checked: Checked,
    pub(crate) rule: (usize, Arc<TrustRule>),
    pub(crate) issuer: String,
}

/// The name of a rule in diagnostics: `client#index`.
pub(crate) fn rule_name(rule: &TrustRule, index: usize) -> String {
    format!("{}#{index}", rule.client_id)
}
