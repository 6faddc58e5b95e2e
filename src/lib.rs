//! # client-assertion
//!
//! Mint and strictly verify OAuth 2.0 JWT client assertions: RFC 7523
//! `private_key_jwt` client authentication and the JWT bearer authorization
//! grant, without a shared client secret and without an HTTP stack.
//!
//! ## The map
//!
//! | Namespace | Side | What it holds |
//! |---|---|---|
//! | root | both | the common path: [`PrivateKey`], [`FileKey`], [`KeySource`], [`jwk_set`], [`AssertionSigner`], [`ClientAssertion`], [`FormParams`], [`Profile`], [`ClientRegistry`], [`Policy`], [`Verifier`], [`VerifiedAssertion`], [`ReplayCache`], [`MemoryReplayCache`], [`Error`], [`ErrorKind`] |
//! | [`keys`] | client | the key-source contract ([`KeyMetadata`], [`KeySource`], [`AsyncKeySource`](keys::AsyncKeySource), [`SignerKey`](keys::SignerKey)), keys in memory, files and HSMs (`keys::pkcs11`), JWKs, certificates |
//! | [`client`] | client | the signer and its builder, `typ`, form parameters, profiles, key rotation ([`KeyRing`](client::KeyRing), [`DirectoryKeyRing`](client::DirectoryKeyRing)), a server's metadata ([`ServerMetadata`](client::ServerMetadata)) |
//! | [`platform`] | client | tokens a platform minted (Kubernetes, Azure, CI OIDC) |
//! | [`server`] | server | [`Verifier`], [`ClientRegistry`] and its [`Registration`](server::Registration)s, [`Policy`], remote key sets ([`JwksFetcher`](server::JwksFetcher)), [`AuthenticatedClient`](server::AuthenticatedClient); the token endpoint around them: [`TokenRequest`](server::TokenRequest), [`ErrorResponse`](server::ErrorResponse), [`ClientAuthRules`](server::ClientAuthRules), the [`ClientStore`](server::ClientStore) contract and its [`ClientCache`](server::ClientCache), [`TokenEndpoint`](server::TokenEndpoint), [`ServerMetadata`](server::ServerMetadata) |
//! | [`grant`] | server | the RFC 7523 §2.1 JWT bearer grant: [`TrustedIssuers`](grant::TrustedIssuers), [`GrantVerifier`](grant::GrantVerifier) |
//! | [`replay`] | server | the replay-cache contract (sync and async), its entry and scope, memory and Redis caches |
//! | [`secret`] | both | `client_secret_jwt` (opt-in, HMAC, a separate mode) |
//! | [`danger`] | server | every loosening of the verifier's rules |
//! | [`backend`] | both | the crypto backends (RustCrypto, AWS-LC), one per key or registry |
//! | [`audit`] | both | audit event names and fields (feature `tracing`) |
//! | [`time`] | both | the injectable clock |
//!
//! Inside, one module per concept: `jose` (the token's shared JOSE pieces),
//! `backend/` (one file per crypto backend behind one seam), `keys/`
//! (parsing once, key sources), `signing` and `rotation/` (client side),
//! `verify/` (the pipeline and its drivers), `endpoint/` (the token
//! endpoint's request, response, binding and client store around the
//! pipeline), `discovery` (server metadata, both sides), `replay/`,
//! `audit`, `error`.
//!
//! ## The data flow
//!
//! **Signing:** a key source (its `kid`, algorithms and public JWK from
//! [`KeyMetadata`]) → [`AssertionSigner`] pins the key in force, writes the
//! header (`alg`, `kid`, `typ`) and claims (`iss`, `sub`, `aud`, `jti`,
//! `iat`, `nbf`, `exp`) → the key signs the signing input through the
//! crypto seam → [`ClientAssertion`] → [`FormParams`] for your HTTP client.
//!
//! **Verification:** one pipeline, driven by [`Verifier`] (client
//! authentication, `client_secret_jwt`) and [`GrantVerifier`](grant::GrantVerifier):
//! *screen* (size, three segments, strict base64url, duplicate-free JSON,
//! header rules: `crit`, `jwk`/`jku`/`x5u`, `typ`, the algorithm allowlist)
//! → *keys* (the registered client's or trusted issuer's keys, parsed once;
//! the only step that may be async, for a remote JWK Set) → *signature*
//! (the algorithm pinned by the key) → *claims* (subject, audience, times,
//! lifetime, `jti`) → *replay record* (one [`ReplayCache`] call) →
//! [`VerifiedAssertion`], or an [`Error`] with a stable [`ErrorKind`].
//! Audit events are built from what the pipeline already knows.
//!
//! ## Getting started
//!
//! ```
//! use std::sync::Arc;
//! use client_assertion::{jwk_set, AssertionSigner, KeyType, PrivateKey};
//!
//! // The workload's key (here generated; usually PrivateKey::from_pem or FileKey::open).
//! let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
//!
//! // Register this JWK Set with the authorization server (or serve it at jwks_uri).
//! let jwks = jwk_set([&*key]).to_json();
//! assert!(jwks.contains(r#""kty":"EC""#));
//!
//! // At token time: a fresh, short-lived assertion and the form body to POST.
//! let signer = AssertionSigner::builder(key, "my-client", "https://as.example.com").build()?;
//! let assertion = signer.sign()?;
//! let body = assertion.form_params().to_urlencoded();
//! assert!(body.contains("client_assertion="));
//! # Ok::<(), client_assertion::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]
// An `Error` is boxed: `ok_or(error(..))` would allocate on the success path.
#![deny(clippy::or_fun_call)]
// docs.rs (`--cfg docsrs`, nightly rustdoc): each feature-gated item shows
// the feature it needs. `doc_auto_cfg` was folded into `doc_cfg` (Rust 1.92),
// which now labels items from their `#[cfg]` without annotations.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod algorithm;
pub mod audit;
mod b64;
pub mod backend;
mod diagnostic;
mod discovery;
mod endpoint;
mod error;
pub mod federation;
// Only in builds by cargo-fuzz (`--cfg fuzzing`): never part of the library.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod jose;
pub mod keys;
mod params;
pub mod platform;
mod profile;
mod random;
pub mod replay;
mod rotation;
pub mod secret;
mod signing;
pub mod time;
mod verify;

