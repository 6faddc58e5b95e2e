//! The JWT bearer authorization grant, server side (RFC 7523 §2.1 and §3):
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with an
//! `assertion` whose issuer is a party the authorization server trusts
//! (an identity provider, a partner, a workload platform) and whose subject
//! is the principal the access token is wanted for.
//!
//! ```text
//! assertion ─▶ bounded parse, header rules (as the client-auth Verifier)
//!           ─▶ typ: absent or JWT (never client-authentication+jwt)
//!           ─▶ trusted issuer (iss) ─▶ its key (kid; alg pinned by the key)
//!           ─▶ signature ─▶ claims (sub, aud, exp, nbf, iat, lifetime, age, jti)
//!           ─▶ replay check-and-insert, scoped by issuer ─▶ VerifiedGrant
//! ```
//!
//! The parser, header rules, key selection, signature check and claim
//! rules are the client-authentication [`Verifier`](crate::Verifier)'s own
//! code; only these rules differ:
//!
//! - **Issuer:** `iss` must name an issuer of [`TrustedIssuers`], whose keys
//!   (a static JWK Set or PEM keys, or a remote JWK Set through a
//!   [`JwksFetcher`] with the same cooldown, single-flight refresh and
//!   stale-if-error as remote clients) are the only ones tried. An unknown
//!   issuer is [`ErrorKind::UnknownIssuer`]. The issuers are kept apart from
//!   the [`ClientRegistry`](crate::ClientRegistry): trusting a party to
//!   assert identities is not registering it as a client.
//! - **Subject:** `sub` is required, a non-empty string, and may differ from
//!   `iss`. It is returned ([`VerifiedGrant::subject`]) for the caller to map
//!   to a local user; this crate does not decide who that is.
//! - **Audience:** as for client assertions (draft-ietf-oauth-rfc7523bis):
//!   by default only this authorization server's issuer identifier, as a
//!   single JSON string. RFC 7523 §3 also lets the token endpoint URL name
//!   the server: accepting it is the named opt-in
//!   [`Policy::also_accept_audience`]; a one-element array is the opt-in
//!   [`Policy::accept_single_element_audience_array`]; an array with any
//!   other member is always rejected.
//! - **Explicit typing:** a client-authentication assertion (`typ`
//!   `client-authentication+jwt`) is never accepted as a grant, whatever the
//!   configuration: draft-ietf-oauth-rfc7523bis types client assertions so
//!   that they cannot be used for anything else. Accepted by default: no
//!   `typ`, or `JWT` (what [`AssertionSigner::grant_builder`](crate::AssertionSigner::grant_builder) writes, and
//!   what identity providers put on ID tokens). A profile with its own type
//!   is added with [`GrantVerifierBuilder::also_accept_type`] or made the
//!   only one with [`GrantVerifierBuilder::require_type`] (e.g.
//!   `oauth-id-jag+jwt` for identity assertion grants). Types compare
//!   case-insensitively, with or without the `application/` prefix. Other
//!   typed JWTs (`at+jwt`, `dpop+jwt`, ...) are rejected.
//! - **Replay:** `jti` is required and recorded through the same
//!   [`ReplayCache`](crate::ReplayCache) as client assertions, in a scope of its own kind
//!   ([`ReplayKind::AuthorizationGrant`](crate::ReplayKind::AuthorizationGrant))
//!   per issuer: two issuers never collide, no grant scope equals a client's,
//!   and one cache can serve both verifiers.
//! - **Errors:** every error [`GrantVerifier`] returns carries
//!   [`Usage::AuthorizationGrant`](crate::Usage::AuthorizationGrant) ([`Error::usage`]), so
//!   `err.oauth_error(Usage::AuthorizationGrant)` is `invalid_grant`
//!   (RFC 7523 §3.1), as Keycloak and Nimbus answer.
//!
//! The time rules (`exp` required, `nbf`/`iat` leeway, maximum lifetime and
//! age), the header rules (`crit`/`jwk`/`jku`/`x5u` refused, `alg` pinned by
//! the key, no `none` or HMAC), the token and `jti` bounds and the algorithm
//! allowlist come from the same [`Policy`] as client authentication.
//!
//! **Peers read before deciding.** Keycloak's JWT authorization grant picks
//! the identity provider by `iss`, requires `iss`, `sub`, `exp` and (unless
//! reuse is allowed) `jti`, bounds the lifetime, rejects more than one
//! audience, keeps single-use `jti`s under a per-validator key prefix, and
//! answers `invalid_grant`. The Nimbus OAuth SDK's
//! `JWTAssertionDetailsVerifier` requires `iss`, `sub`, `exp` and an
//! accepted `aud` (any member of an array; token endpoint or issuer) and
//! leaves replay and the subject to the caller. Spring Security only mints
//! the grant (`JwtBearerGrantRequest`, client side); Spring Authorization
//! Server leaves verification to the application. This module is stricter
//! than both on the audience (a single string by default) and types its
//! input against cross-use.

