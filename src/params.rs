//! Token request parameters, without any HTTP: the pairs to send and their
//! `application/x-www-form-urlencoded` body.

use std::fmt;

/// `client_assertion_type` for RFC 7523 client authentication.
pub(crate) const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// `client_assertion_type` for a JWT-SVID (draft-ietf-oauth-spiffe-client-auth).
pub(crate) const CLIENT_ASSERTION_TYPE_JWT_SPIFFE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe";
/// `grant_type` for the RFC 7523 JWT bearer authorization grant.
pub(crate) const GRANT_TYPE_JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Names of parameters that carry an assertion, redacted by `Debug`.
const SECRET_PARAMS: [&str; 2] = ["client_assertion", "assertion"];

/// Form parameters for a token request, in order.
///
/// Send them with your own HTTP client, either as pairs
/// ([`FormParams::pairs`]) or as a ready body ([`FormParams::to_urlencoded`]).
/// `Debug` does not print the assertion.
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
}
