//! The claim rules, applied once the signature is known good: subject,
//! audience, times (`exp`, `nbf`, `iat`, lifetime, age) and `jti`.
//!
//! Every verifier applies the same rules from its [`Policy`]; only the
//! subject rule differs ([`SubjectRule`]). Nothing here touches keys or the
//! replay cache.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::policy::Policy;
use super::token::{Claims, Json};
use crate::diagnostic::{Difference, NearMiss};
use crate::error::{Error, ErrorKind};
use crate::time::unix_seconds_f64;

/// How `sub` must relate to `iss`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SubjectRule {
    /// Client authentication: `sub` = `iss` = the client id.
    SameAsIssuer,
    /// Authorization grant: any non-empty principal.
    NonEmpty,
}

/// The named loosenings of the claim rules a verifier opted in to (none by
/// default; grants only).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Loosened {
    /// A missing `jti` is replaced by a hash of the signing input.
    pub(crate) missing_jti: bool,
    /// A missing `sub` means the issuer (danger: RFC 7523 §3 requires `sub`).
    pub(crate) missing_subject_is_issuer: bool,
}

/// The replay key of an assertion without `jti`: SHA-256 of its signing
/// input (`header.payload`), never of the token bytes: an ECDSA signature
/// can be altered into another valid one, so the same assertion would
/// get a new key.
pub(crate) fn signing_input_key(signing_input: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(signing_input);
    format!("sha256:{}", crate::b64::encode(&digest))
}

/// The accepted claims of an assertion.
#[derive(Debug)]
pub(crate) struct ClaimFacts {
    pub(crate) subject: String,
    pub(crate) audience: String,
    pub(crate) jti: String,
    pub(crate) expires_at: SystemTime,
    pub(crate) issued_at: Option<SystemTime>,
    /// One second past the last instant at which the assertion is still
    /// accepted: how long the replay cache must remember its `jti`.
    pub(crate) retain_until: SystemTime,
}

/// The time claims, in Unix seconds.
struct Times {
    exp: f64,
    iat: Option<f64>,
    /// The last instant at which the assertion is still accepted.
    last_acceptable: f64,
}

/// Applies every claim rule of `policy` at `now` to `claims` (whose `iss`
/// was taken already: it is `iss`).
/// `signing_input` serves the loosening of a missing `jti`.
pub(crate) fn check(
    policy: &Policy,
    now: SystemTime,
    claims: &mut Claims,
    (iss, signing_input): (&str, &[u8]),
    rule: SubjectRule,
    loosened: Loosened,
) -> Result<ClaimFacts, Error> {
    let sub = match claims.sub.take() {
        None if loosened.missing_subject_is_issuer => Some(Json::Str(iss.to_owned())),
        sub => sub,
    };
    let subject = subject(sub, iss, rule)?;
    let audience = audience(policy, claims.aud.take())?;
    let times = times(policy, now, claims)?;
    let jti = match claims.jti.take() {
        None if loosened.missing_jti => signing_input_key(signing_input),
        jti_claim => jti(policy, jti_claim)?,
    };
    Ok(ClaimFacts {
        subject,
        audience,
        jti,
        expires_at: to_system_time(times.exp),
        issued_at: times.iat.map(to_system_time),
        // A store which forgets an entry *at* `until` (a Redis `PX`
        // expiry, a `> now` comparison) cannot let a replay through at the
        // last accepted instant (`now - iat == max_age + leeway`).
        retain_until: to_system_time(times.last_acceptable.ceil() + 1.0),
    })
}

fn subject(sub: Option<Json>, iss: &str, rule: SubjectRule) -> Result<String, Error> {
    let sub = string_claim(sub, "sub is required")?;
    match rule {
        SubjectRule::SameAsIssuer if sub != iss => Err(Error::new(ErrorKind::SubjectMismatch)),
        SubjectRule::NonEmpty if sub.is_empty() => {
            Err(Error::detail(ErrorKind::InvalidClaim, "sub is empty"))
        }
        _ => Ok(sub),
    }
}

/// One accepted audience, as a string (or, where the policy opts in, a
/// one-element array).
fn audience(policy: &Policy, aud: Option<Json>) -> Result<String, Error> {
    match aud {
        Some(Json::Str(a)) if policy.accepts_audience(&a) => Ok(a),
        Some(Json::Arr(mut members))
            if policy.single_element_array
                && members.len() == 1
                && members[0]
                    .as_deref()
                    .is_some_and(|a| policy.accepts_audience(a)) =>
        {
            Ok(members.pop().flatten().unwrap_or_default())
        }
        None => Err(Error::detail(ErrorKind::MissingClaim, "aud is required")),
        Some(Json::Str(a)) if is_endpoint_of(&a, &policy.issuer) => {
            let expected = policy.issuer.clone();
            let near = NearMiss::new("policy", Difference::AudienceIsTokenEndpoint { expected });
            Err(Error::new(ErrorKind::AudienceMismatch).with_near_miss(near))
        }
        Some(_) => Err(Error::new(ErrorKind::AudienceMismatch)),
    }
}

