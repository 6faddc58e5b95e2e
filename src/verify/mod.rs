//! The strict verifier: policy, client registry, and the pipeline.
//!
//! ```text
//! token ─▶ bounded parse (size, 3 segments, strict base64url, JSON objects,
//!          no duplicate members)
//!       ─▶ header rules (crit/jwk/jku/x5u refused, typ, alg allowlist)
//!       ─▶ client lookup (iss) ─▶ key (kid; alg pinned by the key)
//!       ─▶ signature ─▶ claims (sub, aud, exp, nbf, iat, lifetime, age, jti)
//!       ─▶ replay check-and-insert ─▶ VerifiedAssertion
//! ```
//! Embedded keys (`jwk`, `jku`, `x5u`, `x5c`) are never used and nothing is
//! ever fetched: the only keys are the registered ones.
//!
//! The JWT bearer grant verifier (`grant.rs`) runs the same pipeline with
//! its own issuer lookup, `typ`, `sub` and replay-scope rules.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind, Usage};
use crate::replay::{MemoryReplayCache, ReplayCache};
use crate::secret::HmacAlgorithm;
use crate::time::{unix_seconds_f64, Clock, SystemClock};

mod grant;
mod policy;
mod registry;
mod remote;
mod secret;
pub(crate) mod token;

pub use grant::{GrantVerifier, GrantVerifierBuilder, TrustedIssuers, VerifiedGrant};
pub use policy::{
    Policy, DEFAULT_LEEWAY, DEFAULT_MAX_AGE, DEFAULT_MAX_JTI_LENGTH, DEFAULT_MAX_LIFETIME,
    DEFAULT_MAX_TOKEN_SIZE,
};
pub use registry::ClientRegistry;
use registry::{ClientEntry, VerifyingKey};
use remote::Need;
pub use remote::{FetchFuture, JwksFetcher, RemoteJwksConfig};
pub use secret::AuthenticatedClient;
use token::{Json, Parsed};

/// At most this many keys are tried for a token without `kid`.
pub const MAX_KEYS_TRIED_WITHOUT_KID: usize = 4;

/// Builds a [`Verifier`]; see [`Verifier::builder`].
#[must_use]
#[derive(Debug)]
pub struct VerifierBuilder {
    policy: Policy,
    registry: Arc<ClientRegistry>,
    replay: Option<Arc<dyn ReplayCache>>,
    clock: Arc<dyn Clock>,
}

impl VerifierBuilder {
    /// Replaces the policy (by default the strict [`Policy::new`] for the
    /// issuer given to [`Verifier::builder`]).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Narrows the policy to `profile`'s rules ([`Policy::profile`]): its
    /// algorithms, audience, `typ` allowlist and time tolerance.
    pub fn profile(mut self, profile: crate::profile::Profile) -> Self {
        self.policy = self.policy.profile(profile);
        self
    }

    /// Uses `cache` for `jti` replay checks (default: a fresh
    /// [`MemoryReplayCache`] of default capacity).
    pub fn replay_cache(mut self, cache: Arc<dyn ReplayCache>) -> Self {
        self.replay = Some(cache);
        self
    }

    /// Takes time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] when the policy is out of bounds.
    pub fn build(self) -> Result<Verifier, Error> {
        self.policy.validate()?;
        Ok(Verifier {
            policy: self.policy,
            registry: self.registry,
            replay: self
                .replay
                .unwrap_or_else(|| Arc::new(MemoryReplayCache::default())),
            clock: self.clock,
        })
    }
}

/// Verifies client assertions presented to an authorization server.
///
/// ```
/// use std::sync::Arc;
/// use client_assertion::*;
///
/// // Client side: a key and a signer.
/// let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
/// let signer = AssertionSigner::builder(key.clone(), "my-client", "https://as.example").build()?;
///
/// // Server side: the client's registered keys and a verifier.
/// let registry = Arc::new(ClientRegistry::new());
/// registry.register("my-client", &jwk_set([&*key as &dyn KeySource]))?;
/// let verifier = Verifier::builder("https://as.example", registry).build()?;
///
/// let assertion = signer.sign()?;
/// let verified = verifier.verify(assertion.as_str())?;
/// assert_eq!(verified.client_id(), "my-client");
/// // The same assertion again is a replay.
/// let err = verifier.verify(assertion.as_str()).unwrap_err();
/// assert_eq!(err.code(), "replayed");
/// assert_eq!(err.oauth_error(Usage::ClientAuthentication), "invalid_client");
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct Verifier {
    policy: Policy,
    registry: Arc<ClientRegistry>,
    replay: Arc<dyn ReplayCache>,
    clock: Arc<dyn Clock>,
}

