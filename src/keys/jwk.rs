//! Public JWKs (RFC 7517), JWK Sets, and RFC 7638 thumbprints.
//!
//! [`PublicJwk`] never holds a private member: it is built from a key's
//! public half, so exporting it cannot leak a secret. The private JWK
//! reader lives here too ([`RawJwk`]), with its secret members zeroized.

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::algorithm::{Algorithm, KeyType};
use crate::b64;
use crate::error::{Error, ErrorKind};

/// The public parameters of a key.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum PublicParams {
    /// EC point, affine coordinates as fixed-size big-endian bytes.
    Ec {
        curve: KeyType,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// Ed25519 public key bytes.
    Ed25519 { x: [u8; 32] },
    /// RSA modulus and public exponent, minimal big-endian bytes.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

/// The uncompressed SEC1 encoding `0x04 || x || y` of an EC point.
pub(crate) fn sec1_uncompressed(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut sec1 = Vec::with_capacity(1 + x.len() + y.len());
    sec1.push(4);
    sec1.extend_from_slice(x);
    sec1.extend_from_slice(y);
    sec1
}

impl PublicParams {
    pub(crate) fn key_type(&self) -> KeyType {
        match self {
            Self::Ec { curve, .. } => *curve,
            Self::Ed25519 { .. } => KeyType::Ed25519,
            Self::Rsa { .. } => KeyType::Rsa,
        }
    }

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
        RawJwk::from_json(json)?.to_public()
    }

    /// Reads a public key from PEM: `PUBLIC KEY` (SPKI), `RSA PUBLIC KEY`
    /// (PKCS#1), or the public half of a private key PEM. The `kid` is the
    /// RFC 7638 thumbprint.
    ///
    /// # Errors
    /// As [`PublicJwk::from_json`].
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        crate::keys::parse::public_from_pem(pem).map(|p| Self::new(p, None, None))
    }

    /// Reads a public key from DER `SubjectPublicKeyInfo`.
    ///
    /// # Errors
    /// As [`PublicJwk::from_json`].
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        crate::keys::parse::public_from_spki(der).map(|p| Self::new(p, None, None))
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

/// A public JWK Set (RFC 7517 §5): `{"keys":[...]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct JwkSet {
    keys: Vec<PublicJwk>,
}

impl JwkSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set of the given keys.
    pub fn from_keys(keys: impl IntoIterator<Item = PublicJwk>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
        }
    }

    /// Adds a key.
    pub fn push(&mut self, key: PublicJwk) {
        self.keys.push(key);
    }

    /// The keys, in order.
    pub fn keys(&self) -> &[PublicJwk] {
        &self.keys
    }

    /// The key with this `kid`, if any.
    pub fn find(&self, kid: &str) -> Option<&PublicJwk> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The set as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The set as indented JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Parses a JWK Set from JSON. Every key must be a supported public (or
    /// private, whose private members are ignored) signing key.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidKey`] when the JSON is not a JWK Set; otherwise as
    /// [`PublicJwk::from_json`] for the first bad key.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        #[derive(Deserialize)]
        struct Set {
            keys: Vec<serde_json::Value>,
        }
        let set: Set = serde_json::from_str(json)
            .map_err(|_| Error::detail(ErrorKind::InvalidKey, "not a JWK Set"))?;
        let keys = set
            .keys
            .into_iter()
            .map(|v| {
                let raw: RawJwk = serde_json::from_value(v)
                    .map_err(|_| Error::detail(ErrorKind::InvalidKey, "malformed JWK"))?;
                raw.to_public()
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { keys })
    }

    /// Converts to `jsonwebtoken`'s JWK Set type.
    #[cfg(feature = "jsonwebtoken")]
    pub fn to_jsonwebtoken(&self) -> jsonwebtoken::jwk::JwkSet {
        jsonwebtoken::jwk::JwkSet {
            keys: self.keys.iter().map(PublicJwk::to_jsonwebtoken).collect(),
        }
    }

    /// Reads `jsonwebtoken`'s JWK Set type.
    ///
    /// # Errors
    /// As [`PublicJwk::from_json`] for the first bad key.
    #[cfg(feature = "jsonwebtoken")]
    pub fn from_jsonwebtoken(set: &jsonwebtoken::jwk::JwkSet) -> Result<Self, Error> {
        let keys = set
            .keys
            .iter()
            .map(PublicJwk::from_jsonwebtoken)
            .collect::<Result<_, _>>()?;
        Ok(Self { keys })
    }
}

type Secret = Option<Zeroizing<String>>;

/// A JWK as read from JSON, public or private. Private members zeroize.
#[derive(Deserialize)]
pub(crate) struct RawJwk {
    kty: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
    #[serde(default)]
    pub(crate) d: Secret,
    #[serde(default)]
    pub(crate) p: Secret,
    #[serde(default)]
    pub(crate) q: Secret,
    #[serde(default)]
    k: Secret,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
}

