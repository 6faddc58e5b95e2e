//! The `jti` replay contract and its in-memory implementation.
//!
//! A verifier calls [`ReplayCache::check_and_insert`] once per assertion,
//! after the signature and every claim have passed, with the time until
//! which the assertion could still be accepted. The cache answers whether
//! this (client id, `jti`) pair was seen before and remembers it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use crate::error::Error;

mod memory;
#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use self::redis::{
    RedisReplayCache, RedisReplayConfig, DEFAULT_REDIS_KEY_PREFIX, DEFAULT_REDIS_TIMEOUT,
};
pub use memory::{MemoryReplayCache, DEFAULT_REPLAY_CAPACITY};

/// The future returned by [`ReplayCache::check_and_insert_async`].
pub type ReplayFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// Remembers (client id, `jti`) pairs so that an assertion is accepted once.
///
/// # Security contract for implementers
/// - **Atomic:** checking and recording are one step. When several threads
///   or processes present the same pair at once, exactly one call returns
///   `Ok(())`; all others return [`ErrorKind::Replayed`](crate::ErrorKind::Replayed).
/// - **Never forget early:** a recorded pair must stay recorded until
///   `until` has passed (by the cache's clock, which the verifier passes as
///   `now`). Evicting an unexpired entry to make room, as a general-purpose
///   cache does, would let a replay through: when full, fail with
///   [`ErrorKind::ReplayCacheFull`](crate::ErrorKind::ReplayCacheFull) instead.
/// - **Fail closed:** when the store cannot answer (unreachable, timeout),
///   return [`ErrorKind::ReplayStoreUnavailable`](crate::ErrorKind::ReplayStoreUnavailable);
///   never `Ok(())`.
/// - **Scoped by client:** the same `jti` from two clients is two pairs.
///   (The `GrantVerifier` passes `"grant\u{1f}"` + the grant's issuer as
///   the client id, so grants and client assertions never share a scope.)
/// - **Bounded keys:** do not store an attacker-chosen `jti` verbatim as a
///   key of unbounded size; hash it (the verifier already bounds its length).
///
/// # Sync and async stores
/// An in-process cache implements [`ReplayCache::check_and_insert`] and gets
/// [`ReplayCache::check_and_insert_async`] for free. A networked store
/// implements the async method, so it never blocks an async executor, and is
/// used through `Verifier::verify_async`; its sync method keeps the default,
/// which fails closed with [`ErrorKind::RequiresAsync`](crate::ErrorKind::RequiresAsync).
pub trait ReplayCache: fmt::Debug + Send + Sync {
    /// Records `(client_id, jti)` until `until`, or reports that it was
    /// already recorded.
    ///
    /// # Errors
    /// [`ErrorKind::Replayed`](crate::ErrorKind::Replayed) for a pair already
    /// recorded and not yet expired;
    /// [`ErrorKind::ReplayCacheFull`](crate::ErrorKind::ReplayCacheFull) or
    /// [`ErrorKind::ReplayStoreUnavailable`](crate::ErrorKind::ReplayStoreUnavailable)
    /// when the pair cannot be recorded.
    fn check_and_insert(
        &self,
        client_id: &str,
        jti: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<(), Error> {
        let _ = (client_id, jti, until, now);
        Err(Error::new(crate::error::ErrorKind::RequiresAsync))
    }

    /// The same check without blocking an async executor. The default runs
    /// [`ReplayCache::check_and_insert`].
    ///
    /// # Errors
    /// As [`ReplayCache::check_and_insert`].
    fn check_and_insert_async<'a>(
        &'a self,
        client_id: &'a str,
        jti: &'a str,
        until: SystemTime,
        now: SystemTime,
    ) -> ReplayFuture<'a> {
        Box::pin(std::future::ready(
            self.check_and_insert(client_id, jti, until, now),
        ))
    }
}

impl<T: ReplayCache + ?Sized> ReplayCache for std::sync::Arc<T> {
    fn check_and_insert(
        &self,
        client_id: &str,
        jti: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<(), Error> {
        (**self).check_and_insert(client_id, jti, until, now)
    }

    fn check_and_insert_async<'a>(
        &'a self,
        client_id: &'a str,
        jti: &'a str,
        until: SystemTime,
        now: SystemTime,
    ) -> ReplayFuture<'a> {
        (**self).check_and_insert_async(client_id, jti, until, now)
    }
}
