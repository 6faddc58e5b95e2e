//! Audit events through [`tracing`](https://docs.rs/tracing), behind the
//! `tracing` feature.
//!
//! With the feature on, the crate emits one event per assertion it signs,
//! accepts or rejects, on the target [`TARGET`] (`client_assertion::audit`),
//! each with a fixed event name (the `name` of the event's metadata and its
//! `message`) and flat fields. Without the feature this module holds only
//! these names: the hooks compile to nothing and `tracing` is not in the
//! dependency tree.
//!
//! | event ([`Metadata::name`]) | level | fields |
//! | --- | --- | --- |
//! | [`SIGNED`] `assertion.signed` | `DEBUG` | `usage`, `client_id`, `kid`, `alg`, `jti`, `exp` |
//! | [`SIGN_FAILED`] `assertion.sign_failed` | `WARN` | `usage`, `client_id`, `reason` |
//! | [`VERIFIED`] `assertion.verified` | `INFO` | `usage`, `client_id`, `kid`, `alg`, `jti`, `exp`, `replay_checked` |
//! | [`REJECTED`] `assertion.rejected` | `WARN` | `usage`, `reason`, `replay_checked`, and when known `client_id` or `claimed_client_id`, `kid`, `jti`, `near_miss` |
//! | [`KEY_RELOADED`] `key.reloaded` | `INFO` | `kid`, `path` |
//! | [`KEY_RELOAD_FAILED`] `key.reload_failed` | `WARN` | `reason`, `kept_kid`, `path` |
//! | [`KEY_ACTIVATED`] `key.activated` | `INFO` | `kid` |
//! | [`KEY_SKIPPED`] `key.skipped` | `INFO` | `client_id`, `kid` (when the key has one), `position`, `reason` |
//! | [`JWKS_REFUSED`] `jwks.refused` | `WARN` | `client_id`, `reason` |
//! | [`REPLAY_EPOCH_STARTED`] `replay.epoch_started` | `WARN` | `store`, `reason` |
//!
//! Field values:
//! - `usage`: `client_authentication` ([`Verifier`](crate::Verifier), both
//!   signers) or `authorization_grant` ([`GrantVerifier`](crate::grant::GrantVerifier),
//!   grant signers). For a grant, `client_id` is its issuer; its subject (a
//!   user identifier) is never logged. A `client_secret_jwt` assertion has
//!   an `HS*` `alg` and an empty `kid`.
//! - `alg`: the JWS algorithm name (`ES256`, ...); `exp`: Unix seconds.
//! - `reason`: the stable [`ErrorKind::code`](crate::ErrorKind::code), e.g.
//!   `bad_signature`, `expired`, `replayed`.
//! - `reason` of `key.skipped`: the stable
//!   [`SkipReason::code`](crate::keys::SkipReason::code) of a key a
//!   registered (or fetched) JWK Set holds but a verifier cannot use, e.g.
//!   `use_not_sig`, `unsupported_crv`; `position` is the key's index in the
//!   set. Emitted at registration of a client's (or trusted issuer's) JWK
//!   Set, and for each remote set fetched from a `jwks_uri` and taken into
//!   use.
//! - `reason` of `jwks.refused`: the [`ErrorKind::code`](crate::ErrorKind::code)
//!   of a JWK Set fetched from a `jwks_uri` and refused (e.g.
//!   `private_key_published`, `invalid_key`); the set fetched before stays
//!   in force as for a failed fetch, minus any key whose private half the
//!   refused set published.
//! - `near_miss`: the operator's explanation of a rejection
//!   ([`Error::near_miss`](crate::Error::near_miss)), e.g. `closest rule
//!   ci#0: issuer differs only by a trailing slash from https://...`; the
//!   client only ever sees `reason`.
//! - `replay_checked`: `false` for
//!   [`DangerousVerifier::verify_without_replay_check`](crate::danger::DangerousVerifier::verify_without_replay_check),
//!   whose caller runs its own replay check.
//!   For the federated verifier it is `false` when the matched rule's
//!   preset does not record `jti` by design (Kubernetes service-account
//!   tokens, SPIFFE JWT-SVIDs, an OIDC rule with `record_jti(false)`).
//!
//! # What a rejection says about its sender
//!
//! Nothing in a rejected token is established, so `assertion.rejected`
//! separates what the operator configured from what the sender wrote:
//! - `client_id` is present only when the token's `iss` names a client
//!   registered in the verifier's [`ClientRegistry`](crate::ClientRegistry):
//!   its value is one of the operator's own client ids.
//! - `claimed_client_id` carries the `iss` of a token whose issuer is not
//!   registered (an `unknown_client` rejection, or a token refused before the
//!   client lookup): an arbitrary string chosen by the sender.
//! - `kid` (the header's `kid`) is given only alongside a registered
//!   `client_id`; it is what the token claims, not necessarily a registered
//!   key (`unknown_key`).
//! - `jti` is given only for `replayed`, where the signature of the
//!   registered client's key has verified it.
//! - For the federated verifier (`federation::FederatedVerifier`),
//!   `client_id` of `assertion.verified` is the client of the matched
//!   trust rule; in `assertion.rejected` it is the trust anchor's issuer
//!   (`spiffe://<trust domain>` for a JWT-SVID), which the operator
//!   configured; an untrusted issuer is `claimed_client_id`.
//! - A token request refused while it is read
//!   ([`TokenRequest::from_form`](crate::server::TokenRequest::from_form),
//!   `from_pairs`: `duplicate_parameter`, `multiple_auth_methods`,
//!   `missing_parameter`, `unsupported_assertion_type`, `invalid_request`)
//!   carries only `usage`, `reason` and `replay_checked`: no assertion was
//!   read, and nothing of the body is logged.
//!
//! Every string field of every event (a client id, `kid`, `jti`, key file
//! path; most of all those taken from a rejected token) is made log-safe:
//! ASCII graphic characters other than `"` and `\` are kept, every other
//! character is escaped (`\"`, `\\`, `\n`, `\r`, `\t`, `\u{..}`: no control
//! character, newline or non-ASCII text reaches the log), and the result is
//! cut to at most [`MAX_FIELD_LEN`] bytes, ending in `...` when cut. A
//! rejection event is therefore bounded in size whatever the token's size.
//! No event carries the token, its signature, a key or any other secret.
//!
//! The claimed issuer and `kid` of a rejected token come from the
//! verifier's own (single) parse of it: the event is built from what the
//! verification pipeline had learned when it refused the token. For a token
//! refused before its issuer was looked up, whether that issuer is
//! registered is asked of [`ClientRegistry::contains`] — and only when a
//! subscriber wants `assertion.rejected` events.
//!
//! # Volume
//!
//! Anyone who can reach the token endpoint can cause `assertion.rejected`
//! events, one per request. Each is small and bounded, so the log grows no
//! faster than the requests that cause it, but a flood of bad assertions is
//! a flood of `WARN` events: rate-limit or sample them in the subscriber
//! (or filter this target to `error` during an incident), as for any
//! per-request log line. Signing is `DEBUG` because a busy client signs
//! often and its own log rarely needs each assertion; successful
//! verification is `INFO`, the authentication audit trail of the server.
//! Filter with the target, e.g. `client_assertion::audit=info` (accepted and
//! rejected) or `client_assertion::audit=warn` (rejections and key
//! problems only).
//!
//! [`Metadata::name`]: https://docs.rs/tracing/0.1/tracing/struct.Metadata.html#method.name
//! [`ClientRegistry::contains`]: crate::ClientRegistry::contains

