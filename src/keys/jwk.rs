//! Public JWKs (RFC 7517), JWK Sets, and RFC 7638 thumbprints.
//!
//! [`PublicJwk`] never holds a private member: it is built from a key's
//! public half, so exporting it cannot leak a secret. JWK JSON is read by
//! [`RawJwk`](crate::keys::parse) (in `keys::parse`, with every other key
//! encoding).
//!
//! How a JWK Set is read for verification (limits, private members,
//! skipped keys, shared `kid`s) is documented on [`JwkSet`], the
//! user-facing text (this module is private).

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::algorithm::{Algorithm, KeyType};
use crate::b64;
use crate::backend::PublicParams;
use crate::error::{Error, ErrorKind};
use crate::keys::parse::{self, RawJwk};
use crate::keys::skip::{self, SkippedJwk};

impl PublicParams {
    /// RFC 7638 JWK thumbprint: SHA-256 over the required members in
    /// lexicographic order, no white space; base64url.
    pub(crate) fn thumbprint(&self) -> String {
        let json = match self {
            Self::Ec { curve, x, y } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                curve_name(*curve),
                b64::encode(x),
                b64::encode(y)
            ),
            Self::Ed25519 { x } => {
                format!(
                    r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                    b64::encode(x)
                )
            }
            Self::Rsa { n, e } => format!(
                r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                b64::encode(e),
                b64::encode(n)
            ),
        };
        b64::encode(&Sha256::digest(json.as_bytes()))
    }
}

fn curve_name(curve: KeyType) -> &'static str {
    match curve {
        KeyType::P256 => "P-256",
        KeyType::P384 => "P-384",
        _ => "Ed25519",
    }
}

/// A public JSON Web Key with its `kid`: what a client registers with an
/// authorization server or serves at its `jwks_uri`.
///
/// It is built from a key's public half only and has no private member.
/// Serialised with `kty`, the key parameters, `kid`, `use` = `sig`, and
/// `alg` when the key is restricted to one algorithm.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PublicJwk {
    pub(crate) params: PublicParams,
    pub(crate) kid: String,
    pub(crate) alg: Option<Algorithm>,
}

impl PublicJwk {
    pub(crate) fn new(params: PublicParams, kid: Option<String>, alg: Option<Algorithm>) -> Self {
        let kid = kid.unwrap_or_else(|| params.thumbprint());
        Self { params, kid, alg }
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `alg` the key is restricted to, if any.
    pub fn algorithm(&self) -> Option<Algorithm> {
        self.alg
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.params.key_type()
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key:
    /// the same for every encoding of the same key.
    pub fn thumbprint(&self) -> String {
        self.params.thumbprint()
    }

    /// The JWK as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a public JWK from JSON. Private members, if present, are
    /// ignored (and zeroized).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidKey`] for malformed JSON or parameters,
    /// [`ErrorKind::UnsupportedKey`] for other key types and curves,
    /// [`ErrorKind::WeakKey`] for RSA below 2048 bits,
    /// [`ErrorKind::AlgorithmNotAllowed`] for an `alg` that does not fit.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        Self::from_raw(&RawJwk::from_json(json)?)
    }

    /// Reads a public key from PEM: `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY`
    /// (PKCS#1), or the public half of a private key PEM. The `kid` is the
    /// RFC 7638 thumbprint.
    ///
    /// # Errors
    /// As [`PublicJwk::from_json`].
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        parse::public_from_pem(pem).map(|p| Self::new(p, None, None))
    }

    /// Reads a public key from DER `SubjectPublicKeyInfo`.
    ///
    /// # Errors
    /// As [`PublicJwk::from_json`].
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        parse::public_from_spki(der).map(|p| Self::new(p, None, None))
    }

    /// Replaces the `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// Converts to `jsonwebtoken`'s JWK type.
    #[cfg(feature = "jsonwebtoken")]
    pub fn to_jsonwebtoken(&self) -> jsonwebtoken::jwk::Jwk {
        serde_json::from_value(serde_json::to_value(self).unwrap_or_default())
            .expect("a public JWK of a supported type always fits jsonwebtoken's model")
    }

    /// Reads a public JWK from `jsonwebtoken`'s JWK type.
    ///
    /// # Errors
    /// As [`PublicJwk::from_json`].
    #[cfg(feature = "jsonwebtoken")]
    pub fn from_jsonwebtoken(jwk: &jsonwebtoken::jwk::Jwk) -> Result<Self, Error> {
        let json = serde_json::to_string(jwk)
            .map_err(|_| Error::detail(ErrorKind::InvalidKey, "JWK cannot be serialised"))?;
        Self::from_json(&json)
    }
}

