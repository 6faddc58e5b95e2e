//! Verifying both client authentication methods: `private_key_jwt` and,
//! where the policy opts in, `client_secret_jwt`.
//!
//! The client's registration alone decides the method: a client registered
//! with public keys goes through the public-key pipeline (an HMAC `alg` is
//! refused before any key is touched), a client registered with a secret is
//! verified with HMAC only, with one of its registered algorithms. Claims and
//! replay rules are the same for both.
//!
//! Why a separate entry point rather than [`Verifier::verify`]: a
//! [`VerifiedAssertion`] (of [`Algorithm`]) then always means "proved with a
//! private key", so code written for `private_key_jwt` (a FAPI check on
//! [`VerifiedAssertion::algorithm`], for instance) can never be handed a
//! client that authenticated with a shared secret. Servers that serve both
//! kinds of client call [`Verifier::authenticate_client`] and match on the
//! method.

use std::sync::Arc;
use std::time::SystemTime;

use super::registry::ClientEntry;
use super::{reject, reject_because, Checked, HeaderAlg, Pre, VerifiedAssertion, Verifier};
use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind, Usage};
use crate::secret::{HmacAlgorithm, MacKey};

/// A client authenticated by [`Verifier::authenticate_client`], with the
/// method it used (its registered `token_endpoint_auth_method`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AuthenticatedClient {
    /// `private_key_jwt`: an assertion signed with one of the client's keys.
    PrivateKeyJwt(VerifiedAssertion),
    /// `client_secret_jwt`: an assertion MACed with the client's secret.
    ClientSecretJwt(VerifiedAssertion<HmacAlgorithm>),
}

impl AuthenticatedClient {
    /// The authenticated client id (`iss` = `sub`).
    pub fn client_id(&self) -> &str {
        match self {
            Self::PrivateKeyJwt(a) => a.client_id(),
            Self::ClientSecretJwt(a) => a.client_id(),
        }
    }

    /// The `jti`.
    pub fn jti(&self) -> &str {
        match self {
            Self::PrivateKeyJwt(a) => a.jti(),
            Self::ClientSecretJwt(a) => a.jti(),
        }
    }

    /// The `exp` claim.
    pub fn expires_at(&self) -> SystemTime {
        match self {
            Self::PrivateKeyJwt(a) => a.expires_at(),
            Self::ClientSecretJwt(a) => a.expires_at(),
        }
    }

    /// The method as a `token_endpoint_auth_method` value:
    /// `private_key_jwt` or `client_secret_jwt`.
    pub fn method(&self) -> &'static str {
        match self {
            Self::PrivateKeyJwt(_) => "private_key_jwt",
            Self::ClientSecretJwt(_) => "client_secret_jwt",
        }
    }

    /// The `private_key_jwt` assertion, if that was the method.
    pub fn private_key_jwt(&self) -> Option<&VerifiedAssertion> {
        match self {
            Self::PrivateKeyJwt(a) => Some(a),
            Self::ClientSecretJwt(_) => None,
        }
    }

    /// The `client_secret_jwt` assertion, if that was the method.
    pub fn client_secret_jwt(&self) -> Option<&VerifiedAssertion<HmacAlgorithm>> {
        match self {
            Self::PrivateKeyJwt(_) => None,
            Self::ClientSecretJwt(a) => Some(a),
        }
    }
}

/// Everything checked except replay, for either method.
enum CheckedClient {
    Keys(Checked<Algorithm>),
    Secret(Checked<HmacAlgorithm>),
}

impl CheckedClient {
    /// What the replay cache records: client id, `jti`, until, now.
    fn replay_args(&self) -> (&str, &str, SystemTime, SystemTime) {
        fn args<A>(c: &Checked<A>) -> (&str, &str, SystemTime, SystemTime) {
            (
                &c.assertion.client_id,
                &c.assertion.jti,
                c.retain_until,
                c.now,
            )
        }
        match self {
            Self::Keys(c) => args(c),
            Self::Secret(c) => args(c),
        }
    }

    fn into_client(self) -> AuthenticatedClient {
        match self {
            Self::Keys(c) => AuthenticatedClient::PrivateKeyJwt(c.assertion),
            Self::Secret(c) => AuthenticatedClient::ClientSecretJwt(c.assertion),
        }
    }
}

