//! The one verification pipeline that every verifier drives:
//!
//! ```text
//! screen  bounded parse (size, 3 segments, strict base64url, JSON objects
//!         without duplicates), header rules (crit/jwk/jku/x5u, typ, alg
//!         allowlist), iss and the client_id parameter
//! keys    the registered client or trusted issuer (iss), the method its
//!         registration allows, its credential: the only step that differs
//!         between the sync and async paths (select.rs)
//! verify  signature or MAC, alg pinned by the key (select.rs)
//! claims  sub, aud, exp/nbf/iat, lifetime, age, jti (claims.rs)
//! record  the replay entry, one call site per path (ReplayStore), then
//!         the quarantine rule against the cache's epoch (replay/mod.rs)
//! ```
//!
//! A driver ([`Verifier`](crate::Verifier), [`GrantVerifier`](crate::GrantVerifier))
//! says what differs for it in a [`Pipeline`] and turns the [`Checked`]
//! result into its public type. The token is parsed once; a rejection
//! carries what the pipeline learned of the token ([`Seen`]), from which the
//! audit event is built.

use std::time::SystemTime;

use super::claims::{self, ClaimFacts, Loosened, SubjectRule};
use super::policy::Policy;
use super::registry::{ClientEntry, ClientRegistry};
use super::select::{self, Credential, HeaderAlg, Signed};
use super::token::{self, Claims, Header, Json, Others, Parsed};
use crate::algorithm::Algorithm;
use crate::audit::{self, Accepted, ReplayCheck, Seen};
use crate::error::{Error, ErrorKind, Usage};
use crate::replay::{ReplayEntry, ReplayKind, ReplayScope, ReplayStore};
use crate::secret::HmacAlgorithm;
use crate::time::Clock;

/// Which kind of verifier drives the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Client authentication (`private_key_jwt`, `client_secret_jwt`).
    ClientAuthentication,
    /// A JWT bearer authorization grant.
    AuthorizationGrant,
    /// Client authentication with a token a platform minted, checked
    /// against trust rules (`federation`): the issuer is a trust anchor,
    /// not a client, and the driver matches the claims to a client.
    Federation,
}

impl Kind {
    fn usage(self) -> Usage {
        match self {
            Self::ClientAuthentication | Self::Federation => Usage::ClientAuthentication,
            Self::AuthorizationGrant => Usage::AuthorizationGrant,
        }
    }
    fn subject(self) -> SubjectRule {
        match self {
            Self::ClientAuthentication => SubjectRule::SameAsIssuer,
            // Federation: the driver's claim matchers decide after this.
            Self::AuthorizationGrant | Self::Federation => SubjectRule::NonEmpty,
        }
    }
    pub(crate) fn unknown(self) -> ErrorKind {
        match self {
            Self::ClientAuthentication => ErrorKind::UnknownClient,
            Self::AuthorizationGrant | Self::Federation => ErrorKind::UnknownIssuer,
        }
    }
    fn replay(self) -> ReplayKind {
        match self {
            Self::ClientAuthentication => ReplayKind::ClientAssertion,
            Self::AuthorizationGrant => ReplayKind::AuthorizationGrant,
            Self::Federation => ReplayKind::FederatedAssertion,
        }
    }
}

/// Whether an `HS*` header is read as `client_secret_jwt`; when refused,
/// it is an unknown asymmetric algorithm (`algorithm_not_allowed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hmac {
    Refused,
    Accepted,
}

/// A verifier's `typ` rule (`None` for an absent `typ`).
pub(crate) trait TypeRule: Sync {
    fn allows(&self, typ: Option<&str>) -> bool;
}

impl TypeRule for Policy {
    fn allows(&self, typ: Option<&str>) -> bool {
        self.accepts_type(typ)
    }
}

/// One run of the pipeline: what the driver decides.
pub(crate) struct Pipeline<'v> {
    pub(crate) kind: Kind,
    pub(crate) policy: &'v Policy,
    pub(crate) types: &'v dyn TypeRule,
    pub(crate) hmac: Hmac,
    /// Clients, or trusted issuers, by `iss`.
    pub(crate) registry: &'v ClientRegistry,
    pub(crate) clock: &'v dyn Clock,
    pub(crate) replay: &'v ReplayStore,
    /// The claim rules the driver loosened (grants only, opted in).
    pub(crate) loosened: Loosened,
}