impl fmt::Debug for PublicJwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicJwk")
            .field("kty", &self.key_type())
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Serialize for PublicJwk {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match &self.params {
            PublicParams::Ec { curve, x, y } => {
                m.serialize_entry("kty", "EC")?;
                m.serialize_entry("crv", curve_name(*curve))?;
                m.serialize_entry("x", &b64::encode(x))?;
                m.serialize_entry("y", &b64::encode(y))?;
            }
            PublicParams::Ed25519 { x } => {
                m.serialize_entry("kty", "OKP")?;
                m.serialize_entry("crv", "Ed25519")?;
                m.serialize_entry("x", &b64::encode(x))?;
            }
            PublicParams::Rsa { n, e } => {
                m.serialize_entry("kty", "RSA")?;
                m.serialize_entry("n", &b64::encode(n))?;
                m.serialize_entry("e", &b64::encode(e))?;
            }
        }
        m.serialize_entry("kid", &self.kid)?;
        m.serialize_entry("use", "sig")?;
        if let Some(alg) = self.alg {
            m.serialize_entry("alg", alg.name())?;
        }
        m.end()
    }
}

/// A JWK Set document as JSON: its `keys`, each read later.
#[derive(Deserialize)]
struct SetDocument {
    keys: Vec<Value>,
}

/// A public JWK Set (RFC 7517 §5): `{"keys":[...]}`.
///
/// A set read with [`JwkSet::from_json`] holds the keys that verify
/// signatures and reports the ones it left out in [`JwkSet::skipped`]. Its
/// rules, in order:
///
/// 1. **Limits, before parsing**: at most [`JwkSet::MAX_JSON_LEN`] bytes of
///    JSON and [`JwkSet::MAX_KEYS`] keys ([`ErrorKind::InvalidKey`]).
/// 2. **No private member on any key**: `d`, `p`, `q`, `dp`, `dq`, `qi`,
///    `oth` or `k`, on any key (one that would be skipped too), refuses the
///    whole set with [`ErrorKind::PrivateKeyPublished`].
/// 3. **Skipped, with a [`SkipReason`](crate::keys::SkipReason)**: `use`
///    other than `sig`, `key_ops` without `verify`, an encryption `alg` or
///    an unsupported signature `alg`, an unsupported `kty` or `crv`.
/// 4. **Read strictly**: a broken key of a supported type (bad base64url,
///    an off-curve point, RSA below 2048 bits, an `alg` of another key
///    type), an `oct` key, or `alg` `none` or HMAC fails the whole set.
/// 5. A set whose keys were all skipped is refused with
///    [`ErrorKind::UnsupportedKey`], its detail naming why.
///
/// Keys of different types may share a `kid` (RFC 7517 §4.5); the set keeps
/// both. Two sets are equal when they hold the same keys: what was skipped
/// is a report of the parse, not part of the set, and is not serialised.
#[derive(Clone, Debug, Default, Serialize)]
pub struct JwkSet {
    keys: Vec<PublicJwk>,
    #[serde(skip)]
    skipped: Vec<SkippedJwk>,
}

impl PartialEq for JwkSet {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys
    }
}

impl Eq for JwkSet {}

impl JwkSet {
    /// The longest JWK Set JSON [`JwkSet::from_json`] reads: 64 KiB, checked
    /// before the JSON is parsed (about 40 4096-bit or 20 8192-bit RSA keys,
    /// or 100 EC keys, fit).
    pub const MAX_JSON_LEN: usize = 64 * 1024;

