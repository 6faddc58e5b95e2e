//! [`ClientCache`]: the crate's cache in front of a [`ClientStore`].
//!
//! - **Parsed keys, per version.** A client's key material is parsed once
//!   for each version the store reports, into the cache's own
//!   [`ClientRegistry`] (which the [`Verifier`](crate::Verifier) verifies
//!   with); the same version again reuses the parsed keys. A store with a
//!   synchronous path is asked at every request (cheap by contract); an
//!   async-only store is asked again once an entry is older than
//!   `revalidate_after` (default 60 s), or at once after
//!   [`ClientCache::invalidate`].
//! - **Unknown ids, bounded.** An id the store does not know is remembered
//!   as unknown for `negative_ttl` (default 30 s), at most
//!   `max_unknown` ids (default 10 000; when full, expired ids go first,
//!   then arbitrary ones), so repeated unknown ids cost one store lookup
//!   per id and period.
//! - **Single-flight, bounded.** One lookup per client id runs at a time;
//!   other requests for that id wait for its answer. At most
//!   `max_concurrent_lookups` (default 32) lookups run at once: a request
//!   that would start one more is answered with the retryable
//!   [`ErrorKind::KeysUnavailable`] (503), so always-new random ids cannot
//!   queue unbounded work against the database.
//! - **Known clients, bounded.** At most `max_clients` (default 100 000)
//!   clients' keys are kept; beyond, arbitrary ones are dropped and parsed
//!   again when next seen.
//!
//! A store error leaves the cache as it was and is returned as is (a
//! retryable kind answers 503); nothing stale is used past
//! `revalidate_after`.
//!
//! **Concurrency.** Known and unknown ids live in [`SHARDS`] shards, each
//! under its own `RwLock`: a request for a known client whose version is
//! unchanged takes only read locks (its freshness is an atomic), so
//! verifications on several threads never wait for each other here. A
//! shard is write-locked only to take a new version, remember an unknown
//! id or evict; the bounds are kept by counters shared by the shards. The
//! single-flight table has its own mutex, taken only on the async path of
//! a cache miss. A new version's keys enter the registry under its shard's
//! write lock, together with the version they belong to, so lookups that
//! read different versions of one client cannot leave one version's keys
//! under the other's name. A lookup that began before
//! [`ClientCache::invalidate`] of its id is not taken into the cache (its
//! request is answered `keys_unavailable`, retryable).

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::BuildHasher;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use super::binding::ClientAuthRules;
use super::store::{ClientStore, Lookup, Material, StoredClient};
use crate::error::{Error, ErrorKind, Usage};
use crate::time::{Clock, SystemClock};
use crate::verify::{ClientRegistry, JwksFetcher};

/// The limits and timings of a [`ClientCache`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientCacheConfig {
    /// How long an async-only store's answer is used before it is asked
    /// again (default 60 s).
    pub revalidate_after: Duration,
    /// How long an unknown id stays unknown (default 30 s).
    pub negative_ttl: Duration,
    /// The most unknown ids remembered (default 10 000).
    pub max_unknown: usize,
    /// The most store lookups running at once (default 32).
    pub max_concurrent_lookups: usize,
    /// The most clients whose parsed keys are kept (default 100 000).
    pub max_clients: usize,
}

impl Default for ClientCacheConfig {
    fn default() -> Self {
        Self {
            revalidate_after: Duration::from_secs(60),
            negative_ttl: Duration::from_secs(30),
            max_unknown: 10_000,
            max_concurrent_lookups: 32,
            max_clients: 100_000,
        }
    }
}

/// The number of independently locked shards of known and unknown ids.
const SHARDS: usize = 32;

/// A known client: the version whose keys the registry holds.
struct Known {
    version: String,
    rules: ClientAuthRules,
    /// When the store last confirmed this version, as [`nanos`]; an atomic
    /// so that a confirmation needs only the shard's read lock.
    checked_at: AtomicU64,
}

