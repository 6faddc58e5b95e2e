//! The `jti` replay contract ([`ReplayCache`], [`AsyncReplayCache`]), the
//! entry a verifier records ([`ReplayEntry`]), and the in-memory and Redis
//! implementations.
//!
//! A verifier records one [`ReplayEntry`] per assertion, after the
//! signature and every claim have passed, with the time until which the
//! assertion could still be accepted. The cache answers whether this
//! (scope, `jti`) pair was seen before and remembers it.
//!
//! # Epochs and quarantine
//!
//! A store can lose what it recorded: a process restart empties a
//! [`MemoryReplayCache`], a Redis restarted without persistence, flushed,
//! evicting or failed over to a replica forgets keys. Every cache therefore
//! tells its **epoch** ([`ReplayCache::epoch`]): the instant, on the
//! verifier's clock, since which its memory is complete. A pair accepted
//! before the epoch may have been forgotten.
//!
//! After a verifier has recorded an entry, it applies the **quarantine
//! rule** (RFC 4120 §3.2.3, as Kerberos does after losing its replay
//! cache): an assertion that could have been accepted before the epoch is
//! refused with [`ErrorKind::ReplayQuarantine`] (a retryable server
//! condition: the client mints a fresh assertion). In whole seconds:
//!
//! ```text
//! quarantined  ⇔  floor(acceptable_from) < floor(epoch)
//! acceptable_from = iat                                 (assertion with iat)
//!                 = exp − max_lifetime − leeway         (assertion without iat)
//! ```
//!
//! - **Why whole seconds.** `iat` has whole-second precision: a verifier
//!   started at 12:00:00.400 must accept an assertion minted at
//!   12:00:00.100 (`iat` 12:00:00), the everyday case of a server that has
//!   just started, a test or the quickstart. So an assertion issued in the
//!   epoch's own second is checked normally.
//! - **How long it lasts.** No assertion issued before the epoch is
//!   acceptable after `epoch + max_age + leeway` (the policy's age rule), so
//!   the quarantine ends by itself then (at most `max_lifetime + leeway`
//!   for assertions without `iat`); nothing needs to be configured.
//! - **Residual window.** An assertion accepted before the loss and issued
//!   in the epoch's second or later escapes the rule. With honest clocks
//!   (`iat` no later than its acceptance) that needs an acceptance in the
//!   epoch's own second, less than 1 s before the epoch; a client whose
//!   clock runs `d` ahead (at most the leeway, else `iat` is refused as
//!   `not_yet_valid`) widens it to `1 s + d`. The epoch is never earlier
//!   than the loss (a restarted process's cache is created after the old
//!   one died; Redis losses are dated when they are detected), which only
//!   narrows it. Closing the window entirely would turn away every
//!   assertion minted in the second a server starts; one second of
//!   exposure to an attacker who must replay an assertion that was accepted
//!   in the instant before a crash is the trade taken.
//! - **What it costs.** For `max_age + leeway` after an epoch (5 min 30 s
//!   with the default policy), an assertion minted before the epoch's
//!   second is refused once; a fresh one is accepted. Clients that mint an
//!   assertion per request (the crate's signers do) only lose the requests
//!   that were in flight across the restart.
//! - **Measured cost after a start** (`benches/redis_replay.rs`, a fresh
//!   verifier fed freshly minted assertions): nothing for clients whose
//!   clocks are right or ahead; a client `d` behind is refused for at most
//!   `d` after the start (0.4 s, 0.9 s, 1.9 s for 0.5 s, 1 s, 2 s behind).
//! - **Detection delay.** The epoch must move no later than the first
//!   answer the store gives after a loss, or a replay can slip through in
//!   between. [`MemoryReplayCache`] cannot lose anything but its process.
//!   `RedisReplayCache` (feature `redis`) sees a flush, a deletion or a restart without
//!   persistence in the same round trip as the check that follows it, a
//!   reconnection (restart, failover) before the new connection's first
//!   answer counts, and an eviction (only allowed by a `danger` opt-in) in
//!   the check's own round trip; a restart or failover that its connection
//!   does not show (a proxy, a virtual IP, a cluster client reconnecting
//!   by itself) is seen through `INFO`, read once a second per server, so
//!   within 1 s plus the wait for the next check. An implementation
//!   should state its own bound.
//! - **Scope.** Only the assertions whose `jti` is recorded are concerned:
//!   [`DangerousVerifier::verify_without_replay_check`](crate::danger::DangerousVerifier::verify_without_replay_check)
//!   never quarantines.
//! - **Turning it off** is a loosening with the name of what it gives up:
//!   `danger_accept_replays_after_state_loss` on the verifier builders.
//!   Only for a caller whose own replay protection survives the store's
//!   losses, or a one-shot tool (see `examples/verify.rs`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use crate::error::{Error, ErrorKind};