use std::fmt;
use std::sync::Arc;

use super::claims::Loosened;
use super::client::same_issuer;
use super::pipeline::{Hmac, Kind, Pipeline, TypeRule};
use super::registry::{ClientRegistry, Registration};
use super::remote::{JwksFetcher, RemoteJwksConfig};
use super::verified::VerifiedGrant;
use super::Policy;
use crate::audit::ReplayCheck;
use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::jose::media_type_is;
use crate::keys::JwkSet;
use crate::replay::{AsyncReplayCache, ReplayCache, ReplayStore};
use crate::time::{Clock, SystemClock};

/// The explicit type of client assertions, never accepted as a grant.
const CLIENT_AUTHENTICATION_TYPE: &str = "client-authentication+jwt";

/// The issuers whose JWT bearer grants an authorization server accepts,
/// each with its public keys.
///
/// The same key machinery as [`ClientRegistry`]: keys are parsed once, at
/// registration (RSA below 2048 bits, off-curve points, symmetric keys and
/// unknown key types are refused), for the registry's [`Backend`]; an
/// issuer's keys can also come from its remote JWK Set
/// ([`TrustedIssuers::register_remote`]). Registration replaces an issuer's
/// keys at once, while verifiers use the registry.
///
/// ```
/// use client_assertion::{jwk_set, KeySource, KeyType, PrivateKey};
/// use client_assertion::grant::TrustedIssuers;
///
/// let idp_key = PrivateKey::generate(KeyType::P256)?;
/// let issuers = TrustedIssuers::new();
/// issuers.register("https://idp.example.org", &jwk_set([&idp_key]))?;
/// assert!(issuers.contains("https://idp.example.org"));
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Default)]
pub struct TrustedIssuers {
    /// Issuer identifier -> keys, in the client registry's machinery.
    issuers: ClientRegistry,
}

impl TrustedIssuers {
    /// An empty set of issuers, verifying with [`Backend::RustCrypto`].
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set of issuers verifying with `backend`: every key
    /// registered (or fetched) later is parsed once for it.
    pub fn with_backend(backend: Backend) -> Self {
        Self {
            issuers: ClientRegistry::with_backend(backend),
        }
    }

    /// The backend these issuers' keys verify with.
    pub fn backend(&self) -> Backend {
        self.issuers.backend()
    }

    /// Trusts (or replaces) `issuer`, the exact `iss` value of its
    /// assertions, with the keys of `set`; keys a verifier cannot use are
    /// skipped and reported in the returned [`Registration`] (see
    /// [`ClientRegistry::register`]).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty issuer or key set or a
    /// `kid` used twice on one key type; key errors for an unusable key (nothing is
    /// registered then).
    pub fn register(&self, issuer: impl Into<String>, set: &JwkSet) -> Result<Registration, Error> {
        self.issuers.register(non_empty(issuer.into())?, set)
    }

    /// Trusts `issuer` with a JWK Set given as JSON.
    ///
    /// # Errors
    /// As [`JwkSet::from_json`] and [`TrustedIssuers::register`].
    pub fn register_jwks_json(
        &self,
        issuer: impl Into<String>,
        json: &str,
    ) -> Result<Registration, Error> {
        self.register(issuer, &JwkSet::from_json(json)?)
    }