// ----- the common path -----
pub use algorithm::{Algorithm, KeyType};
pub use backend::Backend;
pub use error::{Error, ErrorKind, Result, Usage};
pub use keys::{jwk_set, FileKey, JwkSet, KeyMetadata, KeySource, PrivateKey, PublicJwk};
pub use params::FormParams;
pub use profile::Profile;
pub use replay::{MemoryReplayCache, ReplayCache};
pub use signing::{AssertionSigner, ClientAssertion};
pub use verify::{ClientRegistry, Policy, VerifiedAssertion, Verifier};

/// The client side: minting assertions, the form parameters to send, server
/// profiles and key rotation.
///
/// [`AssertionSigner`] signs with a [`KeySource`] and
/// returns a [`ClientAssertion`] whose [`FormParams`] you POST with your own
/// HTTP client. A [`KeyRing`](crate::client::KeyRing) (next, active and retired keys on a
/// [`RotationPolicy`](crate::client::RotationPolicy)) or a [`DirectoryKeyRing`](crate::client::DirectoryKeyRing) (a mounted secret
/// directory) is itself a key source that signs with the active key and
/// publishes every key that may still be verified ([`PublishedJwks`](crate::client::PublishedJwks)).
pub mod client {
    pub use crate::discovery::ServerMetadata;
    #[cfg(feature = "pkcs11")]
    pub use crate::rotation::Pkcs11KeyFactory;
    pub use crate::rotation::{
        DirectoryKeyRing, FileKeyFactory, KeyFactory, KeyRing, KeyState, MemoryKeyFactory,
        PublishedJwks, RotationPolicy,
    };
    pub use crate::signing::{AssertionSigner, AssertionSignerBuilder, ClientAssertion, TokenType};
    pub use crate::{FormParams, Profile};
}

/// The server side: verifying `private_key_jwt` (and, opted in,
/// `client_secret_jwt`) client authentication.
///
/// A [`ClientRegistry`] holds each client's keys (registered, or fetched
/// from its `jwks_uri` through your [`JwksFetcher`](crate::server::JwksFetcher)); a [`Verifier`] checks
/// a token against it under a [`Policy`] and a replay cache, returning a
/// [`VerifiedAssertion`] (or, from [`Verifier::authenticate_client`], an
/// [`AuthenticatedClient`](crate::server::AuthenticatedClient) with its [`AuthMethod`](crate::server::AuthMethod)).
///
/// Around it, the token endpoint without an HTTP stack: a
/// [`TokenRequest`](crate::server::TokenRequest) read from the form body, the
/// client's registration from your [`ClientStore`](crate::server::ClientStore)
/// through a [`ClientCache`](crate::server::ClientCache), the
/// [`ClientAuthRules`](crate::server::ClientAuthRules) binding, all in a
/// [`TokenEndpoint`](crate::server::TokenEndpoint), and every error's
/// [`ErrorResponse`](crate::server::ErrorResponse) (RFC 6749 §5.2).
pub mod server {
    pub use crate::discovery::ServerMetadata;
    pub use crate::endpoint::{
        AccessTokenResponse, ClientAuthRules, ClientCache, ClientCacheConfig, ClientCredentials,
        ClientStore, ErrorResponse, Lookup, PresentedMethod, StoreFuture, StoredClient,
        TokenEndpoint, TokenRequest,
    };
    pub use crate::error::Disposition;
    pub use crate::verify::{
        AuthMethod, AuthenticatedClient, ClientRegistry, FetchFuture, JwksFetcher, Policy,
        Registration, RemoteJwksConfig, VerifiedAssertion, Verifier, VerifierBuilder,
    };
}

/// The server side of the RFC 7523 §2.1 JWT bearer authorization grant:
/// [`TrustedIssuers`](crate::grant::TrustedIssuers) and their keys, a [`GrantVerifier`](crate::grant::GrantVerifier), and the
/// [`VerifiedGrant`](crate::grant::VerifiedGrant) whose subject you map to a local user.
pub mod grant {
    pub use crate::verify::{GrantVerifier, GrantVerifierBuilder, TrustedIssuers, VerifiedGrant};
}

/// Every loosening of the verifier's rules, in one place so that a review
/// can find them: [`DangerousVerifier`](crate::danger::DangerousVerifier) verifies without a replay check,
/// for callers that record `jti`s themselves;
/// [`DangerousGrantOptions`](crate::danger::DangerousGrantOptions) accepts a grant without `sub` as
/// the issuer's own.
pub mod danger {
    pub use crate::verify::{DangerousGrantOptions, DangerousVerifier};
}

/// The README's code samples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