mod entry;
#[cfg(feature = "redis")]
mod io_thread;
mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
mod redis_epoch;

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
/// - **Epoch-aware:** [`ReplayCache::epoch`] never reports an instant
///   earlier than the last moment the store may have lost a recorded pair
///   (see the module docs): when in doubt, a later epoch. A loss detected
///   while checking an entry moves the epoch before `check_and_insert`
///   returns, so that the verifier's quarantine rule sees it.
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

    /// The instant since which this cache's memory is complete, on the
    /// verifier's clock, whose reading is `now` (a cache that has no epoch
    /// yet takes `now`, so a verifier pins it when it is built). A store
    /// that has never lost anything and never will returns
    /// [`SystemTime::UNIX_EPOCH`].
    fn epoch(&self, now: SystemTime) -> SystemTime;
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

    /// As [`ReplayCache::epoch`]; read right after a check returned.
    fn epoch(&self, now: SystemTime) -> SystemTime;
}

impl<T: ReplayCache + ?Sized> AsyncReplayCache for T {
    fn check_and_insert_async<'a>(&'a self, entry: &'a ReplayEntry<'a>) -> ReplayFuture<'a> {
        Box::pin(std::future::ready(self.check_and_insert(entry)))
    }

    fn epoch(&self, now: SystemTime) -> SystemTime {
        ReplayCache::epoch(self, now)
    }
}

impl<T: ReplayCache + ?Sized> ReplayCache for Arc<T> {
    fn check_and_insert(&self, entry: &ReplayEntry<'_>) -> Result<(), Error> {
        (**self).check_and_insert(entry)
    }

    fn epoch(&self, now: SystemTime) -> SystemTime {
        ReplayCache::epoch(&**self, now)
    }
}

/// The quarantine rule (see the module docs): whether `entry` could have
/// been accepted before `epoch`, compared in whole seconds.
pub fn quarantines(epoch: SystemTime, entry: &ReplayEntry<'_>) -> bool {
    crate::time::unix_seconds(entry.acceptable_from()) < crate::time::unix_seconds(epoch)
}

/// A cache seen without its epoch: the quarantine rule never fires
/// (`danger_accept_replays_after_state_loss`).
struct Unquarantined<C: ?Sized>(Arc<C>);

impl<C: ?Sized + fmt::Debug> fmt::Debug for Unquarantined<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Unquarantined").field(&self.0).finish()
    }
}

impl ReplayCache for Unquarantined<dyn ReplayCache> {
    fn check_and_insert(&self, entry: &ReplayEntry<'_>) -> Result<(), Error> {
        self.0.check_and_insert(entry)
    }

    fn epoch(&self, _now: SystemTime) -> SystemTime {
        SystemTime::UNIX_EPOCH
    }
}

impl AsyncReplayCache for Unquarantined<dyn AsyncReplayCache> {
    fn check_and_insert_async<'a>(&'a self, entry: &'a ReplayEntry<'a>) -> ReplayFuture<'a> {
        self.0.check_and_insert_async(entry)
    }

    fn epoch(&self, _now: SystemTime) -> SystemTime {
        SystemTime::UNIX_EPOCH
    }
}

/// The replay cache a verifier holds: the one place where entries are
/// recorded, synchronously or not, and the quarantine rule applied.
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
            Self::Sync(cache) => cache.check_and_insert(entry)?,
            Self::Async(_) => return Err(Error::new(ErrorKind::RequiresAsync)),
        }
        self.quarantine(entry)
    }

    /// Records `entry`, awaiting a networked store.
    ///
    /// # Errors
    /// The cache's error.
    pub(crate) async fn record_async(&self, entry: &ReplayEntry<'_>) -> Result<(), Error> {
        match self {
            Self::Sync(cache) => cache.check_and_insert(entry)?,
            Self::Async(cache) => cache.check_and_insert_async(entry).await?,
        }
        self.quarantine(entry)
    }

    /// The quarantine rule, read after the entry was recorded (so that a
    /// loss detected by this very check counts). A quarantined entry stays
    /// recorded: the `jti` is spent either way.
    fn quarantine(&self, entry: &ReplayEntry<'_>) -> Result<(), Error> {
        if quarantines(self.epoch(entry.now()), entry) {
            return Err(Error::new(ErrorKind::ReplayQuarantine));
        }
        Ok(())
    }

    /// The cache's epoch ([`ReplayCache::epoch`]) at `now`.
    pub(crate) fn epoch(&self, now: SystemTime) -> SystemTime {
        match self {
            Self::Sync(cache) => ReplayCache::epoch(&**cache, now),
            Self::Async(cache) => AsyncReplayCache::epoch(&**cache, now),
        }
    }

    /// What a verifier builder does with its store: pins a fresh cache's
    /// epoch to the verifier's start (`now`), or, with `quarantine` off
    /// (`danger_accept_replays_after_state_loss`), hides the epoch so that
    /// the quarantine rule never fires.
    pub(crate) fn for_verifier(self, now: SystemTime, quarantine: bool) -> Self {
        if quarantine {
            self.epoch(now);
            return self;
        }
        match self {
            Self::Sync(cache) => Self::Sync(Arc::new(Unquarantined(cache))),
            Self::Async(cache) => Self::Async(Arc::new(Unquarantined(cache))),
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
