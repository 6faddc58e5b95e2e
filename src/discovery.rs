//! Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0):
//! the members that concern client authentication at the token endpoint,
//! for both sides.
//!
//! - **Server:** [`ServerMetadata::for_policy`] produces the values an
//!   authorization server publishes from the verifier's [`Policy`]:
//!   `token_endpoint_auth_methods_supported` (`private_key_jwt`, and
//!   `client_secret_jwt` where the policy opts in) and
//!   `token_endpoint_auth_signing_alg_values_supported` (the policy's
//!   algorithms, then its HMAC ones).
//! - **Client:** [`ServerMetadata::from_json`] reads a fetched document;
//!   [`ServerMetadata::signer_builder`] builds a signer whose audience is
//!   the `issuer` (draft-ietf-oauth-rfc7523bis), whose algorithm is the
//!   key's first one the server lists, under [`Profile::Rfc7523bis`]. A
//!   server that does not list `private_key_jwt` (RFC 8414 §2: the default
//!   is `client_secret_basic`), or lists none of the key's algorithms, is
//!   [`ErrorKind::UnsupportedByServer`], which says which.
//!
//! Fetching the document is the caller's (no HTTP here); the issuer
//! identifier it was fetched for must equal its `issuer` (RFC 8414 §3.3),
//! which [`ServerMetadata::from_json_for_issuer`] checks.

use serde::{Deserialize, Serialize};

use crate::algorithm::{Algorithm, HmacAlgorithm};
use crate::error::{Error, ErrorKind};
use crate::keys::SignerKey;
use crate::profile::Profile;
use crate::signing::{AssertionSigner, AssertionSignerBuilder};
use crate::verify::Policy;

/// The `grant_type` of the client credentials grant (RFC 6749 §4.4).
const CLIENT_CREDENTIALS: &str = "client_credentials";
/// The largest metadata document read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// An authorization server's metadata: the members about the token
/// endpoint and its client authentication. Other members of a document
/// are ignored when read, and not written.
///
/// ```
/// use client_assertion::Policy;
/// use client_assertion::server::ServerMetadata;
///
/// let policy = Policy::new("https://as.example");
/// let metadata = ServerMetadata::for_policy(&policy, "https://as.example/token");
/// assert_eq!(metadata.token_endpoint_auth_methods_supported(), ["private_key_jwt"]);
/// assert!(metadata.token_endpoint_auth_signing_alg_values_supported().contains(&"ES256".to_owned()));
/// let json = metadata.to_json();
/// assert!(json.contains(r#""issuer":"https://as.example""#));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerMetadata {
    issuer: String,
    token_endpoint: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    token_endpoint_auth_methods_supported: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    token_endpoint_auth_signing_alg_values_supported: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    grant_types_supported: Vec<String>,
}

fn unsupported(detail: &'static str) -> Error {
    Error::detail(ErrorKind::UnsupportedByServer, detail)
}

impl ServerMetadata {
    /// The metadata of an authorization server verifying under `policy`
    /// (its issuer is the document's `issuer`), whose token endpoint is
    /// `token_endpoint`; `grant_types_supported` is `client_credentials`
    /// until [`ServerMetadata::grant_types`] says otherwise.
    pub fn for_policy(policy: &Policy, token_endpoint: impl Into<String>) -> Self {
        let mut methods = vec!["private_key_jwt".to_owned()];
        let mut algs: Vec<String> = policy
            .allowed_algorithms()
            .iter()
            .map(|a| a.name().to_owned())
            .collect();
        if policy.allows_client_secret_jwt() {
            methods.push("client_secret_jwt".to_owned());
            algs.extend(HmacAlgorithm::ALL.iter().map(|a| a.name().to_owned()));
        }
        Self {
            issuer: policy.issuer().to_owned(),
            token_endpoint: token_endpoint.into(),
            token_endpoint_auth_methods_supported: methods,
            token_endpoint_auth_signing_alg_values_supported: algs,
            grant_types_supported: vec![CLIENT_CREDENTIALS.to_owned()],
        }
    }

