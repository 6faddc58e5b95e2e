//! The rules a strict verifier applies, one by one, to a decoded (and
//! unverified) token: what `inspect` shows for each profile and what
//! `explain` cites as "expected / found / fix" after the library's verifier
//! rejected a token. The library's verifier decides; these rules only
//! describe, in the pipeline's order (size, header, `typ`, `alg`, `kid`,
//! `iss`/`sub`, `aud`, times, `jti`), and name the reason code a rejection
//! would carry.

use client_assertion::client::TokenType;
use client_assertion::{Algorithm, JwkSet, KeyType, Policy, Profile, Verifier};
use serde_json::{json, Value};

use crate::common::{now_unix, short};
use crate::token::Decoded;

/// How a rule came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// Passes.
    Ok,
    /// Worth knowing; no verifier rejects for it.
    Info,
    /// Passes here, but is likely refused by a server or is poor practice.
    Warn,
    /// A strict verifier rejects the token for it.
    Fail,
}

impl Level {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Fail => "fail",
        }
    }
}

/// One rule's outcome.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub(crate) rule: &'static str,
    pub(crate) level: Level,
    /// The verifier's reason code, for a failure.
    pub(crate) code: Option<&'static str>,
    pub(crate) found: String,
    pub(crate) expected: String,
    pub(crate) fix: Option<String>,
}

impl Finding {
    fn new(rule: &'static str, level: Level, found: String, expected: impl Into<String>) -> Self {
        Self {
            rule,
            level,
            code: None,
            found,
            expected: expected.into(),
            fix: None,
        }
    }

    fn ok(rule: &'static str, found: String, expected: impl Into<String>) -> Self {
        Self::new(rule, Level::Ok, found, expected)
    }

    fn fail(rule: &'static str, code: &'static str, found: String, expected: &str) -> Self {
        let mut f = Self::new(rule, Level::Fail, found, expected);
        f.code = Some(code);
        f
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub(crate) fn to_json(&self) -> Value {
        json!({
            "rule": self.rule, "level": self.level.name(), "code": self.code,
            "found": self.found, "expected": self.expected, "fix": self.fix,
        })
    }
}

/// What the verifier expects: a profile's rules and the policy's values.
#[derive(Clone, Debug)]
pub(crate) struct Rules {
    pub(crate) profile: Option<Profile>,
    /// The accepted audiences, when known (`explain`, `inspect --audience`).
    pub(crate) audiences: Option<Vec<String>>,
    pub(crate) audience_array: bool,
    pub(crate) client_id: Option<String>,
    pub(crate) leeway: f64,
    pub(crate) max_lifetime: f64,
    pub(crate) max_age: f64,
    pub(crate) max_token_size: usize,
    pub(crate) max_jti_length: usize,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) token_types: Vec<TokenType>,
    pub(crate) jwks: Option<JwkSet>,
    pub(crate) now: f64,
}

impl Rules {
    /// The defaults of `profile` (or of a verifier without one).
    pub(crate) fn new(profile: Option<Profile>) -> Self {
        let (algorithms, token_types, leeway) = match &profile {
            Some(p) => (
                p.algorithms().to_vec(),
                p.accepted_token_types().to_vec(),
                p.leeway().unwrap_or(Policy::DEFAULT_LEEWAY),
            ),
            None => (
                Algorithm::ALL.to_vec(),
                vec![
                    TokenType::ClientAuthentication,
                    TokenType::Jwt,
                    TokenType::Omitted,
                ],
                Policy::DEFAULT_LEEWAY,
            ),
        };
        Self {
            profile,
            audiences: None,
            audience_array: false,
            client_id: None,
            leeway: leeway.as_secs_f64(),
            max_lifetime: Policy::DEFAULT_MAX_LIFETIME.as_secs_f64(),
            max_age: Policy::DEFAULT_MAX_AGE.as_secs_f64(),
            max_token_size: Policy::DEFAULT_MAX_TOKEN_SIZE,
            max_jti_length: Policy::DEFAULT_MAX_JTI_LENGTH,
            algorithms,
            token_types,
            jwks: None,
            now: now_unix(),
        }
    }

    /// The profile's display name.
    pub(crate) fn label(&self) -> &'static str {
        match &self.profile {
            None => "default verifier (no profile)",
            Some(Profile::Rfc7523bis) => "rfc7523bis",
            Some(Profile::Fapi2) => "FAPI 2.0",
            Some(Profile::EntraId { .. }) => "Entra ID",
            Some(Profile::LegacyTokenEndpoint { .. }) => "legacy token endpoint",
            Some(_) => "other profile",
        }
    }

    /// The profile's stable name.
    pub(crate) fn name(&self) -> &'static str {
        self.profile.as_ref().map_or("default", Profile::name)
    }
}