/// A replay store may have lost what it recorded (a Redis restart, flush,
/// eviction or failover, or a server first met without this cache's epoch
/// key): a new epoch starts and older assertions are quarantined (`WARN`).
/// `store` is the store's redacted address; `reason` one of
/// `no_epoch_key`, `epoch_key_changed`, `restarted`, `failover`, `evicted`.
pub const REPLAY_EPOCH_STARTED: &str = "replay.epoch_started";

/// The `tracing` target of every audit event.
pub const TARGET: &str = "client_assertion::audit";
/// An assertion was signed (`DEBUG`).
pub const SIGNED: &str = "assertion.signed";
/// A signer could not mint an assertion: its key source failed (an HSM or
/// KMS error, a key file gone bad) or no longer fits its settings (`WARN`).
pub const SIGN_FAILED: &str = "assertion.sign_failed";
/// An assertion passed every check (`INFO`).
pub const VERIFIED: &str = "assertion.verified";
/// An assertion was rejected (`WARN`).
pub const REJECTED: &str = "assertion.rejected";
/// A [`FileKey`](crate::FileKey) loaded a new key from its file (`INFO`).
pub const KEY_RELOADED: &str = "key.reloaded";
/// A [`FileKey`](crate::FileKey) could not take its changed file; the
/// previous key stays in service (`WARN`).
pub const KEY_RELOAD_FAILED: &str = "key.reload_failed";
/// A [`KeyRing`](crate::client::KeyRing) or [`DirectoryKeyRing`](crate::client::DirectoryKeyRing)
/// put a key in service (`INFO`); the key found when a ring is created is
/// not an activation.
pub const KEY_ACTIVATED: &str = "key.activated";
/// A registered or fetched JWK Set holds a key a signature verifier cannot
/// use (an encryption key, an unsupported curve, ...): the key is left out
/// and the rest of the set is used (`INFO`).
pub const KEY_SKIPPED: &str = "key.skipped";
/// A JWK Set fetched from a client's `jwks_uri` was refused (it carries a
/// private key, is too large, or has no usable key); the previously fetched
/// set, if any, stays in force, minus any key whose private half was
/// published (`WARN`).
pub const JWKS_REFUSED: &str = "jwks.refused";
/// The most bytes a string field of an audit event holds (see the module
/// docs); equal to [`DEFAULT_MAX_JTI_LENGTH`](crate::Policy::DEFAULT_MAX_JTI_LENGTH),
/// so that a default-policy `jti` of safe characters is never cut.
pub const MAX_FIELD_LEN: usize = 256;

