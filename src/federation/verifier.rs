//! [`FederatedVerifier`]: the federation driver of the one verification
//! pipeline (`verify/pipeline.rs`).
//!
//! ```text
//! token ─▶ screen (the pipeline's: size, shape, crit/jwk/jku/x5u, typ
//!          absent/JWT/JOSE, alg allowlist; the platform claims kept)
//!       ─▶ keys: the trust anchor named by iss (or, for a JWT-SVID, by its
//!          sub's trust domain); the preset's algorithms
//!       ─▶ signature and claims (the pipeline's, with the anchor's policy:
//!          aud, exp required, nbf/iat, lifetime, age)
//!       ─▶ rules: each rule of the anchor, by audience, age, lifetime,
//!          preset shape and claim matchers; the clients of the matching
//!          rules must be one (else ambiguous_client)
//!       ─▶ record: the jti, when the rule's preset records it
//!       ─▶ FederatedClient
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::anchor::{register_keys, Anchor, Matched};
use super::client::FederatedClient;
use super::diagnose;
use super::preset::Preset;
use super::rule::TrustRule;
use super::spiffe::trust_domain_of;
use crate::audit::ReplayCheck;
use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::jose::media_type_is;
use crate::params::{CLIENT_ASSERTION_TYPE_JWT_BEARER, CLIENT_ASSERTION_TYPE_JWT_SPIFFE};
use crate::replay::{AsyncReplayCache, ReplayCache, ReplayStore};
use crate::time::{Clock, SystemClock};
use crate::verify::pipeline::{Hmac, Kind, Pipeline, Rejected, Screened, TypeRule};
use crate::verify::select::{self, HeaderAlg};
use crate::verify::{ClientRegistry, Json, Policy};

/// The `typ` of a platform token: absent, `JWT` or `JOSE`.
#[derive(Debug)]
struct PlatformTypes;

impl TypeRule for PlatformTypes {
    fn allows(&self, typ: Option<&str>) -> bool {
        typ.is_none_or(|t| media_type_is(t, "JWT") || media_type_is(t, "JOSE"))
    }
}

/// Builds a [`FederatedVerifier`]; see [`FederatedVerifier::builder`].
#[must_use]
pub struct FederatedVerifierBuilder {
    issuer: String,
    rules: Vec<TrustRule>,
    replay: ReplayStore,
    clock: Arc<dyn Clock>,
    leeway: Option<std::time::Duration>,
    quarantine: bool,
    backend: Backend,
}