/// Every rule, in the pipeline's order.
pub(crate) fn lint(token: &Decoded, rules: &Rules) -> Vec<Finding> {
    let mut out = vec![size(token, rules)];
    out.extend(header_members(token, rules));
    out.push(typ(token, rules));
    out.push(alg(token, rules));
    out.push(kid(token, rules));
    out.extend(issuer(token, rules));
    out.push(audience(token, rules));
    out.extend(times(token, rules));
    out.push(jti(token, rules));
    out
}

/// A JSON value as short, printable text.
fn show(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(v) => short(&v.to_string()),
    }
}

fn size(token: &Decoded, rules: &Rules) -> Finding {
    let found = format!("{} bytes", token.size);
    let expected = format!("at most {} bytes", rules.max_token_size);
    if token.size > rules.max_token_size {
        return Finding::fail("size", "too_large", found, &expected)
            .fix("drop the x5c chain or large extra claims");
    }
    Finding::ok("size", found, expected)
}

/// `crit`, `jwk`, `jku`, `x5u` are refused; the others are never used as
/// a key (or for anything) by the verifier.
fn header_members(token: &Decoded, rules: &Rules) -> Vec<Finding> {
    let mut out = Vec::new();
    for (name, value) in &token.header.0 {
        let found = format!("{}: {}", short(name), show(Some(value)));
        match name.as_str() {
            "alg" | "kid" | "typ" => {}
            "crit" | "jwk" | "jku" | "x5u" => out.push(
                Finding::fail(
                    "header",
                    "header_not_allowed",
                    found,
                    "no crit, jwk, jku or x5u (keys come only from the registration)",
                )
                .fix(format!("sign without the {} header member", short(name))),
            ),
            "x5c" | "x5t" | "x5t#S256" => out.push(Finding::new(
                "header",
                Level::Info,
                found,
                "ignored: a verifier never takes a key or a trust decision from the token",
            )),
            _ => out.push(Finding::new(
                "header",
                Level::Info,
                found,
                "an unknown header member, ignored",
            )),
        }
    }
    if matches!(rules.profile, Some(Profile::EntraId { .. }))
        && token.header.get("x5t#S256").is_none()
    {
        out.push(
            Finding::new(
                "header",
                Level::Warn,
                "no x5t#S256".into(),
                "Entra ID finds the certificate credential by x5t#S256 (or the legacy x5t)",
            )
            .fix("sign with --cert FILE (adds x5t#S256)"),
        );
    }
    out
}

/// Whether JOSE `typ` names media type `name` (RFC 7515 §4.1.9).
fn media_type_is(typ: &str, name: &str) -> bool {
    let short = match typ.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    short.eq_ignore_ascii_case(name)
}

fn type_names(types: &[TokenType]) -> String {
    let names: Vec<&str> = types
        .iter()
        .map(|t| t.header_value().unwrap_or("(no typ)"))
        .collect();
    names.join(" or ")
}

fn typ(token: &Decoded, rules: &Rules) -> Finding {
    let value = token.header.get("typ");
    let found = show(value);
    let expected = type_names(&rules.token_types);
    let kind = match value {
        None => Some(TokenType::Omitted),
        Some(Value::String(t)) if media_type_is(t, "client-authentication+jwt") => {
            Some(TokenType::ClientAuthentication)
        }
        Some(Value::String(t)) if media_type_is(t, "JWT") => Some(TokenType::Jwt),
        _ => None,
    };
    match kind {
        Some(k) if rules.token_types.contains(&k) => Finding::ok("typ", found, expected),
        Some(_) => Finding::fail("typ", "type_not_allowed", found, &expected).fix(format!(
            "sign with typ {} (the signer's --profile sets it)",
            rules.token_types[0].header_value().unwrap_or("omitted")
        )),
        None => Finding::fail("typ", "type_not_allowed", found, &expected)
            .fix("this is another kind of token (an access or ID token?); send a client assertion"),
    }
}

fn key_type_name(t: KeyType) -> &'static str {
    match t {
        KeyType::P256 => "P-256",
        KeyType::P384 => "P-384",
        KeyType::Ed25519 => "Ed25519",
        KeyType::Rsa => "RSA",
        _ => "other",
    }
}

fn alg_names(algs: &[Algorithm]) -> String {
    let names: Vec<&str> = algs.iter().map(|a| a.name()).collect();
    names.join(", ")
}