#[cfg(feature = "tracing")]
pub(crate) use imp::*;
#[cfg(not(feature = "tracing"))]
pub(crate) use off::*;

use std::time::SystemTime;

use crate::error::Usage;

/// Whether a verification went through the replay cache (the
/// `replay_checked` field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplayCheck {
    /// The `jti` was checked and recorded.
    Recorded,
    /// The caller runs its own replay check (a `danger` entry point).
    Skipped,
}

/// The fields of an `assertion.verified` event.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) struct Accepted<'a> {
    pub(crate) usage: Usage,
    pub(crate) replay: ReplayCheck,
    /// The client id (for a grant, its issuer).
    pub(crate) client_id: &'a str,
    pub(crate) kid: &'a str,
    pub(crate) jti: &'a str,
    /// The JWS `alg` name.
    pub(crate) alg: &'static str,
    pub(crate) expires_at: SystemTime,
}

/// What a verifier learned of a token before rejecting it, from its one
/// parse: nothing in it is established (see the module docs for what the
/// `assertion.rejected` event shows of it).
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) struct Seen {
    /// The token's `iss`, when it was a string.
    pub(crate) iss: Option<String>,
    /// The header's `kid`, when it was a string.
    pub(crate) kid: Option<String>,
    /// The `jti`, once the signature and claims had passed.
    pub(crate) jti: Option<String>,
    /// Whether `iss` names a registered client or trusted issuer; `None`
    /// when the token was refused before the lookup.
    pub(crate) registered: Option<bool>,
}