    /// The most keys (usable or not) a JWK Set read by
    /// [`JwkSet::from_json`] may hold, checked before any key is read.
    pub const MAX_KEYS: usize = 100;

    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set of the given keys.
    pub fn from_keys(keys: impl IntoIterator<Item = PublicJwk>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
            skipped: Vec::new(),
        }
    }

    /// Adds a key (also one whose `kid` is already in the set).
    pub fn push(&mut self, key: PublicJwk) {
        self.keys.push(key);
    }

    /// The keys, in order.
    pub fn keys(&self) -> &[PublicJwk] {
        &self.keys
    }

    /// The keys [`JwkSet::from_json`] left out because a signature verifier
    /// cannot use them, in the order of the JSON; empty for a set built in
    /// code.
    pub fn skipped(&self) -> &[SkippedJwk] {
        &self.skipped
    }

    /// The first key with this `kid`, if any. Keys of different types may
    /// share a `kid`: [`JwkSet::find_key`] picks by type as well.
    pub fn find(&self, kid: &str) -> Option<&PublicJwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The key with this `kid` and key type, if any.
    pub fn find_key(&self, kid: &str, key_type: KeyType) -> Option<&PublicJwk> {
        self.keys
            .iter()
            .find(|k| k.kid == kid && k.key_type() == key_type)
    }

    /// The set as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The set as indented JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses a JWK Set from JSON, keeping the keys a signature verifier can
    /// use and recording the others in [`JwkSet::skipped`], by the rules
    /// listed on [`JwkSet`].
    ///
    /// ```
    /// use client_assertion::keys::{JwkSet, SkipReason};
    /// use client_assertion::{jwk_set, KeyType, PrivateKey};
    ///
    /// let key = PrivateKey::generate(KeyType::Ed25519)?;
    /// let mut json: serde_json::Value = serde_json::from_str(&jwk_set([&key]).to_json()).unwrap();
    /// json["keys"].as_array_mut().unwrap().push(serde_json::json!(
    ///     {"kty": "OKP", "crv": "X25519", "use": "enc", "kid": "enc-1", "x": "AAAA"}
    /// ));
    /// let set = JwkSet::from_json(&json.to_string())?;
    /// assert_eq!(set.keys().len(), 1);
    /// assert_eq!(set.skipped()[0].kid(), Some("enc-1"));
    /// assert_eq!(set.skipped()[0].reason(), SkipReason::NotForSignature);
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidKey`] when the JSON is longer than
    /// [`JwkSet::MAX_JSON_LEN`], holds more than [`JwkSet::MAX_KEYS`] keys,
    /// or is not a JWK Set; [`ErrorKind::PrivateKeyPublished`] when any key
    /// carries a private member; [`ErrorKind::UnsupportedKey`] when every
    /// key was skipped; otherwise as [`PublicJwk::from_json`] for the first
    /// bad key that was not skipped.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        Self::check_len(json.len())?;
        let set: SetDocument = serde_json::from_str(json)
            .map_err(|_| Error::detail(ErrorKind::InvalidKey, "not a JWK Set"))?;
        Self::from_values(set.keys)
    }

    /// Refuses a JWK Set document longer than [`JwkSet::MAX_JSON_LEN`].
    pub(crate) fn check_len(len: usize) -> Result<(), Error> {
        if len > Self::MAX_JSON_LEN {
            return Err(Error::detail(
                ErrorKind::InvalidKey,
                "the JWK Set is longer than JwkSet::MAX_JSON_LEN (64 KiB)",
            ));
        }
        Ok(())
    }

    /// The RFC 7638 thumbprints of the keys of a JWK Set document that carry
    /// private members (read without those members): keys whose private
    /// half was published, which must not stay trusted from an earlier copy
    /// of the set. Read leniently, whatever made the set refused (its size
    /// up to 1 MiB, its key count, members other than the key's own): empty
    /// for a document that is not a JWK Set.
    pub(crate) fn leaked_thumbprints(json: &str) -> Vec<String> {
        /// Members that do not make the key, removed before it is read.
        const NOT_THE_KEY: [&str; 5] = ["alg", "use", "key_ops", "kid", "x5c"];
        if json.len() > 1 << 20 {
            return Vec::new();
        }
        let Ok(set) = serde_json::from_str::<SetDocument>(json) else {
            return Vec::new();
        };
        let leaked = set.keys.into_iter().filter_map(|value| match value {
            Value::Object(object) if skip::refuse_private(&object).is_err() => Some(object),
            _ => None,
        });
        leaked
            .filter_map(|mut object| {
                let strip = skip::PRIVATE_MEMBERS.iter().chain(&NOT_THE_KEY);
                strip.for_each(|m| drop(object.remove(*m)));
                let raw: RawJwk = serde_json::from_value(Value::Object(object)).ok()?;
                PublicJwk::from_raw(&raw).ok()
            })
            .map(|jwk| jwk.thumbprint())
            .collect()
    }

    /// The set of JSON `keys`: the count limit, the private-member rule on
    /// every key, then each key skipped or read.
    fn from_values(values: Vec<Value>) -> Result<Self, Error> {
        if values.len() > Self::MAX_KEYS {
            return Err(Error::detail(
                ErrorKind::InvalidKey,
                "the JWK Set holds more than JwkSet::MAX_KEYS (100) keys",
            ));
        }
        for object in values.iter().filter_map(Value::as_object) {
            skip::refuse_private(object)?;
        }
        let mut set = Self::new();
        for (position, value) in values.into_iter().enumerate() {
            let raw: RawJwk = serde_json::from_value(value)
                .map_err(|_| Error::detail(ErrorKind::InvalidKey, "malformed JWK"))?;
            match raw.skip_reason()? {
                Some(reason) => set.skipped.push(SkippedJwk {
                    position,
                    kid: raw.kid(),
                    reason,
                }),
                None => set.keys.push(PublicJwk::from_raw(&raw)?),
            }
        }
        if set.keys.is_empty() && !set.skipped.is_empty() {
            return Err(skip::no_usable_key(&set.skipped));
        }
        Ok(set)
    }

    /// Converts to `jsonwebtoken`'s JWK Set type.
    #[cfg(feature = "jsonwebtoken")]
    pub fn to_jsonwebtoken(&self) -> jsonwebtoken::jwk::JwkSet {
        jsonwebtoken::jwk::JwkSet {
            keys: self.keys.iter().map(PublicJwk::to_jsonwebtoken).collect(),
        }
    }

    /// Reads `jsonwebtoken`'s JWK Set type by the rules of
    /// [`JwkSet::from_json`] (applied to its JSON form, limits included):
    /// keys a verifier cannot use are skipped and reported.
    ///
    /// # Errors
    /// As [`JwkSet::from_json`].
    #[cfg(feature = "jsonwebtoken")]
    pub fn from_jsonwebtoken(set: &jsonwebtoken::jwk::JwkSet) -> Result<Self, Error> {
        let json = serde_json::to_string(set)
            .map_err(|_| Error::detail(ErrorKind::InvalidKey, "JWK Set cannot be serialised"))?;
        Self::from_json(&json)
    }
}

impl PublicJwk {
    /// The public JWK of a JWK as read: parameters validated, `kid` kept or
    /// computed.
    fn from_raw(raw: &RawJwk) -> Result<Self, Error> {
        let params = raw.public_params()?;
        let alg = raw.algorithm(params.key_type())?;
        Ok(Self::new(params, raw.kid(), alg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7638 §3.1 example.
    #[test]
    fn rfc7638_example_thumbprint() {
        let jwk = PublicJwk::from_json(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert_eq!(jwk.kid(), "2011-04-29");
        assert_eq!(jwk.algorithm(), Some(Algorithm::Rs256));
    }

    #[test]
    fn skipped_keys_are_a_report_not_part_of_the_set() {
        let sig = r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"s"}"#;
        let enc = r#"{"kty":"OKP","crv":"X25519","x":"AAAA","kid":"e"}"#;
        let set = JwkSet::from_json(&format!(r#"{{"keys":[{enc},{sig}]}}"#)).unwrap();
        assert_eq!(set.keys().len(), 1);
        assert_eq!(set.skipped().len(), 1);
        assert_eq!(set.skipped()[0].position(), 0);
        assert!(!set.to_json().contains("X25519"));
        let again = JwkSet::from_json(&set.to_json()).unwrap();
        assert!(again.skipped().is_empty());
        assert_eq!(again, set, "equal sets hold equal keys");
    }

    #[test]
    fn symmetric_and_foreign_keys_are_refused() {
        let e = PublicJwk::from_json(r#"{"kty":"oct","k":"c2VjcmV0"}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::AlgorithmNotAllowed);
        let e = PublicJwk::from_json(r#"{"kty":"EC","crv":"secp256k1","x":"AA","y":"AA"}"#)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedKey);
        let e = PublicJwk::from_json("{").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidKey);
    }
}