impl fmt::Debug for FederatedVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederatedVerifierBuilder")
            .field("issuer", &self.issuer)
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl FederatedVerifierBuilder {
    /// Adds a trust rule.
    pub fn rule(mut self, rule: TrustRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds trust rules.
    pub fn rules(mut self, rules: impl IntoIterator<Item = TrustRule>) -> Self {
        self.rules.extend(rules);
        self
    }

    /// Uses `cache` for the `jti`s the presets record (default: a fresh
    /// [`MemoryReplayCache`](crate::MemoryReplayCache)).
    pub fn replay_cache(mut self, cache: Arc<dyn ReplayCache>) -> Self {
        self.replay = ReplayStore::Sync(cache);
        self
    }

    /// Uses a networked cache; only [`FederatedVerifier::verify_async`]
    /// reaches it.
    pub fn async_replay_cache(mut self, cache: Arc<dyn AsyncReplayCache>) -> Self {
        self.replay = ReplayStore::Async(cache);
        self
    }

    /// **Loosens:** turns off the quarantine after replay state loss for
    /// the presets that record `jti` (see the [`replay`](crate::replay)
    /// module docs and
    /// [`VerifierBuilder::danger_accept_replays_after_state_loss`](crate::server::VerifierBuilder::danger_accept_replays_after_state_loss)):
    /// a token issued before the cache's epoch whose `jti` the cache does
    /// not remember is accepted, so a token accepted before a loss **is
    /// accepted again**.
    pub fn danger_accept_replays_after_state_loss(mut self) -> Self {
        self.quarantine = false;
        self
    }

    /// Takes time from `clock`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Verifies with `backend` (default [`Backend::RustCrypto`]): every
    /// rule's keys, remote ones included, are parsed once for it.
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Sets the clock-skew allowance (default 30 s, at most 5 min).
    pub fn leeway(mut self, leeway: std::time::Duration) -> Self {
        self.leeway = Some(leeway);
        self
    }

    /// Builds the verifier, parsing every rule's keys once.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for no rule, two rules of one issuer
    /// with different keys, or a leeway above 5 minutes; key errors for
    /// unusable keys.
    pub fn build(self) -> Result<FederatedVerifier, Error> {
        let bad = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        if self.rules.is_empty() {
            return bad("a federated verifier needs at least one trust rule");
        }
        let mut policy = Policy::new(self.issuer.clone());
        if let Some(leeway) = self.leeway {
            policy = policy.leeway(leeway);
        }
        policy.validate()?;
        let registry = ClientRegistry::with_backend(self.backend);
        let mut anchors: HashMap<String, Anchor> = HashMap::new();
        for (index, rule) in self.rules.into_iter().enumerate() {
            let rule = Arc::new(rule);
            match anchors.get_mut(&rule.issuer) {
                Some(anchor) => {
                    if !anchor.rules[0].1.keys.same_as(&rule.keys) {
                        return bad("two trust rules of one issuer name different keys");
                    }
                    anchor.rules.push((index, rule));
                }
                None => {
                    register_keys(&registry, &rule)?;
                    let anchor = Anchor {
                        rules: vec![(index, rule.clone())],
                        policy: policy.clone(),
                        algorithms: Vec::new(),
                    };
                    anchors.insert(rule.issuer.clone(), anchor);
                }
            }
        }
        for anchor in anchors.values_mut() {
            anchor.loosen(&policy);
        }
        Ok(FederatedVerifier {
            policy,
            registry,
            anchors,
            replay: self.replay.for_verifier(self.clock.now(), self.quarantine),
            clock: self.clock,
        })
    }
}

/// Verifies platform-issued tokens (Kubernetes, GitHub Actions, SPIFFE,
/// OIDC) presented as client assertions, against federated clients' trust
/// rules. See the README's "Workload identity federation".
///
/// ```
/// use std::sync::Arc;
/// use client_assertion::federation::{FederatedVerifier, TrustKeys, TrustRule};
/// use client_assertion::{jwk_set, KeyType, PrivateKey};
///
/// let cluster_key = PrivateKey::generate(KeyType::Rsa)?;
/// let rule = TrustRule::kubernetes(
///     "payments", "https://kubernetes.default.svc", TrustKeys::Jwks(jwk_set([&cluster_key])),
/// )
/// .service_account("prod", "payments")
/// .build()?;
/// let verifier = FederatedVerifier::builder("https://as.example").rule(rule).build()?;
/// assert_eq!(verifier.issuer(), "https://as.example");
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct FederatedVerifier {
    policy: Policy,
    registry: ClientRegistry,
    anchors: HashMap<String, Anchor>,
    replay: ReplayStore,
    clock: Arc<dyn Clock>,
}

impl FederatedVerifier {
    /// A builder for the authorization server whose issuer identifier is
    /// `issuer` (every rule's audience unless it names another one).
    pub fn builder(issuer: impl Into<String>) -> FederatedVerifierBuilder {
        FederatedVerifierBuilder {
            issuer: issuer.into(),
            rules: Vec::new(),
            replay: ReplayStore::default(),
            clock: Arc::new(SystemClock),
            leeway: None,
            quarantine: true,
            backend: Backend::default(),
        }
    }

    /// The authorization server's issuer identifier.
    pub fn issuer(&self) -> &str {
        self.policy.issuer()
    }

    /// The number of trust rules.
    pub fn rule_count(&self) -> usize {
        self.anchors.values().map(|a| a.rules.len()).sum()
    }

    fn pipeline<'p>(&'p self, policy: &'p Policy) -> Pipeline<'p> {
        Pipeline {
            kind: Kind::Federation,
            policy,
            types: &PlatformTypes,
            hmac: Hmac::Refused,
            registry: &self.registry,
            clock: &*self.clock,
            replay: &self.replay,
            loosened: Default::default(),
        }
    }

    /// Verifies a platform token presented as `client_assertion`, with
    /// registered or cached keys only, and records its `jti` when the
    /// matched rule's preset does.
    ///
    /// # Errors
    /// A rejection with its stable code; [`Error::near_miss`] explains it
    /// to the operator where a rule nearly matched.
    /// [`ErrorKind::AmbiguousClient`] when rules of two clients match.
    pub fn verify(&self, token: &str) -> Result<FederatedClient, Error> {
        self.run(token, false)
    }

    /// [`FederatedVerifier::verify`]; with `spiffe_only`, a token whose
    /// anchor is not a SPIFFE trust domain is refused before its keys.
    fn run(&self, token: &str, spiffe_only: bool) -> Result<FederatedClient, Error> {
        let base = self.pipeline(&self.policy);
        let result = match self.screen(&base, token, spiffe_only) {
            Ok((screened, anchor)) => self.cached_and_finish(anchor, screened),
            Err(r) => Err(r),
        };
        let result = match result {
            Ok(m) if m.rule.1.record_jti => {
                let (rule, issuer) = (m.rule, m.issuer);
                base.record(m.checked).map(|checked| Matched {
                    checked,
                    rule,
                    issuer,
                })
            }
            other => other,
        };
        self.output(&base, result)
    }

    /// [`FederatedVerifier::verify`] without blocking an async executor:
    /// remote key sets are fetched or refreshed as their cache rules allow
    /// and the replay check may go to a networked store.
    ///
    /// # Errors
    /// As [`FederatedVerifier::verify`]; [`ErrorKind::KeysUnavailable`]
    /// when an issuer's keys cannot be fetched.
    pub async fn verify_async(&self, token: &str) -> Result<FederatedClient, Error> {
        let base = self.pipeline(&self.policy);
        let result = match self.screen(&base, token, false) {
            Ok((screened, anchor)) => self.fetch_and_finish(anchor, screened).await,
            Err(r) => Err(r),
        };
        let result = match result {
            Ok(m) if m.rule.1.record_jti => {
                let (rule, issuer) = (m.rule, m.issuer);
                base.record_async(m.checked).await.map(|checked| Matched {
                    checked,
                    rule,
                    issuer,
                })
            }
            other => other,
        };
        self.output(&base, result)
    }

    /// Verifies a token request's `client_assertion_type` and
    /// `client_assertion`: `…:client-assertion-type:jwt-bearer` for any
    /// rule, `…:client-assertion-type:jwt-spiffe`
    /// (draft-ietf-oauth-spiffe-client-auth) for SPIFFE rules only.
    ///
    /// # Errors
    /// [`ErrorKind::TypeNotAllowed`] for another assertion type, or
    /// `jwt-spiffe` with a token that matched a non-SPIFFE rule; else as
    /// [`FederatedVerifier::verify`].
    pub fn verify_request(
        &self,
        client_assertion_type: &str,
        client_assertion: &str,
    ) -> Result<FederatedClient, Error> {
        let spiffe = assertion_type_is_spiffe(client_assertion_type)
            .map_err(|e| e.for_usage(crate::error::Usage::ClientAuthentication))?;
        self.run(client_assertion, spiffe)
    }

    fn cached_and_finish(
        &self,
        anchor: &Anchor,
        screened: Screened<'_>,
    ) -> Result<Matched, Rejected> {
        let Some(entry) = self.registry.get(screened.iss()) else {
            return Err(screened.reject(Error::new(ErrorKind::KeysUnavailable), Some(true)));
        };
        match select::cached(entry, self.clock.now()) {
            Ok(credential) => self.finish(anchor, screened, &credential),
            Err(e) => Err(screened.reject(e, Some(true))),
        }
    }

    async fn fetch_and_finish(
        &self,
        anchor: &Anchor,
        screened: Screened<'_>,
    ) -> Result<Matched, Rejected> {
        let Some(entry) = self.registry.get(screened.iss()) else {
            return Err(screened.reject(Error::new(ErrorKind::KeysUnavailable), Some(true)));
        };
        let now = self.clock.now();
        match select::fetched(entry, screened.kid(), screened.alg(), now).await {
            Ok(credential) => self.finish(anchor, screened, &credential),
            Err(e) => Err(screened.reject(e, Some(true))),
        }
    }

    /// Screening and the trust anchor: the issuer, or the trust domain of
    /// a JWT-SVID's subject, with the preset's algorithms.
    fn screen<'t>(
        &self,
        base: &Pipeline<'_>,
        token: &'t str,
        spiffe_only: bool,
    ) -> Result<(Screened<'t>, &Anchor), Rejected> {
        // A JWT-SVID's anchor is its subject's trust domain, whatever its
        // (optional) `iss` says, when that trust domain is trusted; without
        // `iss`, an untrusted trust domain is an unknown issuer.
        let lookup = |has_iss: bool, sub: Option<&Json>| match sub {
            Some(Json::Str(sub)) => {
                trust_domain_of(sub).filter(|td| !has_iss || self.anchors.contains_key(td))
            }
            _ => None,
        };
        let screened = base.screen_as(token, None, &lookup)?;
        let Some(anchor) = self.anchors.get(screened.iss()) else {
            let error = Error::new(ErrorKind::UnknownIssuer);
            let error = match diagnose::issuer(screened.iss(), self.anchors.iter()) {
                Some(near) => error.with_near_miss(near),
                None => error,
            };
            return Err(screened.reject(error, Some(false)));
        };
        if spiffe_only && anchor.rules.iter().any(|(_, r)| r.preset != Preset::Spiffe) {
            let e = Error::detail(
                ErrorKind::TypeNotAllowed,
                "jwt-spiffe names a JWT-SVID, and the token is not one of a trusted trust domain",
            );
            return Err(screened.reject(e, Some(true)));
        }
        let allowed = match screened.alg() {
            HeaderAlg::Asymmetric(alg) => anchor.algorithms.contains(&alg),
            HeaderAlg::Hmac(_) => false,
        };
        if !allowed {
            let e = Error::detail(
                ErrorKind::AlgorithmNotAllowed,
                "the algorithm is not one of the preset's",
            );
            return Err(screened.reject(e, Some(true)));
        }
        Ok((screened, anchor))
    }

    /// Signature and claims with the anchor's policy, then its rules.
    fn finish(
        &self,
        anchor: &Anchor,
        screened: Screened<'_>,
        credential: &select::Credential,
    ) -> Result<Matched, Rejected> {
        let peek = diagnose::Peek::of(screened.claims());
        let now = self.clock.now();
        let checked = self
            .pipeline(&anchor.policy)
            .prove(screened, credential)
            .map_err(|mut r| {
                r.error = diagnose::claims(r.error, &peek, anchor, &self.policy, now);
                r
            })?;
        super::matching::select_rule(anchor, checked, &self.policy, now)
    }

    /// The audit event, then the caller's answer.
    fn output(
        &self,
        base: &Pipeline<'_>,
        result: Result<Matched, Rejected>,
    ) -> Result<FederatedClient, Error> {
        let (mut checked, rule, issuer) = match result {
            Ok(m) => (m.checked, m.rule, m.issuer),
            Err(r) => {
                return match base.audited(Err(r), ReplayCheck::Recorded) {
                    Err(e) => Err(e),
                    Ok(_) => Err(Error::new(ErrorKind::InvalidConfig)),
                }
            }
        };
        // The audit event names the client; the issuer stays in the answer.
        checked.iss = rule.1.client_id.clone();
        let replay = if rule.1.record_jti {
            ReplayCheck::Recorded
        } else {
            ReplayCheck::Skipped
        };
        let checked = base.audited(Ok(checked), replay)?;
        super::matching::client(checked, rule, issuer)
    }
}

/// Whether `client_assertion_type` is `jwt-spiffe` (else `jwt-bearer`).
fn assertion_type_is_spiffe(client_assertion_type: &str) -> Result<bool, Error> {
    match client_assertion_type {
        CLIENT_ASSERTION_TYPE_JWT_SPIFFE => Ok(true),
        CLIENT_ASSERTION_TYPE_JWT_BEARER => Ok(false),
        _ => Err(Error::detail(
            ErrorKind::TypeNotAllowed,
            "unsupported client_assertion_type",
        )),
    }
}

impl fmt::Debug for FederatedVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FederatedVerifier")
            .field("issuer", &self.policy.issuer())
            .field("rules", &self.rule_count())
            .field("replay", &self.replay)
            .finish_non_exhaustive()
    }
}
