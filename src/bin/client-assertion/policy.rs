//! The verifier flags `verify` and `explain` share: the client's JWK Set,
//! its id, the accepted audience, and the policy's named loosenings. One
//! set of flags builds both the library's [`Policy`] and the [`Rules`]
//! that `explain` uses to say what was expected, so the two cannot drift.

use std::sync::Arc;
use std::time::Duration;

use client_assertion::server::VerifierBuilder;
use client_assertion::{Algorithm, ClientRegistry, JwkSet, Policy, Verifier};

use crate::common::{read_text, Failure, ProfileArgs};
use crate::lint::Rules;

/// The largest `--jwks` file read (the library's own JWK Set bound).
const JWKS_LIMIT: usize = 64 * 1024;

/// The verifier's configuration.
#[derive(clap::Args, Debug)]
pub(crate) struct VerifierArgs {
    /// The client's public JWK Set ({"keys":[...]}), e.g. the output of `jwks`.
    #[arg(long, value_name = "FILE")]
    pub(crate) jwks: String,
    /// The client the keys are registered for; iss and sub must equal it.
    #[arg(long, value_name = "ID")]
    pub(crate) client_id: String,
    /// The authorization server's issuer identifier, the accepted aud.
    #[arg(long, value_name = "AUD")]
    pub(crate) audience: String,
    /// Allowed clock skew in seconds (default 30, at most 300; FAPI 2.0: 10).
    #[arg(long, value_name = "SECS")]
    pub(crate) leeway: Option<u64>,
    /// Longest accepted exp - iat in seconds (default 3600).
    #[arg(long, value_name = "SECS")]
    pub(crate) max_lifetime: Option<u64>,
    /// Greatest accepted now - iat in seconds (default 300).
    #[arg(long, value_name = "SECS")]
    pub(crate) max_age: Option<u64>,
    /// Loosens: also accept this aud (e.g. the token endpoint URL); repeatable.
    #[arg(long, value_name = "AUD")]
    pub(crate) also_accept_audience: Vec<String>,
    /// Loosens: accept aud as a one-element array.
    #[arg(long)]
    pub(crate) accept_audience_array: bool,
    /// Restricts the accepted algorithms; repeatable (default: all five, or the profile's).
    #[arg(long = "alg", value_name = "ALG")]
    pub(crate) algorithms: Vec<String>,
    /// `on`: the library's quarantine after replay state loss (an assertion
    /// issued before this process started, or before the Redis epoch, is
    /// `replay_quarantine` for one acceptance window). Default `off`: a
    /// one-shot check of assertions minted before it started, whose replay
    /// protection is one run (memory) or one Redis keyspace.
    #[arg(long, value_name = "on|off", default_value = "off", value_parser = ["on", "off"])]
    pub(crate) quarantine: String,
    #[command(flatten)]
    pub(crate) profile: ProfileArgs,
}

impl VerifierArgs {
    /// The policy and the matching lint rules.
    pub(crate) fn policy(&self) -> Result<(Policy, Rules), Failure> {
        let profile = self.profile.profile()?;
        let mut policy = Policy::new(self.audience.as_str());
        let mut rules = Rules::new(profile.clone());
        rules.audiences = Some(vec![self.audience.clone()]);
        rules.client_id = Some(self.client_id.clone());
        if let Some(profile) = profile {
            if let Some(aud) = profile.audience() {
                rules.audiences = Some(match profile {
                    client_assertion::Profile::EntraId { .. } => vec![aud],
                    _ => vec![aud, self.audience.clone()],
                });
            }
            policy = policy.profile(profile);
        }
        if let Some(secs) = self.leeway {
            policy = policy.leeway(Duration::from_secs(secs));
        }
        rules.leeway = policy.leeway_value().as_secs_f64();
        if let Some(secs) = self.max_lifetime {
            policy = policy.max_lifetime(Duration::from_secs(secs));
            rules.max_lifetime = secs as f64;
        }
        if let Some(secs) = self.max_age {
            policy = policy.max_age(Duration::from_secs(secs));
            rules.max_age = secs as f64;
        }
        for aud in &self.also_accept_audience {
            policy = policy.also_accept_audience(aud.as_str());
            rules
                .audiences
                .get_or_insert_with(Vec::new)
                .push(aud.clone());
        }
        if self.accept_audience_array {
            policy = policy.accept_single_element_audience_array();
            rules.audience_array = true;
        }
        if !self.algorithms.is_empty() {
            let algs = self
                .algorithms
                .iter()
                .map(|n| {
                    Algorithm::from_name(n).map_err(|e| Failure::usage(format!("--alg {n}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            policy = policy.algorithms(&algs);
        }
        rules.algorithms = policy.allowed_algorithms().to_vec();
        Ok((policy, rules))
    }

    /// The client's JWK Set, read and parsed.
    pub(crate) fn jwk_set(&self) -> Result<JwkSet, Failure> {
        let json = read_text(&self.jwks, JWKS_LIMIT, "JWK Set")?;
        JwkSet::from_json(&json).map_err(|e| Failure::error(&format!("JWK Set {}", self.jwks), &e))
    }

    /// The verifier builder: the registry holds `set` for the client, the
    /// policy is `policy` (replay cache: the builder's own in memory).
    pub(crate) fn builder(&self, set: &JwkSet, policy: Policy) -> Result<VerifierBuilder, Failure> {
        let registry = Arc::new(ClientRegistry::new());
        registry
            .register(self.client_id.as_str(), set)
            .map_err(|e| Failure::error(&format!("JWK Set {}", self.jwks), &e))?;
        let builder = Verifier::builder(self.audience.as_str(), registry).policy(policy);
        Ok(if self.quarantine == "on" {
            builder
        } else {
            builder.danger_accept_replays_after_state_loss()
        })
    }
}

/// Builds the verifier; a policy out of bounds is a usage error.
pub(crate) fn build(builder: VerifierBuilder) -> Result<Verifier, Failure> {
    builder
        .build()
        .map_err(|e| Failure::usage(format!("invalid policy: {}", crate::common::one_line(&e))))
}
