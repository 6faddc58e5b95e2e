//! The token endpoint around the verifier, without an HTTP stack: what an
//! authorization server would otherwise write by hand.
//!
//! | file | owns |
//! | --- | --- |
//! | `form.rs` | the bounded `application/x-www-form-urlencoded` reader |
//! | `request.rs` | [`TokenRequest`]: one method, no repeated parameter, the assertion type |
//! | `response.rs` | [`ErrorResponse`]: the RFC 6749 §5.2 status, headers and body of an [`Error`](crate::Error) |
//! | `binding.rs` | [`ClientAuthRules`]: the registered method and algorithm against the presented ones |
//! | `store.rs` | [`ClientStore`], the contract an authorization server implements over its storage, and its [`StoredClient`] records |
//! | `cache.rs` | [`ClientCache`]: parsed keys per version, bounded negative cache, single-flight lookups |
//! | `authenticate.rs` | [`TokenEndpoint`]: request ─▶ store ─▶ binding ─▶ verifier |
//!
//! Why the store sits here and not under `verify/`: the verifier's pipeline
//! stays synchronous and keyed by an in-memory [`ClientRegistry`](crate::ClientRegistry);
//! the cache fills that registry from the store (parsing once per
//! version) before the pipeline runs, so the pipeline has one source of
//! keys whatever the storage.

mod authenticate;
mod binding;
mod cache;
mod form;
mod request;
mod response;
mod store;

pub use authenticate::TokenEndpoint;
pub use binding::ClientAuthRules;
pub use cache::{ClientCache, ClientCacheConfig};
pub use request::{PresentedMethod, TokenRequest};
pub use response::{AccessTokenResponse, ErrorResponse};
pub use store::{ClientCredentials, ClientStore, Lookup, StoreFuture, StoredClient};
