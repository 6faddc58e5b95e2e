//! [`TokenEndpoint`]: client authentication of a [`TokenRequest`], from the
//! request to an [`AuthenticatedClient`] or an [`Error`] whose
//! [`TokenRequest::error_response`] is the answer.
//!
//! ```text
//! request ─▶ one method, an assertion (TokenRequest)
//!         ─▶ iss of the assertion (unverified; = client_id when sent)
//!         ─▶ the client's registration (ClientCache over your ClientStore,
//!            or the verifier's ClientRegistry)
//!         ─▶ method and alg binding (ClientAuthRules), before any signature
//!         ─▶ the Verifier's pipeline (signature, claims, jti)
//! ```

use std::fmt;
use std::sync::Arc;

use super::binding::ClientAuthRules;
use super::cache::ClientCache;
use super::request::TokenRequest;
use crate::audit::{self, ReplayCheck, Seen};
use crate::error::{Error, ErrorKind, Usage};
use crate::verify::registry::ClientEntry;
use crate::verify::token::{self, Json};
use crate::verify::{AuthenticatedClient, Verifier};

/// Client authentication at a token endpoint: a [`Verifier`] and where the
/// clients' registrations come from.
///
/// ```
/// use std::sync::Arc;
/// use client_assertion::*;
/// use client_assertion::server::{TokenEndpoint, TokenRequest};
///
/// let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
/// let registry = Arc::new(ClientRegistry::new());
/// registry.register("my-client", &jwk_set([&*key]))?;
/// let endpoint = TokenEndpoint::new(Verifier::builder("https://as.example", registry).build()?);
///
/// let signer = AssertionSigner::builder(key, "my-client", "https://as.example").build()?;
/// let body = signer.sign()?.form_params().client_credentials().to_urlencoded();
/// let request = TokenRequest::from_form(body.as_bytes(), None)?;
/// let client = endpoint.authenticate(&request)?;
/// assert_eq!(client.client_id(), "my-client");
///
/// // The same body again is a replay: 401 invalid_client.
/// let err = endpoint.authenticate(&TokenRequest::from_form(body.as_bytes(), None)?).unwrap_err();
/// let response = request.error_response(&err);
/// assert_eq!((response.status(), response.error()), (401, "invalid_client"));
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct TokenEndpoint {
    verifier: Verifier,
    cache: Option<Arc<ClientCache>>,
}

/// What the request's assertion says before it is verified.
struct Claimed {
    iss: String,
    alg: String,
    kid: Option<String>,
}