impl RawJwk {
    pub(crate) fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json)
            .map_err(|_| Error::detail(ErrorKind::InvalidKey, "malformed JWK JSON"))
    }

    pub(crate) fn kid(&self) -> Option<String> {
        self.kid.clone()
    }

    /// The declared `alg`, checked against the key type.
    pub(crate) fn algorithm(&self, key_type: KeyType) -> Result<Option<Algorithm>, Error> {
        let Some(name) = &self.alg else {
            return Ok(None);
        };
        let alg = Algorithm::from_name(name)?;
        if alg.key_type() != key_type {
            return Err(Error::detail(
                ErrorKind::AlgorithmNotAllowed,
                "the JWK's alg does not fit its key type",
            ));
        }
        Ok(Some(alg))
    }

    fn field(v: &Option<String>, what: &'static str) -> Result<Vec<u8>, Error> {
        let text = v
            .as_deref()
            .ok_or_else(|| Error::detail(ErrorKind::InvalidKey, what))?;
        b64::decode(text.as_bytes()).ok_or_else(|| Error::detail(ErrorKind::InvalidKey, what))
    }

    /// Decodes a secret member, zeroizing the bytes on drop.
    pub(crate) fn secret(v: &Secret, what: &'static str) -> Result<Zeroizing<Vec<u8>>, Error> {
        let text = v
            .as_deref()
            .ok_or_else(|| Error::detail(ErrorKind::InvalidKey, what))?;
        b64::decode(text.as_bytes())
            .map(Zeroizing::new)
            .ok_or_else(|| Error::detail(ErrorKind::InvalidKey, what))
    }

    /// The public parameters, validated (the point is on the curve, the RSA
    /// modulus is at least 2048 bits).
    pub(crate) fn public_params(&self) -> Result<PublicParams, Error> {
        if let Some(u) = &self.use_ {
            if u != "sig" {
                return Err(Error::detail(
                    ErrorKind::UnsupportedKey,
                    "the JWK is not a signing key (use is not sig)",
                ));
            }
        }
        if let Some(ops) = &self.key_ops {
            if !ops.iter().any(|o| o == "verify" || o == "sign") {
                return Err(Error::detail(
                    ErrorKind::UnsupportedKey,
                    "the JWK's key_ops allow neither sign nor verify",
                ));
            }
        }
        let kty = self
            .kty
            .as_deref()
            .ok_or_else(|| Error::detail(ErrorKind::InvalidKey, "JWK without kty"))?;
        match (kty, self.crv.as_deref()) {
            ("EC", Some("P-256")) => {
                let (x, y) = (
                    Self::field(&self.x, "bad EC x")?,
                    Self::field(&self.y, "bad EC y")?,
                );
                crate::keys::parse::ec_public(KeyType::P256, &x, &y)
            }
            ("EC", Some("P-384")) => {
                let (x, y) = (
                    Self::field(&self.x, "bad EC x")?,
                    Self::field(&self.y, "bad EC y")?,
                );
                crate::keys::parse::ec_public(KeyType::P384, &x, &y)
            }
            ("EC", _) => Err(Error::detail(
                ErrorKind::UnsupportedKey,
                "unsupported elliptic curve (P-256 and P-384 only)",
            )),
            ("OKP", Some("Ed25519")) => {
                let x = Self::field(&self.x, "bad Ed25519 x")?;
                crate::keys::parse::ed25519_public(&x)
            }
            ("OKP", _) => Err(Error::detail(
                ErrorKind::UnsupportedKey,
                "unsupported OKP curve (Ed25519 only)",
            )),
            ("RSA", _) => {
                let n = Self::field(&self.n, "bad RSA n")?;
                let e = Self::field(&self.e, "bad RSA e")?;
                crate::keys::parse::rsa_public_params(&n, &e)
            }
            ("oct", _) => Err(Error::detail(
                ErrorKind::AlgorithmNotAllowed,
                "symmetric (oct) keys are not allowed here",
            )),
            _ => Err(Error::detail(ErrorKind::UnsupportedKey, "unsupported kty")),
        }
    }

    /// The public JWK: parameters validated, `kid` kept or computed.
    pub(crate) fn to_public(&self) -> Result<PublicJwk, Error> {
        let params = self.public_params()?;
        let alg = self.algorithm(params.key_type())?;
        Ok(PublicJwk::new(params, self.kid(), alg))
    }

    pub(crate) fn has_private_part(&self) -> bool {
        self.d.is_some()
    }

    pub(crate) fn is_symmetric(&self) -> bool {
        self.k.is_some() || self.kty.as_deref() == Some("oct")
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
