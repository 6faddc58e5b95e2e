//! Token request parameters, without any HTTP: the pairs to send and their
//! `application/x-www-form-urlencoded` body.
//!
//! [`FormParams`] goes into an HTTP client as it likes it: owned pairs
//! (`IntoIterator`, [`FormParams::into_pairs`]; nothing borrows from a
//! temporary, so `for (k, v) in assertion.form_params()` compiles inside a
//! request builder), borrowed pairs ([`FormParams::pairs`]), `Serialize` as
//! a map (`reqwest`'s `.form(&params)`, `serde_urlencoded`), or the body
//! ([`FormParams::to_urlencoded`]).

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// `client_assertion_type` for RFC 7523 client authentication.
pub(crate) const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// `client_assertion_type` for a JWT-SVID (draft-ietf-oauth-spiffe-client-auth).
pub(crate) const CLIENT_ASSERTION_TYPE_JWT_SPIFFE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";
/// `grant_type` for the RFC 7523 JWT bearer authorization grant.
pub(crate) const GRANT_TYPE_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// `grant_type` for the client credentials grant (RFC 6749 §4.4).
pub(crate) const GRANT_TYPE_CLIENT_CREDENTIALS: &str = "client_credentials";

/// Names of parameters that carry an assertion, redacted by `Debug`.
const SECRET_PARAMS: [&str; 2] = ["client_assertion", "assertion"];

/// Form parameters for a token request, in order.
///
/// Send them with your own HTTP client, as owned pairs (`for (k, v) in
/// params`), borrowed pairs ([`FormParams::pairs`]), a `Serialize` map
/// (`reqwest`'s `.form(&params)`) or a ready body
/// ([`FormParams::to_urlencoded`]). `Debug` does not print the assertion.
///
/// A `client_credentials` token request with `private_key_jwt`:
///
/// ```
/// use std::sync::Arc;
/// use client_assertion::{AssertionSigner, KeyType, PrivateKey};
///
/// let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
/// let signer = AssertionSigner::builder(key, "my-client", "https://as.example").build()?;
/// let params = signer.sign()?.form_params().client_credentials().with_scope("read");
/// assert_eq!(params.get("grant_type"), Some("client_credentials"));
///
/// // Owned pairs: nothing borrows from the temporary FormParams.
/// let mut names = Vec::new();
/// for (name, _value) in signer.sign()?.form_params().client_credentials() {
///     names.push(name);
/// }
/// assert_eq!(names, ["grant_type", "client_assertion_type", "client_assertion"]);
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FormParams {
    pairs: Vec<(&'static str, String)>,
}

impl FormParams {
    /// `client_assertion_type` for RFC 7523 client authentication.
    pub const CLIENT_ASSERTION_TYPE_JWT_BEARER: &'static str = CLIENT_ASSERTION_TYPE_JWT_BEARER;

    /// `grant_type` for the RFC 7523 JWT bearer authorization grant.
    pub const GRANT_TYPE_JWT_BEARER: &'static str = GRANT_TYPE_JWT_BEARER;

    /// `client_assertion_type` for a SPIFFE JWT-SVID presented as the
    /// client assertion (draft-ietf-oauth-spiffe-client-auth).
    pub const CLIENT_ASSERTION_TYPE_JWT_SPIFFE: &'static str = CLIENT_ASSERTION_TYPE_JWT_SPIFFE;

    /// `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-spiffe`
    /// and `client_assertion=<JWT-SVID>` (draft-ietf-oauth-spiffe-client-auth),
    /// for a workload presenting the JWT-SVID its SPIFFE Workload API gave it.
    pub fn client_authentication_jwt_spiffe(svid: &str) -> Self {
        Self {
            pairs: vec![
                (
                    "client_assertion_type",
                    CLIENT_ASSERTION_TYPE_JWT_SPIFFE.to_owned(),
                ),
                ("client_assertion", svid.to_owned()),
            ],
        }
    }

    /// `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
    /// and `client_assertion=<jws>` (RFC 7523 §2.2).
    pub fn client_authentication(assertion: &str) -> Self {
        Self {
            pairs: vec![
                (
                    "client_assertion_type",
                    CLIENT_ASSERTION_TYPE_JWT_BEARER.to_owned(),
                ),
                ("client_assertion", assertion.to_owned()),
            ],
        }
    }

    /// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and
    /// `assertion=<jws>` (RFC 7523 §2.1).
    pub fn authorization_grant(assertion: &str) -> Self {
        Self {
            pairs: vec![
                ("grant_type", GRANT_TYPE_JWT_BEARER.to_owned()),
                ("assertion", assertion.to_owned()),
            ],
        }
    }

    /// `grant_type` for the client credentials grant.
    pub const GRANT_TYPE_CLIENT_CREDENTIALS: &'static str = GRANT_TYPE_CLIENT_CREDENTIALS;

    /// Makes the request a client credentials grant (RFC 6749 §4.4): puts
    /// `grant_type=client_credentials` first (replacing a `grant_type`
    /// already there).
    pub fn client_credentials(self) -> Self {
        self.with_grant_type(GRANT_TYPE_CLIENT_CREDENTIALS)
    }

    /// Puts `grant_type=<grant_type>` first, replacing one already there
    /// (e.g. `authorization_code` with `private_key_jwt` client
    /// authentication, with [`FormParams::with_param`] for `code`).
    pub fn with_grant_type(mut self, grant_type: impl Into<String>) -> Self {
        self.pairs.retain(|(k, _)| *k != "grant_type");
        self.pairs.insert(0, ("grant_type", grant_type.into()));
        self
    }

    /// Adds any other parameter (`resource`, `audience`, `code`, ...).
    pub fn with_param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.pairs.push((name, value.into()));
        self
    }

    /// The parameters as owned name/value pairs, in order.
    pub fn into_pairs(self) -> Vec<(&'static str, String)> {
        self.pairs
    }

    /// Adds `client_id` (optional with client assertions; some servers want it).
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.pairs.push(("client_id", client_id.into()));
        self
    }

    /// Adds `scope` (space-separated scopes, for the grant).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.pairs.push(("scope", scope.into()));
        self
    }

    /// The parameters as name/value pairs, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (*k, v.as_str()))
    }

    /// The value of a parameter, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The `application/x-www-form-urlencoded` request body.
    pub fn to_urlencoded(&self) -> String {
        let mut out = String::with_capacity(
            self.pairs
                .iter()
                .map(|(k, v)| k.len() + v.len() + 2)
                .sum::<usize>()
                + 32,
        );
        for (i, (k, v)) in self.pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            form_encode(k, &mut out);
            out.push('=');
            form_encode(v, &mut out);
        }
        out
    }
}

