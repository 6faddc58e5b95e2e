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

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::replay::{MemoryReplayCache, ReplayCache};
use crate::time::{unix_seconds_f64, Clock, SystemClock};

mod policy;
mod registry;
mod remote;
pub(crate) mod token;

pub use policy::{
    Policy, DEFAULT_LEEWAY, DEFAULT_MAX_AGE, DEFAULT_MAX_JTI_LENGTH, DEFAULT_MAX_LIFETIME,
    DEFAULT_MAX_TOKEN_SIZE,
};
pub use registry::ClientRegistry;
use registry::{ClientEntry, VerifyingKey};
use remote::Need;
pub use remote::{FetchFuture, JwksFetcher, RemoteJwksConfig};
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
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedAssertion {
    client_id: String,
    jti: String,
    kid: String,
    alg: Algorithm,
    expires_at: SystemTime,
    issued_at: Option<SystemTime>,
    audience: String,
}

impl VerifiedAssertion {
    /// The authenticated client id (`iss` = `sub`).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The `jti`.
    pub fn jti(&self) -> &str {
        &self.jti
    }
    /// The `kid` of the registered key that verified the signature.
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
    /// The audience that matched.
    pub fn audience(&self) -> &str {
        &self.audience
    }
}

/// A parsed token whose header passed, with its claimed client id.
struct Pre<'t> {
    claims: token::Claims,
    iss: String,
    kid: Option<String>,
    alg: Algorithm,
    signing_input: &'t [u8],
    signature: Vec<u8>,
}

/// Everything checked except replay.
struct Checked {
    assertion: VerifiedAssertion,
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
    /// # Errors
    /// A rejection whose [`Error::code`] says why; see the README's table.
    pub fn verify(&self, token: &str) -> Result<VerifiedAssertion, Error> {
        self.verify_inner(token, None)
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
        self.verify_inner(token, Some(client_id))
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
        self.verify_inner_async(token, None).await
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
        self.verify_inner_async(token, Some(client_id)).await
    }

    async fn verify_inner_async(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<VerifiedAssertion, Error> {
        let checked = self.check_async(token, client_id).await?;
        let a = &checked.assertion;
        self.replay
            .check_and_insert_async(&a.client_id, &a.jti, checked.retain_until, checked.now)
            .await?;
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
        let checked = self.check(token, client_id)?;
        let a = &checked.assertion;
        self.replay
            .check_and_insert(&a.client_id, &a.jti, checked.retain_until, checked.now)?;
        Ok(checked.assertion)
    }

    /// Everything but the replay check, with cached keys only.
    fn check(&self, token: &str, client_id_param: Option<&str>) -> Result<Checked, Error> {
        let pre = self.precheck(token, client_id_param)?;
        let keys = match self.client(&pre.iss)? {
            ClientEntry::Static(keys) => keys,
            ClientEntry::Remote(remote) => remote.cached(self.clock.now())?,
        };
        let kid = select_key(&keys.keys, &pre)?.kid.clone();
        self.finish(pre, kid)
    }

    /// Everything but the replay check; remote key sets are fetched or
    /// refreshed as their cache rules allow.
    async fn check_async(
        &self,
        token: &str,
        client_id_param: Option<&str>,
    ) -> Result<Checked, Error> {
        let pre = self.precheck(token, client_id_param)?;
        let remote = match self.client(&pre.iss)? {
            ClientEntry::Static(keys) => {
                let kid = select_key(&keys.keys, &pre)?.kid.clone();
                return self.finish(pre, kid);
            }
            ClientEntry::Remote(remote) => remote,
        };
        let now = self.clock.now();
        let keys = remote.keys(now, Need::Current).await?;
        let kid = match select_key(&keys.keys, &pre) {
            Err(e) if e.kind() == ErrorKind::UnknownKey => {
                // The client may have rotated: refresh (cooldown, single-flight).
                let keys = remote.keys(now, Need::Miss).await?;
                select_key(&keys.keys, &pre)?.kid.clone()
            }
            other => other?.kid.clone(),
        };
        self.finish(pre, kid)
    }

    fn client(&self, client_id: &str) -> Result<ClientEntry, Error> {
        self.registry
            .get(client_id)
            .ok_or(reject(ErrorKind::UnknownClient))
    }

    /// Size, shape and header rules; the claimed client id.
    fn precheck<'t>(
        &self,
        token: &'t str,
        client_id_param: Option<&str>,
    ) -> Result<Pre<'t>, Error> {
        let policy = &self.policy;
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
        match &header.typ {
            None => {}
            Some(Json::Str(t))
                if t.eq_ignore_ascii_case("client-authentication+jwt")
                    || t.eq_ignore_ascii_case("application/client-authentication+jwt")
                    || t.eq_ignore_ascii_case("JWT")
                    || t.eq_ignore_ascii_case("application/jwt") => {}
            Some(_) => return Err(reject(ErrorKind::TypeNotAllowed)),
        }
        if !policy.accepts_type(match &header.typ {
            Some(Json::Str(t)) => Some(t),
            _ => None,
        }) {
            return Err(reject(ErrorKind::TypeNotAllowed));
        }
        let alg = match &header.alg {
            Some(Json::Str(name)) => Algorithm::from_name(name)?,
            None => return Err(reject_because(ErrorKind::Malformed, "no alg header")),
            Some(_) => return Err(reject(ErrorKind::AlgorithmNotAllowed)),
        };
        if !policy.algorithms.contains(&alg) {
            return Err(reject(ErrorKind::AlgorithmNotAllowed));
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

    /// The claim rules, once the signature is known good.
    fn finish(&self, pre: Pre<'_>, kid: String) -> Result<Checked, Error> {
        let policy = &self.policy;
        let Pre {
            claims, iss, alg, ..
        } = pre;
        // Claims, now that the signature is known good.
        let sub = string_claim(claims.sub, "sub is required")?;
        if sub != iss {
            return Err(reject(ErrorKind::SubjectMismatch));
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
        let now = self.clock.now();
        let now_s = unix_seconds_f64(now);
        let leeway = policy.leeway.as_secs_f64();
        let exp = numeric_date(claims.exp)?
            .ok_or(reject_because(ErrorKind::MissingClaim, "exp is required"))?;
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

/// The registered key that verifies the token: by `kid`, or (without one)
/// the first of at most [`MAX_KEYS_TRIED_WITHOUT_KID`] keys of its algorithm.
fn select_key<'k>(keys: &'k [VerifyingKey], pre: &Pre<'_>) -> Result<&'k VerifyingKey, Error> {
    let (alg, input, signature) = (pre.alg, pre.signing_input, &pre.signature[..]);
    if let Some(kid) = &pre.kid {
        let key = keys
            .iter()
            .find(|k| &k.kid == kid)
            .ok_or(reject(ErrorKind::UnknownKey))?;
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
        .ok_or(reject(ErrorKind::BadSignature))
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
        self.0.check(token, None).map(|c| c.assertion)
    }
}