fn alg(token: &Decoded, rules: &Rules) -> Finding {
    let value = token.header.get("alg");
    let found = show(value);
    let expected = format!("one of {}", alg_names(&rules.algorithms));
    let name = match value {
        None => {
            return Finding::fail("alg", "malformed", found, &expected)
                .fix("every JWS header needs alg")
        }
        Some(Value::String(name)) => name,
        Some(_) => return Finding::fail("alg", "algorithm_not_allowed", found, &expected),
    };
    let alg = match Algorithm::from_name(name) {
        Ok(alg) => alg,
        Err(e) => {
            return Finding::fail("alg", "algorithm_not_allowed", found, &expected)
                .fix(format!("sign with an asymmetric key ({e})"))
        }
    };
    if !rules.algorithms.contains(&alg) {
        return Finding::fail("alg", "algorithm_not_allowed", found, &expected)
            .fix(format!("sign with {} (--alg)", rules.algorithms[0].name()));
    }
    let needs = key_type_name(alg.key_type());
    let registered = match (token.header.get("kid"), &rules.jwks) {
        (Some(Value::String(kid)), Some(set)) => set.find(kid),
        _ => None,
    };
    if let Some(jwk) = registered {
        if jwk.key_type() != alg.key_type() || jwk.algorithm().is_some_and(|a| a != alg) {
            let key = format!(
                "{found}, but kid {} is a key of type {}{}",
                short(jwk.kid()),
                key_type_name(jwk.key_type()),
                jwk.algorithm()
                    .map(|a| format!(" for {a} only"))
                    .unwrap_or_default()
            );
            return Finding::fail(
                "alg",
                "algorithm_not_allowed",
                key,
                &format!("a {needs} key"),
            )
            .fix("the key decides alg: sign with the key registered under this kid");
        }
    }
    Finding::ok(
        "alg",
        found,
        format!("{expected}; {name} needs a {needs} key"),
    )
}

fn kid(token: &Decoded, rules: &Rules) -> Finding {
    let value = token.header.get("kid");
    let found = show(value);
    let kid = match value {
        None => {
            return Finding::new(
                "kid",
                Level::Warn,
                found,
                format!(
                    "a kid; without one the verifier tries at most {} registered keys",
                    Verifier::MAX_KEYS_TRIED_WITHOUT_KID
                ),
            )
        }
        Some(Value::String(kid)) => kid,
        Some(_) => return Finding::fail("kid", "malformed", found, "a string"),
    };
    let Some(set) = &rules.jwks else {
        return Finding::ok("kid", found, "the kid of a registered key");
    };
    let kids: Vec<String> = set.keys().iter().map(|k| short(k.kid())).collect();
    let expected = format!("one of the registered kids: {}", kids.join(", "));
    if set.find(kid).is_none() {
        return Finding::fail("kid", "unknown_key", found, &expected).fix(
            "register the signing key's JWK Set (client-assertion jwks --key KEY) \
             or sign with a registered key",
        );
    }
    Finding::ok("kid", found, expected)
}

fn issuer(token: &Decoded, rules: &Rules) -> Vec<Finding> {
    let iss = token.claims.get("iss");
    let sub = token.claims.get("sub");
    let client = rules.client_id.as_deref();
    let expected = match client {
        Some(c) => format!("the client id {:?}", short(c)),
        None => "the client id".to_owned(),
    };
    let iss_finding = match iss {
        None => Finding::fail("iss", "missing_claim", show(iss), &expected),
        Some(Value::String(i)) if client.is_some_and(|c| c != i) => {
            Finding::fail("iss", "unknown_client", show(iss), &expected)
                .fix("iss must be the client id the server registered the keys for")
        }
        Some(Value::String(_)) => Finding::ok("iss", show(iss), expected),
        Some(_) => Finding::fail("iss", "invalid_claim", show(iss), "a string"),
    };
    let sub_finding = match (sub, iss) {
        (None, _) => Finding::fail("sub", "missing_claim", show(sub), "equal to iss"),
        (Some(Value::String(s)), Some(Value::String(i))) if s == i => {
            Finding::ok("sub", show(sub), "equal to iss")
        }
        (Some(_), _) => Finding::fail("sub", "subject_mismatch", show(sub), "equal to iss")
            .fix("for client authentication iss and sub are both the client id"),
    };
    vec![iss_finding, sub_finding]
}

/// The last path segment names a token endpoint (`/token`, `/oauth2/v2.0/token`,
/// `/as/token.oauth2`).
fn looks_like_token_endpoint(aud: &str) -> bool {
    let path = aud.split(['?', '#']).next().unwrap_or_default();
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    last.eq_ignore_ascii_case("token") || last.eq_ignore_ascii_case("token.oauth2")
}

