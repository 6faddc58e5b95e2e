//! The `jti` replay contract ([`ReplayCache`], [`AsyncReplayCache`]), the
//! entry a verifier records ([`ReplayEntry`]), and the in-memory and Redis
//! implementations.
//!
//! A verifier records one [`ReplayEntry`] per assertion, after the
//! signature and every claim have passed, with the time until which the
//! assertion could still be accepted. The cache answers whether this
//! (scope, `jti`) pair was seen before and remembers it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::{Error, ErrorKind};

mod entry;
#[cfg(feature = "redis")]
mod io_thread;
mod memory;
#[cfg(feature = "redis")]
mod redis;

#[cfg(feature = "redis")]
pub use self::redis::{RedisReplayCache, RedisReplayConfig};
pub use entry::{ReplayEntry, ReplayKind, ReplayScope};
pub use memory::MemoryReplayCache;

/// The future returned by [`AsyncReplayCache::check_and_insert_async`].
pub type ReplayFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// An in-process replay cache: remembers (scope, `jti`) pairs so that an
/// assertion is accepted once.
///
/// # Security contract for implementers
/// - **Atomic:** checking and recording are one step. When several threads
///   or processes present the same pair at once, exactly one call returns
///   `Ok(())`; all others return [`ErrorKind::Replayed`].
/// - **Never forget early:** a recorded pair must stay recorded until
///   [`ReplayEntry::until`] has passed (by the verifier's clock,
///   [`ReplayEntry::now`]). Evicting an unexpired entry to make room, as a
///   general-purpose cache does, would let a replay through: when full,
///   fail with [`ErrorKind::ReplayCacheFull`] instead.
/// - **Fail closed:** when the store cannot answer (unreachable, timeout),
///   return [`ErrorKind::ReplayStoreUnavailable`]; never `Ok(())`.
/// - **Scoped:** the same `jti` in two [`ReplayScope`]s (two clients, a
///   client and a grant issuer, two authorization servers) is two pairs.
///   [`ReplayEntry::key_material`] gives an unambiguous encoding to key by.
/// - **Bounded keys:** do not store an attacker-chosen `jti` verbatim as a
///   key of unbounded size; hash it (the verifier already bounds its length).
///
/// # Sync and async stores
/// An in-process cache implements this trait and is also an
/// [`AsyncReplayCache`] (a blanket implementation), so it serves both
/// `Verifier::verify` and `Verifier::verify_async`. A networked store
/// implements only [`AsyncReplayCache`], so it never blocks an async
/// executor; a verifier that holds one answers its synchronous methods with
/// [`ErrorKind::RequiresAsync`]. A type that implements neither has no
/// `check_and_insert` at all and cannot be handed to a verifier:
///
/// ```compile_fail
/// use client_assertion::ReplayCache;
///
/// #[derive(Debug)]
/// struct Forgetful;
/// impl ReplayCache for Forgetful {} // error: `check_and_insert` is missing
/// ```
pub trait ReplayCache: fmt::Debug + Send + Sync {
    /// Records `entry`, or reports that its (scope, `jti`) pair was already
    /// recorded.
    ///
    /// # Errors
    /// [`ErrorKind::Replayed`] for a pair already recorded and not yet
    /// expired; [`ErrorKind::ReplayCacheFull`] or
    /// [`ErrorKind::ReplayStoreUnavailable`] when the pair cannot be
    /// recorded.
    fn check_and_insert(&self, entry: &ReplayEntry<'_>) -> Result<(), Error>;
}

/// A replay cache reached without blocking an async executor (a networked
/// store such as Redis). The security contract is [`ReplayCache`]'s.
/// Every [`ReplayCache`] is one.
pub trait AsyncReplayCache: fmt::Debug + Send + Sync {
    /// Records `entry`, or reports that its pair was already recorded.
    ///
    /// # Errors
    /// As [`ReplayCache::check_and_insert`].
    fn check_and_insert_async<'a>(&'a self, entry: &'a ReplayEntry<'a>) -> ReplayFuture<'a>;
}

impl<T: ReplayCache + ?Sized> AsyncReplayCache for T {
    fn check_and_insert_async<'a>(&'a self, entry: &'a ReplayEntry<'a>) -> ReplayFuture<'a> {
        Box::pin(std::future::ready(self.check_and_insert(entry)))
    }
}

impl<T: ReplayCache + ?Sized> ReplayCache for Arc<T> {
    fn check_and_insert(&self, entry: &ReplayEntry<'_>) -> Result<(), Error> {
        (**self).check_and_insert(entry)
    }
}

/// The replay cache a verifier holds: the one place where entries are
/// recorded, synchronously or not.
#[derive(Clone)]
pub(crate) enum ReplayStore {
    /// An in-process cache: both paths record synchronously.
    Sync(Arc<dyn ReplayCache>),
    /// A networked store: only the async path can record.
    Async(Arc<dyn AsyncReplayCache>),
}

impl ReplayStore {
    /// Records `entry` without waiting on I/O.
    ///
    /// # Errors
    /// The cache's error; [`ErrorKind::RequiresAsync`] for a networked store.
    pub(crate) fn record(&self, entry: &ReplayEntry<'_>) -> Result<(), Error> {
        match self {
            Self::Sync(cache) => cache.check_and_insert(entry),
            Self::Async(_) => Err(Error::new(ErrorKind::RequiresAsync)),
        }
    }

    /// Records `entry`, awaiting a networked store.
    ///
    /// # Errors
    /// The cache's error.
    pub(crate) async fn record_async(&self, entry: &ReplayEntry<'_>) -> Result<(), Error> {
        match self {
            Self::Sync(cache) => cache.check_and_insert(entry),
            Self::Async(cache) => cache.check_and_insert_async(entry).await,
        }
    }
}

impl Default for ReplayStore {
    fn default() -> Self {
        Self::Sync(Arc::new(MemoryReplayCache::default()))
    }
}

impl fmt::Debug for ReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sync(cache) => cache.fmt(f),
            Self::Async(cache) => cache.fmt(f),
        }
    }
}
