//! Trust rules: which platform tokens authenticate which client, checked
//! when they are built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::github::GithubSubject;
use super::matcher::{ClaimMatcher, Match};
use super::preset::{shared_issuer_pins, Preset};
use super::spiffe::SpiffeBundle;
use crate::error::{Error, ErrorKind};
use crate::keys::JwkSet;
use crate::verify::{JwksFetcher, RemoteJwksConfig};

/// The GitHub Actions OIDC issuer.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Where a trust rule's keys come from.
#[derive(Clone)]
#[non_exhaustive]
pub enum TrustKeys {
    /// A static JWK Set (the issuer's `jwks_uri` document, saved).
    Jwks(JwkSet),
    /// A SPIFFE bundle's JWT authorities ([`Preset::Spiffe`] only).
    Bundle(SpiffeBundle),
    /// A remote JWK Set fetched through your [`JwksFetcher`] (called with
    /// the issuer; read `jwks_uri` from its discovery document with your
    /// own HTTP client), cached with the cooldown, single-flight refresh
    /// and stale-if-error of [`RemoteJwksConfig`]. Verify with
    /// [`FederatedVerifier::verify_async`](super::FederatedVerifier::verify_async).
    Remote(Arc<dyn JwksFetcher>, RemoteJwksConfig),
}

impl TrustKeys {
    /// The `jwks_uri` of an OpenID Provider's discovery document (the body
    /// of `<issuer>/.well-known/openid-configuration`, fetched with your
    /// own HTTP client), for a [`JwksFetcher`] to fetch: the document's
    /// `issuer` must be `issuer` exactly (OpenID Connect Discovery §4.3)
    /// and `jwks_uri` an `https` URL.
    ///
    /// ```
    /// use client_assertion::federation::TrustKeys;
    ///
    /// let doc = r#"{"issuer":"https://token.actions.githubusercontent.com",
    ///   "jwks_uri":"https://token.actions.githubusercontent.com/.well-known/jwks"}"#;
    /// let uri = TrustKeys::jwks_uri(doc, "https://token.actions.githubusercontent.com")?;
    /// assert!(uri.ends_with("/.well-known/jwks"));
    /// assert!(TrustKeys::jwks_uri(doc, "https://token.actions.githubusercontent.com/").is_err());
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a document that is not a JSON
    /// object, names another issuer, or has no `https` `jwks_uri`.
    pub fn jwks_uri(discovery: &str, issuer: &str) -> Result<String, Error> {
        let bad = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        if discovery.len() > JwkSet::MAX_JSON_LEN {
            return bad("the discovery document is too large");
        }
        let Ok(serde_json::Value::Object(doc)) = serde_json::from_str(discovery) else {
            return bad("the discovery document is not a JSON object");
        };
        if doc.get("issuer").and_then(|i| i.as_str()) != Some(issuer) {
            return bad("the discovery document is for another issuer");
        }
        match doc.get("jwks_uri").and_then(|u| u.as_str()) {
            Some(uri) if uri.starts_with("https://") && uri.len() > "https://".len() => {
                Ok(uri.to_owned())
            }
            _ => bad("the discovery document has no https jwks_uri"),
        }
    }

    /// Whether two rules of one issuer name the same keys.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Jwks(a), Self::Jwks(b)) => a.to_json() == b.to_json(),
            (Self::Bundle(a), Self::Bundle(b)) => {
                a.jwt_authorities().to_json() == b.jwt_authorities().to_json()
            }
            (Self::Remote(a, _), Self::Remote(b, _)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl fmt::Debug for TrustKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Jwks(set) => f.debug_tuple("Jwks").field(&set.keys().len()).finish(),
            Self::Bundle(b) => f.debug_tuple("Bundle").field(&b.trust_domain()).finish(),
            Self::Remote(fetcher, config) => f
                .debug_tuple("Remote")
                .field(fetcher)
                .field(config)
                .finish(),
        }
    }
}

/// One way a federated client may authenticate: tokens of `issuer`,
/// verified with its keys, for this authorization server's audience, whose
/// claims fit every matcher. Build with [`TrustRule::kubernetes`],
/// [`TrustRule::github_actions`], [`TrustRule::spiffe`] or
/// [`TrustRule::oidc`].
#[derive(Clone, Debug)]
pub struct TrustRule {
    pub(crate) client_id: String,
    pub(crate) preset: Preset,
    /// The exact issuer; for SPIFFE `spiffe://<trust domain>`.
    pub(crate) issuer: String,
    pub(crate) keys: TrustKeys,
    /// `None`: the authorization server's issuer identifier.
    pub(crate) audience: Option<String>,
    pub(crate) matchers: Vec<ClaimMatcher>,
    pub(crate) max_age: Duration,
    pub(crate) record_jti: bool,
}

