//! Client authentication at the token endpoint: [`Verifier`], the driver
//! of the pipeline for `private_key_jwt` and, where the policy opts in,
//! `client_secret_jwt`.
//!
//! The client's registration alone decides the method: a client registered
//! with public keys goes through the public-key path (an HMAC `alg` is
//! refused before any key is touched), a client registered with a secret is
//! verified with HMAC only, with one of its registered algorithms. Claims and
//! replay rules are the same for both.
//!
//! Why a separate entry point for both ([`Verifier::authenticate_client`])
//! rather than [`Verifier::verify`]: a [`VerifiedAssertion`] (of
//! [`Algorithm`](crate::Algorithm)) then always means "proved with a
//! private key", so code written for `private_key_jwt` (a FAPI check on
//! [`VerifiedAssertion::algorithm`], for instance) can never be handed a
//! client that authenticated with a shared secret.

use std::fmt;
use std::sync::Arc;

use super::pipeline::{Hmac, Kind, Pipeline};
use super::policy::Policy;
use super::registry::ClientRegistry;
use super::verified::{AuthenticatedClient, VerifiedAssertion};
use crate::audit::ReplayCheck;
use crate::error::{Error, ErrorKind};
use crate::replay::{AsyncReplayCache, ReplayCache, ReplayStore};
use crate::time::{Clock, SystemClock};

/// Builds a [`Verifier`]; see [`Verifier::builder`].
#[must_use]
#[derive(Debug)]
pub struct VerifierBuilder {
    issuer: String,
    policy: Policy,
    registry: Arc<ClientRegistry>,
    replay: ReplayStore,
    clock: Arc<dyn Clock>,
    quarantine: bool,
}

impl VerifierBuilder {
    /// Replaces the policy (by default the strict [`Policy::new`] for the
    /// issuer given to [`Verifier::builder`]). The policy must be for that
    /// same issuer: [`VerifierBuilder::build`] refuses another one.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Narrows the policy to `profile`'s rules ([`Policy::profile`]): its
    /// algorithms, audience, `typ` allowlist and time tolerance.
    pub fn profile(mut self, profile: crate::profile::Profile) -> Self {
        self.policy = self.policy.profile(profile);
        self
    }

    /// Uses the in-process `cache` for `jti` replay checks; it serves the
    /// synchronous and the async methods. By default each verifier has a
    /// fresh [`MemoryReplayCache`](crate::MemoryReplayCache) of default
    /// capacity **of its own**: two verifiers built without a cache (in one
    /// process or two) each accept the same assertion once. Verifiers that
    /// guard one authorization server (a `Verifier` and a
    /// [`GrantVerifier`](crate::grant::GrantVerifier), or several verifiers
    /// of one process) share replay state by holding clones of one `Arc`:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use client_assertion::*;
    /// use client_assertion::grant::{GrantVerifier, TrustedIssuers};
    ///
    /// let cache: Arc<dyn ReplayCache> = Arc::new(MemoryReplayCache::default());
    /// let clients = Arc::new(ClientRegistry::new());
    /// let a = Verifier::builder("https://as.example", clients.clone())
    ///     .replay_cache(cache.clone())
    ///     .build()?;
    /// let b = Verifier::builder("https://as.example", clients)
    ///     .replay_cache(cache.clone())
    ///     .build()?;
    /// let grants = GrantVerifier::builder("https://as.example", Arc::new(TrustedIssuers::new()))
    ///     .replay_cache(cache)
    ///     .build()?;
    /// # let _ = (a, b, grants);
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    ///
    /// Entries are scoped by this verifier's issuer (and kind and client),
    /// so verifiers of different authorization servers can share one
    /// cache without collisions. Several processes share one through a
    /// networked store ([`VerifierBuilder::async_replay_cache`]).
    pub fn replay_cache(mut self, cache: Arc<dyn ReplayCache>) -> Self {
        self.replay = ReplayStore::Sync(cache);
        self
    }

    /// Uses the networked `cache` (e.g. a `RedisReplayCache`) for `jti`
    /// replay checks. Only the async methods can reach it: the synchronous
    /// ones then fail closed with [`ErrorKind::RequiresAsync`].
    pub fn async_replay_cache(mut self, cache: Arc<dyn AsyncReplayCache>) -> Self {
        self.replay = ReplayStore::Async(cache);
        self
    }

    /// **Loosens:** turns off the quarantine after replay state loss (see
    /// the [`replay`](crate::replay) module docs): an assertion issued
    /// before the cache's epoch (before this process started, for a
    /// [`MemoryReplayCache`](crate::MemoryReplayCache); before a Redis
    /// restart, flush, eviction or failover was detected) is accepted if
    /// the cache does not remember its `jti`, so an assertion that was
    /// accepted before the loss **is accepted again**. Only for a caller
    /// whose own replay protection survives the store's losses, or a
    /// one-shot tool whose replay protection is meant to last one run.
    pub fn danger_accept_replays_after_state_loss(mut self) -> Self {
        self.quarantine = false;
        self
    }

