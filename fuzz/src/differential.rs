//! Differential fuzzing against `jsonwebtoken`'s `decode`.
//!
//! A fixed key per algorithm family and a valid client assertion template
//! are built once. The fuzz input drives mutations of the template (JSON
//! members set, removed or duplicated; bytes of the JSON text flipped,
//! inserted or deleted; base64url variants of each segment; signature
//! variants such as high-S, DER, truncation; raw byte edits of the final
//! token), the result is signed with the fixed key unless a mutation
//! happens after signing, and both verifiers judge it:
//!
//! - **We accept** ⇒ the oracle's own signature check
//!   (`jsonwebtoken::crypto::verify`) accepts the signature. Anything else
//!   is a forgery and panics. If the oracle's full `decode` still rejects,
//!   the only allowed reason is [`ORACLE_STRICTER`].
//! - **The oracle accepts and we reject** ⇒ our reason code must be one of
//!   the documented stricter rules in [`STRICTER`], and the token must show
//!   the feature that rule is about (a duplicate member for `malformed`, an
//!   `iat` too old for `lifetime_too_long`, ...).
//! - **We say `bad_signature`** ⇒ the oracle's signature check rejects it too.
//!
//! With the `aws-lc-rs` feature our verdict is taken on both of our crypto
//! backends, which must agree exactly.
//!
//! Time: `jsonwebtoken` reads the system clock, so the template's times are
//! relative to the system time at the start of each run, our verifier's
//! [`ManualClock`] is set to that second, and a run during which the second
//! changes is not compared.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use client_assertion::time::ManualClock;
use client_assertion::{
    jwk_set, Algorithm, Backend, ClientRegistry, Error, ErrorKind, KeySource, Policy, PrivateKey,
    VerifiedAssertion, Verifier,
};
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::value::RawValue;
use serde_json::Value;

/// The verifier's issuer identifier, the only accepted audience.
pub const ISSUER: &str = "https://as.example.com";
/// The registered client (`iss` = `sub`).
pub const CLIENT: &str = "fuzz-client";
/// Our default policy's numbers, mirrored in the oracle where it has them.
const LEEWAY: f64 = 30.0;
const MAX_LIFETIME: f64 = 3600.0;
const MAX_AGE: f64 = 300.0;
const MAX_JTI_LENGTH: usize = 256;
const MAX_TOKEN_SIZE: usize = 8192;

/// Our reason codes that may reject a token the oracle accepts: the
/// documented rules in which this crate is stricter than a generic JWT
/// library (README, "Verification policy"). Each is only accepted when the
/// token shows the feature the rule is about; see [`explain_stricter`].
pub const STRICTER: &[(ErrorKind, &str)] = &[
    (
        ErrorKind::Malformed,
        "duplicate JSON members (the oracle keeps the last); header and claims JSON \
         objects (the oracle reads an array as its claims struct) whose registered \
         members are faithful JSON values (no lone surrogate escape, no number beyond \
         f64: the oracle skips iat); kid a string (the oracle reads null as absent)",
    ),
    (ErrorKind::TooLarge, "tokens above 8 KiB"),
    (
        ErrorKind::TypeNotAllowed,
        "typ other than client-authentication+jwt or JWT",
    ),
    (
        ErrorKind::HeaderNotAllowed,
        "crit, jwk, jku and x5u headers; b64 other than true (both refuse b64 false)",
    ),
    (
        ErrorKind::AudienceMismatch,
        "aud must be one string, not an array containing it",
    ),
    (ErrorKind::MissingClaim, "jti is required"),
    (
        ErrorKind::InvalidClaim,
        "jti 1..=256 bytes; iss/sub strings; iat a NumericDate not after exp; nbf before exp",
    ),
    (
        ErrorKind::LifetimeTooLong,
        "exp - iat <= 1 h; now - iat <= 5 min + leeway; without iat, exp - now <= 1 h + leeway",
    ),
    (
        ErrorKind::NotYetValid,
        "iat no more than leeway in the future; nbf compared unrounded (the oracle rounds)",
    ),
    (
        ErrorKind::Expired,
        "expired at now >= exp + leeway (the oracle: now > round(exp) + leeway)",
    ),
    (
        ErrorKind::UnknownKey,
        "a kid naming another key (the oracle is handed the key)",
    ),
];