    /// Replaces `grant_types_supported`.
    pub fn grant_types<'a>(mut self, types: impl IntoIterator<Item = &'a str>) -> Self {
        self.grant_types_supported = types.into_iter().map(str::to_owned).collect();
        self
    }

    /// Reads a metadata document (RFC 8414 §3.2, or OpenID Connect
    /// Discovery's `openid-configuration`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a document that is not JSON, lacks
    /// `issuer` or `token_endpoint` (or has them empty), or is larger than
    /// 256 KiB.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        let bad = |d| Error::detail(ErrorKind::InvalidConfig, d);
        if json.len() > MAX_DOCUMENT_BYTES {
            return Err(bad("the metadata document is too large"));
        }
        let metadata: Self = serde_json::from_str(json)
            .map_err(|_| bad("the metadata document is not valid metadata JSON"))?;
        if metadata.issuer.is_empty() || metadata.token_endpoint.is_empty() {
            return Err(bad("the metadata has no issuer or token_endpoint"));
        }
        Ok(metadata)
    }

    /// [`ServerMetadata::from_json`] for a document fetched for `issuer`,
    /// which must be its `issuer` exactly (RFC 8414 §3.3).
    ///
    /// # Errors
    /// As [`ServerMetadata::from_json`]; [`ErrorKind::InvalidConfig`] when
    /// the `issuer` differs.
    pub fn from_json_for_issuer(json: &str, issuer: &str) -> Result<Self, Error> {
        let metadata = Self::from_json(json)?;
        if metadata.issuer != issuer {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "the metadata is for another issuer",
            ));
        }
        Ok(metadata)
    }

    /// The document as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `issuer`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `token_endpoint`.
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }

    /// `token_endpoint_auth_methods_supported`.
    pub fn token_endpoint_auth_methods_supported(&self) -> &[String] {
        &self.token_endpoint_auth_methods_supported
    }

    /// `token_endpoint_auth_signing_alg_values_supported`.
    pub fn token_endpoint_auth_signing_alg_values_supported(&self) -> &[String] {
        &self.token_endpoint_auth_signing_alg_values_supported
    }

    /// `grant_types_supported`.
    pub fn grant_types_supported(&self) -> &[String] {
        &self.grant_types_supported
    }

    /// The algorithm `key` signs with at this server: its first algorithm
    /// (the default first) the server lists. A document without the list
    /// implies none (RFC 8414 §2), and the key's default is used.
    ///
    /// # Errors
    /// [`ErrorKind::UnsupportedByServer`] when the server does not list
    /// `private_key_jwt` or none of the key's algorithms.
    pub fn algorithm_for(&self, key: &SignerKey) -> Result<Algorithm, Error> {
        let methods = &self.token_endpoint_auth_methods_supported;
        if !methods.iter().any(|m| m == "private_key_jwt") {
            return Err(unsupported("the server does not list private_key_jwt"));
        }
        let ours = key.metadata().algorithms();
        let listed = &self.token_endpoint_auth_signing_alg_values_supported;
        if listed.is_empty() {
            return ours
                .first()
                .copied()
                .ok_or_else(|| unsupported("the key has no algorithm"));
        }
        ours.iter()
            .copied()
            .find(|a| listed.iter().any(|l| l == a.name()))
            .ok_or_else(|| unsupported("the server lists none of the key's algorithms"))
    }

    /// A signer builder for `client_id` with `key` at this server: audience
    /// the `issuer`, the algorithm of [`ServerMetadata::algorithm_for`],
    /// [`Profile::Rfc7523bis`] (`typ` `client-authentication+jwt`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use client_assertion::{Algorithm, ErrorKind, KeyType, PrivateKey};
    /// use client_assertion::client::ServerMetadata;
    ///
    /// let document = r#"{"issuer":"https://as.example","token_endpoint":"https://as.example/token",
    ///   "token_endpoint_auth_methods_supported":["client_secret_basic","private_key_jwt"],
    ///   "token_endpoint_auth_signing_alg_values_supported":["PS256","ES256"]}"#;
    /// let metadata = ServerMetadata::from_json(document)?;
    /// let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
    /// let signer = metadata.signer_builder(key, "my-client")?.build()?;
    /// assert_eq!(signer.audience(), "https://as.example");
    /// assert_eq!(signer.sign()?.algorithm(), Algorithm::Es256);
    ///
    /// let ed = Arc::new(PrivateKey::generate(KeyType::Ed25519)?);
    /// let err = metadata.signer_builder(ed, "my-client").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::UnsupportedByServer);
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`ServerMetadata::algorithm_for`].
    pub fn signer_builder(
        &self,
        key: impl Into<SignerKey>,
        client_id: impl Into<String>,
    ) -> Result<AssertionSignerBuilder, Error> {
        let key = key.into();
        let alg = self.algorithm_for(&key)?;
        Ok(
            AssertionSigner::builder(key, client_id, self.issuer.clone())
                .profile(Profile::Rfc7523bis)
                .algorithm(alg),
        )
    }
}
