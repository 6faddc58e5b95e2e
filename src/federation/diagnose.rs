//! Near-miss diagnostics of the federation driver: for a rejected token,
//! the closest rule and the difference ([`NearMiss`]), computed only on
//! the rejection path from what the pipeline saw.

use std::time::SystemTime;

use super::anchor::{rule_name, Anchor};
use super::github::GithubSubject;
use super::matcher::{ClaimMatcher, Match};
use crate::diagnostic::{Difference, NearMiss};
use crate::error::{Error, ErrorKind};
use crate::time::unix_seconds_f64;
use crate::verify::token::Claims;
use crate::verify::{Json, Policy};

/// What the diagnostics need of a token's claims, copied before the claim
/// rules take them (a few bytes; the rejection path reads them).
pub(crate) struct Peek {
    audience: Option<String>,
    issued_at: Option<f64>,
}

impl Peek {
    pub(crate) fn of(claims: &Claims) -> Self {
        let audience = match &claims.aud {
            Some(Json::Str(a)) => Some(a.clone()),
            Some(Json::Arr(members)) => members.first().cloned().flatten(),
            _ => None,
        };
        let issued_at = match claims.iat {
            Some(Json::Num(n)) => Some(n),
            _ => None,
        };
        Self {
            audience,
            issued_at,
        }
    }
}

/// The anchor whose issuer `iss` equals but for ASCII case or a trailing
/// slash.
pub(crate) fn issuer<'a>(
    iss: &str,
    anchors: impl Iterator<Item = (&'a String, &'a Anchor)>,
) -> Option<NearMiss> {
    let trim = |s: &str| s.trim_end_matches('/').to_owned();
    for (name, anchor) in anchors {
        let (index, rule) = anchor.rules.first()?;
        let expected = name.clone();
        let difference = if trim(iss) == trim(name) {
            Difference::IssuerTrailingSlash { expected }
        } else if iss.eq_ignore_ascii_case(name) || trim(iss).eq_ignore_ascii_case(&trim(name)) {
            Difference::IssuerCase { expected }
        } else {
            continue;
        };
        return Some(NearMiss::new(rule_name(rule, *index), difference));
    }
    None
}

/// The audience difference: the token endpoint (the expected audience and
/// a path), or another value.
pub(crate) fn audience(got: &str, expected: &str) -> Difference {
    let base = expected.trim_end_matches('/');
    let expected = expected.to_owned();
    match got.strip_prefix(base) {
        Some(path) if path.len() > 1 && path.starts_with('/') => {
            Difference::AudienceIsTokenEndpoint { expected }
        }
        _ => Difference::AudienceDiffers { expected },
    }
}

/// A GitHub subject in the other format than the rule's exact one, same
/// owner, repository and context by name.
pub(crate) fn github_subject(matcher: &ClaimMatcher, sub: &str) -> Option<Difference> {
    let Match::Exact(want) = matcher.matches() else {
        return None;
    };
    let (want, got) = (GithubSubject::parse(want)?, GithubSubject::parse(sub)?);
    if !want.same_names(&got) || want.is_immutable() == got.is_immutable() {
        return None;
    }
    Some(if want.is_immutable() {
        Difference::LegacyGithubSubject
    } else {
        Difference::ImmutableGithubSubject
    })
}

/// A claims-step rejection (by the anchor's loosest policy) explained:
/// an audience that is the token endpoint or another value, a token too
/// old for every rule.
pub(crate) fn claims(
    error: Error,
    peek: &Peek,
    anchor: &Anchor,
    server: &Policy,
    now: SystemTime,
) -> Error {
    let (index, rule) = match anchor.rules.first() {
        Some((i, r)) => (*i, r),
        None => return error,
    };
    let name = rule_name(rule, index);
    match error.kind() {
        ErrorKind::AudienceMismatch => {
            let expected = rule.audience.as_deref().unwrap_or_else(|| server.issuer());
            match peek.audience.as_deref() {
                Some(aud) => error.with_near_miss(NearMiss::new(name, audience(aud, expected))),
                None => error,
            }
        }
        ErrorKind::LifetimeTooLong => match peek.issued_at {
            Some(iat) if unix_seconds_f64(now) - iat > rule.max_age.as_secs_f64() => {
                let difference = Difference::TooOld {
                    age_secs: (unix_seconds_f64(now) - iat).max(0.0) as u64,
                    max_age_secs: rule.max_age.as_secs(),
                };
                error.with_near_miss(NearMiss::new(name, difference))
            }
            _ => error,
        },
        _ => error,
    }
}