/// `t` as nanoseconds since the Unix epoch (0 before it, saturating).
fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// One shard of the ids the cache knows of.
#[derive(Default)]
struct Shard {
    known: HashMap<String, Known>,
    /// Unknown id -> until when.
    unknown: HashMap<String, SystemTime>,
    /// Bumped by every [`ClientCache::invalidate`] of an id of this shard:
    /// a store answer read before it is not taken into the cache.
    generation: u64,
}

impl Shard {
    /// Whether `client_id` is remembered as unknown at `now`.
    fn is_unknown(&self, client_id: &str, now: SystemTime) -> bool {
        self.unknown
            .get(client_id)
            .is_some_and(|until| now < *until)
    }
}

/// Which map of a shard a bound is about.
#[derive(Clone, Copy)]
enum Side {
    Known,
    Unknown,
}

/// The shards, the shared counts that keep their bounds, and the
/// single-flight table.
struct State {
    shards: Box<[RwLock<Shard>]>,
    hasher: RandomState,
    known_count: AtomicUsize,
    unknown_count: AtomicUsize,
    /// Ids with a lookup running, with the tasks waiting for it.
    in_flight: Mutex<HashMap<String, Vec<Waker>>>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            hasher: RandomState::new(),
            known_count: AtomicUsize::new(0),
            unknown_count: AtomicUsize::new(0),
            in_flight: Mutex::default(),
        }
    }
}

impl State {
    fn index(&self, client_id: &str) -> usize {
        (self.hasher.hash_one(client_id) as usize) % SHARDS
    }

    fn read(&self, i: usize) -> RwLockReadGuard<'_, Shard> {
        self.shards[i].read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self, i: usize) -> RwLockWriteGuard<'_, Shard> {
        self.shards[i].write().unwrap_or_else(|p| p.into_inner())
    }

    fn flights(&self) -> MutexGuard<'_, HashMap<String, Vec<Waker>>> {
        self.in_flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(&self, side: Side) -> &AtomicUsize {
        match side {
            Side::Known => &self.known_count,
            Side::Unknown => &self.unknown_count,
        }
    }

    /// Takes one place of `side` under `max`: `false` when it is full.
    fn reserve(&self, side: Side, max: usize) -> bool {
        self.count(side)
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
                (c < max).then_some(c + 1)
            })
            .is_ok()
    }

    fn release(&self, side: Side) {
        self.count(side).fetch_sub(1, Ordering::AcqRel);
    }

    /// Removes one arbitrary entry of `side`, looking from shard `from`
    /// on (one shard locked at a time), and calls `forget` with its id
    /// under that shard's lock; whether one was found.
    fn evict_one(&self, side: Side, from: usize, forget: &dyn Fn(&str)) -> bool {
        (0..SHARDS).any(|k| {
            let mut shard = self.write((from + k) % SHARDS);
            let evicted = match side {
                Side::Known => shard.known.keys().next().cloned(),
                Side::Unknown => shard.unknown.keys().next().cloned(),
            };
            let Some(evicted) = evicted else {
                return false;
            };
            match side {
                Side::Known => drop(shard.known.remove(&evicted)),
                Side::Unknown => drop(shard.unknown.remove(&evicted)),
            }
            self.release(side);
            forget(&evicted);
            true
        })
    }

    /// Totals over the shards (for `Debug`).
    fn totals(&self) -> (usize, usize) {
        (0..SHARDS).fold((0, 0), |(k, u), i| {
            let shard = self.read(i);
            (k + shard.known.len(), u + shard.unknown.len())
        })
    }
}