impl Verifier {
    /// Authenticates a client by its `client_assertion`, with the method its
    /// registration names: `private_key_jwt` for a client registered with
    /// public keys, `client_secret_jwt` for one registered with a secret
    /// ([`ClientRegistry::register_client_secret`](crate::ClientRegistry::register_client_secret)),
    /// which needs [`Policy::allow_client_secret_jwt`](crate::Policy::allow_client_secret_jwt).
    /// `client_id` is the `client_id` request parameter, if one was sent: it
    /// must then equal `iss` and `sub`. The `jti` is recorded as by
    /// [`Verifier::verify`].
    ///
    /// A client registered with public keys is never verified with HMAC,
    /// whatever its header says, and a client registered with a secret
    /// never with anything else: both are [`ErrorKind::AlgorithmNotAllowed`],
    /// as is an HMAC algorithm the client was not registered for.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use client_assertion::*;
    ///
    /// let registry = Arc::new(ClientRegistry::new());
    /// let secret = ClientSecret::generate();
    /// registry.register_client_secret("legacy", secret.clone_secret(), &[HmacAlgorithm::Hs256])?;
    /// let policy = Policy::new("https://as.example").allow_client_secret_jwt();
    /// let verifier = Verifier::builder("https://as.example", registry).policy(policy).build()?;
    ///
    /// let signer = ClientSecretJwtSigner::builder(secret, "legacy", "https://as.example").build()?;
    /// let assertion = signer.sign()?;
    /// let client = verifier.authenticate_client(assertion.as_str(), None)?;
    /// assert_eq!(client.method(), "client_secret_jwt");
    /// assert_eq!(client.client_id(), "legacy");
    /// // The private_key_jwt entry point never accepts it.
    /// let err = verifier.verify(signer.sign()?.as_str()).unwrap_err();
    /// assert_eq!(err.code(), "algorithm_not_allowed");
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Verifier::verify`], from either pipeline.
    pub fn authenticate_client(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<AuthenticatedClient, Error> {
        let result = self
            .authenticate(token, client_id)
            .map_err(|e| e.for_usage(Usage::ClientAuthentication));
        crate::audit::outcome(self, token, true, result)
    }

    fn authenticate(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<AuthenticatedClient, Error> {
        let checked = match self.check_client(token, client_id)? {
            Ok(checked) => checked,
            Err((pre, entry)) => CheckedClient::Keys(self.check_keys(pre, entry)?),
        };
        let (client_id, jti, until, now) = checked.replay_args();
        self.replay.check_and_insert(client_id, jti, until, now)?;
        Ok(checked.into_client())
    }

    /// [`Verifier::authenticate_client`] with the async replay check and
    /// remote key sets fetched or refreshed as for [`Verifier::verify_async`].
    ///
    /// # Errors
    /// As [`Verifier::authenticate_client`].
    pub async fn authenticate_client_async(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<AuthenticatedClient, Error> {
        let result = self
            .authenticate_async(token, client_id)
            .await
            .map_err(|e| e.for_usage(Usage::ClientAuthentication));
        crate::audit::outcome(self, token, true, result)
    }

    async fn authenticate_async(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<AuthenticatedClient, Error> {
        let checked = match self.check_client(token, client_id)? {
            Ok(checked) => checked,
            Err((pre, entry)) => CheckedClient::Keys(self.check_keys_async(pre, entry).await?),
        };
        let (client_id, jti, until, now) = checked.replay_args();
        self.replay
            .check_and_insert_async(client_id, jti, until, now)
            .await?;
        Ok(checked.into_client())
    }

    /// The header rules and the client lookup; a secret client is checked
    /// to the end here, a client with keys is handed back for the (sync or
    /// async) public-key pipeline.
    #[allow(clippy::type_complexity)]
    fn check_client<'t>(
        &self,
        token: &'t str,
        client_id: Option<&str>,
    ) -> Result<Result<CheckedClient, (Pre<'t>, ClientEntry)>, Error> {
        let pre = self.precheck_client(token, client_id, self.policy.client_secret_jwt)?;
        match self.client(&pre.iss)? {
            ClientEntry::Secret(key) => self.check_secret(pre, &key).map(Ok),
            entry => Ok(Err((pre, entry))),
        }
    }

    /// The MAC with the client's secret, then the claim rules.
    fn check_secret(&self, pre: Pre<'_>, key: &Arc<MacKey>) -> Result<CheckedClient, Error> {
        let alg = match pre.alg {
            HeaderAlg::Hmac(alg) if self.policy.client_secret_jwt => alg,
            HeaderAlg::Hmac(_) => return Err(reject(ErrorKind::AlgorithmNotAllowed)),
            HeaderAlg::Asymmetric(_) => {
                return Err(reject_because(
                    ErrorKind::AlgorithmNotAllowed,
                    "the client is registered for client_secret_jwt",
                ))
            }
        };
        if !key.algorithms().contains(&alg) {
            return Err(reject_because(
                ErrorKind::AlgorithmNotAllowed,
                "the client is not registered for this HMAC algorithm",
            ));
        }
        if !key.verify(alg, pre.signing_input, &pre.signature) {
            return Err(reject(ErrorKind::BadSignature));
        }
        self.finish_client(pre, String::new(), alg)
            .map(CheckedClient::Secret)
    }
}