/// The only reason for which the oracle may reject a token we accept (after
/// its signature check agreed): its typed header refuses a member we ignore
/// (`cty`, `x5c`, `x5t`, ... of the wrong type) or an `alg` name it does not
/// know (`Ed25519`, RFC 9864).
pub const ORACLE_STRICTER: &str = "jsonwebtoken::decode_header fails";

struct Subject {
    key: PrivateKey,
    /// Our verifier on each backend ([`Backend::available`] order).
    verifiers: Vec<Verifier>,
    decoding: DecodingKey,
    validation: Validation,
}

struct Setup {
    clock: ManualClock,
    /// P-256, P-384, Ed25519, RSA.
    subjects: Vec<Subject>,
}

fn oracle_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::Es256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::Es384 => jsonwebtoken::Algorithm::ES384,
        Algorithm::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        Algorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
        _ => jsonwebtoken::Algorithm::PS256,
    }
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let clock = ManualClock::at_unix(0);
        let pems = [
            include_str!("../../tests/data/p256.pkcs8.pem"),
            include_str!("../../tests/data/p384.pkcs8.pem"),
            include_str!("../../tests/data/ed25519.pkcs8.pem"),
            include_str!("../../tests/data/rsa2048.pkcs8.pem"),
        ];
        let subjects = pems
            .iter()
            .map(|pem| {
                let key = PrivateKey::from_pem(pem).expect("fixture key");
                let jwks = jwk_set([&key as &dyn KeySource]).to_json();
                let verifiers = Backend::available()
                    .iter()
                    .map(|backend| {
                        let registry = std::sync::Arc::new(ClientRegistry::with_backend(*backend));
                        registry
                            .register_jwks_json(CLIENT, &jwks)
                            .expect("fixture registers");
                        Verifier::builder(ISSUER, registry)
                            .policy(Policy::new(ISSUER))
                            .clock(std::sync::Arc::new(clock.clone()))
                            .build()
                            .expect("default policy")
                    })
                    .collect();
                let jwk: jsonwebtoken::jwk::Jwk =
                    serde_json::from_str(&key.public_jwk().to_json()).expect("oracle reads JWK");
                let decoding = DecodingKey::from_jwk(&jwk).expect("oracle key");
                let mut validation = Validation::new(oracle_alg(key.algorithms()[0]));
                validation.algorithms = key.algorithms().iter().map(|a| oracle_alg(*a)).collect();
                validation.leeway = LEEWAY as u64;
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.set_audience(&[ISSUER]);
                validation.set_issuer(&[CLIENT]);
                validation.sub = Some(CLIENT.to_owned());
                validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
                Subject {
                    key,
                    verifiers,
                    decoding,
                    validation,
                }
            })
            .collect();
        Setup { clock, subjects }
    })
}

/// Reads the fuzz input as a stream of choices (zeros once exhausted).
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn below(&mut self, n: usize) -> usize {
        let v = usize::from(self.byte()) << 8 | usize::from(self.byte());
        if n == 0 {
            0
        } else {
            v % n
        }
    }
    fn pick<T: Copy>(&mut self, table: &[T]) -> T {
        table[self.below(table.len())]
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1).min(self.0.len());
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        taken.to_vec()
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A JSON object as an ordered list of raw `(name, value)` JSON texts, so
/// that duplicates, escaped names and invalid values can be expressed.
#[derive(Clone)]
struct Object(Vec<(String, String)>);

