//! Decoding an untrusted compact JWS for display, without verifying
//! anything: exactly three segments, strict base64url, header and claims
//! JSON objects without duplicate members (a strict verifier refuses all of
//! these as `malformed`). Nothing here decides validity; every failure is
//! a clean message, never a panic.

use std::collections::HashSet;
use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::common::{read_text, short, Failure};

/// The most bytes of a token read (standard input or the command line):
/// far above what any verifier accepts, so that a large token is still
/// decoded and reported as too large.
pub(crate) const INPUT_LIMIT: usize = 1 << 20;

/// A decoded, unverified token.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// The compact serialization's length in bytes.
    pub(crate) size: usize,
    /// The header's members, in order.
    pub(crate) header: Members,
    /// The claims, in order.
    pub(crate) claims: Members,
    /// The signature's length in bytes (never shown).
    pub(crate) signature_len: usize,
}

/// A JSON object's members, in order, without duplicates.
#[derive(Debug, Default)]
pub(crate) struct Members(pub(crate) Vec<(String, Value)>);

impl Members {
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub(crate) fn to_value(&self) -> Value {
        Value::Object(self.0.iter().cloned().collect())
    }
}

impl<'de> de::Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut seen = HashSet::new();
                let mut out = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    if !seen.insert(name.clone()) {
                        return Err(de::Error::custom(format!(
                            "duplicate member {:?}",
                            short(&name)
                        )));
                    }
                    out.push((name, value));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Reads the token: the argument itself, or standard input for `-`
/// (surrounding whitespace trimmed).
pub(crate) fn read_token(arg: &str) -> Result<String, Failure> {
    let text = if arg == "-" {
        read_text("-", INPUT_LIMIT, "token")?
    } else {
        arg.to_owned()
    };
    Ok(text.trim().to_owned())
}

/// Decodes `token`; the error says what is wrong with its shape.
pub(crate) fn decode(token: &str) -> Result<Decoded, String> {
    if token.is_empty() {
        return Err("the token is empty".into());
    }
    let segments: Vec<&str> = token.split('.').collect();
    match segments.len() {
        3 => {}
        5 => return Err("5 segments: a JWE (encrypted JWT), not a signed assertion".into()),
        n => return Err(format!("{n} segment(s); a compact JWS has exactly 3")),
    }
    let header = object(segments[0], "header")?;
    let claims = object(segments[1], "claims")?;
    let signature = URL_SAFE_NO_PAD
        .decode(segments[2])
        .map_err(|_| "the signature is not strict base64url".to_owned())?;
    Ok(Decoded {
        size: token.len(),
        header,
        claims,
        signature_len: signature.len(),
    })
}

fn object(segment: &str, what: &str) -> Result<Members, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| format!("the {what} is not strict base64url (no padding, no +/)"))?;
    serde_json::from_slice::<Members>(&bytes)
        .map_err(|e| format!("the {what} is not a JSON object: {}", short(&e.to_string())))
}
