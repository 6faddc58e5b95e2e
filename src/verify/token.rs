//! Bounded, strict parsing of an untrusted compact JWS.
//!
//! Size is checked before anything else; then exactly three segments, each
//! strict base64url; header and claims must be JSON objects without
//! duplicate members. Registered members are read into loosely typed
//! values ([`Json`]) so that a wrong type becomes a precise rejection later
//! rather than a generic parse error. Nothing here decides validity.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::b64;
use crate::error::{Error, ErrorKind};

/// A JSON value reduced to what claim checks need.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Str(String),
    Num(f64),
    /// An array; only string members are kept, `None` marks any other member.
    Arr(Vec<Option<String>>),
    /// `true` or `false`.
    Bool(bool),
    /// Anything else (object, null).
    Other,
}

impl<'de> de::Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
                Ok(Json::Str(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Num(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Num(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
                Ok(Json::Num(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Json>()? {
                    out.push(match item {
                        Json::Str(s) => Some(s),
                        _ => None,
                    });
                }
                Ok(Json::Arr(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Json::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Reads a JSON object whose members named in `known` are kept (in that
/// order, written into `values` in place: the arrays are a few hundred
/// bytes, worth not moving through every serde layer) and all others
/// skipped; any duplicate member name is an error.
struct StrictObject<'v, const N: usize> {
    known: [&'static str; N],
    values: &'v mut [Option<Json>; N],
    /// Where the other members are kept (federated tokens: their platform
    /// claims), duplicate-free at every depth; `None`: skipped.
    others: Option<&'v mut Others>,
}

/// The members of a claims object other than the registered ones.
pub(crate) type Others = serde_json::Map<String, serde_json::Value>;

impl<'de, const N: usize> DeserializeSeed<'de> for StrictObject<'_, N> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for StrictObject<'_, N> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        // Created at the first member that is not registered (rare).
        let mut others: Option<HashSet<String>> = None;
        while let Some(member) = map.next_key_seed(MemberName(&self.known))? {
            match member {
                Member::Known(i) => {
                    if self.values[i].is_some() {
                        return Err(de::Error::custom("duplicate member"));
                    }
                    self.values[i] = Some(map.next_value::<Json>()?);
                }
                Member::Other(name) => {
                    if let Some(kept) = self.others.as_deref_mut() {
                        if kept.contains_key(&name) {
                            return Err(de::Error::custom("duplicate member"));
                        }
                        let value = map.next_value_seed(StrictValue)?;
                        kept.insert(name, value);
                        continue;
                    }
                    if !others.get_or_insert_with(HashSet::new).insert(name) {
                        return Err(de::Error::custom("duplicate member"));
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Any JSON value, refusing a duplicate member name in any object at any
/// depth (serde_json's own `Value` keeps the last one silently).
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = serde_json::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<serde_json::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = serde_json::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            out.push(item);
        }
        Ok(serde_json::Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Others::new();
        while let Some(name) = map.next_key::<String>()? {
            if out.contains_key(&name) {
                return Err(de::Error::custom("duplicate member"));
            }
            let value = map.next_value_seed(StrictValue)?;
            out.insert(name, value);
        }
        Ok(serde_json::Value::Object(out))
    }
}

/// A member name, matched against the known names where serde hands it
/// over: a registered name costs no allocation; any other one is kept (owned)
/// for the duplicate check.
enum Member {
    Known(usize),
    Other(String),
}

struct MemberName<'k>(&'k [&'static str]);

impl<'de> DeserializeSeed<'de> for MemberName<'_> {
    type Value = Member;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Member, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for MemberName<'_> {
    type Value = Member;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    // Escaped names arrive here unescaped, as serde_json decodes them:
    // `"\u0061lg"` is `alg`.
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Member, E> {
        Ok(match self.0.iter().position(|k| same_name(k, name)) {
            Some(i) => Member::Known(i),
            None => Member::Other(name.to_owned()),
        })
    }
}

/// `known == name`, inlined: member names are a few bytes long, where a
/// call to `memcmp` per candidate costs more than the comparison.
#[inline]
fn same_name(known: &str, name: &str) -> bool {
    known.len() == name.len() && known.bytes().zip(name.bytes()).all(|(a, b)| a == b)
}

/// Reads the JSON object `bytes` into `values` (see [`StrictObject`]).
fn parse_object<const N: usize>(
    bytes: &[u8],
    known: [&'static str; N],
    values: &mut [Option<Json>; N],
    others: Option<&mut Others>,
) -> Result<(), Error> {
    // RFC 7519 §7.2: the UTF-8 representation of a JSON object. Checked up
    // front: serde_json skips ignored members' strings without validating them.
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("JSON is not UTF-8"))?;
    let mut de = serde_json::Deserializer::from_str(text);
    if (StrictObject {
        known,
        values,
        others,
    })
    .deserialize(&mut de)
    .is_err()
    {
        return Err(malformed("not a JSON object, or a duplicate member"));
    }
    de.end().map_err(|_| malformed("trailing data after JSON"))
}

fn malformed(detail: &'static str) -> Error {
    Error::detail(ErrorKind::Malformed, detail)
}

/// The JOSE header members that matter.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) alg: Option<Json>,
    pub(crate) kid: Option<Json>,
    pub(crate) typ: Option<Json>,
    /// `crit`, `jwk`, `jku` or `x5u` is present, or `b64` with another
    /// value than `true`.
    pub(crate) forbidden: bool,
}

const HEADER_MEMBERS: [&str; 8] = ["alg", "kid", "typ", "crit", "jwk", "jku", "x5u", "b64"];

/// Whether a `b64` header member (RFC 7797) is refused: any value but
/// `true`. `"b64": false` means an unencoded payload, which RFC 7797 §6
/// allows only with `b64` listed in `crit`, and `crit` is refused; reading
/// such a JWS as an ordinary one would check a signature over other bytes
/// than its producer meant. `true` is the default and changes nothing.
/// jsonwebtoken 12 refuses the same headers.
fn b64_refused(b64: Option<&Json>) -> bool {
    b64.is_some_and(|v| *v != Json::Bool(true))
}

/// The registered claims.
#[derive(Debug)]
pub(crate) struct Claims {
    pub(crate) iss: Option<Json>,
    pub(crate) sub: Option<Json>,
    pub(crate) aud: Option<Json>,
    pub(crate) exp: Option<Json>,
    pub(crate) nbf: Option<Json>,
    pub(crate) iat: Option<Json>,
    pub(crate) jti: Option<Json>,
    /// Every other member, kept only when asked for ([`parse_keeping`]);
    /// else empty.
    pub(crate) others: Others,
}

const CLAIM_MEMBERS: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

/// A token split and decoded, not yet verified.
#[derive(Debug)]
pub(crate) struct Parsed<'t> {
    pub(crate) header: Header,
    pub(crate) claims: Claims,
    /// `header '.' payload`, the bytes the signature covers.
    pub(crate) signing_input: &'t [u8],
    pub(crate) signature: Vec<u8>,
}

/// Splits and decodes `token`, rejecting anything not strictly well formed.
pub(crate) fn parse(token: &str, max_len: usize) -> Result<Parsed<'_>, Error> {
    parse_keeping(token, max_len, false)
}

/// [`parse`], keeping the claims other than the registered ones in
/// [`Claims::others`] when `keep_others` (a federated token's platform
/// claims), with the same duplicate rule at every depth.
pub(crate) fn parse_keeping(
    token: &str,
    max_len: usize,
    keep_others: bool,
) -> Result<Parsed<'_>, Error> {
    if token.len() > max_len {
        return Err(Error::new(ErrorKind::TooLarge));
    }
    let bytes = token.as_bytes();
    // Only the first two dots are searched for (memchr): a third one would
    // sit in the signature segment, whose strict base64url decoding refuses it.
    let three_segments = || malformed("a compact JWS has exactly three segments");
    let first = token.find('.').ok_or_else(three_segments)?;
    let second = first + 1 + token[first + 1..].find('.').ok_or_else(three_segments)?;
    let (h, p, s) = (
        &bytes[..first],
        &bytes[first + 1..second],
        &bytes[second + 1..],
    );
    // An empty signature is left to the header and signature checks, so that
    // an unsecured JWS (`alg` `none`, RFC 7515 §A.5) is reported as
    // `algorithm_not_allowed`; no algorithm verifies an empty signature.
    if h.is_empty() || p.is_empty() {
        return Err(malformed("empty JWS segment"));
    }
    // One buffer for all three segments: header, then payload, then the
    // signature, which the result keeps.
    let mut buf = Vec::with_capacity(h.len().max(p.len()).max(s.len()));
    b64::decode_into(h, &mut buf).ok_or_else(|| malformed("header is not strict base64url"))?;
    let mut members = std::array::from_fn(|_| None);
    parse_object(&buf, HEADER_MEMBERS, &mut members, None)?;
    let [alg, kid, typ, crit, jwk, jku, x5u, b64] = members;
    let header = Header {
        alg,
        kid,
        typ,
        forbidden: crit.is_some()
            || jwk.is_some()
            || jku.is_some()
            || x5u.is_some()
            || b64_refused(b64.as_ref()),
    };
    b64::decode_into(p, &mut buf).ok_or_else(|| malformed("payload is not strict base64url"))?;
    let mut members = std::array::from_fn(|_| None);
    let mut others = Others::new();
    let keep = keep_others.then_some(&mut others);
    parse_object(&buf, CLAIM_MEMBERS, &mut members, keep)?;
    let [iss, sub, aud, exp, nbf, iat, jti] = members;
    b64::decode_into(s, &mut buf).ok_or_else(|| malformed("signature is not strict base64url"))?;
    let signature = buf;
    Ok(Parsed {
        header,
        claims: Claims {
            iss,
            sub,
            aud,
            exp,
            nbf,
            iat,
            jti,
            others,
        },
        signing_input: &bytes[..second],
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header.as_bytes()),
            b64::encode(claims.as_bytes()),
            b64::encode(b"sig")
        )
    }

    #[test]
    fn parses_members_and_types() {
        let t = tok(
            r#"{"alg":"ES256","kid":"k","x":{"a":1}}"#,
            r#"{"iss":"c","aud":["a",1],"exp":1.5,"jti":"j","other":[1,2]}"#,
        );
        let p = parse(&t, 8192).unwrap();
        assert_eq!(p.header.alg, Some(Json::Str("ES256".into())));
        assert!(!p.header.forbidden);
        assert_eq!(p.claims.exp, Some(Json::Num(1.5)));
        assert_eq!(p.claims.aud, Some(Json::Arr(vec![Some("a".into()), None])));
        assert_eq!(p.signature, b"sig");
    }

    #[test]
    fn kept_claims_are_duplicate_free_at_every_depth() {
        let t = tok(
            r#"{"alg":"a"}"#,
            r#"{"sub":"s","k":{"a":[1,{"b":true}]},"n":null}"#,
        );
        let p = parse_keeping(&t, 8192, true).unwrap();
        assert_eq!(p.claims.others["k"]["a"][1]["b"], serde_json::json!(true));
        assert!(p.claims.others["n"].is_null());
        assert!(
            !p.claims.others.contains_key("sub"),
            "registered claims stay typed"
        );
        assert!(parse(&t, 8192).unwrap().claims.others.is_empty());
        for dup in [
            r#"{"k":{"a":1,"a":2}}"#,
            r#"{"k":[{"x":1,"x":1}]}"#,
            r#"{"k":1,"k":2}"#,
        ] {
            let t = tok("{}", dup);
            let e = parse_keeping(&t, 8192, true).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Malformed, "{dup}");
        }
    }

    #[test]
    fn rejects_duplicates_non_objects_and_bad_shapes() {
        let kind = |t: &str| parse(t, 8192).unwrap_err().kind();
        assert_eq!(
            kind(&tok(r#"{"alg":"a","alg":"b"}"#, "{}")),
            ErrorKind::Malformed
        );
        assert_eq!(kind(&tok("{}", r#"{"x":1,"x":2}"#)), ErrorKind::Malformed);
        assert_eq!(kind(&tok("[]", "{}")), ErrorKind::Malformed);
        assert_eq!(kind(&tok("{}", "1")), ErrorKind::Malformed);
        assert_eq!(kind(&tok("{}", "{} x")), ErrorKind::Malformed);
        assert_eq!(kind("a.b"), ErrorKind::Malformed);
        assert_eq!(kind("a.b.c.d"), ErrorKind::Malformed);
        assert_eq!(
            kind(&format!("{}..", b64::encode(b"{}"))),
            ErrorKind::Malformed
        );
        assert_eq!(
            parse(&"a".repeat(9000), 8192).unwrap_err().kind(),
            ErrorKind::TooLarge
        );
        let not_utf8 = format!(
            "{}.{}.{}",
            b64::encode(b"{}"),
            b64::encode(b"{\"x\":\"\xae\"}"),
            b64::encode(b"sig")
        );
        assert_eq!(
            kind(&not_utf8),
            ErrorKind::Malformed,
            "ignored member not UTF-8"
        );
        // Names are compared unescaped, registered or not.
        assert_eq!(
            kind(&tok(r#"{"alg":"a","\u0061lg":"b"}"#, "{}")),
            ErrorKind::Malformed
        );
        assert_eq!(
            kind(&tok("{}", r#"{"x\u0079":1,"xy":2}"#)),
            ErrorKind::Malformed
        );
        let escaped = tok(r#"{"\u0061lg":"ES256"}"#, "{}");
        let p = parse(&escaped, 8192).unwrap();
        assert_eq!(p.header.alg, Some(Json::Str("ES256".into())));
        let t = tok(r#"{"crit":["b64"]}"#, "{}");
        assert!(parse(&t, 8192).unwrap().header.forbidden);
    }

    #[test]
    fn b64_is_refused_unless_true() {
        for (header, refused) in [
            (r#"{"b64":true}"#, false),
            (r#"{"b64":false}"#, true),
            (r#"{"\u0062\u0036\u0034":false}"#, true),
            (r#"{"b64":"false"}"#, true),
            (r#"{"b64":null}"#, true),
            (r#"{"b64":1}"#, true),
            (r#"{"b64":[true]}"#, true),
            (r#"{"B64":false}"#, false),
        ] {
            let t = tok(header, "{}");
            assert_eq!(
                parse(&t, 8192).unwrap().header.forbidden,
                refused,
                "{header}"
            );
        }
    }
}