fn audience(token: &Decoded, rules: &Rules) -> Finding {
    let value = token.claims.get("aud");
    let found = show(value);
    let aud = match value {
        None => return Finding::fail("aud", "missing_claim", found, "one string"),
        Some(Value::String(a)) => a.as_str(),
        Some(Value::Array(items)) if rules.audience_array && items.len() == 1 => {
            match items[0].as_str() {
                Some(a) => a,
                None => return Finding::fail("aud", "audience_mismatch", found, "one string"),
            }
        }
        Some(Value::Array(_)) => {
            return Finding::fail(
                "aud",
                "audience_mismatch",
                found,
                "one string, not an array",
            )
            .fix("sign aud as a single string (draft-ietf-oauth-rfc7523bis)")
        }
        Some(_) => return Finding::fail("aud", "audience_mismatch", found, "one string"),
    };
    if let Some(accepted) = &rules.audiences {
        let list: Vec<String> = accepted.iter().map(|a| format!("{:?}", short(a))).collect();
        let expected = format!("exactly {}", list.join(" or "));
        if accepted.iter().any(|a| a == aud) {
            return Finding::ok("aud", found, expected);
        }
        let fix = if looks_like_token_endpoint(aud) && !looks_like_token_endpoint(&accepted[0]) {
            format!(
                "aud is a token endpoint: sign with --audience {} (the issuer identifier), \
                 or accept it on the server with --also-accept-audience",
                short(&accepted[0])
            )
        } else {
            format!("sign with --audience {}", short(&accepted[0]))
        };
        return Finding::fail("aud", "audience_mismatch", found, &expected).fix(fix);
    }
    audience_form(aud, found, rules)
}

/// Without the server's audience: whether `aud` has the profile's form.
fn audience_form(aud: &str, found: String, rules: &Rules) -> Finding {
    match &rules.profile {
        Some(Profile::EntraId { .. }) => {
            let expected = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
            let tenant_endpoint =
                aud.starts_with(Profile::ENTRA_ID_AUTHORITY) && aud.ends_with("/oauth2/v2.0/token");
            if tenant_endpoint {
                Finding::ok("aud", found, expected)
            } else {
                Finding::fail("aud", "audience_mismatch", found, expected)
                    .fix("sign with --profile entra-id --tenant TENANT")
            }
        }
        Some(Profile::LegacyTokenEndpoint { .. }) => {
            let level = if looks_like_token_endpoint(aud) {
                Level::Ok
            } else {
                Level::Info
            };
            Finding::new(
                "aud",
                level,
                found,
                "the token endpoint URL (the issuer is accepted too)",
            )
        }
        _ if looks_like_token_endpoint(aud) => Finding::new(
            "aud",
            Level::Warn,
            found,
            "the issuer identifier, one string; this looks like a token endpoint, \
             which a strict rfc7523bis server rejects (audience_mismatch)",
        )
        .fix("sign with --audience ISSUER (the server's issuer identifier)"),
        _ => Finding::ok(
            "aud",
            found,
            "the issuer identifier, one string (pass --audience to compare exactly)",
        ),
    }
}

/// A NumericDate claim: `Ok(None)` when absent, `Err` when not a number.
fn date(token: &Decoded, name: &'static str) -> Result<Option<f64>, Finding> {
    match token.claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(t) if t.is_finite() && t >= 0.0 => Ok(Some(t)),
            _ => Err(not_a_date(token, name)),
        },
        Some(_) => Err(not_a_date(token, name)),
    }
}

fn not_a_date(token: &Decoded, name: &'static str) -> Finding {
    let rule = match name {
        "exp" => "exp",
        "nbf" => "nbf",
        _ => "iat",
    };
    Finding::fail(
        rule,
        "invalid_claim",
        show(token.claims.get(name)),
        "a NumericDate (seconds since 1970)",
    )
}

fn secs(t: f64) -> String {
    format!("{t:.0} s")
}