    /// Trusts `issuer` with public keys given as PEM (`PUBLIC KEY` or
    /// `RSA PUBLIC KEY` blocks, one per string); each `kid` is its RFC 7638
    /// thumbprint.
    ///
    /// # Errors
    /// As [`PublicJwk::from_pem`](crate::PublicJwk::from_pem) and
    /// [`TrustedIssuers::register`].
    pub fn register_pems<'a>(
        &self,
        issuer: impl Into<String>,
        pems: impl IntoIterator<Item = &'a str>,
    ) -> Result<Registration, Error> {
        self.issuers.register_pems(non_empty(issuer.into())?, pems)
    }

    /// Trusts `issuer` with `jsonwebtoken`'s JWK Set type.
    ///
    /// # Errors
    /// As [`JwkSet::from_jsonwebtoken`] and [`TrustedIssuers::register`].
    #[cfg(feature = "jsonwebtoken")]
    pub fn register_jsonwebtoken(
        &self,
        issuer: impl Into<String>,
        set: &jsonwebtoken::jwk::JwkSet,
    ) -> Result<Registration, Error> {
        self.register(issuer, &JwkSet::from_jsonwebtoken(set)?)
    }

    /// Trusts (or replaces) `issuer` with keys fetched from its JWK Set
    /// through `fetcher` (your HTTP client; it is called with the issuer
    /// identifier, e.g. to read `jwks_uri` from the issuer's metadata),
    /// cached and refreshed as `config` says: at most one refresh per
    /// cooldown on an unknown `kid`, single-flight, stale-if-error. See
    /// [`JwksFetcher`]. Nothing is fetched until the first verification;
    /// use [`GrantVerifier::verify_async`] for such issuers.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty issuer or a cooldown below
    /// 1 s or above `max_age`.
    pub fn register_remote(
        &self,
        issuer: impl Into<String>,
        fetcher: Arc<dyn JwksFetcher>,
        config: RemoteJwksConfig,
    ) -> Result<Registration, Error> {
        self.issuers
            .register_remote(non_empty(issuer.into())?, fetcher, config)
    }

    /// How many JWK Set fetches have been started for a remote issuer
    /// (`None` for an unknown or statically registered issuer).
    pub fn remote_fetch_count(&self, issuer: &str) -> Option<u64> {
        self.issuers.remote_fetch_count(issuer)
    }

    /// Stops trusting `issuer`; returns whether it was trusted.
    pub fn remove(&self, issuer: &str) -> bool {
        self.issuers.remove(issuer)
    }

    /// Whether `issuer` is trusted.
    pub fn contains(&self, issuer: &str) -> bool {
        self.issuers.contains(issuer)
    }

    /// The number of trusted issuers.
    pub fn len(&self) -> usize {
        self.issuers.len()
    }

    /// Whether no issuer is trusted.
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }
}

fn non_empty(issuer: String) -> Result<String, Error> {
    if issuer.is_empty() {
        return Err(Error::detail(
            ErrorKind::InvalidConfig,
            "a trusted issuer needs a non-empty identifier",
        ));
    }
    Ok(issuer)
}

impl fmt::Debug for TrustedIssuers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustedIssuers")
            .field("issuers", &self.len())
            .field("backend", &self.backend())
            .finish()
    }
}

/// The `typ` values a grant may carry.
#[derive(Clone, Debug)]
struct GrantTypes {
    /// Whether a grant without `typ` is accepted.
    absent: bool,
    /// Accepted media types, without the `application/` prefix.
    names: Vec<String>,
}

impl TypeRule for GrantTypes {
    fn allows(&self, typ: Option<&str>) -> bool {
        match typ {
            None => self.absent,
            // Never a client assertion, whatever was configured.
            Some(t) if media_type_is(t, CLIENT_AUTHENTICATION_TYPE) => false,
            Some(t) => self.names.iter().any(|n| media_type_is(t, n)),
        }
    }
}

/// The media type `typ` without an `application/` prefix.
fn short_type(typ: String) -> String {
    match typ.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("application/") => typ[12..].to_owned(),
        _ => typ,
    }
}

/// Builds a [`GrantVerifier`]; see [`GrantVerifier::builder`].
#[must_use]
#[derive(Debug)]
pub struct GrantVerifierBuilder {
    server_issuer: String,
    policy: Policy,
    issuers: Arc<TrustedIssuers>,
    replay: ReplayStore,
    clock: Arc<dyn Clock>,
    types: GrantTypes,
    quarantine: bool,
    loosened: Loosened,
}