/// The crate's cache in front of an authorization server's
/// [`ClientStore`]: parsed keys per version, bounded negative cache,
/// single-flight lookups (see the module rules above, repeated in the
/// README's "Building a token endpoint").
///
/// ```
/// use std::sync::Arc;
/// use client_assertion::{jwk_set, ClientRegistry, KeyType, PrivateKey};
/// use client_assertion::server::ClientCache;
///
/// let store = Arc::new(ClientRegistry::new()); // any ClientStore
/// let key = PrivateKey::generate(KeyType::P256)?;
/// store.register("my-client", &jwk_set([&key]))?;
/// let cache = ClientCache::new(store);
/// assert!(cache.resolve_now("my-client").is_ok());
/// assert!(cache.resolve_now("nobody").is_err());
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct ClientCache {
    store: Arc<dyn ClientStore>,
    registry: Arc<ClientRegistry>,
    fetcher: Option<Arc<dyn JwksFetcher>>,
    config: ClientCacheConfig,
    clock: Arc<dyn Clock>,
    state: State,
    lookups: AtomicU64,
    parses: AtomicU64,
}

impl ClientCache {
    /// A cache over `store` with the default [`ClientCacheConfig`],
    /// parsing keys for [`Backend::RustCrypto`](crate::Backend).
    pub fn new(store: Arc<dyn ClientStore>) -> Self {
        Self::with_registry(store, ClientRegistry::new())
    }

    /// A cache over `store` whose parsed keys go into `registry` (empty;
    /// choose its [`Backend`](crate::Backend) with
    /// [`ClientRegistry::with_backend`]).
    pub fn with_registry(store: Arc<dyn ClientStore>, registry: ClientRegistry) -> Self {
        Self {
            store,
            registry: Arc::new(registry),
            fetcher: None,
            config: ClientCacheConfig::default(),
            clock: Arc::new(SystemClock),
            state: State::default(),
            lookups: AtomicU64::new(0),
            parses: AtomicU64::new(0),
        }
    }

