//! What a verifier records for one accepted assertion: [`ReplayEntry`] and
//! its [`ReplayScope`].

use std::time::SystemTime;

/// Which kind of verifier records an entry: part of its [`ReplayScope`], so
/// that one cache can serve every verifier of a server without two kinds'
/// entries ever meeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReplayKind {
    /// A client assertion (`private_key_jwt`, `client_secret_jwt`); the
    /// scope's principal is the client id.
    ClientAssertion,
    /// A JWT bearer authorization grant (RFC 7523 §2.1); the scope's
    /// principal is the grant's issuer.
    AuthorizationGrant,
    /// A platform-issued token accepted by a federated client's trust rule
    /// (`federation`); the scope's principal is the token's issuer.
    FederatedAssertion,
}

impl ReplayKind {
    /// The byte that stands for the kind in [`ReplayScope::key_material`]:
    /// fixed forever, since stored keys are derived from it.
    const fn tag(self) -> u8 {
        match self {
            Self::ClientAssertion => 1,
            Self::AuthorizationGrant => 2,
            Self::FederatedAssertion => 3,
        }
    }
}

/// The namespace a `jti` is unique in: the verifier's kind, the issuer
/// identifier of the authorization server that verifies (its policy's
/// issuer), and the principal that chose the `jti` (a client id, or a
/// grant's issuer). The same `jti` in two scopes is two entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReplayScope<'a> {
    kind: ReplayKind,
    server: &'a str,
    principal: &'a str,
}

impl<'a> ReplayScope<'a> {
    /// The scope of `principal`'s assertions verified by the authorization
    /// server `server` (its issuer identifier) as `kind`.
    pub const fn new(kind: ReplayKind, server: &'a str, principal: &'a str) -> Self {
        Self {
            kind,
            server,
            principal,
        }
    }

    /// The kind of verifier.
    pub const fn kind(&self) -> ReplayKind {
        self.kind
    }

    /// The issuer identifier of the authorization server that verifies.
    pub const fn server(&self) -> &'a str {
        self.server
    }

    /// The client id (client assertions) or issuer (grants) that chose the
    /// `jti`.
    pub const fn principal(&self) -> &'a str {
        self.principal
    }

    /// Feeds `sink` an unambiguous encoding of the scope and `jti`: the
    /// kind's tag byte, the server and the principal each with its length as
    /// 8 big-endian bytes, then the `jti`. Two different (scope, `jti`)
    /// pairs never give the same bytes, so a cache that hashes them (it
    /// should: the `jti` is attacker-chosen) keys each pair apart.
    pub fn key_material(&self, jti: &str, sink: &mut dyn FnMut(&[u8])) {
        sink(&[self.kind.tag()]);
        for part in [self.server, self.principal] {
            sink(&(part.len() as u64).to_be_bytes());
            sink(part.as_bytes());
        }
        sink(jti.as_bytes());
    }
}

/// One accepted assertion, as a [`ReplayCache`](crate::ReplayCache)
/// records it: its scope and `jti`, until when it must be remembered, when
/// it was issued, and the verifier's clock reading.
///
/// Built by the verifiers; [`ReplayEntry::new`] and its setters are for
/// testing a cache of your own.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use client_assertion::replay::{ReplayEntry, ReplayKind, ReplayScope};
///
/// let now = SystemTime::now();
/// let scope = ReplayScope::new(ReplayKind::ClientAssertion, "https://as.example", "my-client");
/// let entry = ReplayEntry::new(scope, "jti-1", now).retain_until(now + Duration::from_secs(90));
/// assert_eq!(entry.scope().principal(), "my-client");
/// assert!(entry.until() > entry.now());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayEntry<'a> {
    scope: ReplayScope<'a>,
    jti: &'a str,
    until: SystemTime,
    issued_at: Option<SystemTime>,
    acceptable_from: SystemTime,
    now: SystemTime,
}