impl Seen {
    /// A token refused before its issuer was looked up.
    pub(crate) fn claimed(iss: Option<String>, kid: Option<String>) -> Self {
        Self {
            iss,
            kid,
            jti: None,
            registered: None,
        }
    }
}

/// The fields of an `assertion.signed` event.
#[cfg_attr(not(feature = "tracing"), allow(dead_code))]
pub(crate) struct Signed<'a> {
    pub(crate) usage: Usage,
    /// The `iss` of the assertion.
    pub(crate) client_id: &'a str,
    pub(crate) kid: &'a str,
    /// The JWS `alg` name.
    pub(crate) alg: &'static str,
    pub(crate) jti: &'a str,
    pub(crate) expires_at: SystemTime,
}

/// The hooks without the feature: empty functions the optimiser removes.
#[cfg(not(feature = "tracing"))]
mod off {
    use super::{Accepted, Seen, Signed};
    use crate::error::{Error, Usage};

    #[inline(always)]
    pub(crate) fn signed(_: &Signed<'_>) {}

    #[inline(always)]
    pub(crate) fn sign_failed(_: &str, _: Usage, _: &Error) {}

    #[inline(always)]
    pub(crate) fn verified(_: &Accepted<'_>) {}

    #[inline(always)]
    pub(crate) fn rejected(
        _: Usage,
        _: super::ReplayCheck,
        _: &Error,
        _: &Seen,
        _: &dyn Fn(&str) -> bool,
    ) {
    }

    #[inline(always)]
    pub(crate) fn key_reloaded(_: &str, _: &std::path::Path) {}

    #[inline(always)]
    pub(crate) fn key_reload_failed(_: &Error, _: &str, _: &std::path::Path) {}

    #[inline(always)]
    pub(crate) fn key_activated(_: &str) {}

    #[inline(always)]
    pub(crate) fn key_skipped(_: &str, _: Option<&str>, _: usize, _: &'static str) {}

    #[inline(always)]
    pub(crate) fn jwks_refused(_: &str, _: &Error) {}

    #[allow(dead_code)]
    pub(crate) fn replay_epoch_started(_: &str, _: &'static str) {}
}

#[cfg(feature = "tracing")]
mod imp {
    use std::borrow::Cow;
    use std::fmt::Write as _;

    use tracing::Level;

    use super::{
        Accepted, ReplayCheck, Seen, Signed, MAX_FIELD_LEN, REJECTED, SIGNED, SIGN_FAILED, TARGET,
        VERIFIED,
    };
    use crate::error::{Error, ErrorKind, Usage};
    use crate::time::unix_seconds;

    /// Emits `assertion.signed`.
    pub(crate) fn signed(a: &Signed<'_>) {
        tracing::event!(
            name: SIGNED,
            target: TARGET,
            Level::DEBUG,
            message = SIGNED,
            usage = usage_name(a.usage),
            client_id = &*safe(a.client_id),
            kid = &*safe(a.kid),
            alg = a.alg,
            jti = &*safe(a.jti),
            exp = unix_seconds(a.expires_at),
        );
    }

    /// Emits `assertion.sign_failed` for an assertion of `client_id` that
    /// could not be minted.
    pub(crate) fn sign_failed(client_id: &str, usage: Usage, error: &Error) {
        tracing::event!(
            name: SIGN_FAILED,
            target: TARGET,
            Level::WARN,
            message = SIGN_FAILED,
            usage = usage_name(usage),
            client_id = &*safe(client_id),
            reason = error.code(),
        );
    }

    /// Emits `assertion.verified`.
    pub(crate) fn verified(a: &Accepted<'_>) {
        tracing::event!(
            name: VERIFIED,
            target: TARGET,
            Level::INFO,
            message = VERIFIED,
            usage = usage_name(a.usage),
            client_id = &*safe(a.client_id),
            kid = &*safe(a.kid),
            alg = a.alg,
            jti = &*safe(a.jti),
            exp = unix_seconds(a.expires_at),
            replay_checked = a.replay == ReplayCheck::Recorded,
        );
    }

    /// Emits `assertion.rejected` for a token refused with `error`, from
    /// what the verifier saw of it; `registered` answers for an issuer the
    /// verifier did not look up.
    pub(crate) fn rejected(
        usage: Usage,
        replay: ReplayCheck,
        error: &Error,
        seen: &Seen,
        registered: &dyn Fn(&str) -> bool,
    ) {
        if !tracing::event_enabled!(target: TARGET, Level::WARN) {
            return;
        }
        let claimed = Claimed::of(seen, error.kind(), registered);
        tracing::event!(
            name: REJECTED,
            target: TARGET,
            Level::WARN,
            message = REJECTED,
            usage = usage_name(usage),
            reason = error.code(),
            replay_checked = replay == ReplayCheck::Recorded,
            client_id = claimed.client_id.as_deref(),
            claimed_client_id = claimed.claimed_client_id.as_deref(),
            kid = claimed.kid.as_deref(),
            jti = claimed.jti.as_deref(),
            near_miss = error.near_miss().map(|n| safe(&n.to_string()).into_owned()),
        );
    }

    /// Emits `key.reloaded` for a key file that put `kid` in service.
    pub(crate) fn key_reloaded(kid: &str, path: &std::path::Path) {
        tracing::event!(
            name: super::KEY_RELOADED,
            target: TARGET,
            Level::INFO,
            message = super::KEY_RELOADED,
            kid = &*safe(kid),
            path = &*safe(&path.to_string_lossy()),
        );
    }

    /// Emits `key.reload_failed` for a changed key file that was refused;
    /// `kept_kid` stays in service.
    pub(crate) fn key_reload_failed(error: &Error, kept_kid: &str, path: &std::path::Path) {
        tracing::event!(
            name: super::KEY_RELOAD_FAILED,
            target: TARGET,
            Level::WARN,
            message = super::KEY_RELOAD_FAILED,
            reason = error.code(),
            kept_kid = &*safe(kept_kid),
            path = &*safe(&path.to_string_lossy()),
        );
    }

    /// Emits `key.activated` for the key `kid` a key ring put in service.
    pub(crate) fn key_activated(kid: &str) {
        tracing::event!(
            name: super::KEY_ACTIVATED,
            target: TARGET,
            Level::INFO,
            message = super::KEY_ACTIVATED,
            kid = &*safe(kid),
        );
    }

    /// Emits `key.skipped` for the key at `position` of `client_id`'s JWK
    /// Set, left out for the skip reason `reason` (a stable code).
    pub(crate) fn key_skipped(
        client_id: &str,
        kid: Option<&str>,
        position: usize,
        reason: &'static str,
    ) {
        tracing::event!(
            name: super::KEY_SKIPPED,
            target: TARGET,
            Level::INFO,
            message = super::KEY_SKIPPED,
            client_id = &*safe(client_id),
            kid = kid.map(safe).as_deref(),
            position = position,
            reason = reason,
        );
    }

    /// Emits `jwks.refused` for a JWK Set of `client_id` fetched from its
    /// `jwks_uri` and refused with `error`.
    pub(crate) fn jwks_refused(client_id: &str, error: &Error) {
        tracing::event!(
            name: super::JWKS_REFUSED,
            target: TARGET,
            Level::WARN,
            message = super::JWKS_REFUSED,
            client_id = &*safe(client_id),
            reason = error.code(),
        );
    }

    /// Emits `replay.epoch_started` for the store `store` (a redacted
    /// address), whose loss `reason` (a stable code) started a new epoch.
    #[allow(dead_code)]
    pub(crate) fn replay_epoch_started(store: &str, reason: &'static str) {
        tracing::event!(
            name: super::REPLAY_EPOCH_STARTED,
            target: TARGET,
            Level::WARN,
            message = super::REPLAY_EPOCH_STARTED,
            store = &*safe(store),
            reason = reason,
        );
    }

    fn usage_name(usage: Usage) -> &'static str {
        match usage {
            Usage::ClientAuthentication => "client_authentication",
            Usage::AuthorizationGrant => "authorization_grant",
        }
    }

    /// What a rejected token claims, made log-safe.
    #[derive(Default)]
    struct Claimed {
        client_id: Option<String>,
        claimed_client_id: Option<String>,
        kid: Option<String>,
        jti: Option<String>,
    }

    impl Claimed {
        fn of(seen: &Seen, kind: ErrorKind, registered: &dyn Fn(&str) -> bool) -> Self {
            let Some(iss) = seen.iss.as_deref() else {
                return Self::default();
            };
            if !seen.registered.unwrap_or_else(|| registered(iss)) {
                return Self {
                    claimed_client_id: Some(safe(iss).into_owned()),
                    ..Self::default()
                };
            }
            let safe_owned = |s: &str| safe(s).into_owned();
            Self {
                kid: seen.kid.as_deref().map(safe_owned),
                jti: if kind == ErrorKind::Replayed {
                    seen.jti.as_deref().map(safe_owned)
                } else {
                    None
                },
                client_id: Some(safe_owned(iss)),
                claimed_client_id: None,
            }
        }
    }

    /// `s` made log-safe: ASCII graphic characters but `"` and `\` kept,
    /// everything else escaped, at most [`MAX_FIELD_LEN`] bytes (ending in
    /// `...` when cut). Borrowed when nothing had to change.
    pub(crate) fn safe(s: &str) -> Cow<'_, str> {
        let keep = |c: char| c.is_ascii_graphic() && c != '"' && c != '\\';
        if s.len() <= MAX_FIELD_LEN && s.chars().all(keep) {
            return Cow::Borrowed(s);
        }
        const MARK: &str = "...";
        let mut out = String::with_capacity(MAX_FIELD_LEN + 16);
        // The longest prefix (whole escapes only) that leaves room for MARK.
        let mut cut = 0;
        for c in s.chars() {
            match c {
                c if keep(c) => out.push(c),
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
            }
            if out.len() > MAX_FIELD_LEN {
                out.truncate(cut);
                out.push_str(MARK);
                return Cow::Owned(out);
            }
            if out.len() <= MAX_FIELD_LEN - MARK.len() {
                cut = out.len();
            }
        }
        Cow::Owned(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn safe_keeps_plain_values_and_escapes_the_rest() {
            assert!(matches!(safe("my-client"), Cow::Borrowed("my-client")));
            assert_eq!(safe("a b"), "a\\u{20}b");
            assert_eq!(
                safe("x\ny\r\"\\\u{202e}é"),
                "x\\ny\\r\\\"\\\\\\u{202e}\\u{e9}"
            );
            let exact = "a".repeat(MAX_FIELD_LEN);
            assert!(matches!(safe(&exact), Cow::Borrowed(_)));
        }

        #[test]
        fn safe_bounds_every_value() {
            for s in [
                "a".repeat(MAX_FIELD_LEN + 1),
                "\n".repeat(10_000),
                "\u{10ffff}".repeat(1000),
                format!("{}\u{1}", "a".repeat(MAX_FIELD_LEN - 1)),
            ] {
                let out = safe(&s);
                assert!(out.len() <= MAX_FIELD_LEN, "{}", out.len());
                assert!(out.ends_with("..."));
                assert!(out.chars().all(|c| c.is_ascii_graphic()));
            }
            // A last character that fits is kept without a mark.
            let fits = format!("{}\n", "a".repeat(MAX_FIELD_LEN - 2));
            assert_eq!(safe(&fits).len(), MAX_FIELD_LEN);
            assert!(safe(&fits).ends_with("\\n"));
        }
    }
}
