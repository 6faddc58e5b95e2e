//! The rules step of the federation driver: which rule of the anchor a
//! verified token fits, or the closest one's reason why not.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use super::anchor::{rule_name, Anchor, Matched};
use super::client::FederatedClient;
use super::diagnose;
use super::matcher::{lookup, Outcome};
use super::preset::Preset;
use super::rule::TrustRule;
use super::spiffe::SpiffeId;
use crate::diagnostic::{Difference, NearMiss};
use crate::error::{Error, ErrorKind};
use crate::time::unix_seconds_f64;
use crate::verify::pipeline::{Checked, Rejected};
use crate::verify::select::HeaderAlg;
use crate::verify::Policy;

/// Why a rule did not fit, and how far the token got (higher: closer).
struct Miss {
    score: usize,
    error: Error,
}

/// The one client whose rules the token fits (the first such rule).
pub(crate) fn select_rule(
    anchor: &Anchor,
    mut checked: Checked,
    server: &Policy,
    now: SystemTime,
) -> Result<Matched, Rejected> {
    let issuer = checked.iss.clone();
    let subject = Value::String(checked.claims.subject.clone());
    checked.others.insert("sub".to_owned(), subject);
    let mut found: Option<&(usize, Arc<TrustRule>)> = None;
    let mut closest: Option<(Miss, usize)> = None;
    for entry in &anchor.rules {
        match fits(entry.0, &entry.1, &checked, server, now) {
            Ok(()) => match found {
                Some(first) if first.1.client_id != entry.1.client_id => {
                    return Err(checked.reject(Error::new(ErrorKind::AmbiguousClient)));
                }
                Some(_) => {}
                None => found = Some(entry),
            },
            Err(miss) => {
                if closest.as_ref().is_none_or(|(c, _)| miss.score > c.score) {
                    closest = Some((miss, entry.0));
                }
            }
        }
    }
    if let Some(rule) = found {
        return Ok(Matched {
            checked,
            rule: rule.clone(),
            issuer,
        });
    }
    let error = match closest {
        Some((miss, _)) => miss.error,
        None => Error::new(ErrorKind::UnknownIssuer),
    };
    Err(checked.reject(error))
}

fn fits(
    index: usize,
    rule: &TrustRule,
    c: &Checked,
    server: &Policy,
    now: SystemTime,
) -> Result<(), Miss> {
    let name = || rule_name(rule, index);
    let miss = |score, kind, difference: Option<Difference>| {
        let error = Error::new(kind);
        let error = match difference {
            Some(d) => error.with_near_miss(NearMiss::new(name(), d)),
            None => error,
        };
        Miss { score, error }
    };
    let expected = rule.audience.as_deref().unwrap_or_else(|| server.issuer());
    if c.claims.audience != expected {
        let d = diagnose::audience(&c.claims.audience, expected);
        return Err(miss(0, ErrorKind::AudienceMismatch, Some(d)));
    }
    times(rule, c, server, now).map_err(|(kind, d)| miss(100, kind, d))?;
    shape(rule, c).map_err(|kind| miss(200, kind, None))?;
    if rule.record_jti && c.claims.jti.is_empty() {
        return Err(miss(300, ErrorKind::MissingClaim, None));
    }
    for (i, m) in rule.matchers.iter().enumerate() {
        let claim = m.path_text();
        match m.test(&c.others) {
            Outcome::Matches => continue,
            Outcome::Missing => {
                let d = Difference::MissingClaim { claim };
                return Err(miss(400 + i, ErrorKind::MissingClaim, Some(d)));
            }
            Outcome::Differs => {
                let is_sub = m.path() == ["sub"];
                let kind = if is_sub {
                    ErrorKind::SubjectMismatch
                } else {
                    ErrorKind::InvalidClaim
                };
                let d = is_sub
                    .then(|| diagnose::github_subject(m, &c.claims.subject))
                    .flatten()
                    .unwrap_or(Difference::ClaimDiffers { claim });
                return Err(miss(400 + i, kind, Some(d)));
            }
        }
    }
    Ok(())
}

/// Age and lifetime by the rule (the anchor's policy allowed the loosest).
fn times(
    rule: &TrustRule,
    c: &Checked,
    server: &Policy,
    now: SystemTime,
) -> Result<(), (ErrorKind, Option<Difference>)> {
    let leeway = server.leeway_value().as_secs_f64();
    let now = unix_seconds_f64(now);
    let exp = unix_seconds_f64(c.claims.expires_at);
    let lifetime = rule.preset.max_lifetime().as_secs_f64();
    match c.claims.issued_at.map(unix_seconds_f64) {
        Some(iat) => {
            let age = now - iat;
            if age > rule.max_age.as_secs_f64() + leeway {
                let d = Difference::TooOld {
                    age_secs: age.max(0.0) as u64,
                    max_age_secs: rule.max_age.as_secs(),
                };
                return Err((ErrorKind::LifetimeTooLong, Some(d)));
            }
            if exp - iat > lifetime {
                return Err((ErrorKind::LifetimeTooLong, None));
            }
        }
        None if exp - now > lifetime + leeway => return Err((ErrorKind::LifetimeTooLong, None)),
        None => {}
    }
    Ok(())
}

/// The preset's own claim rules.
fn shape(rule: &TrustRule, c: &Checked) -> Result<(), ErrorKind> {
    match rule.preset {
        Preset::Spiffe => {
            let id = SpiffeId::parse(&c.claims.subject).map_err(|_| ErrorKind::SubjectMismatch)?;
            if format!("spiffe://{}", id.trust_domain()) != rule.issuer {
                return Err(ErrorKind::SubjectMismatch);
            }
            Ok(())
        }
        Preset::Kubernetes => kubernetes_shape(c),
        Preset::GithubActions | Preset::Oidc => Ok(()),
    }
}

/// `sub` = `system:serviceaccount:<ns>:<name>` of the `kubernetes.io`
/// claim's namespace and service account.
fn kubernetes_shape(c: &Checked) -> Result<(), ErrorKind> {
    let get = |path: &[&str]| {
        let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
        lookup(&c.others, &path)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let ns = get(&["kubernetes.io", "namespace"]).ok_or(ErrorKind::MissingClaim)?;
    let sa = get(&["kubernetes.io", "serviceaccount", "name"]).ok_or(ErrorKind::MissingClaim)?;
    if c.claims.subject != format!("system:serviceaccount:{ns}:{sa}") {
        return Err(ErrorKind::SubjectMismatch);
    }
    Ok(())
}

/// The answer for a token that fits `rule`.
pub(crate) fn client(
    checked: Checked,
    rule: (usize, Arc<TrustRule>),
    issuer: String,
) -> Result<FederatedClient, Error> {
    let alg = match checked.alg {
        HeaderAlg::Asymmetric(alg) => alg,
        HeaderAlg::Hmac(_) => return Err(Error::new(ErrorKind::AlgorithmNotAllowed)),
    };
    let claims = rule
        .1
        .preset
        .reported_claims()
        .iter()
        .filter_map(|(name, path)| {
            let path: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
            let value = lookup(&checked.others, &path)?.as_str()?;
            Some((*name, value.to_owned()))
        })
        .collect();
    Ok(FederatedClient::new(
        checked,
        rule.0,
        rule.1.preset,
        issuer,
        claims,
        alg,
    ))
}