impl TrustRule {
    /// A rule for Kubernetes service-account tokens of the cluster whose
    /// service-account issuer is `issuer` (exactly as the API server's
    /// `--service-account-issuer`: managed clusters use their own URL, e.g.
    /// `https://oidc.eks.<region>.amazonaws.com/id/<id>` or
    /// `https://container.googleapis.com/v1/projects/<p>/locations/<l>/clusters/<c>`).
    /// Add [`TrustRuleBuilder::service_account`].
    pub fn kubernetes(
        client_id: impl Into<String>,
        issuer: impl Into<String>,
        keys: TrustKeys,
    ) -> TrustRuleBuilder {
        TrustRuleBuilder::new(client_id.into(), Preset::Kubernetes, issuer.into(), keys)
    }

    /// A rule for GitHub Actions OIDC tokens; pin the repository with
    /// [`TrustRuleBuilder::repository_id`] or the owner with
    /// [`TrustRuleBuilder::repository_owner_id`] (required).
    pub fn github_actions(client_id: impl Into<String>, keys: TrustKeys) -> TrustRuleBuilder {
        let issuer = GITHUB_ACTIONS_ISSUER.to_owned();
        TrustRuleBuilder::new(client_id.into(), Preset::GithubActions, issuer, keys)
    }

    /// A rule for JWT-SVIDs of `bundle`'s trust domain (the anchor: a
    /// JWT-SVID need not carry `iss`); add [`TrustRuleBuilder::spiffe_id`].
    pub fn spiffe(client_id: impl Into<String>, bundle: SpiffeBundle) -> TrustRuleBuilder {
        let issuer = format!("spiffe://{}", bundle.trust_domain());
        TrustRuleBuilder::new(
            client_id.into(),
            Preset::Spiffe,
            issuer,
            TrustKeys::Bundle(bundle),
        )
    }

    /// A rule for ID tokens of the OpenID Connect issuer `issuer`.
    pub fn oidc(
        client_id: impl Into<String>,
        issuer: impl Into<String>,
        keys: TrustKeys,
    ) -> TrustRuleBuilder {
        TrustRuleBuilder::new(client_id.into(), Preset::Oidc, issuer.into(), keys)
    }

    /// The client this rule authenticates.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The preset.
    pub fn preset(&self) -> Preset {
        self.preset
    }

    /// The issuer, exactly (`spiffe://<trust domain>` for SPIFFE).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The audience this rule expects, if not the authorization server's
    /// issuer identifier.
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// The claim matchers.
    pub fn matchers(&self) -> &[ClaimMatcher] {
        &self.matchers
    }

    /// The greatest accepted `now - iat`.
    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Whether accepted tokens' `jti`s are recorded (and a replay refused).
    pub fn records_jti(&self) -> bool {
        self.record_jti
    }
}

/// Builds a [`TrustRule`]; see [`TrustRule::kubernetes`] and the others.
#[must_use]
#[derive(Debug)]
pub struct TrustRuleBuilder {
    rule: TrustRule,
    errors: Vec<&'static str>,
}

impl TrustRuleBuilder {
    fn new(client_id: String, preset: Preset, issuer: String, keys: TrustKeys) -> Self {
        Self {
            rule: TrustRule {
                client_id,
                preset,
                issuer,
                keys,
                audience: None,
                matchers: Vec::new(),
                max_age: preset.max_age(),
                record_jti: preset.records_jti(),
            },
            errors: Vec::new(),
        }
    }