/// Whether `aud` is an endpoint under the issuer identifier `issuer` (the
/// token endpoint, most often): the issuer followed by a path.
fn is_endpoint_of(aud: &str, issuer: &str) -> bool {
    aud.strip_prefix(issuer.trim_end_matches('/'))
        .is_some_and(|path| path.len() > 1 && path.starts_with('/'))
}

fn times(policy: &Policy, now: SystemTime, claims: &mut Claims) -> Result<Times, Error> {
    let now = unix_seconds_f64(now);
    let leeway = policy.leeway.as_secs_f64();
    let exp = numeric_date(claims.exp.take())?
        .ok_or_else(|| Error::detail(ErrorKind::MissingClaim, "exp is required"))?;
    let nbf = numeric_date(claims.nbf.take())?;
    let iat = numeric_date(claims.iat.take())?;
    if now >= exp + leeway {
        return Err(Error::new(ErrorKind::Expired));
    }
    if nbf.is_some_and(|nbf| nbf >= exp) {
        // [nbf, exp) is empty: no instant at which the assertion is valid.
        return Err(Error::detail(
            ErrorKind::InvalidClaim,
            "nbf is not before exp",
        ));
    }
    if nbf.is_some_and(|t| t > now + leeway) || iat.is_some_and(|t| t > now + leeway) {
        return Err(Error::new(ErrorKind::NotYetValid));
    }
    let last_acceptable = match iat {
        Some(iat) => issued(policy, now, exp, iat)?,
        None => not_issued(policy, now, exp)?,
    };
    Ok(Times {
        exp,
        iat,
        last_acceptable: last_acceptable.min(exp + leeway),
    })
}

/// The lifetime and age rules of an assertion issued at `iat`; the last
/// instant its age allows.
fn issued(policy: &Policy, now: f64, exp: f64, iat: f64) -> Result<f64, Error> {
    let (leeway, max_age) = (policy.leeway.as_secs_f64(), policy.max_age.as_secs_f64());
    if exp < iat {
        return Err(Error::detail(ErrorKind::InvalidClaim, "exp is before iat"));
    }
    if exp - iat > policy.max_lifetime.as_secs_f64() {
        return Err(Error::detail(
            ErrorKind::LifetimeTooLong,
            "exp - iat exceeds the maximum lifetime",
        ));
    }
    if now - iat > max_age + leeway {
        let difference = Difference::TooOld {
            age_secs: (now - iat) as u64,
            max_age_secs: policy.max_age.as_secs(),
        };
        return Err(Error::detail(
            ErrorKind::LifetimeTooLong,
            "the assertion was issued too long ago",
        )
        .with_near_miss(NearMiss::new("policy", difference)));
    }
    Ok(iat + max_age + leeway)
}

/// Without `iat`, `exp` alone bounds the assertion.
fn not_issued(policy: &Policy, now: f64, exp: f64) -> Result<f64, Error> {
    let bound = policy.max_lifetime.as_secs_f64() + policy.leeway.as_secs_f64();
    if exp - now > bound {
        return Err(Error::detail(
            ErrorKind::LifetimeTooLong,
            "exp is too far in the future",
        ));
    }
    Ok(f64::INFINITY)
}

fn jti(policy: &Policy, jti: Option<Json>) -> Result<String, Error> {
    if jti.is_none() && !policy.jti_required {
        return Ok(String::new());
    }
    let jti = string_claim(jti, "jti is required")?;
    if jti.is_empty() || jti.len() > policy.max_jti_length {
        return Err(Error::detail(
            ErrorKind::InvalidClaim,
            "jti is empty or too long",
        ));
    }
    Ok(jti)
}

/// A string claim, required.
pub(crate) fn string_claim(v: Option<Json>, missing: &'static str) -> Result<String, Error> {
    match v {
        Some(Json::Str(s)) => Ok(s),
        None => Err(Error::detail(ErrorKind::MissingClaim, missing)),
        Some(_) => Err(Error::detail(
            ErrorKind::InvalidClaim,
            "a claim is not a string",
        )),
    }
}

fn numeric_date(v: Option<Json>) -> Result<Option<f64>, Error> {
    match v {
        None => Ok(None),
        Some(Json::Num(n)) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
        Some(_) => Err(Error::detail(
            ErrorKind::InvalidClaim,
            "a time claim is not a NumericDate",
        )),
    }
}

fn to_system_time(secs: f64) -> SystemTime {
    UNIX_EPOCH + Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX / 2)
}