    /// Sets the limits and timings.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a zero limit.
    pub fn config(mut self, config: ClientCacheConfig) -> Result<Self, Error> {
        if config.max_unknown == 0 || config.max_concurrent_lookups == 0 || config.max_clients == 0
        {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "client cache limits must be positive",
            ));
        }
        self.config = config;
        Ok(self)
    }

    /// Fetches the JWK Sets of clients whose credentials are a `jwks_uri`
    /// through `fetcher` (without one, such clients are
    /// [`ErrorKind::KeysUnavailable`]).
    pub fn jwks_fetcher(mut self, fetcher: Arc<dyn JwksFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// Takes time from `clock`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The registry of parsed keys: build the [`Verifier`](crate::Verifier)
    /// over it.
    pub fn registry(&self) -> &Arc<ClientRegistry> {
        &self.registry
    }

    /// How many store lookups (sync or async) have been made.
    pub fn store_lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    /// How many times key material has been parsed (one per client version).
    pub fn key_parses(&self) -> u64 {
        self.parses.load(Ordering::Relaxed)
    }

    /// Forgets what is cached of `client_id` (known or unknown): the next
    /// request asks the store. Call it when a client is registered,
    /// changed or deleted.
    ///
    /// A lookup of that id already running when this is called (it may
    /// have read the record as it was before) is not taken into the cache:
    /// its request is answered [`ErrorKind::KeysUnavailable`] (retryable),
    /// so keys the store no longer holds cannot come back.
    pub fn invalidate(&self, client_id: &str) {
        let mut shard = self.state.write(self.state.index(client_id));
        shard.generation += 1;
        if shard.known.remove(client_id).is_some() {
            self.state.release(Side::Known);
        }
        if shard.unknown.remove(client_id).is_some() {
            self.state.release(Side::Unknown);
        }
        self.registry.remove(client_id);
    }

    /// The invalidation count of `client_id`'s shard, read before a store
    /// lookup.
    fn generation(&self, client_id: &str) -> u64 {
        self.state.read(self.state.index(client_id)).generation
    }

    /// Before a synchronous store lookup, under one read lock: the refusal
    /// of an id remembered as unknown, else the invalidation count of its
    /// shard (the store's answer is read at it).
    fn before_lookup(&self, client_id: &str, now: SystemTime) -> Result<u64, Error> {
        let shard = self.state.read(self.state.index(client_id));
        if shard.is_unknown(client_id, now) {
            return Err(unknown());
        }
        Ok(shard.generation)
    }

    /// The cached answer for `client_id`: `Some(Ok)` a fresh known client,
    /// `Some(Err)` a cached unknown one, `None` ask the store. Read lock
    /// only.
    fn cached(&self, client_id: &str, now: SystemTime) -> Option<Result<ClientAuthRules, Error>> {
        let shard = self.state.read(self.state.index(client_id));
        if shard.is_unknown(client_id, now) {
            return Some(Err(unknown()));
        }
        let known = shard.known.get(client_id)?;
        let age = nanos(now).saturating_sub(known.checked_at.load(Ordering::Relaxed));
        (Duration::from_nanos(age) < self.config.revalidate_after).then_some(Ok(known.rules))
    }

    /// The client's rules, its keys in [`ClientCache::registry`], without
    /// I/O: from the cache or the store's synchronous path.
    ///
    /// # Errors
    /// [`ErrorKind::UnknownClient`] for an unknown id;
    /// [`ErrorKind::RequiresAsync`] when the store must be asked and has no
    /// synchronous path; a store error as is; key errors of the client's
    /// material (with usage client authentication: `invalid_client`).
    pub fn resolve_now(&self, client_id: &str) -> Result<ClientAuthRules, Error> {
        let now = self.clock.now();
        let generation = self.before_lookup(client_id, now)?;
        match self.store.find_now(client_id) {
            Some(found) => {
                self.lookups.fetch_add(1, Ordering::Relaxed);
                self.apply(client_id, found, now, generation)
            }
            None => match self.cached(client_id, now) {
                Some(answer) => answer,
                None => Err(Error::detail(
                    ErrorKind::RequiresAsync,
                    "the client store answers only asynchronously",
                )),
            },
        }
    }

    /// [`ClientCache::resolve_now`], asking an async-only store when the
    /// cache has no fresh answer (one lookup per id at a time).
    ///
    /// # Errors
    /// As [`ClientCache::resolve_now`] (never [`ErrorKind::RequiresAsync`]);
    /// [`ErrorKind::KeysUnavailable`] when `max_concurrent_lookups` are
    /// running already, or the lookup this request waited for failed.
    pub async fn resolve(&self, client_id: &str) -> Result<ClientAuthRules, Error> {
        match self.resolve_now(client_id) {
            Err(e) if e.kind() == ErrorKind::RequiresAsync => {}
            answer => return answer,
        }
        let leader = {
            let mut flights = self.state.flights();
            if flights.contains_key(client_id) {
                false
            } else if flights.len() >= self.config.max_concurrent_lookups {
                return Err(Error::detail(
                    ErrorKind::KeysUnavailable,
                    "too many client store lookups at once",
                ));
            } else {
                flights.insert(client_id.to_owned(), Vec::new());
                true
            }
        };
        if !leader {
            WaitFor {
                cache: self,
                client_id,
            }
            .await;
            return self.cached(client_id, self.clock.now()).unwrap_or_else(|| {
                Err(Error::detail(
                    ErrorKind::KeysUnavailable,
                    "the client store lookup failed",
                ))
            });
        }
        // A guard ends the flight and wakes the waiters even if this
        // future is dropped during the lookup.
        let guard = Flight {
            cache: self,
            client_id,
        };
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let generation = self.generation(client_id);
        let found = self.store.find(client_id).await;
        let answer = self.apply(client_id, found, self.clock.now(), generation);
        drop(guard);
        answer
    }

    /// Takes a store answer, read at `generation`, into the cache.
    fn apply(
        &self,
        client_id: &str,
        found: Lookup,
        now: SystemTime,
        generation: u64,
    ) -> Result<ClientAuthRules, Error> {
        let record = match found? {
            Some(record) if record.client_id == client_id => record,
            Some(_) => {
                return Err(Error::detail(
                    ErrorKind::InvalidConfig,
                    "the client store returned another client's record",
                ))
            }
            None => {
                self.remember_unknown(client_id, now, generation);
                return Err(unknown());
            }
        };
        let rules = record.rules;
        if !self.confirm(client_id, &record, now) {
            self.take(record, now, generation)
                .map_err(|e| e.for_usage(Usage::ClientAuthentication))?;
        }
        Ok(rules)
    }

    /// Whether `record` is the version whose keys are in force (its
    /// freshness then renewed): under the shard's read lock when nothing
    /// else changes, the hot path of every request.
    fn confirm(&self, client_id: &str, record: &StoredClient, now: SystemTime) -> bool {
        let i = self.state.index(client_id);
        let in_force = |k: &Known| k.version == record.version && self.registry.contains(client_id);
        {
            let shard = self.state.read(i);
            if let Some(k) = shard.known.get(client_id) {
                if k.rules == record.rules && !shard.unknown.contains_key(client_id) && in_force(k)
                {
                    k.checked_at.store(nanos(now), Ordering::Relaxed);
                    return true;
                }
            }
        }
        let mut shard = self.state.write(i);
        if shard.unknown.remove(client_id).is_some() {
            self.state.release(Side::Unknown);
        }
        match shard.known.get_mut(client_id) {
            Some(k) if in_force(k) => {
                *k.checked_at.get_mut() = nanos(now);
                k.rules = record.rules;
                true
            }
            _ => false,
        }
    }

    /// Parses a record's material into the registry and remembers its
    /// version (read from the store at `generation`).
    fn take(&self, record: StoredClient, now: SystemTime, generation: u64) -> Result<(), Error> {
        let i = self.state.index(&record.client_id);
        let reserved = !self.state.read(i).known.contains_key(&record.client_id);
        if reserved {
            self.admit(Side::Known, i, now);
        }
        let placed = self.install(&mut self.state.write(i), record, now, generation);
        match (reserved, &placed) {
            (true, Ok(true)) | (false, Ok(false) | Err(_)) => {}
            (true, Ok(false) | Err(_)) => self.state.release(Side::Known),
            (false, Ok(true)) => {
                self.state.count(Side::Known).fetch_add(1, Ordering::AcqRel);
            }
        }
        placed.map(|_| ())
    }

    /// Under the write lock of the record's shard: its keys into the
    /// registry and its version into the shard, together, so that two
    /// lookups that read different versions of one client never leave one
    /// version's keys under the other's name; nothing when the shard was
    /// invalidated since `generation`. Whether the id is new in the shard.
    fn install(
        &self,
        shard: &mut Shard,
        record: StoredClient,
        now: SystemTime,
        generation: u64,
    ) -> Result<bool, Error> {
        if shard.generation != generation {
            return Err(Error::detail(
                ErrorKind::KeysUnavailable,
                "the client was invalidated during its store lookup",
            ));
        }
        let StoredClient {
            client_id,
            version,
            rules,
            credentials,
        } = record;
        match credentials.0 {
            Material::Registered(entry) => self.registry.insert(client_id.clone(), entry),
            material => {
                self.parses.fetch_add(1, Ordering::Relaxed);
                self.parse(client_id.clone(), material)?;
            }
        }
        let known = Known {
            version,
            rules,
            checked_at: AtomicU64::new(nanos(now)),
        };
        Ok(shard.known.insert(client_id, known).is_none())
    }

    fn parse(&self, id: String, material: Material) -> Result<(), Error> {
        match material {
            Material::JwksJson(json) => self.registry.register_jwks_json(id, &json)?,
            Material::Jwks(set) => self.registry.register(id, &set)?,
            Material::Remote(config) => {
                let fetcher = self.fetcher.clone().ok_or_else(|| {
                    Error::detail(
                        ErrorKind::KeysUnavailable,
                        "a jwks_uri client, but the cache has no JWKS fetcher",
                    )
                })?;
                self.registry.register_remote(id, fetcher, config)?
            }
            Material::Secret(s) => {
                self.registry
                    .register_client_secret(id, s.secret, &s.algorithms)?
            }
            Material::Registered(entry) => {
                self.registry.insert(id.clone(), entry);
                return Ok(());
            }
        };
        Ok(())
    }

    /// Takes a place for one more entry of `side` (new in shard `from`),
    /// under its bound: when full, expired unknown ids go first, then
    /// arbitrary entries (an evicted known client's keys leave the
    /// registry under its shard's lock). Only one shard is locked at a
    /// time.
    fn admit(&self, side: Side, from: usize, now: SystemTime) {
        let max = match side {
            Side::Known => self.config.max_clients,
            Side::Unknown => self.config.max_unknown,
        };
        for attempt in 0..=SHARDS {
            if self.state.reserve(side, max) {
                return;
            }
            if matches!(side, Side::Unknown) && attempt == 0 {
                self.purge_expired(now);
                continue;
            }
            let forget = |id: &str| {
                if matches!(side, Side::Known) {
                    self.registry.remove(id);
                }
            };
            if !self.state.evict_one(side, from, &forget) {
                break;
            }
        }
        // Others keep filling the places this thread frees: take one
        // anyway (the count stays exact; the bound is passed by at most
        // the number of racing threads, until the next eviction).
        self.state.count(side).fetch_add(1, Ordering::AcqRel);
    }

    /// Drops the expired unknown ids of every shard.
    fn purge_expired(&self, now: SystemTime) {
        for i in 0..SHARDS {
            let mut shard = self.state.write(i);
            let before = shard.unknown.len();
            shard.unknown.retain(|_, until| now < *until);
            let gone = before - shard.unknown.len();
            self.state
                .count(Side::Unknown)
                .fetch_sub(gone, Ordering::AcqRel);
        }
    }

    /// Remembers that the store (read at `generation`) does not know
    /// `client_id`, unless the id was invalidated since.
    fn remember_unknown(&self, client_id: &str, now: SystemTime, generation: u64) {
        let i = self.state.index(client_id);
        let until = now + self.config.negative_ttl;
        {
            let mut shard = self.state.write(i);
            if shard.generation != generation {
                return;
            }
            if shard.known.remove(client_id).is_some() {
                self.state.release(Side::Known);
                self.registry.remove(client_id);
            }
            if let Some(u) = shard.unknown.get_mut(client_id) {
                *u = until;
                return;
            }
        }
        self.admit(Side::Unknown, i, now);
        let mut shard = self.state.write(i);
        let placed = shard.generation == generation
            && shard.unknown.insert(client_id.to_owned(), until).is_none();
        if !placed {
            self.state.release(Side::Unknown);
        }
    }
}

fn unknown() -> Error {
    Error::new(ErrorKind::UnknownClient).for_usage(Usage::ClientAuthentication)
}

/// Ends a lookup: removes the flight and wakes its waiters.
struct Flight<'a> {
    cache: &'a ClientCache,
    client_id: &'a str,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let waiters = self.cache.state.flights().remove(self.client_id);
        for w in waiters.into_iter().flatten() {
            w.wake();
        }
    }
}

/// Waits until no lookup of `client_id` is running.
struct WaitFor<'a> {
    cache: &'a ClientCache,
    client_id: &'a str,
}

impl Future for WaitFor<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut flights = self.cache.state.flights();
        match flights.get_mut(self.client_id) {
            Some(waiters) => {
                waiters.push(cx.waker().clone());
                Poll::Pending
            }
            None => Poll::Ready(()),
        }
    }
}

impl fmt::Debug for ClientCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (known, unknown) = self.state.totals();
        f.debug_struct("ClientCache")
            .field("store", &self.store)
            .field("known", &known)
            .field("unknown", &unknown)
            .field("in_flight", &self.state.flights().len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
