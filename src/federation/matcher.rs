//! Typed claim matchers: what a claim of a federated token must be for a
//! trust rule to match. A missing claim never matches, whatever the
//! matcher; a claim of the wrong JSON type never matches either.

use serde_json::Value;

use super::spiffe::{validate_trust_domain, SpiffeId};
use crate::error::{Error, ErrorKind};

/// What a claim's value must be.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Match {
    /// A string equal to this one (case-sensitive, no normalisation).
    Exact(String),
    /// A string equal to one of these.
    OneOf(Vec<String>),
    /// An array of strings that holds this one (e.g. a `groups` claim).
    Contains(String),
    /// A valid SPIFFE ID in `trust_domain` whose path is `path_prefix` or
    /// lies under it, segment-wise (`/ns/prod` covers `/ns/prod/sa/x`, not
    /// `/ns/production`; an empty prefix covers the whole trust domain).
    SpiffeId {
        /// The trust domain name (`example.org`).
        trust_domain: String,
        /// The path prefix (`/ns/prod`), or empty.
        path_prefix: String,
    },
}

/// How a claim fared against a matcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Matches,
    Missing,
    Differs,
}

/// A claim (by its path: `["sub"]`, `["kubernetes.io", "namespace"]`) and
/// what it must be.
///
/// ```
/// use client_assertion::federation::{ClaimMatcher, Match};
///
/// let ns = ClaimMatcher::new(["kubernetes.io", "namespace"], Match::Exact("prod".into()))?;
/// assert_eq!(ns.path(), ["kubernetes.io", "namespace"]);
/// // Registered claims other than `sub` are the verifier's, not a matcher's.
/// assert!(ClaimMatcher::new(["aud"], Match::Exact("x".into())).is_err());
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimMatcher {
    path: Vec<String>,
    matches: Match,
}

/// Registered claims that the verifier itself checks; `sub` is matched.
const VERIFIER_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "jti"];

impl ClaimMatcher {
    /// A matcher on the claim at `path` (top-level name first).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty path or path segment, a
    /// path into a registered claim other than `sub`, an empty value or
    /// list, or an invalid SPIFFE trust domain or path prefix.
    pub fn new<S: Into<String>>(
        path: impl IntoIterator<Item = S>,
        matches: Match,
    ) -> Result<Self, Error> {
        let bad = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        let path: Vec<String> = path.into_iter().map(Into::into).collect();
        if path.is_empty() || path.iter().any(String::is_empty) {
            return bad("a claim matcher needs a non-empty claim path");
        }
        if VERIFIER_CLAIMS.contains(&path[0].as_str()) || (path[0] == "sub" && path.len() > 1) {
            return bad("iss, aud, exp, nbf, iat and jti are checked by the verifier, not matched");
        }
        match &matches {
            Match::Exact(v) | Match::Contains(v) if v.is_empty() => {
                return bad("a claim matcher needs a non-empty value")
            }
            Match::OneOf(list) if list.is_empty() || list.iter().any(String::is_empty) => {
                return bad("a claim matcher needs a non-empty list of non-empty values")
            }
            Match::SpiffeId {
                trust_domain,
                path_prefix,
            } => {
                validate_trust_domain(trust_domain)
                    .map_err(|_| Error::detail(ErrorKind::InvalidConfig, "invalid trust domain"))?;
                let probe = format!("spiffe://{trust_domain}{path_prefix}");
                let rooted = path_prefix.is_empty() || path_prefix.starts_with('/');
                let probe_ok = path_prefix.is_empty()
                    || path_prefix == "/"
                    || SpiffeId::parse(probe.trim_end_matches('/')).is_ok();
                if !rooted || !probe_ok {
                    return bad("invalid SPIFFE path prefix");
                }
            }
            _ => {}
        }
        Ok(Self { path, matches })
    }

    /// A matcher on the top-level claim `name`.
    ///
    /// # Errors
    /// As [`ClaimMatcher::new`].
    pub fn claim(name: impl Into<String>, matches: Match) -> Result<Self, Error> {
        Self::new([name.into()], matches)
    }

    /// The claim's path.
    pub fn path(&self) -> &[String] {
        &self.path
    }

    /// What the claim must be.
    pub fn matches(&self) -> &Match {
        &self.matches
    }

    /// The path, `/`-separated, for diagnostics.
    pub(crate) fn path_text(&self) -> String {
        self.path.join("/")
    }

    /// Whether the claim in `claims` at this path fits.
    pub(crate) fn test(&self, claims: &serde_json::Map<String, Value>) -> Outcome {
        let Some(value) = lookup(claims, &self.path) else {
            return Outcome::Missing;
        };
        let fits = match (&self.matches, value) {
            (Match::Exact(want), Value::String(got)) => want == got,
            (Match::OneOf(list), Value::String(got)) => list.iter().any(|w| w == got),
            (Match::Contains(want), Value::Array(items)) => {
                items.iter().any(|i| i.as_str() == Some(want.as_str()))
            }
            (
                Match::SpiffeId {
                    trust_domain,
                    path_prefix,
                },
                Value::String(got),
            ) => SpiffeId::parse(got).is_ok_and(|id| {
                id.trust_domain() == trust_domain && id.has_path_prefix(path_prefix)
            }),
            _ => false,
        };
        if fits {
            Outcome::Matches
        } else {
            Outcome::Differs
        }
    }
}

/// The value at `path`, through nested objects; `None` when any step is
/// missing (or not an object) or the value is JSON `null`.
pub(crate) fn lookup<'c>(
    claims: &'c serde_json::Map<String, Value>,
    path: &[String],
) -> Option<&'c Value> {
    let (first, rest) = path.split_first()?;
    let mut value = claims.get(first)?;
    for step in rest {
        value = value.as_object()?.get(step)?;
    }
    (!value.is_null()).then_some(value)
}