/// WHATWG `application/x-www-form-urlencoded` byte serializer.
fn form_encode(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

impl IntoIterator for FormParams {
    type Item = (&'static str, String);
    type IntoIter = std::vec::IntoIter<(&'static str, String)>;
    fn into_iter(self) -> Self::IntoIter {
        self.pairs.into_iter()
    }
}

impl<'a> IntoIterator for &'a FormParams {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.pairs())
    }
}

/// A map of the parameters in order (what `serde_urlencoded` and
/// `reqwest`'s `.form()` take).
impl Serialize for FormParams {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.pairs.len()))?;
        for (k, v) in &self.pairs {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl fmt::Debug for FormParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.pairs {
            if SECRET_PARAMS.contains(k) {
                m.entry(k, &"[assertion elided]");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoding_follows_the_form_rules() {
        let p = FormParams::authorization_grant("a.b_c-d")
            .with_scope("read write")
            .with_client_id("ü&=+/");
        assert_eq!(
            p.to_urlencoded(),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b_c-d&scope=read+write&client_id=%C3%BC%26%3D%2B%2F"
        );
        assert_eq!(p.get("scope"), Some("read write"));
        assert!(!format!("{p:?}").contains("a.b_c-d"));
    }

    #[test]
    fn client_credentials_goes_first_and_serializes_in_order() {
        let p = FormParams::client_authentication("x.y.z")
            .with_grant_type("authorization_code")
            .client_credentials()
            .with_param("resource", "https://rs.example");
        let names: Vec<_> = p.pairs().map(|(k, _)| k).collect();
        assert_eq!(
            names,
            [
                "grant_type",
                "client_assertion_type",
                "client_assertion",
                "resource"
            ]
        );
        assert_eq!(p.get("grant_type"), Some("client_credentials"));
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.starts_with(r#"{"grant_type":"client_credentials","client_assertion_type""#));
        let borrowed: Vec<_> = (&p).into_iter().collect();
        assert_eq!(borrowed.len(), 4);
        assert_eq!(p.clone().into_pairs().len(), 4);
    }
}