    /// Expects `audience` as the token's sole audience instead of the
    /// authorization server's issuer identifier (e.g. an exchange audience
    /// such as `api://AzureADTokenExchange`, or the audience a Kubernetes
    /// projected token was requested for). Compared exactly.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.rule.audience = Some(audience.into());
        self
    }

    /// Adds a claim matcher.
    pub fn claim(mut self, matcher: ClaimMatcher) -> Self {
        self.rule.matchers.push(matcher);
        self
    }

    /// Adds a matcher on `path`; an invalid one fails
    /// [`TrustRuleBuilder::build`].
    pub fn require<S: Into<String>>(
        mut self,
        path: impl IntoIterator<Item = S>,
        matches: Match,
    ) -> Self {
        match ClaimMatcher::new(path, matches) {
            Ok(m) => self.rule.matchers.push(m),
            Err(_) => self.errors.push("invalid claim matcher"),
        }
        self
    }

    /// `sub` must equal `subject` exactly.
    pub fn subject(self, subject: impl Into<String>) -> Self {
        self.require(["sub"], Match::Exact(subject.into()))
    }

    /// Kubernetes: the service account `name` of namespace `namespace`
    /// (`sub` = `system:serviceaccount:<namespace>:<name>`, and the
    /// `kubernetes.io` claim's `namespace` and `serviceaccount.name`).
    pub fn service_account(self, namespace: &str, name: &str) -> Self {
        self.subject(format!("system:serviceaccount:{namespace}:{name}"))
            .require(
                ["kubernetes.io", "namespace"],
                Match::Exact(namespace.into()),
            )
            .require(
                ["kubernetes.io", "serviceaccount", "name"],
                Match::Exact(name.into()),
            )
    }

    /// Kubernetes: the service account's `uid` too, so that a service
    /// account deleted and re-created under the same name is not trusted.
    pub fn service_account_uid(self, uid: &str) -> Self {
        self.require(
            ["kubernetes.io", "serviceaccount", "uid"],
            Match::Exact(uid.into()),
        )
    }

    /// GitHub Actions: the immutable repository id (`repository_id`).
    pub fn repository_id(self, id: &str) -> Self {
        self.require(["repository_id"], Match::Exact(id.into()))
    }

    /// GitHub Actions: the immutable owner id (`repository_owner_id`).
    pub fn repository_owner_id(self, id: &str) -> Self {
        self.require(["repository_owner_id"], Match::Exact(id.into()))
    }

    /// SPIFFE: the subject is a SPIFFE ID of the bundle's trust domain at
    /// or under `path_prefix` (`/ns/prod/sa/api`, or `""` for any).
    pub fn spiffe_id(mut self, path_prefix: &str) -> Self {
        let Some(trust_domain) = self.rule.issuer.strip_prefix("spiffe://") else {
            self.errors.push("spiffe_id is for SPIFFE rules");
            return self;
        };
        let trust_domain = trust_domain.to_owned();
        self.require(
            ["sub"],
            Match::SpiffeId {
                trust_domain,
                path_prefix: path_prefix.into(),
            },
        )
    }

    /// Sets the greatest accepted `now - iat` (default: the preset's).
    pub fn max_age(mut self, max: Duration) -> Self {
        self.rule.max_age = max;
        self
    }

    /// [`Preset::Oidc`] only: whether `jti` is recorded (default `true`:
    /// then `jti` is required and a replay rejected).
    pub fn record_jti(mut self, record: bool) -> Self {
        if self.rule.preset != Preset::Oidc {
            self.errors
                .push("only an OIDC rule chooses whether jti is recorded");
        }
        self.rule.record_jti = record;
        self
    }

    /// Builds the rule.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty client id, issuer or
    /// audience; no claim matcher, or an invalid one; keys that do not fit
    /// the preset (a SPIFFE bundle is for [`Preset::Spiffe`] only, and
    /// that preset needs one); a max age of zero or above 24 h; and
    /// [`ErrorKind::SharedIssuerUnpinned`] for a rule of a shared issuer
    /// (GitHub Actions, GitLab.com, Terraform Cloud) without an exact pin
    /// on an immutable owner, repository or namespace id.
    pub fn build(self) -> Result<TrustRule, Error> {
        let bad = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        if let Some(d) = self.errors.first() {
            return bad(d);
        }
        let rule = self.rule;
        if rule.client_id.is_empty() || rule.issuer.is_empty() {
            return bad("a trust rule needs a client id and an issuer");
        }
        if rule.audience.as_deref() == Some("") {
            return bad("a trust rule's audience must not be empty");
        }
        if rule.matchers.is_empty() {
            return bad("a trust rule needs at least one claim matcher");
        }
        if rule.max_age.is_zero() || rule.max_age > Duration::from_secs(24 * 3600) {
            return bad("a trust rule's max age must be positive and at most 24 hours");
        }
        let spiffe = rule.preset == Preset::Spiffe;
        if spiffe != matches!(rule.keys, TrustKeys::Bundle(_)) {
            return bad("SPIFFE rules take a SPIFFE bundle, and only they do");
        }
        if rule.preset == Preset::GithubActions && rule.issuer != GITHUB_ACTIONS_ISSUER {
            return bad("a GitHub Actions rule is for the GitHub Actions issuer");
        }
        check_pinned(&rule)?;
        Ok(rule)
    }
}

/// A shared issuer's rule must pin an immutable id exactly (or one of a
/// list): an exact immutable-ID GitHub subject counts too.
fn check_pinned(rule: &TrustRule) -> Result<(), Error> {
    let Some(pins) = shared_issuer_pins(&rule.issuer) else {
        return Ok(());
    };
    let pinned = rule.matchers.iter().any(|m| {
        let path = m.path();
        let exact = matches!(m.matches(), Match::Exact(_) | Match::OneOf(_));
        let pin_claim = path.len() == 1 && pins.contains(&path[0].as_str());
        let immutable_sub = path[0] == "sub"
            && matches!(m.matches(), Match::Exact(s) if GithubSubject::parse(s).is_some_and(|g| g.is_immutable()));
        (exact && pin_claim) || immutable_sub
    });
    if pinned {
        return Ok(());
    }
    Err(Error::detail(
        ErrorKind::SharedIssuerUnpinned,
        "a rule for a shared issuer must pin an immutable owner, repository or namespace id",
    ))
}