impl Object {
    fn text(&self) -> Vec<u8> {
        let members: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("{{{}}}", members.join(",")).into_bytes()
    }
    fn set(&mut self, name: String, value: String) {
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some(member) => member.1 = value,
            None => self.0.push((name, value)),
        }
    }
    fn remove(&mut self, index: usize) {
        if index < self.0.len() {
            self.0.remove(index);
        }
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

const HEADER_NAMES: &[&str] = &[
    r#""alg""#,
    r#""kid""#,
    r#""typ""#,
    r#""crit""#,
    r#""jwk""#,
    r#""jku""#,
    r#""x5u""#,
    r#""x5c""#,
    r#""x5t""#,
    r##""x5t#S256""##,
    r#""cty""#,
    r#""b64""#,
    r#""zip""#,
    r#""enc""#,
    r#""\u0061lg""#,
    r#""\u006bid""#,
    r#""ALG""#,
    r#""other""#,
];

const CLAIM_NAMES: &[&str] = &[
    r#""iss""#,
    r#""sub""#,
    r#""aud""#,
    r#""exp""#,
    r#""nbf""#,
    r#""iat""#,
    r#""jti""#,
    r#""\u0069ss""#,
    r#""\u0061ud""#,
    r#""e\u0078p""#,
    r#""j\u0074i""#,
    r#""scope""#,
    r#""other""#,
];

const STRINGS: &[&str] = &[
    CLIENT,
    ISSUER,
    "",
    "JWT",
    "jwt",
    "application/jwt",
    "client-authentication+jwt",
    "application/client-authentication+jwt",
    "CLIENT-AUTHENTICATION+JWT",
    "at+jwt",
    "dpop+jwt",
    "ES256",
    "ES384",
    "EdDSA",
    "Ed25519",
    "RS256",
    "PS256",
    "none",
    "HS256",
    "fuzz-client ",
    "Fuzz-client",
    "https://as.example.com/",
    "https://AS.example.com",
    "other-client",
    "j",
    "b64",
];

const RAW_VALUES: &[&str] = &[
    "null",
    "true",
    "false",
    "{}",
    "[]",
    r#"{"a":1}"#,
    "0",
    "-0",
    "-1",
    "1e308",
    "1e400",
    "-1e400",
    "18446744073709551616",
    "1e-7",
    "0.0",
    r#""fuzz\u002dclient""#,
    r#""https:\/\/as.example.com""#,
    r#""\ud800""#,
    r#""\u0000""#,
    r#"["b64"]"#,
];

const DELTAS: &[i64] = &[
    -100_000, -400, -331, -330, -329, -301, -300, -90, -61, -60, -31, -30, -29, -1, 0, 1, 29, 30,
    31, 59, 60, 61, 299, 300, 301, 3570, 3599, 3600, 3601, 3629, 3630, 3631, 3700, 86_400,
];

/// A JSON value (raw text) chosen by the input.
fn value(input: &mut Input<'_>, now: u64, kid: &str) -> String {
    let at = |delta: i64| now.saturating_add_signed(delta);
    match input.byte() % 12 {
        0 | 1 => quoted(input.pick(STRINGS)),
        2 | 3 => at(input.pick(DELTAS)).to_string(),
        4 => match input.byte() % 4 {
            0 => format!("{}.5", at(input.pick(DELTAS))),
            1 => format!("{}.0", at(input.pick(DELTAS))),
            2 => format!("{:e}", at(input.pick(DELTAS)) as f64),
            _ => format!("{}.999999", at(input.pick(DELTAS))),
        },
        5 => input.pick(RAW_VALUES).to_string(),
        6 => {
            let n = 1 + input.below(3);
            let members: Vec<String> = (0..n).map(|_| quoted(input.pick(STRINGS))).collect();
            format!("[{}]", members.join(","))
        }
        7 => quoted(&String::from_utf8_lossy(&input.bytes(16))),
        8 => String::from_utf8_lossy(&input.bytes(16)).into_owned(),
        9 => quoted(kid),
        10 => quoted(&"a".repeat(MAX_JTI_LENGTH + input.below(3) - 1)),
        _ => quoted(&"k".repeat(9000)),
    }
}

/// Flips, inserts, deletes or replaces one byte of `text`.
fn byte_edit(input: &mut Input<'_>, text: &mut Vec<u8>) {
    let pos = input.below(text.len() + 1);
    let op = input.byte() % 5;
    let b = input.byte();
    match op {
        0 if pos < text.len() => text[pos] ^= 1 << (b % 8),
        1 => text.insert(pos, b),
        2 if pos < text.len() => {
            text.remove(pos);
        }
        3 if pos < text.len() => text[pos] = b,
        _ => text.insert(pos, input.pick(b" \t\r\n,:{}[]\"\\.=")),
    }
}

/// A base64url encoding of `bytes`, canonical or one of its variants.
fn encode(variant: u8, pos: usize, bytes: &[u8]) -> String {
    let canonical = URL_SAFE_NO_PAD.encode(bytes);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    match variant % 6 {
        1 => {
            // Padded.
            let pad = (4 - canonical.len() % 4) % 4;
            canonical + &"=".repeat(pad)
        }
        2 => canonical.replace('-', "+").replace('_', "/"),
        3 => {
            // Non-canonical trailing bits: bump the last character.
            let mut s = canonical.into_bytes();
            if let Some(last) = s.last_mut() {
                let i = ALPHABET.iter().position(|c| c == last).unwrap_or(0);
                *last = ALPHABET[(i + 1) % 64];
            }
            String::from_utf8(s).expect("base64 is ASCII")
        }
        4 => {
            let mut s = canonical;
            let pos = pos % (s.len() + 1);
            s.insert(pos, '\n');
            s
        }
        5 => canonical + "=",
        _ => canonical,
    }
}

/// The order of P-256 and P-384, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
const P384_N: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

/// `n - s` for the `s` half of a raw ECDSA signature (the other valid
/// signature of the same message: high-S if `s` was low and vice versa).
fn negate_s(sig: &mut [u8]) {
    let half = sig.len() / 2;
    let n: &[u8] = match half {
        32 => &P256_N,
        48 => &P384_N,
        _ => return,
    };
    let s = &mut sig[half..];
    let mut borrow = 0i16;
    for i in (0..half).rev() {
        let mut d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        s[i] = d as u8;
    }
}

/// The DER encoding of a raw `r || s` ECDSA signature.
fn der_signature(sig: &[u8]) -> Vec<u8> {
    let int = |x: &[u8]| {
        let x = &x[x.iter().position(|&b| b != 0).unwrap_or(x.len())..];
        let mut out = vec![0x02];
        let pad = x.first().is_some_and(|b| b & 0x80 != 0);
        out.push((x.len() + usize::from(pad)) as u8);
        if pad {
            out.push(0);
        }
        out.extend_from_slice(x);
        out
    };
    let (r, s) = sig.split_at(sig.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

/// What the token says, read leniently (last duplicate wins, like the oracle).
struct Facts {
    header: serde_json::Map<String, Value>,
    claims: serde_json::Map<String, Value>,
    duplicate: bool,
    /// The header or the claims are not a JSON object.
    not_objects: bool,
}

/// Whether a JSON object has a member name twice (after unescaping).
fn has_duplicate(bytes: &[u8]) -> bool {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = bool;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut dup = false;
            while let Some(k) = map.next_key::<String>()? {
                dup |= !seen.insert(k);
                map.next_value::<IgnoredAny>()?;
            }
            Ok(dup)
        }
    }
    serde_json::Deserializer::from_slice(bytes)
        .deserialize_map(V)
        .unwrap_or(false)
}

/// Decodes a token's header and claims; `None` if it has fewer than two
/// base64url segments. A part that no JSON library reads faithfully (a
/// lone surrogate escape, a number beyond `f64`) counts as not an object;
/// its members are still read one by one (see [`lenient_object`]), so that
/// a rule about a registered claim is explained even when an extension
/// claim holds such a number.
fn facts(token: &str) -> Option<Facts> {
    let mut parts = token.split('.');
    let header = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let claims = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let strict = |bytes: &[u8]| matches!(serde_json::from_slice(bytes), Ok(Value::Object(_)));
    Some(Facts {
        duplicate: has_duplicate(&header) || has_duplicate(&claims),
        not_objects: !strict(&header) || !strict(&claims),
        header: lenient_object(&header).unwrap_or_default(),
        claims: lenient_object(&claims).unwrap_or_default(),
    })
}

/// A JSON object's members that parse as values (last duplicate wins, like
/// the oracle); members whose value no `Value` holds (`-1e400`) are left
/// out instead of failing the whole object. `None` if it is not an object.
fn lenient_object(bytes: &[u8]) -> Option<serde_json::Map<String, Value>> {
    if let Ok(Value::Object(map)) = serde_json::from_slice(bytes) {
        return Some(map);
    }
    let raw: Vec<(String, Box<RawValue>)> = serde_json::from_slice::<RawMembers>(bytes).ok()?.0;
    Some(
        raw.into_iter()
            .filter_map(|(k, v)| Some((k, serde_json::from_str(v.get()).ok()?)))
            .collect(),
    )
}

/// An object's members in order, values unparsed.
struct RawMembers(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for RawMembers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{MapAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawMembers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawMembers, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Box<RawValue>>()? {
                    members.push(member);
                }
                Ok(RawMembers(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// Whether the token shows the feature of the stricter rule `kind`
/// (see [`STRICTER`]); `now` is the shared clock's second.
fn explain_stricter(kind: ErrorKind, token: &str, f: &Facts, kid: &str, now: f64) -> bool {
    let num = |name: &str| f.claims.get(name).and_then(Value::as_f64);
    let (exp, iat) = (num("exp"), num("iat"));
    match kind {
        ErrorKind::Malformed => {
            f.duplicate || f.not_objects || f.header.get("kid").is_some_and(|k| !k.is_string())
        }
        ErrorKind::TooLarge => token.len() > MAX_TOKEN_SIZE,
        ErrorKind::TypeNotAllowed => f.header.get("typ").is_some_and(|t| {
            !t.as_str().is_some_and(|t| {
                [
                    "client-authentication+jwt",
                    "application/client-authentication+jwt",
                    "JWT",
                    "application/jwt",
                ]
                .iter()
                .any(|ok| ok.eq_ignore_ascii_case(t))
            })
        }),
        ErrorKind::HeaderNotAllowed => {
            ["crit", "jwk", "jku", "x5u"]
                .iter()
                .any(|m| f.header.contains_key(*m))
                || f.header.get("b64").is_some_and(|b| *b != Value::Bool(true))
        }
        ErrorKind::AudienceMismatch => f.claims.get("aud").and_then(Value::as_str) != Some(ISSUER),
        ErrorKind::MissingClaim => !f.claims.contains_key("jti"),
        ErrorKind::InvalidClaim => {
            let jti_ok = f
                .claims
                .get("jti")
                .and_then(Value::as_str)
                .is_some_and(|j| !j.is_empty() && j.len() <= MAX_JTI_LENGTH);
            let iat_ok = match f.claims.get("iat") {
                None => true,
                Some(v) => v.as_f64().is_some_and(|t| t >= 0.0),
            };
            let strings = ["iss", "sub"]
                .iter()
                .all(|c| f.claims.get(*c).is_some_and(Value::is_string));
            let nbf_before_exp = match (num("nbf"), exp) {
                (Some(n), Some(e)) => n < e,
                _ => true,
            };
            !jti_ok
                || !iat_ok
                || !strings
                || !nbf_before_exp
                || matches!((exp, iat), (Some(e), Some(i)) if e < i)
        }
        ErrorKind::LifetimeTooLong => match (exp, iat) {
            (Some(e), Some(i)) => e - i > MAX_LIFETIME || now - i > MAX_AGE + LEEWAY,
            (Some(e), None) => e - now > MAX_LIFETIME + LEEWAY,
            _ => false,
        },
        ErrorKind::NotYetValid => {
            iat.is_some_and(|i| i > now + LEEWAY) || num("nbf").is_some_and(|n| n > now + LEEWAY)
        }
        ErrorKind::Expired => exp.is_some_and(|e| now >= e + LEEWAY),
        ErrorKind::UnknownKey => f.header.get("kid").is_some_and(|k| k.as_str() != Some(kid)),
        _ => false,
    }
}

/// The claims the oracle is asked for, as an application would declare them
/// (other members are skipped, as by our verifier; the registered ones it
/// validates itself).
#[derive(serde::Deserialize)]
struct OracleClaims {
    jti: Option<Value>,
}

/// Signs with a small cache: many inputs only differ after signing.
fn sign_cached(key: &PrivateKey, alg: Algorithm, signing_input: &str) -> Vec<u8> {
    type Cache = HashMap<(String, Algorithm, String), Vec<u8>>;
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let id = (key.kid().to_owned(), alg, signing_input.to_owned());
    if let Some(sig) = cache.get(&id) {
        return sig.clone();
    }
    let sig = key
        .sign(alg, signing_input.as_bytes())
        .expect("the fixture key signs");
    if cache.len() >= 4096 {
        cache.clear();
    }
    cache.insert(id, sig.clone());
    sig
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Builds a token from the input and compares both verifiers' verdicts;
/// panics on a disagreement that is not a documented stricter rule.
pub fn run(data: &[u8]) {
    let setup = setup();
    let mut input = Input(data);
    let choice = input.byte();
    // Weighted by cost: RSA signing is slow under coverage instrumentation.
    let which = match choice % 32 {
        0..=11 => 0,
        12..=25 => 2,
        26..=29 => 1,
        _ => 3,
    };
    let subject = &setup.subjects[which];
    let key = &subject.key;
    let alg = if choice % 32 == 31 {
        Algorithm::Ps256
    } else {
        key.algorithms()[0]
    };
    let kid = key.kid().to_owned();
    let now = unix_now();
    setup.clock.set_unix(now);

    let mut header = Object(vec![
        (quoted("alg"), quoted(alg.name())),
        (quoted("kid"), quoted(&kid)),
        (quoted("typ"), quoted("client-authentication+jwt")),
    ]);
    let mut claims = Object(vec![
        (quoted("iss"), quoted(CLIENT)),
        (quoted("sub"), quoted(CLIENT)),
        (quoted("aud"), quoted(ISSUER)),
        (
            quoted("jti"),
            quoted("2b7e9a1c-5f3d-4e8a-9c6b-1d0f2e3a4b5c"),
        ),
        (quoted("iat"), now.to_string()),
        (quoted("nbf"), now.to_string()),
        (quoted("exp"), (now + 60).to_string()),
    ]);
    let mut header_edits = Vec::new();
    let mut claims_edits = Vec::new();
    let (mut header_enc, mut claims_enc, mut sig_enc) = ((0, 0), (0, 0), (0, 0));
    let mut sig_variant = 0u8;
    let mut token_edits = 0usize;

    for _ in 0..12 {
        if input.is_empty() {
            break;
        }
        match input.byte() % 14 {
            0 | 1 => {
                let name = input.pick(HEADER_NAMES).to_string();
                let v = value(&mut input, now, &kid);
                header.set(name, v);
            }
            2..=4 => {
                let name = input.pick(CLAIM_NAMES).to_string();
                let v = value(&mut input, now, &kid);
                claims.set(name, v);
            }
            5 => header.remove(input.below(header.0.len())),
            6 => claims.remove(input.below(claims.0.len())),
            7 => {
                let name = input.pick(HEADER_NAMES).to_string();
                let v = value(&mut input, now, &kid);
                header.0.push((name, v));
            }
            8 => {
                let name = input.pick(CLAIM_NAMES).to_string();
                let v = value(&mut input, now, &kid);
                claims.0.push((name, v));
            }
            9 => header_edits.push(input.bytes(8)),
            10 => claims_edits.push(input.bytes(8)),
            11 => {
                let which = input.byte() % 3;
                let variant = (input.byte(), input.below(4096));
                match which {
                    0 => header_enc = variant,
                    1 => claims_enc = variant,
                    _ => sig_enc = variant,
                }
            }
            12 => sig_variant = input.byte(),
            _ => token_edits += 1,
        }
    }

    let mut header_text = header.text();
    for edit in header_edits {
        byte_edit(&mut Input(&edit), &mut header_text);
    }
    let mut claims_text = claims.text();
    for edit in claims_edits {
        byte_edit(&mut Input(&edit), &mut claims_text);
    }
    let signing_input = format!(
        "{}.{}",
        encode(header_enc.0, header_enc.1, &header_text),
        encode(claims_enc.0, claims_enc.1, &claims_text)
    );
    let mut signature = sign_cached(key, alg, &signing_input);
    let ecdsa = matches!(alg, Algorithm::Es256 | Algorithm::Es384);
    match sig_variant % 9 {
        1 => signature.clear(),
        2 => {
            signature.pop();
        }
        3 => signature.push(0),
        4 => signature.insert(0, 0),
        5 => {
            let i = usize::from(sig_variant) % signature.len().max(1);
            if let Some(b) = signature.get_mut(i) {
                *b ^= 0x01;
            }
        }
        6 if ecdsa => negate_s(&mut signature),
        7 if ecdsa => signature = der_signature(&signature),
        8 => signature = key.sign(alg, b"another input").expect("signs"),
        _ => {}
    }
    let mut token = format!(
        "{signing_input}.{}",
        encode(sig_enc.0, sig_enc.1, &signature)
    )
    .into_bytes();
    for _ in 0..token_edits {
        byte_edit(&mut input, &mut token);
    }
    let token = String::from_utf8_lossy(&token).into_owned();

    let mut verdicts = subject
        .verifiers
        .iter()
        .map(|v| v.dangerous().verify_without_replay_check(&token));
    let ours = verdicts.next().expect("at least one backend");
    for other in verdicts {
        assert_eq!(
            other.as_ref().map_err(Error::kind),
            ours.as_ref().map_err(Error::kind),
            "our backends disagree: {token:?}"
        );
    }
    let theirs =
        jsonwebtoken::decode::<OracleClaims>(&token, &subject.decoding, &subject.validation);
    if unix_now() != now {
        return; // The oracle may have read another second than ours.
    }
    compare(subject, &token, now, ours, theirs);
}

/// The oracle's verdict on the signature alone, with the header's `alg`.
fn oracle_signature_ok(subject: &Subject, token: &str, alg: Algorithm) -> Option<bool> {
    let (input, signature) = token.rsplit_once('.')?;
    jsonwebtoken::crypto::verify(
        signature,
        input.as_bytes(),
        &subject.decoding,
        oracle_alg(alg),
    )
    .ok()
}

fn compare(
    subject: &Subject,
    token: &str,
    now: u64,
    ours: Result<VerifiedAssertion, Error>,
    theirs: jsonwebtoken::errors::Result<jsonwebtoken::TokenData<OracleClaims>>,
) {
    match (ours, theirs) {
        (Ok(ok), theirs) => {
            match theirs {
                // The oracle's decode checked the signature first.
                Ok(data) => assert_eq!(
                    data.claims.jti.as_ref().and_then(Value::as_str),
                    Some(ok.jti()),
                    "the verifiers read different jti values: {token:?}"
                ),
                Err(e) => {
                    assert_eq!(
                        oracle_signature_ok(subject, token, ok.algorithm()),
                        Some(true),
                        "FORGERY: we accepted a token whose signature the oracle rejects \
                         ({e:?}): {token:?}"
                    );
                    assert!(
                        jsonwebtoken::decode_header(token).is_err(),
                        "we accepted a token the oracle rejects ({e:?}), not because of \
                         {ORACLE_STRICTER}: {token:?}"
                    );
                }
            }
        }
        (Err(e), Ok(_)) => {
            let rule = STRICTER.iter().find(|(k, _)| *k == e.kind());
            let Some(f) = facts(token) else {
                panic!("a token the oracle accepts does not decode: {token:?}");
            };
            let kid = subject.key.kid();
            assert!(
                rule.is_some() && explain_stricter(e.kind(), token, &f, kid, now as f64),
                "we rejected ({}: {e}) a token the oracle accepts, not by a documented \
                 stricter rule: {token:?}",
                e.code()
            );
        }
        (Err(e), Err(_)) if e.kind() == ErrorKind::BadSignature => {
            let alg = facts(token)
                .and_then(|f| f.header.get("alg")?.as_str().map(str::to_owned))
                .and_then(|a| Algorithm::from_name(&a).ok());
            if let Some(alg) = alg {
                assert_ne!(
                    oracle_signature_ok(subject, token, alg),
                    Some(true),
                    "we rejected a signature the oracle verifies: {token:?}"
                );
            }
        }
        (Err(_), Err(_)) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn a_number_beyond_f64_in_an_extension_claim_keeps_the_registered_ones() {
        let t = token(
            r#"{"alg":"ES256"}"#,
            r#"{"iat":100,"exp":9000,"x":-1e400,"exp":5000}"#,
        );
        let f = facts(&t).unwrap();
        assert!(f.not_objects, "serde_json's Value cannot hold -1e400");
        assert_eq!(f.claims.get("iat"), Some(&Value::from(100)));
        // The last duplicate wins, as in the oracle.
        assert_eq!(f.claims.get("exp"), Some(&Value::from(5000)));
        assert!(!f.claims.contains_key("x"));
        assert_eq!(f.header.get("alg").and_then(Value::as_str), Some("ES256"));
    }

    #[test]
    fn parts_that_are_not_objects_read_as_empty() {
        let f = facts(&token("[1]", "7")).unwrap();
        assert!(f.not_objects && f.header.is_empty() && f.claims.is_empty());
    }
}