impl GrantVerifierBuilder {
    /// Loosens: accepts a grant without `jti` (RFC 7523 §3 makes it
    /// optional; Google's service-account grants from the `google-auth`
    /// libraries carry none). Such a grant is recorded in the replay cache
    /// under `sha256:` and the base64url SHA-256 of its signing input
    /// (`header.payload`), which [`VerifiedGrant::jti`] returns: the same
    /// assertion is refused a second time while acceptable, but two grants
    /// with identical claims (same `iat` second) are one to the cache.
    /// Never a hash of the token bytes: ECDSA signatures are malleable, so
    /// one assertion could be presented under many token strings. A grant
    /// that has a `jti` is checked as always.
    pub fn accept_missing_jti(mut self) -> Self {
        self.loosened.missing_jti = true;
        self
    }

    /// Loosenings that break a MUST of RFC 7523: see
    /// [`DangerousGrantOptions`].
    pub fn dangerous(self) -> DangerousGrantOptions {
        DangerousGrantOptions(self)
    }

    /// Replaces the policy (by default the strict [`Policy::new`] for the
    /// server issuer given to [`GrantVerifier::builder`]). The policy's
    /// issuer is the audience; add the token endpoint URL with
    /// [`Policy::also_accept_audience`] to accept it too. The policy must
    /// be for that same server issuer: [`GrantVerifierBuilder::build`]
    /// refuses another one.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Uses `cache` for `jti` replay checks (default: a fresh
    /// [`MemoryReplayCache`](crate::MemoryReplayCache) of default capacity,
    /// of this verifier's own: no other verifier sees what it records). One
    /// cache may serve this verifier and a client-authentication
    /// [`Verifier`](crate::Verifier) (give both a clone of one `Arc`, see
    /// [`VerifierBuilder::replay_cache`](crate::server::VerifierBuilder::replay_cache)):
    /// their scopes never collide.
    pub fn replay_cache(mut self, cache: Arc<dyn ReplayCache>) -> Self {
        self.replay = ReplayStore::Sync(cache);
        self
    }

    /// Uses the networked `cache` (e.g. a `RedisReplayCache`) for `jti`
    /// replay checks; only [`GrantVerifier::verify_async`] can reach it, and
    /// [`GrantVerifier::verify`] fails closed with
    /// [`ErrorKind::RequiresAsync`].
    pub fn async_replay_cache(mut self, cache: Arc<dyn AsyncReplayCache>) -> Self {
        self.replay = ReplayStore::Async(cache);
        self
    }

    /// **Loosens:** turns off the quarantine after replay state loss (see
    /// the [`replay`](crate::replay) module docs): an assertion issued
    /// before the cache's epoch (before this process started, for a
    /// [`MemoryReplayCache`](crate::MemoryReplayCache); before a Redis
    /// restart, flush, eviction or failover was detected) is accepted if
    /// the cache does not remember its `jti`, so an assertion that was
    /// accepted before the loss **is accepted again**. Only for a caller
    /// whose own replay protection survives the store's losses, or a
    /// one-shot tool whose replay protection is meant to last one run.
    pub fn danger_accept_replays_after_state_loss(mut self) -> Self {
        self.quarantine = false;
        self
    }

    /// Takes time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Loosens: also accepts grants whose `typ` is `typ` (besides no `typ`
    /// and `JWT`), e.g. a profile's own explicit type. Compared
    /// case-insensitively, with or without the `application/` prefix.
    pub fn also_accept_type(mut self, typ: impl Into<String>) -> Self {
        self.types.names.push(short_type(typ.into()));
        self
    }