/// An assertion that passed every check, including the replay check.
///
/// `A` is the kind of algorithm that verified it: [`Algorithm`] (the
/// default, `private_key_jwt`) or [`HmacAlgorithm`] for `client_secret_jwt`,
/// which only [`Verifier::authenticate_client`] returns.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedAssertion<A = Algorithm> {
    client_id: String,
    jti: String,
    kid: String,
    alg: A,
    expires_at: SystemTime,
    issued_at: Option<SystemTime>,
    audience: String,
}

impl<A: Copy> VerifiedAssertion<A> {
    /// The authenticated client id (`iss` = `sub`).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The `jti`.
    pub fn jti(&self) -> &str {
        &self.jti
    }
    /// The `kid` of the registered key that verified the signature (empty
    /// for `client_secret_jwt`: a client has one secret).
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The algorithm that verified the signature.
    pub fn algorithm(&self) -> A {
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
    /// The audience that matched.
    pub fn audience(&self) -> &str {
        &self.audience
    }
}

/// The header `alg`: asymmetric, or HMAC where `client_secret_jwt` is
/// accepted (see [`Verifier::authenticate_client`]).
#[derive(Clone, Copy, Debug)]
enum HeaderAlg {
    Asymmetric(Algorithm),
    Hmac(HmacAlgorithm),
}

/// A parsed token whose header passed, with its claimed client id.
struct Pre<'t> {
    claims: token::Claims,
    iss: String,
    kid: Option<String>,
    alg: HeaderAlg,
    signing_input: &'t [u8],
    signature: Vec<u8>,
}

impl Pre<'_> {
    /// The asymmetric algorithm; an HMAC one is never verified with a
    /// client's public keys (whose bytes would otherwise be the MAC key).
    fn asymmetric(&self) -> Result<Algorithm, Error> {
        match self.alg {
            HeaderAlg::Asymmetric(alg) => Ok(alg),
            HeaderAlg::Hmac(_) => Err(reject_because(
                ErrorKind::AlgorithmNotAllowed,
                "HMAC is never verified with a client's public keys",
            )),
        }
    }
}

/// Everything checked except replay.
struct Checked<A = Algorithm> {
    assertion: VerifiedAssertion<A>,
    /// The `sub` claim (for client authentication, equal to `iss`).
    subject: String,
    /// Until when the assertion could still be accepted.
    retain_until: SystemTime,
    now: SystemTime,
}

fn reject(kind: ErrorKind) -> Error {
    Error::new(kind)
}

fn reject_because(kind: ErrorKind, detail: &'static str) -> Error {
    Error::detail(kind, detail)
}

/// A client registered with a secret, met where only `private_key_jwt` is
/// verified.
fn secret_client() -> Error {
    reject_because(
        ErrorKind::AlgorithmNotAllowed,
        "the client is registered for client_secret_jwt",
    )
}

fn string_claim(v: Option<Json>, missing: &'static str) -> Result<String, Error> {
    match v {
        Some(Json::Str(s)) => Ok(s),
        None => Err(reject_because(ErrorKind::MissingClaim, missing)),
        Some(_) => Err(reject_because(
            ErrorKind::InvalidClaim,
            "a claim is not a string",
        )),
    }
}

fn numeric_date(v: Option<Json>) -> Result<Option<f64>, Error> {
    match v {
        None => Ok(None),
        Some(Json::Num(n)) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        Some(_) => Err(reject_because(
            ErrorKind::InvalidClaim,
            "a time claim is not a NumericDate",
        )),
    }
}

fn to_system_time(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX / 2)
}

/// Whether the JOSE `typ` value `typ` names the media type `name`: compared
/// case-insensitively, with or without the `application/` prefix
/// (RFC 7515 §4.1.9).
pub(crate) fn media_type_is(typ: &str, name: &str) -> bool {
    let short = match typ.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    short.eq_ignore_ascii_case(name)
}