/// A token whose shape and header passed, with its claimed issuer.
pub(crate) struct Screened<'t> {
    iss: String,
    kid: Option<String>,
    alg: HeaderAlg,
    claims: Claims,
    signing_input: &'t [u8],
    signature: Vec<u8>,
}

impl Screened<'_> {
    /// The issuer the token is looked up by.
    pub(crate) fn iss(&self) -> &str {
        &self.iss
    }
    /// The header's algorithm.
    pub(crate) fn alg(&self) -> HeaderAlg {
        self.alg
    }
    /// The header's `kid`, if any.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    /// The claims not yet taken by the claim rules.
    pub(crate) fn claims(&self) -> &Claims {
        &self.claims
    }
}

/// The name a driver looks a token up by instead of its `iss`, from
/// whether it has an `iss` claim and from its `sub` claim (a JWT-SVID's
/// trust domain); `None`: the `iss` claim.
pub(crate) type LookupName<'a> = &'a dyn Fn(bool, Option<&Json>) -> Option<String>;

/// Everything checked but (until recorded) the replay rule.
pub(crate) struct Checked {
    pub(crate) iss: String,
    /// The `kid` of the key that verified the signature.
    pub(crate) kid: String,
    /// Whether the header named that `kid` (for the audit event).
    kid_in_header: bool,
    pub(crate) alg: HeaderAlg,
    pub(crate) claims: ClaimFacts,
    /// The claims other than the registered ones (federation only).
    pub(crate) others: Others,
    now: SystemTime,
}

/// A rejection and what the pipeline had learned of the token.
pub(crate) struct Rejected {
    pub(crate) error: Error,
    seen: Seen,
}

impl Rejected {
    fn unseen(error: Error) -> Self {
        Self {
            error,
            seen: Seen::default(),
        }
    }
}

impl<'t> Screened<'t> {
    pub(crate) fn reject(self, error: Error, registered: Option<bool>) -> Rejected {
        Rejected {
            error,
            seen: Seen {
                iss: Some(self.iss),
                kid: self.kid,
                jti: None,
                registered,
            },
        }
    }
}

impl Checked {
    pub(crate) fn reject(self, error: Error) -> Rejected {
        let kid = self.kid_in_header.then_some(self.kid);
        Rejected {
            error,
            seen: Seen {
                iss: Some(self.iss),
                kid,
                jti: Some(self.claims.jti),
                registered: Some(true),
            },
        }
    }
}