    /// Tightens: accepts only grants whose `typ` is `typ` (no `typ`, `JWT`
    /// and earlier [`GrantVerifierBuilder::also_accept_type`] calls are then
    /// refused), for profiles that require explicit typing such as
    /// `oauth-id-jag+jwt`.
    pub fn require_type(mut self, typ: impl Into<String>) -> Self {
        self.types = GrantTypes {
            absent: false,
            names: vec![short_type(typ.into())],
        };
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] when the policy is out of bounds, or a
    /// configured type is empty or the client-authentication type
    /// (`client-authentication+jwt` can never be a grant), or when the
    /// policy is for another issuer than the one given to
    /// [`GrantVerifier::builder`].
    pub fn build(self) -> Result<GrantVerifier, Error> {
        self.policy.validate()?;
        same_issuer(&self.server_issuer, &self.policy)?;
        if self
            .types
            .names
            .iter()
            .any(|n| n.is_empty() || media_type_is(n, CLIENT_AUTHENTICATION_TYPE))
        {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "grant types must be non-empty and cannot be client-authentication+jwt",
            ));
        }
        Ok(GrantVerifier {
            policy: self.policy,
            issuers: self.issuers,
            replay: self.replay.for_verifier(self.clock.now(), self.quarantine),
            clock: self.clock,
            types: self.types,
            loosened: self.loosened,
        })
    }
}

/// Grant loosenings that break a MUST of RFC 7523; see
/// [`GrantVerifierBuilder::dangerous`].
#[must_use]
#[derive(Debug)]
pub struct DangerousGrantOptions(GrantVerifierBuilder);

impl DangerousGrantOptions {
    /// Accepts a grant without `sub` as if `sub` were its `iss` (RFC 7523
    /// §3: `sub` MUST be present): Google's service-account grants carry no
    /// `sub` unless a subject is delegated, and mean the service account
    /// itself, which is the issuer. [`VerifiedGrant::subject`] is then the
    /// issuer; map it to a local principal as for any subject. A present
    /// `sub` is checked as always (non-empty).
    pub fn missing_subject_is_issuer(mut self) -> GrantVerifierBuilder {
        self.0.loosened.missing_subject_is_issuer = true;
        self.0
    }
}

/// Verifies JWT bearer authorization grants (RFC 7523 §2.1) presented to an
/// authorization server.
///
/// The same parser, header rules (`crit`/`jwk`/`jku`/`x5u` refused, `alg`
/// pinned by the key, no `none` or HMAC), key selection and [`Policy`]
/// (audience, leeway, lifetime, age, bounds) as the client-authentication
/// [`Verifier`](crate::Verifier), with these grant rules:
///
/// - `iss` must be one of the [`TrustedIssuers`] (else
///   [`ErrorKind::UnknownIssuer`]); it picks the keys.
/// - `sub` is required, a non-empty string, and may differ from `iss`;
///   [`VerifiedGrant::subject`] returns it for you to map to a local user.
/// - `aud` is the policy's issuer identifier as a single string; the token
///   endpoint only through [`Policy::also_accept_audience`], a one-element
///   array only through [`Policy::accept_single_element_audience_array`].
/// - `typ` absent or `JWT` by default ([`GrantVerifierBuilder::also_accept_type`],
///   [`GrantVerifierBuilder::require_type`]); `client-authentication+jwt`
///   is always rejected, so a client assertion is never taken for a grant.
/// - `jti` is required and recorded once per issuer in the [`ReplayCache`](crate::ReplayCache),
///   under a scope (`"grant\u{1f}"` + `iss`) that no client id shares.
/// - Every error carries [`Usage::AuthorizationGrant`](crate::Usage::AuthorizationGrant) ([`Error::usage`]):
///   answer `invalid_grant`.
///
/// ```
/// use std::sync::Arc;
/// use client_assertion::*;
/// use client_assertion::grant::{GrantVerifier, TrustedIssuers};
///
/// // The identity provider (another party) signs a grant for user "alice".
/// let idp_key = Arc::new(PrivateKey::generate(KeyType::P256)?);
/// let signer = AssertionSigner::grant_builder(
///     idp_key.clone(), "https://idp.example.org", "alice", "https://as.example",
/// )
/// .build()?;
///
/// // The authorization server trusts that issuer's keys.
/// let issuers = Arc::new(TrustedIssuers::new());
/// issuers.register("https://idp.example.org", &jwk_set([&*idp_key]))?;
/// let verifier = GrantVerifier::builder("https://as.example", issuers).build()?;
///
/// let grant = signer.sign()?;
/// let verified = verifier.verify(grant.as_str())?;
/// assert_eq!(verified.issuer(), "https://idp.example.org");
/// assert_eq!(verified.subject(), "alice"); // map to a local user
///
/// // The same grant again is a replay, answered with `invalid_grant`.
/// let err = verifier.verify(grant.as_str()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Replayed);
/// assert_eq!(err.usage(), Some(Usage::AuthorizationGrant));
/// assert_eq!(err.oauth_error(Usage::AuthorizationGrant), "invalid_grant");
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct GrantVerifier {
    policy: Policy,
    issuers: Arc<TrustedIssuers>,
    replay: ReplayStore,
    clock: Arc<dyn Clock>,
    types: GrantTypes,
    loosened: Loosened,
}