fn times(token: &Decoded, rules: &Rules) -> Vec<Finding> {
    let now = rules.now;
    let parsed = (date(token, "exp"), date(token, "nbf"), date(token, "iat"));
    let (exp, nbf, iat) = match parsed {
        (Ok(exp), Ok(nbf), Ok(iat)) => (exp, nbf, iat),
        (exp, nbf, iat) => {
            return [exp.err(), nbf.err(), iat.err()]
                .into_iter()
                .flatten()
                .collect()
        }
    };
    let Some(exp) = exp else {
        return vec![Finding::fail(
            "exp",
            "missing_claim",
            "(absent)".into(),
            "a NumericDate",
        )];
    };
    let mut out = vec![expiry(exp, now, rules.leeway)];
    for (name, t) in [("nbf", nbf), ("iat", iat)] {
        if let Some(t) = t {
            out.push(future(name, t, now, rules.leeway));
        }
    }
    if nbf.is_some_and(|nbf| nbf >= exp) {
        out.push(Finding::fail(
            "nbf",
            "invalid_claim",
            format!("nbf {} after exp", secs(nbf.unwrap_or(exp) - exp)),
            "nbf before exp",
        ));
    }
    out.extend(lifetime(exp, iat, rules));
    out
}

fn expiry(exp: f64, now: f64, leeway: f64) -> Finding {
    if now >= exp + leeway {
        return Finding::fail(
            "exp",
            "expired",
            format!("expired {} ago", secs(now - exp)),
            &format!("now < exp + leeway ({})", secs(leeway)),
        )
        .fix("mint a fresh assertion for each request (and check the signer's clock)");
    }
    Finding::ok(
        "exp",
        format!("expires in {}", secs(exp - now)),
        "in the future",
    )
}

fn future(name: &'static str, t: f64, now: f64, leeway: f64) -> Finding {
    let rule = if name == "nbf" { "nbf" } else { "iat" };
    let ahead = t - now;
    let expected = format!("not more than the leeway ({}) ahead of now", secs(leeway));
    if ahead > leeway {
        return Finding::fail(
            rule,
            "not_yet_valid",
            format!("{name} is {} ahead of this clock", secs(ahead)),
            &expected,
        )
        .fix("the signer's clock runs ahead: synchronise it (NTP)");
    }
    if ahead > 0.0 {
        return Finding::new(
            rule,
            Level::Warn,
            format!("{name} is {} ahead of this clock (clock skew)", secs(ahead)),
            expected,
        );
    }
    Finding::ok(rule, format!("{name} {} ago", secs(now - t)), expected)
}

fn lifetime(exp: f64, iat: Option<f64>, rules: &Rules) -> Vec<Finding> {
    let now = rules.now;
    let max = format!("at most {}", secs(rules.max_lifetime));
    let Some(iat) = iat else {
        let found = format!("no iat; exp is {} from now", secs(exp - now));
        if exp - now > rules.max_lifetime + rules.leeway {
            return vec![Finding::fail("lifetime", "lifetime_too_long", found, &max)];
        }
        return vec![Finding::new("lifetime", Level::Info, found, max)];
    };
    if exp < iat {
        return vec![Finding::fail(
            "lifetime",
            "invalid_claim",
            "exp before iat".into(),
            "iat <= exp",
        )];
    }
    let life = format!("exp - iat = {}", secs(exp - iat));
    let mut out = vec![if exp - iat > rules.max_lifetime {
        Finding::fail("lifetime", "lifetime_too_long", life, &max).fix(format!(
            "sign with --lifetime {:.0} or less",
            rules.max_lifetime
        ))
    } else {
        Finding::ok("lifetime", life, max)
    }];
    let age = format!("issued {} ago", secs(now - iat));
    let max_age = format!(
        "at most max age + leeway ({})",
        secs(rules.max_age + rules.leeway)
    );
    out.push(if now - iat > rules.max_age + rules.leeway {
        Finding::fail("age", "lifetime_too_long", age, &max_age)
            .fix("present the assertion right after minting it; mint one per request")
    } else {
        Finding::ok("age", age, max_age)
    });
    out
}

fn jti(token: &Decoded, rules: &Rules) -> Finding {
    let value = token.claims.get("jti");
    let expected = format!(
        "a unique string of 1 to {} bytes (this crate's signer: 43 random characters)",
        rules.max_jti_length
    );
    let jti = match value {
        None => {
            return Finding::fail("jti", "missing_claim", show(value), &expected)
                .fix("every assertion needs a fresh random jti")
        }
        Some(Value::String(j)) => j,
        Some(_) => return Finding::fail("jti", "invalid_claim", show(value), &expected),
    };
    let found = format!("{} bytes", jti.len());
    if jti.is_empty() || jti.len() > rules.max_jti_length {
        return Finding::fail("jti", "invalid_claim", found, &expected);
    }
    if jti.len() < 16 {
        return Finding::new("jti", Level::Warn, found, expected)
            .fix("a short jti has little entropy and may collide: use 128 random bits or more");
    }
    Finding::ok("jti", found, expected)
}