impl Pipeline<'_> {
    /// Screen, keys (registered or cached only), signature, claims.
    pub(crate) fn check(&self, token: &str, client_id: Option<&str>) -> Result<Checked, Rejected> {
        let (screened, entry) = self.screen_and_find(token, client_id)?;
        match select::cached(entry, self.clock.now()) {
            Ok(credential) => self.prove(screened, &credential),
            Err(e) => Err(screened.reject(e, Some(true))),
        }
    }

    /// [`Pipeline::check`], fetching remote keys as their cache rules allow.
    pub(crate) async fn check_async(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<Checked, Rejected> {
        let (screened, entry) = self.screen_and_find(token, client_id)?;
        let now = self.clock.now();
        match select::fetched(entry, screened.kid.as_deref(), screened.alg, now).await {
            Ok(credential) => self.prove(screened, &credential),
            Err(e) => Err(screened.reject(e, Some(true))),
        }
    }

    /// The whole pipeline, recording the `jti`.
    pub(crate) fn run(&self, token: &str, client_id: Option<&str>) -> Result<Checked, Rejected> {
        self.record(self.check(token, client_id)?)
    }

    /// The record step: the replay entry of `checked`.
    pub(crate) fn record(&self, checked: Checked) -> Result<Checked, Rejected> {
        match self.replay.record(&self.entry(&checked)) {
            Ok(()) => Ok(checked),
            Err(e) => Err(checked.reject(e)),
        }
    }

    /// The record step on the async path.
    pub(crate) async fn record_async(&self, checked: Checked) -> Result<Checked, Rejected> {
        match self.replay.record_async(&self.entry(&checked)).await {
            Ok(()) => Ok(checked),
            Err(e) => Err(checked.reject(e)),
        }
    }

    /// The whole pipeline on the async path.
    pub(crate) async fn run_async(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<Checked, Rejected> {
        self.record_async(self.check_async(token, client_id).await?)
            .await
    }

    /// Emits the audit event of `result` and hands it to the caller, every
    /// error marked with this verifier's usage.
    pub(crate) fn audited(
        &self,
        result: Result<Checked, Rejected>,
        replay: ReplayCheck,
    ) -> Result<Checked, Error> {
        let usage = self.kind.usage();
        match result {
            Ok(c) => {
                audit::verified(&Accepted {
                    usage,
                    replay,
                    client_id: &c.iss,
                    kid: &c.kid,
                    jti: &c.claims.jti,
                    alg: c.alg.name(),
                    expires_at: c.claims.expires_at,
                });
                Ok(c)
            }
            Err(r) => {
                let registered = |iss: &str| self.registry.contains(iss);
                audit::rejected(usage, replay, &r.error, &r.seen, &registered);
                Err(r.error.for_usage(usage))
            }
        }
    }

    /// The entry to record: scoped by this server's issuer, and, for the
    /// quarantine rule, acceptable since `iat` (without `iat`, since
    /// `exp - max_lifetime - leeway`, the earliest instant the lifetime
    /// rule lets it through).
    fn entry<'c>(&'c self, c: &'c Checked) -> ReplayEntry<'c> {
        let scope = ReplayScope::new(self.kind.replay(), &self.policy.issuer, &c.iss);
        let window = self.policy.max_lifetime + self.policy.leeway;
        let since = c.claims.issued_at.unwrap_or_else(|| {
            (c.claims.expires_at.checked_sub(window)).unwrap_or(SystemTime::UNIX_EPOCH)
        });
        ReplayEntry::new(scope, &c.claims.jti, c.now)
            .retain_until(c.claims.retain_until)
            .issued_at(c.claims.issued_at)
            .acceptable_since(since)
    }

    /// Screening and the registration `iss` names, whose method must fit
    /// the header's `alg`.
    fn screen_and_find<'t>(
        &self,
        token: &'t str,
        client_id: Option<&str>,
    ) -> Result<(Screened<'t>, ClientEntry), Rejected> {
        let screened = self.screen(token, client_id)?;
        let Some(entry) = self.registry.get(&screened.iss) else {
            let mut error = Error::new(self.kind.unknown());
            if let Some(near) = self.registry.near_miss(&screened.iss) {
                error = error.with_near_miss(near);
            }
            return Err(screened.reject(error, Some(false)));
        };
        if let Err(e) = select::method_fits(&entry, screened.alg) {
            return Err(screened.reject(e, Some(true)));
        }
        Ok((screened, entry))
    }

    /// Signature, then claims; the `kid` is the header's own string when it
    /// named the key (moved, not copied).
    pub(crate) fn prove(
        &self,
        mut s: Screened<'_>,
        credential: &Credential,
    ) -> Result<Checked, Rejected> {
        let signed = Signed {
            kid: s.kid.as_deref(),
            alg: s.alg,
            input: s.signing_input,
            signature: &s.signature,
        };
        let key_kid = match select::verify_signature(credential, &signed) {
            Ok(kid) => kid,
            Err(e) => return Err(s.reject(e, Some(true))),
        };
        let now = self.clock.now();
        let rule = self.kind.subject();
        let (iss, input) = (s.iss.as_str(), s.signing_input);
        let claims = match claims::check(
            self.policy,
            now,
            &mut s.claims,
            (iss, input),
            rule,
            self.loosened,
        ) {
            Ok(claims) => claims,
            Err(e) => return Err(s.reject(e, Some(true))),
        };
        let kid_in_header = s.kid.is_some();
        let kid = match s.kid {
            Some(kid) if kid == key_kid => kid,
            _ => key_kid.to_owned(),
        };
        Ok(Checked {
            iss: s.iss,
            kid,
            kid_in_header,
            alg: s.alg,
            claims,
            others: std::mem::take(&mut s.claims.others),
            now,
        })
    }

    /// Size, shape and header rules; the claimed issuer, which must equal
    /// the `client_id` parameter when one was sent.
    fn screen<'t>(
        &self,
        token: &'t str,
        client_id: Option<&str>,
    ) -> Result<Screened<'t>, Rejected> {
        self.screen_as(token, client_id, &|_, _| None)
    }

    /// [`Pipeline::screen`] where a token is looked up by the name
    /// `lookup` gives it, if any (a JWT-SVID's trust domain), instead of
    /// its `iss`; the federation driver keeps the other claims too.
    pub(crate) fn screen_as<'t>(
        &self,
        token: &'t str,
        client_id: Option<&str>,
        lookup: LookupName<'_>,
    ) -> Result<Screened<'t>, Rejected> {
        let keep = self.kind == Kind::Federation;
        let Parsed {
            header,
            mut claims,
            signing_input,
            signature,
        } = token::parse_keeping(token, self.policy.max_token_size, keep)
            .map_err(Rejected::unseen)?;
        let iss = match lookup(claims.iss.is_some(), claims.sub.as_ref()) {
            Some(name) => {
                claims.iss = None;
                Some(Json::Str(name))
            }
            None => claims.iss.take(),
        };
        let claimed = |iss: Option<Json>, kid: Option<String>, error: Error| Rejected {
            error,
            seen: Seen::claimed(json_string(iss), kid),
        };
        let (alg, kid) = match self.header_rules(header) {
            Ok(checked) => checked,
            Err((error, kid)) => return Err(claimed(iss, kid, error)),
        };
        let iss = match claims::string_claim(iss, "iss is required") {
            Ok(iss) => iss,
            Err(error) => return Err(Rejected::unseen(error)),
        };
        let screened = Screened {
            iss,
            kid,
            alg,
            claims,
            signing_input,
            signature,
        };
        if client_id.is_some_and(|c| c != screened.iss) {
            let e = Error::detail(
                ErrorKind::IssuerMismatch,
                "iss differs from the client_id parameter",
            );
            return Err(screened.reject(e, None));
        }
        Ok(screened)
    }

    /// `crit`/`jwk`/`jku`/`x5u`, `typ`, `alg` (allowlist), `kid`. A failure
    /// keeps the header's `kid` string, if any, for the audit event.
    fn header_rules(
        &self,
        header: Header,
    ) -> Result<(HeaderAlg, Option<String>), (Error, Option<String>)> {
        let Header {
            alg,
            kid,
            typ,
            forbidden,
        } = header;
        let kid = match kid {
            None => Ok(None),
            Some(Json::Str(k)) => Ok(Some(k)),
            Some(_) => Err(Error::detail(ErrorKind::Malformed, "kid is not a string")),
        };
        let alg = self.header_alg(forbidden, typ.as_ref(), alg.as_ref());
        match (alg, kid) {
            (Ok(alg), Ok(kid)) => Ok((alg, kid)),
            (Err(e), kid) => Err((e, kid.ok().flatten())),
            (Ok(_), Err(e)) => Err((e, None)),
        }
    }

    fn header_alg(
        &self,
        forbidden: bool,
        typ: Option<&Json>,
        alg: Option<&Json>,
    ) -> Result<HeaderAlg, Error> {
        if forbidden {
            return Err(Error::new(ErrorKind::HeaderNotAllowed));
        }
        let typ = match typ {
            None => None,
            Some(Json::Str(t)) => Some(t.as_str()),
            Some(_) => return Err(Error::new(ErrorKind::TypeNotAllowed)),
        };
        if !self.types.allows(typ) {
            return Err(Error::new(ErrorKind::TypeNotAllowed));
        }
        let name = match alg {
            Some(Json::Str(name)) => name,
            None => return Err(Error::detail(ErrorKind::Malformed, "no alg header")),
            Some(_) => return Err(Error::new(ErrorKind::AlgorithmNotAllowed)),
        };
        if let (Some(hmac), Hmac::Accepted) = (HmacAlgorithm::lookup(name), self.hmac) {
            return Ok(HeaderAlg::Hmac(hmac));
        }
        let alg = Algorithm::from_name(name)?;
        if !self.policy.algorithms.contains(&alg) {
            return Err(Error::new(ErrorKind::AlgorithmNotAllowed));
        }
        Ok(HeaderAlg::Asymmetric(alg))
    }
}

fn json_string(v: Option<Json>) -> Option<String> {
    match v {
        Some(Json::Str(s)) => Some(s),
        _ => None,
    }
}