impl GrantVerifier {
    /// A grant verifier for the authorization server whose issuer identifier
    /// is `server_issuer` (the only accepted audience by default), trusting
    /// the issuers of `issuers`.
    pub fn builder(
        server_issuer: impl Into<String>,
        issuers: Arc<TrustedIssuers>,
    ) -> GrantVerifierBuilder {
        let server_issuer = server_issuer.into();
        GrantVerifierBuilder {
            policy: Policy::new(server_issuer.clone()),
            server_issuer,
            issuers,
            replay: ReplayStore::default(),
            clock: Arc::new(SystemClock),
            quarantine: true,
            types: GrantTypes {
                absent: true,
                names: vec!["JWT".to_owned()],
            },
            loosened: Loosened::default(),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The trusted issuers.
    pub fn issuers(&self) -> &Arc<TrustedIssuers> {
        &self.issuers
    }

    /// Verifies the `assertion` parameter of a JWT bearer grant request and
    /// records its `jti`. Remote issuer keys are used from the cache only
    /// (never fetched): use [`GrantVerifier::verify_async`] for them.
    ///
    /// # Errors
    /// A rejection whose [`Error::code`] says why (see the README's table),
    /// with [`Error::usage`] = [`Usage::AuthorizationGrant`](crate::Usage::AuthorizationGrant): answer
    /// `invalid_grant`.
    pub fn verify(&self, assertion: &str) -> Result<VerifiedGrant, Error> {
        let p = self.pipeline();
        VerifiedGrant::from_checked(p.audited(p.run(assertion, None), ReplayCheck::Recorded)?)
    }

    /// Verifies a grant without blocking an async executor: remote issuer
    /// keys are fetched or refreshed as their cache rules allow, and the
    /// replay check may go to a networked store such as Redis.
    ///
    /// # Errors
    /// As [`GrantVerifier::verify`]; an issuer whose keys cannot be fetched
    /// fails with [`ErrorKind::KeysUnavailable`], a replay store that cannot
    /// answer with [`ErrorKind::ReplayStoreUnavailable`].
    pub async fn verify_async(&self, assertion: &str) -> Result<VerifiedGrant, Error> {
        let p = self.pipeline();
        let result = p.run_async(assertion, None).await;
        VerifiedGrant::from_checked(p.audited(result, ReplayCheck::Recorded)?)
    }

    fn pipeline(&self) -> Pipeline<'_> {
        Pipeline {
            kind: Kind::AuthorizationGrant,
            policy: &self.policy,
            types: &self.types,
            hmac: Hmac::Refused,
            registry: &self.issuers.issuers,
            clock: &*self.clock,
            replay: &self.replay,
            loosened: self.loosened,
        }
    }
}

impl fmt::Debug for GrantVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantVerifier")
            .field("policy", &self.policy)
            .field("issuers", &self.issuers)
            .field("replay", &self.replay)
            .field("types", &self.types)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_types_never_allow_client_authentication() {
        let types = GrantTypes {
            absent: true,
            names: vec!["JWT".into(), "client-authentication+jwt".into()],
        };
        assert!(types.allows(None));
        assert!(types.allows(Some("jwt")));
        assert!(types.allows(Some("Application/JWT")));
        assert!(!types.allows(Some("client-authentication+jwt")));
        assert!(!types.allows(Some("application/Client-Authentication+JWT")));
        assert!(!types.allows(Some("at+jwt")));
        assert!(!types.allows(Some("application/application/jwt")));
        assert_eq!(short_type("application/foo+jwt".into()), "foo+jwt");
        assert_eq!(short_type("foo".into()), "foo");
        assert_eq!(short_type("é".repeat(7)), "é".repeat(7), "no char split");
    }
}