/// How `sub` must relate to `iss`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SubjectRule {
    /// Client authentication: `sub` = `iss` = the client id.
    SameAsIssuer,
    /// Authorization grant: any non-empty principal.
    NonEmpty,
}

impl Verifier {
    /// A verifier for the authorization server `issuer` (its issuer
    /// identifier, the only accepted audience by default), checking
    /// assertions against `registry`.
    pub fn builder(issuer: impl Into<String>, registry: Arc<ClientRegistry>) -> VerifierBuilder {
        VerifierBuilder {
            policy: Policy::new(issuer),
            registry,
            replay: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The client registry.
    pub fn registry(&self) -> &Arc<ClientRegistry> {
        &self.registry
    }

    /// Verifies a `client_assertion` and records its `jti`.
    ///
    /// `private_key_jwt` only: an HMAC `alg`, or a client registered with a
    /// secret, is [`ErrorKind::AlgorithmNotAllowed`] here whatever the
    /// policy; see [`Verifier::authenticate_client`] for `client_secret_jwt`.
    ///
    /// # Errors
    /// A rejection whose [`Error::code`] says why; see the README's table.
    pub fn verify(&self, token: &str) -> Result<VerifiedAssertion, Error> {
        crate::audit::outcome(self, token, true, self.verify_inner(token, None))
    }

    /// Verifies a `client_assertion` sent together with a `client_id` request
    /// parameter, which must then equal `iss` and `sub`.
    ///
    /// # Errors
    /// As [`Verifier::verify`]; [`ErrorKind::IssuerMismatch`] if `client_id`
    /// differs from `iss`.
    pub fn verify_with_client_id(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<VerifiedAssertion, Error> {
        crate::audit::outcome(self, token, true, self.verify_inner(token, Some(client_id)))
    }

    /// Verifies a `client_assertion` and records its `jti` without blocking
    /// an async executor: the replay check goes through
    /// [`ReplayCache::check_and_insert_async`] (a networked store such as
    /// Redis). Parsing, signature and claim checks are pure computation.
    ///
    /// # Errors
    /// As [`Verifier::verify`]; a store that cannot answer fails closed with
    /// [`ErrorKind::ReplayStoreUnavailable`].
    pub async fn verify_async(&self, token: &str) -> Result<VerifiedAssertion, Error> {
        let result = self.verify_inner_async(token, None).await;
        crate::audit::outcome(self, token, true, result)
    }

    /// [`Verifier::verify_with_client_id`] with the async replay check.
    ///
    /// # Errors
    /// As [`Verifier::verify_with_client_id`].
    pub async fn verify_with_client_id_async(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<VerifiedAssertion, Error> {
        let result = self.verify_inner_async(token, Some(client_id)).await;
        crate::audit::outcome(self, token, true, result)
    }

    async fn verify_inner_async(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<VerifiedAssertion, Error> {
        let checked = self
            .check_async(token, client_id)
            .await
            .map_err(|e| e.for_usage(Usage::ClientAuthentication))?;
        let a = &checked.assertion;
        self.replay
            .check_and_insert_async(&a.client_id, &a.jti, checked.retain_until, checked.now)
            .await
            .map_err(|e| e.for_usage(Usage::ClientAuthentication))?;
        Ok(checked.assertion)
    }

    /// Operations that skip a safety check. Each one's name says which.
    pub fn dangerous(&self) -> DangerousVerifier<'_> {
        DangerousVerifier(self)
    }

    fn verify_inner(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<VerifiedAssertion, Error> {
        let checked = self
            .check(token, client_id)
            .map_err(|e| e.for_usage(Usage::ClientAuthentication))?;
        let a = &checked.assertion;
        self.replay
            .check_and_insert(&a.client_id, &a.jti, checked.retain_until, checked.now)
            .map_err(|e| e.for_usage(Usage::ClientAuthentication))?;
        Ok(checked.assertion)
    }

    /// Everything but the replay check, with cached keys only.
    fn check(&self, token: &str, client_id_param: Option<&str>) -> Result<Checked, Error> {
        let pre = self.precheck_client(token, client_id_param, false)?;
        let entry = self.client(&pre.iss)?;
        self.check_keys(pre, entry)
    }

    /// [`Verifier::precheck`] with the client-authentication rules of this
    /// verifier's policy (`typ` allowlist; HMAC only with `accept_hmac`).
    fn precheck_client<'t>(
        &self,
        token: &'t str,
        client_id_param: Option<&str>,
        accept_hmac: bool,
    ) -> Result<Pre<'t>, Error> {
        Self::precheck(
            &self.policy,
            token,
            client_id_param,
            &|typ| self.policy.accepts_type(typ),
            accept_hmac,
        )
    }

    /// [`Verifier::finish`] for client authentication (`sub` = `iss`), with
    /// this verifier's policy and clock.
    fn finish_client<A>(&self, pre: Pre<'_>, kid: String, alg: A) -> Result<Checked<A>, Error> {
        Self::finish(
            &self.policy,
            &*self.clock,
            pre,
            kid,
            alg,
            SubjectRule::SameAsIssuer,
        )
    }

    /// The signature with the client's public keys (cached ones only).
    fn check_keys(&self, mut pre: Pre<'_>, entry: ClientEntry) -> Result<Checked, Error> {
        let alg = pre.asymmetric()?;
        let kid = cached_key(entry, &mut pre, alg, self.clock.now())?;
        self.finish_client(pre, kid, alg)
    }

    /// Everything but the replay check; remote key sets are fetched or
    /// refreshed as their cache rules allow.
    async fn check_async(
        &self,
        token: &str,
        client_id_param: Option<&str>,
    ) -> Result<Checked, Error> {
        let pre = self.precheck_client(token, client_id_param, false)?;
        let entry = self.client(&pre.iss)?;
        self.check_keys_async(pre, entry).await
    }

    /// The signature with the client's public keys; remote key sets are
    /// fetched or refreshed as their cache rules allow.
    async fn check_keys_async(
        &self,
        mut pre: Pre<'_>,
        entry: ClientEntry,
    ) -> Result<Checked, Error> {
        let alg = pre.asymmetric()?;
        let kid = fetched_key(entry, &mut pre, alg, self.clock.now()).await?;
        self.finish_client(pre, kid, alg)
    }

    fn client(&self, client_id: &str) -> Result<ClientEntry, Error> {
        self.registry
            .get(client_id)
            .ok_or_else(|| reject(ErrorKind::UnknownClient))
    }

    /// Size, shape and header rules (`typ` as `typ_allowed` says, `None`
    /// for an absent `typ`); the claimed client id. An HMAC `alg` passes
    /// only with `accept_hmac` (`client_secret_jwt` allowed here). Shared
    /// with the grant verifier.
    fn precheck<'t>(
        policy: &Policy,
        token: &'t str,
        client_id_param: Option<&str>,
        typ_allowed: &dyn Fn(Option<&str>) -> bool,
        accept_hmac: bool,
    ) -> Result<Pre<'t>, Error> {
        let Parsed {
            header,
            mut claims,
            signing_input,
            signature,
        } = token::parse(token, policy.max_token_size)?;

        // Header rules.
        if header.forbidden {
            return Err(reject(ErrorKind::HeaderNotAllowed));
        }
        let typ = match &header.typ {
            None => None,
            Some(Json::Str(t)) => Some(t.as_str()),
            Some(_) => return Err(reject(ErrorKind::TypeNotAllowed)),
        };
        if !typ_allowed(typ) {
            return Err(reject(ErrorKind::TypeNotAllowed));
        }
        let alg = match &header.alg {
            Some(Json::Str(name)) => match HmacAlgorithm::lookup(name) {
                Some(hmac) if accept_hmac => HeaderAlg::Hmac(hmac),
                _ => HeaderAlg::Asymmetric(Algorithm::from_name(name)?),
            },
            None => return Err(reject_because(ErrorKind::Malformed, "no alg header")),
            Some(_) => return Err(reject(ErrorKind::AlgorithmNotAllowed)),
        };
        if let HeaderAlg::Asymmetric(alg) = alg {
            if !policy.algorithms.contains(&alg) {
                return Err(reject(ErrorKind::AlgorithmNotAllowed));
            }
        }
        let kid = match header.kid {
            None => None,
            Some(Json::Str(k)) => Some(k),
            Some(_) => return Err(reject_because(ErrorKind::Malformed, "kid is not a string")),
        };

        // Client and key.
        let iss = string_claim(claims.iss.take(), "iss is required")?;
        if client_id_param.is_some_and(|c| c != iss) {
            return Err(reject_because(
                ErrorKind::IssuerMismatch,
                "iss differs from the client_id parameter",
            ));
        }
        Ok(Pre {
            claims,
            iss,
            kid,
            alg,
            signing_input,
            signature,
        })
    }

    /// The claim rules, once the signature is known good (with `alg`).
    /// Shared with the grant verifier.
    fn finish<A>(
        policy: &Policy,
        clock: &dyn Clock,
        pre: Pre<'_>,
        kid: String,
        alg: A,
        subject: SubjectRule,
    ) -> Result<Checked<A>, Error> {
        let Pre { claims, iss, .. } = pre;
        // Claims, now that the signature is known good.
        let sub = string_claim(claims.sub, "sub is required")?;
        match subject {
            SubjectRule::SameAsIssuer if sub != iss => {
                return Err(reject(ErrorKind::SubjectMismatch))
            }
            SubjectRule::NonEmpty if sub.is_empty() => {
                return Err(reject_because(ErrorKind::InvalidClaim, "sub is empty"))
            }
            _ => {}
        }
        let audience = match claims.aud {
            Some(Json::Str(a)) if policy.accepts_audience(&a) => a,
            Some(Json::Arr(mut members))
                if policy.single_element_array
                    && members.len() == 1
                    && members[0]
                        .as_deref()
                        .is_some_and(|a| policy.accepts_audience(a)) =>
            {
                members.pop().flatten().unwrap_or_default()
            }
            None => return Err(reject_because(ErrorKind::MissingClaim, "aud is required")),
            Some(_) => return Err(reject(ErrorKind::AudienceMismatch)),
        };
        let now = clock.now();
        let now_s = unix_seconds_f64(now);
        let leeway = policy.leeway.as_secs_f64();
        let exp = numeric_date(claims.exp)?
            .ok_or_else(|| reject_because(ErrorKind::MissingClaim, "exp is required"))?;
        let nbf = numeric_date(claims.nbf)?;
        let iat = numeric_date(claims.iat)?;
        if now_s >= exp + leeway {
            return Err(reject(ErrorKind::Expired));
        }
        if nbf.is_some_and(|t| t > now_s + leeway) || iat.is_some_and(|t| t > now_s + leeway) {
            return Err(reject(ErrorKind::NotYetValid));
        }
        let max_lifetime = policy.max_lifetime.as_secs_f64();
        let max_age = policy.max_age.as_secs_f64();
        let mut last_acceptable = exp + leeway;
        match iat {
            Some(iat) => {
                if exp < iat {
                    return Err(reject_because(ErrorKind::InvalidClaim, "exp is before iat"));
                }
                if exp - iat > max_lifetime {
                    return Err(reject_because(
                        ErrorKind::LifetimeTooLong,
                        "exp - iat exceeds the maximum lifetime",
                    ));
                }
                if now_s - iat > max_age + leeway {
                    return Err(reject_because(
                        ErrorKind::LifetimeTooLong,
                        "the assertion was issued too long ago",
                    ));
                }
                last_acceptable = last_acceptable.min(iat + max_age + leeway);
            }
            None => {
                if exp - now_s > max_lifetime + leeway {
                    return Err(reject_because(
                        ErrorKind::LifetimeTooLong,
                        "exp is too far in the future",
                    ));
                }
            }
        }
        let jti = string_claim(claims.jti, "jti is required")?;
        if jti.is_empty() || jti.len() > policy.max_jti_length {
            return Err(reject_because(
                ErrorKind::InvalidClaim,
                "jti is empty or too long",
            ));
        }
        Ok(Checked {
            subject: sub,
            assertion: VerifiedAssertion {
                client_id: iss,
                jti,
                kid,
                alg,
                expires_at: to_system_time(exp),
                issued_at: iat.map(to_system_time),
                audience,
            },
            // One second past the last instant at which the assertion is
            // still accepted (`now - iat == max_age + leeway` is accepted),
            // so that a store which forgets an entry *at* `until` (a Redis
            // `PX` expiry, a `> now` comparison) cannot let a replay through
            // at that instant.
            retain_until: to_system_time(last_acceptable.ceil() + 1.0),
            now,
        })
    }
}

/// The `kid` of the key of `entry` that verifies the token, from the
/// registered or cached keys only (never fetching).
fn cached_key(
    entry: ClientEntry,
    pre: &mut Pre<'_>,
    alg: Algorithm,
    now: SystemTime,
) -> Result<String, Error> {
    let keys = match entry {
        ClientEntry::Static(keys) => keys,
        ClientEntry::Remote(remote) => remote.cached(now)?,
        ClientEntry::Secret(_) => return Err(secret_client()),
    };
    let key = select_key(&keys.keys, pre, alg)?;
    Ok(key_id(pre, key))
}

/// The `kid` of `key`, which verified the token of `pre`: the header's own
/// string when it named the key (moved, not copied).
fn key_id(pre: &mut Pre<'_>, key: &VerifyingKey) -> String {
    match pre.kid.take() {
        Some(kid) if kid == key.kid => kid,
        _ => key.kid.clone(),
    }
}

/// The `kid` of the key of `entry` that verifies the token; a remote key set
/// is fetched or refreshed as its cache rules allow (once more on an
/// unknown `kid`: the key holder may have rotated).
async fn fetched_key(
    entry: ClientEntry,
    pre: &mut Pre<'_>,
    alg: Algorithm,
    now: SystemTime,
) -> Result<String, Error> {
    let remote = match entry {
        ClientEntry::Static(keys) => {
            let key = select_key(&keys.keys, pre, alg)?;
            return Ok(key_id(pre, key));
        }
        ClientEntry::Remote(remote) => remote,
        ClientEntry::Secret(_) => return Err(secret_client()),
    };
    let keys = remote.keys(now, Need::Current).await?;
    let kid = match select_key(&keys.keys, pre, alg) {
        Err(e) if e.kind() == ErrorKind::UnknownKey => {
            // The client may have rotated: refresh (cooldown, single-flight).
            let keys = remote.keys(now, Need::Miss).await?;
            let key = select_key(&keys.keys, pre, alg)?;
            key_id(pre, key)
        }
        other => key_id(pre, other?),
    };
    Ok(kid)
}

/// The registered key that verifies the token: by `kid`, or (without one)
/// the first of at most [`MAX_KEYS_TRIED_WITHOUT_KID`] keys of its algorithm.
fn select_key<'k>(
    keys: &'k [VerifyingKey],
    pre: &Pre<'_>,
    alg: Algorithm,
) -> Result<&'k VerifyingKey, Error> {
    let (input, signature) = (pre.signing_input, &pre.signature[..]);
    if let Some(kid) = &pre.kid {
        let key = keys
            .iter()
            .find(|k| &k.kid == kid)
            .ok_or_else(|| reject(ErrorKind::UnknownKey))?;
        if !key.algorithms.contains(&alg) {
            return Err(reject(ErrorKind::AlgorithmNotAllowed));
        }
        return if key.verify(alg, input, signature) {
            Ok(key)
        } else {
            Err(reject(ErrorKind::BadSignature))
        };
    }
    let mut candidates = keys
        .iter()
        .filter(|k| k.algorithms.contains(&alg))
        .take(MAX_KEYS_TRIED_WITHOUT_KID)
        .peekable();
    if candidates.peek().is_none() {
        return Err(reject(ErrorKind::AlgorithmNotAllowed));
    }
    candidates
        .find(|k| k.verify(alg, input, signature))
        .ok_or_else(|| reject(ErrorKind::BadSignature))
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("policy", &self.policy)
            .field("registry", &self.registry)
            .field("replay", &self.replay)
            .finish_non_exhaustive()
    }
}

/// Verification that skips a safety check; see [`Verifier::dangerous`].
#[derive(Debug)]
pub struct DangerousVerifier<'v>(&'v Verifier);

impl DangerousVerifier<'_> {
    /// Verifies everything but does **not** check or record the `jti`: the
    /// same assertion is accepted again and again. Only for callers that run
    /// their own replay check on [`VerifiedAssertion::jti`] right after.
    ///
    /// # Errors
    /// As [`Verifier::verify`], without [`ErrorKind::Replayed`].
    pub fn verify_without_replay_check(&self, token: &str) -> Result<VerifiedAssertion, Error> {
        let result = self
            .0
            .check(token, None)
            .map(|c| c.assertion)
            .map_err(|e| e.for_usage(Usage::ClientAuthentication));
        crate::audit::outcome(self.0, token, false, result)
    }
}