impl<'a> ReplayEntry<'a> {
    /// An entry for `jti` in `scope`, checked at `now`, to be remembered
    /// until `now` (set the real bound with [`ReplayEntry::retain_until`]),
    /// without an issue time and acceptable since ever
    /// ([`ReplayEntry::acceptable_since`]).
    pub const fn new(scope: ReplayScope<'a>, jti: &'a str, now: SystemTime) -> Self {
        Self {
            scope,
            jti,
            until: now,
            issued_at: None,
            acceptable_from: SystemTime::UNIX_EPOCH,
            now,
        }
    }

    /// Remember the entry until `until` (inclusive).
    #[must_use]
    pub const fn retain_until(mut self, until: SystemTime) -> Self {
        self.until = until;
        self
    }

    /// The assertion's `iat`, if it had one; an `iat` is also the instant
    /// since which the assertion is acceptable
    /// ([`ReplayEntry::acceptable_since`]).
    #[must_use]
    pub const fn issued_at(mut self, issued_at: Option<SystemTime>) -> Self {
        self.issued_at = issued_at;
        if let Some(iat) = issued_at {
            self.acceptable_from = iat;
        }
        self
    }

    /// The earliest instant at which a verifier could have accepted the
    /// assertion (its `iat`; for an assertion without `iat`,
    /// `exp - max_lifetime - leeway`), which the quarantine rule compares
    /// with the cache's epoch ([`quarantines`](crate::replay::quarantines)).
    #[must_use]
    pub const fn acceptable_since(mut self, since: SystemTime) -> Self {
        self.acceptable_from = since;
        self
    }

    /// The scope the `jti` is unique in.
    pub const fn scope(&self) -> ReplayScope<'a> {
        self.scope
    }

    /// The `jti` (at most the policy's `max_jti_length` bytes, attacker
    /// chosen: hash it before using it as a key).
    pub const fn jti(&self) -> &'a str {
        self.jti
    }

    /// Until when the entry must stay recorded: one second past the last
    /// instant at which the assertion could still be accepted.
    pub const fn until(&self) -> SystemTime {
        self.until
    }

    /// The assertion's `iat`, if present.
    pub const fn iat(&self) -> Option<SystemTime> {
        self.issued_at
    }

    /// The earliest instant at which the assertion could have been
    /// accepted (see [`ReplayEntry::acceptable_since`]).
    pub const fn acceptable_from(&self) -> SystemTime {
        self.acceptable_from
    }

    /// The verifier's clock when it checked the assertion; compare `until`
    /// with this, not with another clock.
    pub const fn now(&self) -> SystemTime {
        self.now
    }

    /// [`ReplayScope::key_material`] of this entry's scope and `jti`.
    pub fn key_material(&self, sink: &mut dyn FnMut(&[u8])) {
        self.scope.key_material(self.jti, sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(kind: ReplayKind, server: &str, principal: &str, jti: &str) -> Vec<u8> {
        let mut out = Vec::new();
        ReplayScope::new(kind, server, principal).key_material(jti, &mut |b| out.extend(b));
        out
    }

    #[test]
    fn key_material_is_unambiguous() {
        let base = bytes(ReplayKind::ClientAssertion, "as", "c", "j");
        assert_ne!(base, bytes(ReplayKind::AuthorizationGrant, "as", "c", "j"));
        assert_ne!(base, bytes(ReplayKind::ClientAssertion, "as2", "c", "j"));
        assert_ne!(base, bytes(ReplayKind::ClientAssertion, "as", "d", "j"));
        assert_ne!(
            bytes(ReplayKind::ClientAssertion, "a", "sc", "j"),
            bytes(ReplayKind::ClientAssertion, "as", "c", "j")
        );
        assert_ne!(
            bytes(ReplayKind::ClientAssertion, "as", "ab", "c"),
            bytes(ReplayKind::ClientAssertion, "as", "a", "bc")
        );
    }
}