    /// Takes time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] when the policy is out of bounds or is
    /// for another issuer than the one given to [`Verifier::builder`].
    pub fn build(self) -> Result<Verifier, Error> {
        self.policy.validate()?;
        same_issuer(&self.issuer, &self.policy)?;
        Ok(Verifier {
            policy: self.policy,
            registry: self.registry,
            replay: self.replay.for_verifier(self.clock.now(), self.quarantine),
            clock: self.clock,
        })
    }
}

/// Refuses a policy for another issuer than the verifier's: replacing the
/// policy must never silently replace the audience.
pub(crate) fn same_issuer(issuer: &str, policy: &Policy) -> Result<(), Error> {
    if policy.issuer() != issuer {
        return Err(Error::detail(
            ErrorKind::InvalidConfig,
            "the policy is for another issuer than the verifier",
        ));
    }
    Ok(())
}

/// Verifies client assertions presented to an authorization server.
///
/// ```
/// use std::sync::Arc;
/// use client_assertion::*;
///
/// // Client side: a key and a signer.
/// let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
/// let signer = AssertionSigner::builder(key.clone(), "my-client", "https://as.example").build()?;
///
/// // Server side: the client's registered keys and a verifier.
/// let registry = Arc::new(ClientRegistry::new());
/// registry.register("my-client", &jwk_set([&*key]))?;
/// let verifier = Verifier::builder("https://as.example", registry).build()?;
///
/// let assertion = signer.sign()?;
/// let verified = verifier.verify(assertion.as_str())?;
/// assert_eq!(verified.client_id(), "my-client");
/// // The same assertion again is a replay.
/// let err = verifier.verify(assertion.as_str()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Replayed);
/// assert_eq!(err.oauth_error(Usage::ClientAuthentication), "invalid_client");
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct Verifier {
    policy: Policy,
    registry: Arc<ClientRegistry>,
    replay: ReplayStore,
    clock: Arc<dyn Clock>,
}

impl Verifier {
    /// At most this many keys are tried for a token without `kid`.
    pub const MAX_KEYS_TRIED_WITHOUT_KID: usize = super::select::MAX_KEYS_TRIED_WITHOUT_KID;

    /// A verifier for the authorization server `issuer` (its issuer
    /// identifier, the only accepted audience by default), checking
    /// assertions against `registry`.
    pub fn builder(issuer: impl Into<String>, registry: Arc<ClientRegistry>) -> VerifierBuilder {
        let issuer = issuer.into();
        VerifierBuilder {
            policy: Policy::new(issuer.clone()),
            issuer,
            registry,
            replay: ReplayStore::default(),
            clock: Arc::new(SystemClock),
            quarantine: true,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The client registry.
    pub fn registry(&self) -> &Arc<ClientRegistry> {
        &self.registry
    }

    /// Operations that skip a safety check. Each one's name says which.
    pub fn dangerous(&self) -> DangerousVerifier<'_> {
        DangerousVerifier(self)
    }

    fn pipeline(&self, hmac: Hmac) -> Pipeline<'_> {
        Pipeline {
            kind: Kind::ClientAuthentication,
            policy: &self.policy,
            types: &self.policy,
            hmac,
            registry: &self.registry,
            clock: &*self.clock,
            replay: &self.replay,
            loosened: Default::default(),
        }
    }

