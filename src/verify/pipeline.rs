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
//! record  the replay entry, one call site per path (ReplayStore)
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
use super::token::{self, Claims, Header, Json, Parsed};
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
}

impl Kind {
    fn usage(self) -> Usage {
        match self {
            Self::ClientAuthentication => Usage::ClientAuthentication,
            Self::AuthorizationGrant => Usage::AuthorizationGrant,
        }
    }
    fn subject(self) -> SubjectRule {
        match self {
            Self::ClientAuthentication => SubjectRule::SameAsIssuer,
            Self::AuthorizationGrant => SubjectRule::NonEmpty,
        }
    }
    fn unknown(self) -> ErrorKind {
        match self {
            Self::ClientAuthentication => ErrorKind::UnknownClient,
            Self::AuthorizationGrant => ErrorKind::UnknownIssuer,
        }
    }
    fn replay(self) -> ReplayKind {
        match self {
            Self::ClientAuthentication => ReplayKind::ClientAssertion,
            Self::AuthorizationGrant => ReplayKind::AuthorizationGrant,
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

/// Everything checked but (until recorded) the replay rule.
pub(crate) struct Checked {
    pub(crate) iss: String,
    /// The `kid` of the key that verified the signature.
    pub(crate) kid: String,
    /// Whether the header named that `kid` (for the audit event).
    kid_in_header: bool,
    pub(crate) alg: HeaderAlg,
    pub(crate) claims: ClaimFacts,
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
    fn reject(self, error: Error, registered: Option<bool>) -> Rejected {
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
    fn reject(self, error: Error) -> Rejected {
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
        let checked = self.check(token, client_id)?;
        match self.replay.record(&self.entry(&checked)) {
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
        let checked = self.check_async(token, client_id).await?;
        match self.replay.record_async(&self.entry(&checked)).await {
            Ok(()) => Ok(checked),
            Err(e) => Err(checked.reject(e)),
        }
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

    fn entry<'c>(&'c self, c: &'c Checked) -> ReplayEntry<'c> {
        let scope = ReplayScope::new(self.kind.replay(), &self.policy.issuer, &c.iss);
        ReplayEntry::new(scope, &c.claims.jti, c.now)
            .retain_until(c.claims.retain_until)
            .issued_at(c.claims.issued_at)
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
            return Err(screened.reject(Error::new(self.kind.unknown()), Some(false)));
        };
        if let Err(e) = select::method_fits(&entry, screened.alg) {
            return Err(screened.reject(e, Some(true)));
        }
        Ok((screened, entry))
    }

    /// Signature, then claims; the `kid` is the header's own string when it
    /// named the key (moved, not copied).
    fn prove(&self, mut s: Screened<'_>, credential: &Credential) -> Result<Checked, Rejected> {
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
        let Parsed {
            header,
            mut claims,
            signing_input,
            signature,
        } = token::parse(token, self.policy.max_token_size).map_err(Rejected::unseen)?;
        let iss = claims.iss.take();
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
