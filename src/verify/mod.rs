//! Server side: verifying client assertions and JWT bearer grants.
//!
//! Every verifier drives the one pipeline of `pipeline.rs`:
//!
//! ```text
//! token ─▶ screen (size, 3 segments, strict base64url, JSON objects without
//!          duplicate members; crit/jwk/jku/x5u refused, typ, alg allowlist)
//!       ─▶ keys (the client or trusted issuer named by iss; the method its
//!          registration allows; remote key sets fetched on the async path)
//!       ─▶ signature (kid; alg pinned by the key)
//!       ─▶ claims (sub, aud, exp, nbf, iat, lifetime, age, jti)
//!       ─▶ replay record ─▶ VerifiedAssertion / AuthenticatedClient / VerifiedGrant
//! ```
//! Embedded keys (`jwk`, `jku`, `x5u`, `x5c`) are never used and nothing is
//! ever fetched because a token says so: the only keys are the registered
//! ones.
//!
//! | file | owns |
//! | --- | --- |
//! | `client.rs` | [`Verifier`]: client authentication (`private_key_jwt`, `client_secret_jwt`) |
//! | `grant.rs` | [`GrantVerifier`], [`TrustedIssuers`]: JWT bearer grants |
//! | `pipeline.rs` | the steps, in order, and the audit event of their outcome |
//! | `token.rs` | the bounded, strict parse of a compact JWS |
//! | `select.rs` | the credential and the key that verifies a token |
//! | `claims.rs` | the claim rules |
//! | `policy.rs` | [`Policy`], the strict defaults and their named loosenings |
//! | `registry.rs`, `remote.rs` | [`ClientRegistry`] and its [`Registration`]s, remote JWK Sets ([`JwksFetcher`]) |
//! | `keyset.rs` | a client's verifying keys, parsed once for the backend |
//! | `verified.rs` | what verification returns |

mod claims;
mod client;
mod grant;
mod keyset;
pub(crate) mod pipeline;
mod policy;
pub(crate) mod registry;
mod remote;
pub(crate) mod select;
pub(crate) mod token;
mod verified;

pub use client::{DangerousVerifier, Verifier, VerifierBuilder};
pub use grant::{DangerousGrantOptions, GrantVerifier, GrantVerifierBuilder, TrustedIssuers};
pub use policy::Policy;
pub use registry::{ClientRegistry, Registration};
pub use remote::{FetchFuture, JwksFetcher, RemoteJwksConfig};
pub(crate) use token::Json;
pub use verified::{AuthMethod, AuthenticatedClient, VerifiedAssertion, VerifiedGrant};
