//! # client-assertion
//!
//! Mint and strictly verify OAuth 2.0 JWT client assertions: RFC 7523
//! `private_key_jwt` client authentication and the JWT bearer authorization
//! grant, without a shared client secret and without an HTTP stack.
//!
//! - **Client side:** a [`KeySource`] (an in-memory [`PrivateKey`], a
//!   reloading [`FileKey`], or your own HSM/KMS signer) and an
//!   [`AssertionSigner`] produce a [`ClientAssertion`] and the
//!   [`FormParams`] to send with your own HTTP client.
//! - **Server side:** a [`ClientRegistry`] of public keys, a strict
//!   [`Policy`] and a [`Verifier`] that returns a [`VerifiedAssertion`] only
//!   after the signature, every claim and the `jti` replay check
//!   ([`ReplayCache`], e.g. [`MemoryReplayCache`]) have passed, or an
//!   [`Error`] with a stable reason code.
//! - **JWT bearer grants:** [`TrustedIssuers`] and a [`GrantVerifier`]
//!   check RFC 7523 §2.1 authorization grants from other issuers and return
//!   a [`VerifiedGrant`] with the subject to map to a local user.
//! - **Rotation:** a [`KeyRing`] (next, active, retired keys on a
//!   [`RotationPolicy`]) or a [`DirectoryKeyRing`] over a mounted secret
//!   signs with the active key and publishes a [`PublishedJwks`] with an
//!   ETag; servers follow rotations through [`JwksFetcher`] with a cooldown
//!   and single-flight refresh.
//! - **Keys:** PEM (PKCS#8, SEC1, PKCS#1), DER, JWK; ES256, ES384, EdDSA,
//!   RS256, PS256; RSA below 2048 bits refused; `kid` = RFC 7638 thumbprint.
//! - **`client_secret_jwt`** (opt-in, a separate mode): a [`ClientSecret`],
//!   [`HmacAlgorithm`] (never an [`Algorithm`]), [`ClientSecretJwtSigner`],
//!   [`ClientRegistry::register_client_secret`] and
//!   [`Verifier::authenticate_client`]; clients registered with public keys
//!   are never verified with HMAC.
//! - **Certificates and profiles:** a [`CertificateChain`] (checked against
//!   the signing key) names the key by `x5t#S256`, `x5t` or `x5c`; a
//!   [`Profile`] (rfc7523bis, FAPI 2.0, Entra ID, legacy token endpoint)
//!   presets both sides.
//! - **Platform-issued tokens:** [`TokenFileSource`] presents a token the
//!   platform minted (Kubernetes, Azure workload identity, CI OIDC).
//! - **Audit events** (feature `tracing`): see [`audit`] for the event names
//!   and fields.
//!
//! ## Getting started
//!
//! ```
//! use std::sync::Arc;
//! use client_assertion::{AssertionSigner, jwk_set, KeySource, KeyType, PrivateKey};
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
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod algorithm;
pub mod audit;
mod b64;
pub mod backend;
mod error;
// Only in builds by cargo-fuzz (`--cfg fuzzing`): never part of the library.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod jose;
pub mod keys;
mod params;
pub mod platform;
mod profile;
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
/// [`AssertionSigner`] signs with a [`KeySource`](crate::KeySource) and
/// returns a [`ClientAssertion`] whose [`FormParams`] you POST with your own
/// HTTP client. A [`KeyRing`] (next, active and retired keys on a
/// [`RotationPolicy`]) or a [`DirectoryKeyRing`] (a mounted secret
/// directory) is itself a key source that signs with the active key and
/// publishes every key that may still be verified ([`PublishedJwks`]).
pub mod client {
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
/// from its `jwks_uri` through your [`JwksFetcher`]); a [`Verifier`] checks
/// a token against it under a [`Policy`] and a replay cache, returning a
/// [`VerifiedAssertion`] (or, from [`Verifier::authenticate_client`], an
/// [`AuthenticatedClient`] with its [`AuthMethod`]).
pub mod server {
    pub use crate::verify::{
        AuthMethod, AuthenticatedClient, ClientRegistry, FetchFuture, JwksFetcher, Policy,
        RemoteJwksConfig, VerifiedAssertion, Verifier, VerifierBuilder,
    };
}

/// The server side of the RFC 7523 §2.1 JWT bearer authorization grant:
/// [`TrustedIssuers`] and their keys, a [`GrantVerifier`], and the
/// [`VerifiedGrant`] whose subject you map to a local user.
pub mod grant {
    pub use crate::verify::{GrantVerifier, GrantVerifierBuilder, TrustedIssuers, VerifiedGrant};
}

/// Every loosening of the verifier's rules, in one place so that a review
/// can find them: [`DangerousVerifier`] verifies without a replay check,
/// for callers that record `jti`s themselves.
pub mod danger {
    pub use crate::verify::DangerousVerifier;
}

/// The README's code samples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