    /// `client_secret_jwt` is read from HMAC headers only where the policy
    /// opts in.
    fn both_methods(&self) -> Pipeline<'_> {
        self.pipeline(if self.policy.client_secret_jwt {
            Hmac::Accepted
        } else {
            Hmac::Refused
        })
    }

    /// Verifies a `client_assertion` and records its `jti`.
    ///
    /// `private_key_jwt` only: an HMAC `alg`, or a client registered with a
    /// secret, is [`ErrorKind::AlgorithmNotAllowed`] here whatever the
    /// policy; see [`Verifier::authenticate_client`] for `client_secret_jwt`.
    ///
    /// # Errors
    /// A rejection whose [`Error::kind`] says why; see the README's table.
    /// [`ErrorKind::RequiresAsync`] when the replay cache is a networked
    /// store ([`VerifierBuilder::async_replay_cache`]).
    pub fn verify(&self, token: &str) -> Result<VerifiedAssertion, Error> {
        let p = self.pipeline(Hmac::Refused);
        let checked = p.audited(p.run(token, None), ReplayCheck::Recorded)?;
        VerifiedAssertion::private_key_jwt(checked)
    }

    /// Verifies a `client_assertion` sent together with a `client_id` request
    /// parameter, which must then equal `iss` and `sub`.
    ///
    /// # Errors
    /// As [`Verifier::verify`]; [`ErrorKind::IssuerMismatch`] if `client_id`
    /// differs from `iss`.
    pub fn verify_with_client_id(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<VerifiedAssertion, Error> {
        let p = self.pipeline(Hmac::Refused);
        let checked = p.audited(p.run(token, Some(client_id)), ReplayCheck::Recorded)?;
        VerifiedAssertion::private_key_jwt(checked)
    }

    /// Verifies a `client_assertion` and records its `jti` without blocking
    /// an async executor: remote key sets are fetched or refreshed as their
    /// cache rules allow, and the replay check may go to a networked store
    /// such as Redis. Parsing, signature and claim checks are pure
    /// computation.
    ///
    /// # Errors
    /// As [`Verifier::verify`]; a store that cannot answer fails closed with
    /// [`ErrorKind::ReplayStoreUnavailable`].
    pub async fn verify_async(&self, token: &str) -> Result<VerifiedAssertion, Error> {
        let p = self.pipeline(Hmac::Refused);
        let checked = p.audited(p.run_async(token, None).await, ReplayCheck::Recorded)?;
        VerifiedAssertion::private_key_jwt(checked)
    }

    /// [`Verifier::verify_with_client_id`] on the async path.
    ///
    /// # Errors
    /// As [`Verifier::verify_with_client_id`].
    pub async fn verify_with_client_id_async(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<VerifiedAssertion, Error> {
        let p = self.pipeline(Hmac::Refused);
        let result = p.run_async(token, Some(client_id)).await;
        VerifiedAssertion::private_key_jwt(p.audited(result, ReplayCheck::Recorded)?)
    }

    /// Authenticates a client by its `client_assertion`, with the method its
    /// registration names: `private_key_jwt` for a client registered with
    /// public keys, `client_secret_jwt` for one registered with a secret
    /// ([`ClientRegistry::register_client_secret`]), which needs
    /// [`Policy::allow_client_secret_jwt`]. `client_id` is the `client_id`
    /// request parameter, if one was sent: it must then equal `iss` and
    /// `sub`. The `jti` is recorded as by [`Verifier::verify`].
    ///
    /// A client registered with public keys is never verified with HMAC,
    /// whatever its header says, and a client registered with a secret
    /// never with anything else: both are [`ErrorKind::AlgorithmNotAllowed`],
    /// as is an HMAC algorithm the client was not registered for.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use client_assertion::*;
    /// use client_assertion::secret::{ClientSecret, ClientSecretJwtSigner, HmacAlgorithm};
    /// use client_assertion::server::AuthMethod;
    ///
    /// let registry = Arc::new(ClientRegistry::new());
    /// let secret = ClientSecret::generate()?;
    /// registry.register_client_secret("legacy", secret.clone_secret(), &[HmacAlgorithm::Hs256])?;
    /// let policy = Policy::new("https://as.example").allow_client_secret_jwt();
    /// let verifier = Verifier::builder("https://as.example", registry).policy(policy).build()?;
    ///
    /// let signer = ClientSecretJwtSigner::builder(secret, "legacy", "https://as.example").build()?;
    /// let assertion = signer.sign()?;
    /// let client = verifier.authenticate_client(assertion.as_str(), None)?;
    /// assert_eq!(client.method(), AuthMethod::ClientSecretJwt);
    /// assert_eq!(client.client_id(), "legacy");
    /// // The private_key_jwt entry point never accepts it.
    /// let err = verifier.verify(signer.sign()?.as_str()).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed);
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Verifier::verify`], for either method.
    pub fn authenticate_client(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<AuthenticatedClient, Error> {
        let p = self.both_methods();
        let checked = p.audited(p.run(token, client_id), ReplayCheck::Recorded)?;
        Ok(AuthenticatedClient::from_checked(checked))
    }

    /// [`Verifier::authenticate_client`] on the async path (see
    /// [`Verifier::verify_async`]).
    ///
    /// # Errors
    /// As [`Verifier::authenticate_client`].
    pub async fn authenticate_client_async(
        &self,
        token: &str,
        client_id: Option<&str>,
    ) -> Result<AuthenticatedClient, Error> {
        let p = self.both_methods();
        let result = p.run_async(token, client_id).await;
        Ok(AuthenticatedClient::from_checked(
            p.audited(result, ReplayCheck::Recorded)?,
        ))
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("policy", &self.policy)
            .field("registry", &self.registry)
            .field("replay", &self.replay)
            .finish_non_exhaustive()
    }
}

/// Verification that skips a safety check; see [`Verifier::dangerous`].
#[derive(Debug)]
pub struct DangerousVerifier<'v>(&'v Verifier);

impl DangerousVerifier<'_> {
    /// Verifies everything but does **not** check or record the `jti`: the
    /// same assertion is accepted again and again. Only for callers that run
    /// their own replay check on [`VerifiedAssertion::jti`] right after.
    ///
    /// # Errors
    /// As [`Verifier::verify`], without [`ErrorKind::Replayed`].
    pub fn verify_without_replay_check(&self, token: &str) -> Result<VerifiedAssertion, Error> {
        let p = self.0.pipeline(Hmac::Refused);
        let checked = p.audited(p.check(token, None), ReplayCheck::Skipped)?;
        VerifiedAssertion::private_key_jwt(checked)
    }
}