impl TokenEndpoint {
    /// Authenticates clients of `verifier`'s registry: the method its
    /// registration implies (keys: `private_key_jwt`, a secret:
    /// `client_secret_jwt`), no pinned algorithm.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            cache: None,
        }
    }

    /// Authenticates clients of `cache` (over your [`ClientStore`](crate::server::ClientStore)),
    /// with their registered method and algorithm. `verifier` must be
    /// built over [`ClientCache::registry`].
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] when the verifier verifies with another
    /// registry.
    pub fn with_cache(verifier: Verifier, cache: Arc<ClientCache>) -> Result<Self, Error> {
        if !Arc::ptr_eq(verifier.registry(), cache.registry()) {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "the verifier must be built over the cache's registry",
            ));
        }
        Ok(Self {
            verifier,
            cache: Some(cache),
        })
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The `iss` and `alg` of the request's assertion (checked against the
    /// `client_id` parameter when one was sent); not verified.
    fn claimed<'r>(&self, request: &'r TokenRequest) -> Result<(Claimed, &'r str), Error> {
        let assertion = request.require_assertion()?;
        let parsed = token::parse(assertion, self.verifier.policy().max_token_size)?;
        let kid = match parsed.header.kid {
            Some(Json::Str(kid)) => Some(kid),
            _ => None,
        };
        let (Some(Json::Str(iss)), Some(Json::Str(alg))) = (parsed.claims.iss, parsed.header.alg)
        else {
            return Err(Error::detail(
                ErrorKind::Malformed,
                "the assertion has no iss or alg string",
            ));
        };
        if request.client_id().is_some_and(|id| id != iss) {
            return Err(Error::detail(
                ErrorKind::IssuerMismatch,
                "iss differs from the client_id parameter",
            ));
        }
        Ok((Claimed { iss, alg, kid }, assertion))
    }

    /// A refusal before the verifier ran: the `assertion.rejected` audit
    /// event (the verifier emits its own), and the error marked as client
    /// authentication's.
    fn refused(&self, error: Error, claimed: Option<&Claimed>, registered: Option<bool>) -> Error {
        let error = client_auth(error);
        let seen = Seen {
            iss: claimed.map(|c| c.iss.clone()),
            kid: claimed.and_then(|c| c.kid.clone()),
            jti: None,
            registered,
        };
        let known = |_: &str| registered.unwrap_or(false);
        audit::rejected(
            Usage::ClientAuthentication,
            ReplayCheck::Recorded,
            &error,
            &seen,
            &known,
        );
        error
    }

    /// The request's claimed client, its rules and the binding check,
    /// before the verifier; `rules` looks the client up.
    fn bound<'r>(
        &self,
        request: &'r TokenRequest,
        claimed: Result<(Claimed, &'r str), Error>,
        rules: impl FnOnce(&str) -> Result<ClientAuthRules, Error>,
    ) -> Result<&'r str, Error> {
        let (claimed, assertion) = claimed.map_err(|e| self.refused(e, None, None))?;
        let rules = rules(&claimed.iss).map_err(|e| {
            let registered = (e.kind() == ErrorKind::UnknownClient).then_some(false);
            self.refused(e, Some(&claimed), registered)
        })?;
        rules
            .check(request.method(), &claimed.alg)
            .map_err(|e| self.refused(e, Some(&claimed), Some(true)))?;
        Ok(assertion)
    }

    /// The rules of a registry client (unknown: left to the verifier).
    fn registry_rules(&self, iss: &str) -> ClientAuthRules {
        match self.verifier.registry().get(iss) {
            Some(ClientEntry::Secret(_)) => ClientAuthRules::client_secret_jwt(),
            _ => ClientAuthRules::private_key_jwt(),
        }
    }

    /// Authenticates the client of `request` without I/O (a store with a
    /// synchronous path, the registry, an in-memory replay cache).
    ///
    /// # Errors
    /// The request's ([`TokenRequest::require_assertion`]), the binding's
    /// ([`ClientAuthRules::check`]), the cache's and the verifier's errors;
    /// all but request errors with usage client authentication.
    pub fn authenticate(&self, request: &TokenRequest) -> Result<AuthenticatedClient, Error> {
        let assertion = self.bound(request, self.claimed(request), |iss| match &self.cache {
            Some(cache) => cache.resolve_now(iss),
            None => Ok(self.registry_rules(iss)),
        })?;
        self.verifier
            .authenticate_client(assertion, request.client_id())
    }

    /// [`TokenEndpoint::authenticate`] on the async path: the store, remote
    /// key sets and the replay cache may do I/O.
    ///
    /// # Errors
    /// As [`TokenEndpoint::authenticate`].
    pub async fn authenticate_async(
        &self,
        request: &TokenRequest,
    ) -> Result<AuthenticatedClient, Error> {
        let claimed = self.claimed(request);
        // The async lookup first (its answer, or error, is what `bound` sees).
        let looked_up = match (&self.cache, &claimed) {
            (Some(cache), Ok((c, _))) => Some(cache.resolve(&c.iss).await),
            _ => None,
        };
        let assertion = self.bound(request, claimed, |iss| match looked_up {
            Some(answer) => answer,
            None => Ok(self.registry_rules(iss)),
        })?;
        self.verifier
            .authenticate_client_async(assertion, request.client_id())
            .await
    }
}

/// Marks a rejection as client authentication's (request errors keep their
/// own class whatever the usage).
fn client_auth(e: Error) -> Error {
    e.for_usage(Usage::ClientAuthentication)
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("verifier", &self.verifier)
            .field("cache", &self.cache)
            .finish()
    }
}
