//! A `jti` replay cache shared by several servers, on Redis.
//!
//! One check is one atomic `SET key 1 NX PX <ms>`: Redis records the key
//! only if it is absent, so of several servers presenting the same pair at
//! once exactly one gets `OK` and the others get nil ([`ErrorKind::Replayed`]).
//! The key is `prefix || base64url(SHA-256(key material))`, the key
//! material being [`ReplayEntry::key_material`] (scope and `jti`)
//! (43 characters after the prefix, whatever the `jti`), and `PX` is the time
//! left until the assertion stops being acceptable, rounded up to the next
//! millisecond. A relative expiry keeps the contract even when Redis's clock
//! and the verifier's disagree.
//!
//! Every command runs on the cache's own I/O thread (`io_thread.rs`), never
//! on the caller's runtime. The connection is the `redis` crate's `ConnectionManager`: one
//! multiplexed connection shared by every check (concurrent checks are
//! pipelined on it), reconnecting by itself after the server went away. It
//! is created on first use, so a server can start while Redis is down. Every
//! check is bounded by [`RedisReplayConfig::timeout`] (connection attempt
//! included); a connection on which nothing has been answered for a whole
//! timeout (a hung server, a half-open TCP connection) is dropped and the
//! next check starts a fresh one. On a Redis Cluster
//! ([`RedisReplayCache::cluster`]) the connection is the `redis` crate's
//! cluster client (slot routing, `MOVED` and `ASK` are its own), made on
//! first use and made again after any error.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ::redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::ClusterClient;
use ::redis::cluster_async::ClusterConnection;
use ::redis::{Client, Cmd, Value};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind};
use crate::replay::io_thread::IoThread;
use crate::replay::redis_epoch::{text, time_ms, Epochs, Handshake, InfoDue, ServerInfo};
use crate::replay::{AsyncReplayCache, ReplayEntry, ReplayFuture};

/// The default prefix of the keys written by [`RedisReplayCache`].
pub(crate) const DEFAULT_REDIS_KEY_PREFIX: &str = "ca:jti:";

/// The default bound on one check by [`RedisReplayCache`], connection
/// attempt included.
pub(crate) const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// The default number of connections of a cache that waits for replicas
/// ([`RedisReplayConfig::wait_for_replicas`]); one otherwise.
pub(crate) const DEFAULT_WAIT_CONNECTIONS: usize = 8;
/// The most connections one cache opens (per server, on a cluster).
const MAX_CONNECTIONS: usize = 64;

/// The longest accepted key prefix, in bytes.
const MAX_PREFIX_LEN: usize = 256;
/// The longest accepted timeout.
const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest retention sent to Redis (far beyond any assertion's life,
/// and far below the `PX` overflow Redis refuses).
const MAX_PX: u64 = (i64::MAX / 4) as u64;

/// The settings of a [`RedisReplayCache`].
///
/// ```
/// # #[cfg(feature = "redis")] {
/// use std::time::Duration;
/// use client_assertion::replay::RedisReplayConfig;
///
/// let config = RedisReplayConfig::new()
///     .key_prefix("as-prod:jti:")
///     .timeout(Duration::from_millis(100));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisReplayConfig {
    key_prefix: String,
    timeout: Duration,
    /// `WAIT` for this many replicas, within this bound.
    replicas: Option<(u32, Duration)>,
    evicting_policy_allowed: bool,
    /// The connections to open; `None`: the default for the deployment.
    connections: Option<usize>,
}

impl RedisReplayConfig {
    /// The default number of connections of a cache that waits for
    /// replicas ([`RedisReplayConfig::wait_for_replicas`]); a cache that
    /// does not opens one.
    pub const DEFAULT_WAIT_CONNECTIONS: usize = DEFAULT_WAIT_CONNECTIONS;

    /// The default prefix of the keys written by [`RedisReplayCache`].
    pub const DEFAULT_KEY_PREFIX: &'static str = DEFAULT_REDIS_KEY_PREFIX;

    /// The default bound on one check by [`RedisReplayCache`], connection
    /// attempt included.
    pub const DEFAULT_TIMEOUT: Duration = DEFAULT_REDIS_TIMEOUT;

    /// The defaults: prefix [`RedisReplayConfig::DEFAULT_KEY_PREFIX`], timeout
    /// [`RedisReplayConfig::DEFAULT_TIMEOUT`].
    pub fn new() -> Self {
        Self {
            key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_owned(),
            timeout: DEFAULT_REDIS_TIMEOUT,
            replicas: None,
            evicting_policy_allowed: false,
            connections: None,
        }
    }

    /// Durability against failover: every check waits (`WAIT`) until
    /// `replicas` replicas have acknowledged its `SET`, for at most
    /// `timeout` (between 1 ms and the check's own timeout, which bounds
    /// the whole check). A check that is not acknowledged in time fails
    /// closed with [`ErrorKind::ReplayStoreUnavailable`] (its pair may be
    /// recorded on the primary: presenting the assertion again is then a
    /// replay, the safe side). So every accepted `jti` is on `replicas + 1`
    /// servers; a failover to one of those replicas loses none of them.
    /// Costs one replication round trip per check. `WAIT` acknowledges the
    /// writes made on its own connection and holds that connection until
    /// it is answered, so such a cache opens a small pool of connections
    /// ([`RedisReplayConfig::connections`], default
    /// [`RedisReplayConfig::DEFAULT_WAIT_CONNECTIONS`]) and sends each
    /// check's `SET` and its `WAIT` together on one of them (the least
    /// busy), in one pipeline: checks in flight wait for one another only
    /// beyond one per connection. `WAIT` is Redis's
    /// asynchronous replication made synchronous for this write only: it
    /// does not make Redis a consensus store (a failover may still promote
    /// a replica that had not acknowledged), which is why a failover also
    /// starts a new epoch (quarantine) whatever this setting.
    pub fn wait_for_replicas(mut self, replicas: u32, timeout: Duration) -> Self {
        self.replicas = Some((replicas, timeout));
        self
    }

    /// **Loosens:** runs on a Redis whose `maxmemory-policy` evicts keys
    /// (`allkeys-lru`, `volatile-ttl`, ...), which is otherwise refused
    /// (every check fails closed with
    /// [`ErrorKind::ReplayStoreUnavailable`]). An evicted key is a
    /// forgotten `jti`: with this opt-in every check also reads the
    /// server's `evicted_keys` after its `SET` (one `INFO stats` per check)
    /// and a rise starts a new epoch, so that the assertions that could
    /// have been forgotten are quarantined. A server that evicts often
    /// then quarantines often.
    pub fn danger_allow_evicting_policy(mut self) -> Self {
        self.evicting_policy_allowed = true;
        self
    }

    /// Sets the number of connections the cache opens (per node, on a
    /// cluster), between 1 and 64. Default: one multiplexed connection
    /// (concurrent checks are pipelined on it, the fastest without
    /// `WAIT`); with [`RedisReplayConfig::wait_for_replicas`],
    /// [`RedisReplayConfig::DEFAULT_WAIT_CONNECTIONS`], since each `WAIT`
    /// holds its connection. Each check uses the least busy one; every
    /// connection reads the server's facts (the epoch handshake) before
    /// its first answer is trusted.
    pub fn connections(mut self, connections: usize) -> Self {
        self.connections = Some(connections);
        self
    }

    /// The number of connections the cache opens (per node, on a cluster).
    pub fn get_connections(&self) -> usize {
        match (self.connections, self.replicas) {
            (Some(n), _) => n,
            (None, Some(_)) => DEFAULT_WAIT_CONNECTIONS,
            (None, None) => 1,
        }
    }

    /// Sets the prefix of every key (default [`RedisReplayConfig::DEFAULT_KEY_PREFIX`],
    /// at most 256 bytes). Give each authorization server (issuer) sharing
    /// one Redis its own prefix, or a `jti` reused across them counts as a
    /// replay.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Sets the bound on one check, connection attempt included (default
    /// [`RedisReplayConfig::DEFAULT_TIMEOUT`], between 1 ms and 60 s). When it passes the
    /// check fails closed with [`ErrorKind::ReplayStoreUnavailable`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The key prefix.
    pub fn get_key_prefix(&self) -> &str {
        &self.key_prefix
    }

    /// The bound on one check.
    pub fn get_timeout(&self) -> Duration {
        self.timeout
    }

    /// The replicas every check waits for, and the bound on that wait.
    pub fn get_wait_for_replicas(&self) -> Option<(u32, Duration)> {
        self.replicas
    }

    fn validate(&self) -> Result<(), Error> {
        if !(1..=MAX_CONNECTIONS).contains(&self.get_connections()) {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "Redis connections must be between 1 and 64",
            ));
        }
        if let Some((_, wait)) = self.replicas {
            if wait < Duration::from_millis(1) || wait > self.timeout {
                return Err(Error::detail(
                    ErrorKind::InvalidConfig,
                    "the WAIT timeout must be between 1 ms and the check's timeout",
                ));
            }
        }
        if self.key_prefix.len() > MAX_PREFIX_LEN {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "Redis key prefix above 256 bytes",
            ));
        }
        if self.timeout < Duration::from_millis(1) || self.timeout > MAX_TIMEOUT {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "Redis timeout must be between 1 ms and 60 s",
            ));
        }
        Ok(())
    }
}

impl Default for RedisReplayConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// One connection manager and how recently it answered.
struct Slot {
    /// Its place in [`Link::slots`].
    index: usize,
    manager: ConnectionManager,
    born: Instant,
    /// Milliseconds after `born` of the last answer.
    last_answer: AtomicU64,
    /// Checks using it now.
    in_flight: AtomicUsize,
    /// Whether the epoch handshake ran on it since it was made or last
    /// failed (it may have reconnected to another server since).
    handshaken: AtomicBool,
}

/// A check's hold on a connection: one of the single-node slots, or the
/// index of a cluster connection.
enum Conn {
    Single(Arc<Slot>),
    Cluster(usize),
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Conn::Single(slot) = self {
            slot.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Conn {
    /// Whether the epoch handshake must run on this connection first.
    fn needs_handshake(&self) -> bool {
        match self {
            Conn::Single(slot) => !slot.handshaken.load(Ordering::Acquire),
            Conn::Cluster(_) => false,
        }
    }

    fn handshaken(&self, done: bool) {
        if let Conn::Single(slot) = self {
            slot.handshaken.store(done, Ordering::Release);
        }
    }
}

impl Slot {
    fn answered(&self) {
        let ms = u64::try_from(self.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_answer.fetch_max(ms, Ordering::Relaxed);
    }

    fn silent_for(&self) -> Duration {
        self.born.elapsed().saturating_sub(Duration::from_millis(
            self.last_answer.load(Ordering::Relaxed),
        ))
    }
}

/// A [`ReplayCache`](crate::ReplayCache) on Redis, shared by every server that points at the
/// same Redis (and key prefix): an assertion accepted by one is a replay
/// for all.
///
/// Async only: it implements [`AsyncReplayCache::check_and_insert_async`](crate::replay::AsyncReplayCache::check_and_insert_async) and is
/// used through `Verifier::verify_async`, awaited on any executor: the
/// network I/O and the timeout run on the cache's own thread (a
/// current-thread Tokio runtime with I/O and timers, started by
/// [`RedisReplayCache::new`] and stopped when the cache is dropped), so a
/// caller's runtime built without timers or without I/O, or one that is not
/// Tokio, works the same. The sync
/// [`ReplayCache::check_and_insert`](crate::ReplayCache::check_and_insert) keeps its default and fails closed
/// with [`ErrorKind::RequiresAsync`], so `Verifier::verify` with this cache
/// rejects every assertion rather than blocking an executor thread.
///
/// # Failure
/// An unreachable server, a check that takes longer than
/// [`RedisReplayConfig::timeout`], or any error answer fails closed with
/// [`ErrorKind::ReplayStoreUnavailable`] (the Redis error, if any, as
/// [`std::error::Error::source`]); nothing is ever accepted without an
/// `OK` from Redis. When Redis is back, checks succeed again by themselves.
/// A check that timed out after its `SET` reached Redis may still have
/// recorded the pair: presenting that assertion again is then a replay,
/// which is the safe side.
///
/// # Epoch
/// The cache's epoch (see the [`replay`](crate::replay) module docs) comes
/// from the server (`redis_epoch.rs`): an epoch key `prefix + "epoch"`
/// read back by every check in the same round trip as its `SET`, and the
/// server's `run_id`, replication id, `maxmemory_policy` and
/// `evicted_keys` (`INFO`) at every (re)connection (each connection reads
/// them before its first answer counts) and once a second per server (on
/// a cluster, per node, whatever the number of key groups; every check
/// with [`RedisReplayConfig::danger_allow_evicting_policy`]). A restart, a flush, a deletion of the epoch key, a failover or
/// an eviction starts a new epoch (on the verifier's clock, at the check
/// that saw it) and emits the audit event `replay.epoch_started`; the
/// verifier then quarantines what could have been accepted before. At
/// first contact an epoch key written by the same server (`run_id` and
/// replication id) dates the epoch back to its creation, so a long-running
/// Redis causes no quarantine; without one (a new or flushed Redis) the
/// epoch is that first contact. [`RedisReplayCache::connect`] (or
/// [`RedisReplayCache::ping`]) at start dates it then.
///
/// # Deploying Redis
/// - Keep the default `maxmemory-policy noeviction`: an evicting policy
///   (`allkeys-lru`, `volatile-ttl`, ...) could forget an unexpired `jti`,
///   and is refused (checks fail closed) unless
///   [`RedisReplayConfig::danger_allow_evicting_policy`]. With
///   `noeviction`, a full Redis answers errors and checks fail closed.
/// - A restart (with or without persistence) is a new `run_id`: a new
///   epoch and one acceptance window of quarantine for older assertions.
/// - Replication is asynchronous: a failover can lose the last writes. The
///   promoted replica's replication id starts a new epoch, so they are
///   quarantined; [`RedisReplayConfig::wait_for_replicas`] also keeps every
///   accepted `jti` on the replicas that acknowledged it.
/// - Redis Cluster: [`RedisReplayCache::cluster`].
///
/// ```no_run
/// # #[cfg(feature = "redis")]
/// # async fn run(registry: std::sync::Arc<client_assertion::ClientRegistry>, token: &str)
/// #     -> Result<(), client_assertion::Error> {
/// use std::sync::Arc;
/// use client_assertion::Verifier;
/// use client_assertion::replay::{RedisReplayCache, RedisReplayConfig};
///
/// let cache = RedisReplayCache::new("redis://127.0.0.1:6379/0", RedisReplayConfig::new())?;
/// let verifier = Verifier::builder("https://as.example.com", registry)
///     .async_replay_cache(Arc::new(cache))
///     .build()?;
/// let verified = verifier.verify_async(token).await?;
/// # let _ = verified;
/// # Ok(())
/// # }
/// ```
pub struct RedisReplayCache {
    link: Arc<Link>,
    io: IoThread,
    config: RedisReplayConfig,
    redacted_url: String,
    epochs: Arc<Epochs>,
    shared: Arc<CheckScope>,
}

/// The connection side, shared with the tasks on the I/O thread.
struct Link {
    client: Target,
    /// The cluster connections, each once made (cluster targets only).
    cluster: Vec<tokio::sync::Mutex<Option<ClusterConnection>>>,
    /// The next cluster connection to use.
    next: AtomicUsize,
    timeout: Duration,
    /// The single-node connections, each made on first use.
    slots: Vec<Mutex<Option<Arc<Slot>>>>,
}

impl RedisReplayCache {
    /// A cache on the Redis at `url` (`redis://[[user]:password@]host[:port][/db]`,
    /// or `redis+unix:///path`). Does not connect: the first check does, so
    /// this succeeds while Redis is down, and checks fail closed until it
    /// is reachable.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a URL that does not parse (or needs
    /// TLS, which this build does not include) or a config out of bounds;
    /// [`ErrorKind::ReplayStoreUnavailable`] when the I/O thread cannot be
    /// started.
    pub fn new(url: &str, config: RedisReplayConfig) -> Result<Self, Error> {
        config.validate()?;
        // The parse error is not kept as source: it could quote the URL,
        // password included.
        let client = Client::open(url)
            .map_err(|_| Error::detail(ErrorKind::InvalidConfig, "invalid Redis URL"))?;
        Self::start(Target::Single(client), redact_url(url), config)
    }

    /// A cache on the Redis Cluster reached through the seed nodes `nodes`
    /// (URLs as for [`RedisReplayCache::new`]; the client discovers the
    /// others and follows slot moves, `MOVED` and `ASK`). Keys carry a hash
    /// tag, `prefix + "{xx}" + hash` with `xx` two hex digits of the hash,
    /// so they spread over 256 slots, each group with its own epoch key
    /// (`prefix + "{xx}epoch"`) on the node that holds the group: every
    /// check reads the epoch key of its own node. A loss on any node (a
    /// restart, a flush, a failover in one shard) starts a new epoch for
    /// the whole cache: simpler than per-shard quarantines, and what the
    /// verifier can state (its quarantine rule has one epoch). Call
    /// [`RedisReplayCache::connect_cluster`] (or [`RedisReplayCache::ping`])
    /// at start, so that every group's epoch is read at once.
    ///
    /// # Errors
    /// As [`RedisReplayCache::new`].
    pub fn cluster(nodes: &[&str], config: RedisReplayConfig) -> Result<Self, Error> {
        config.validate()?;
        let timeout = config.timeout;
        let client = ClusterClient::builder(nodes.iter().copied())
            .retries(1)
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .build()
            .map_err(|_| Error::detail(ErrorKind::InvalidConfig, "invalid Redis Cluster URL"))?;
        let redacted = nodes
            .iter()
            .map(|u| redact_url(u))
            .collect::<Vec<_>>()
            .join(",");
        Self::start(Target::Cluster(Box::new(client)), redacted, config)
    }

    /// [`RedisReplayCache::cluster`], then [`RedisReplayCache::ping`].
    ///
    /// # Errors
    /// As [`RedisReplayCache::connect`].
    pub async fn connect_cluster(nodes: &[&str], config: RedisReplayConfig) -> Result<Self, Error> {
        let cache = Self::cluster(nodes, config)?;
        cache.ping().await?;
        Ok(cache)
    }

    fn start(
        client: Target,
        redacted_url: String,
        config: RedisReplayConfig,
    ) -> Result<Self, Error> {
        let groups = match client {
            Target::Single(_) => 1,
            Target::Cluster(_) => CLUSTER_GROUPS,
        };
        let shared = Arc::new(CheckScope {
            prefix: config.key_prefix.clone(),
            cluster: groups > 1,
            replicas: config.replicas,
            evicting_policy_allowed: config.evicting_policy_allowed,
            store: redacted_url.clone(),
        });
        let n = config.get_connections();
        let (slots, clusters) = match client {
            Target::Single(_) => (n, 0),
            Target::Cluster(_) => (0, n),
        };
        Ok(Self {
            link: Arc::new(Link {
                client,
                cluster: (0..clusters)
                    .map(|_| tokio::sync::Mutex::new(None))
                    .collect(),
                next: AtomicUsize::new(0),
                timeout: config.timeout,
                slots: (0..slots).map(|_| Mutex::new(None)).collect(),
            }),
            io: IoThread::start("client-assertion-redis")?,
            config,
            redacted_url,
            epochs: Arc::new(Epochs::new(groups)),
            shared,
        })
    }

    /// [`RedisReplayCache::new`], then [`RedisReplayCache::ping`]: for a
    /// server that would rather not start while Redis is unreachable.
    ///
    /// # Errors
    /// As [`RedisReplayCache::new`]; [`ErrorKind::ReplayStoreUnavailable`]
    /// when Redis does not answer within the timeout.
    pub async fn connect(url: &str, config: RedisReplayConfig) -> Result<Self, Error> {
        let cache = Self::new(url, config)?;
        cache.ping().await?;
        Ok(cache)
    }

    /// Sends `PING`, as a readiness probe, and, at first contact (or after
    /// a connection was lost), reads the server's facts that date the
    /// cache's epoch (see [`RedisReplayCache`]'s "Epoch").
    ///
    /// # Errors
    /// [`ErrorKind::ReplayStoreUnavailable`] when Redis does not answer
    /// `PONG` within the timeout, or its `maxmemory-policy` evicts keys
    /// (unless [`RedisReplayConfig::danger_allow_evicting_policy`]).
    pub async fn ping(&self) -> Result<(), Error> {
        if matches!(self.link.client, Target::Single(_)) {
            match self.run(::redis::cmd("PING")).await? {
                Value::SimpleString(s) if s == "PONG" => {}
                _ => return Err(unexpected_reply()),
            }
        }
        let (link, epochs, scope) = (self.link.clone(), self.epochs.clone(), self.scope());
        let timeout = self.config.timeout;
        let task = async move {
            let conn = link.pick()?;
            for group in 0..epochs.len() {
                if !epochs.group(group).handshake_due() && !conn.needs_handshake() {
                    continue;
                }
                let step = link.handshake(&epochs, &conn, group, &scope);
                match tokio::time::timeout(timeout, step).await {
                    Ok(result) => result?,
                    Err(_) => {
                        return Err(Error::detail(
                            ErrorKind::ReplayStoreUnavailable,
                            "Redis did not answer in time",
                        ))
                    }
                }
                conn.handshaken(true);
            }
            Ok(())
        };
        self.io.run(task).await
    }

    /// The settings.
    pub fn config(&self) -> &RedisReplayConfig {
        &self.config
    }

    /// The Redis key under which `entry` is recorded: the prefix and 43
    /// base64url characters of a SHA-256 over
    /// [`ReplayEntry::key_material`]. Its size never depends on the `jti`.
    pub fn key(&self, entry: &ReplayEntry<'_>) -> String {
        self.key_and_group(entry).0
    }

    /// The key and its epoch group (on a cluster, the hash tag `{xx}`).
    fn key_and_group(&self, entry: &ReplayEntry<'_>) -> (String, usize) {
        let mut h = Sha256::new();
        entry.key_material(&mut |bytes| h.update(bytes));
        let digest = h.finalize();
        let group = usize::from(digest[0]) % self.epochs.len();
        let mut key = String::with_capacity(self.config.key_prefix.len() + 47);
        key.push_str(&self.config.key_prefix);
        if self.shared.cluster {
            key.push_str(&format!("{{{group:02x}}}"));
        }
        crate::b64::encode_into(&digest, &mut key);
        (key, group)
    }

    async fn check(&self, entry: &ReplayEntry<'_>) -> Result<(), Error> {
        let (key, group) = self.key_and_group(entry);
        let job = Job {
            key,
            group,
            px: retention_millis(entry.until(), entry.now()),
        };
        let (link, epochs, scope) = (self.link.clone(), self.epochs.clone(), self.scope());
        let timeout = self.config.timeout;
        let task = async move {
            match tokio::time::timeout(timeout, link.check(&epochs, &scope, job)).await {
                Ok(result) => result,
                Err(_) => Err(Error::detail(
                    ErrorKind::ReplayStoreUnavailable,
                    "Redis did not answer in time",
                )),
            }
        };
        self.io.run(task).await
    }

    /// What every check of this cache shares.
    fn scope(&self) -> Arc<CheckScope> {
        self.shared.clone()
    }

    /// Sends `cmd` on the I/O thread, within the timeout.
    async fn run(&self, cmd: Cmd) -> Result<Value, Error> {
        let link = self.link.clone();
        self.io.run(async move { link.send(&cmd).await }).await
    }
}

/// One check's command: record `key` for `px` milliseconds.
struct Job {
    key: String,
    group: usize,
    px: u64,
}

/// The settings every check reads.
struct CheckScope {
    prefix: String,
    cluster: bool,
    replicas: Option<(u32, Duration)>,
    evicting_policy_allowed: bool,
    store: String,
}

impl CheckScope {
    /// The epoch key of `group`.
    fn epoch_key(&self, group: usize) -> String {
        if self.cluster {
            format!("{}{{{group:02x}}}epoch", self.prefix)
        } else {
            format!("{}epoch", self.prefix)
        }
    }
}

/// Epoch groups on a cluster: one hash tag per value of the key hash's
/// first byte.
const CLUSTER_GROUPS: usize = 256;

/// Where the cache's Redis is.
enum Target {
    Single(Client),
    Cluster(Box<ClusterClient>),
}

impl Link {
    /// Reads the server's facts (`INFO`, `TIME`, the epoch key) on `conn`,
    /// refuses an evicting policy unless allowed, and writes a new epoch
    /// key after a loss.
    async fn handshake(
        &self,
        all: &Epochs,
        conn: &Conn,
        group: usize,
        scope: &CheckScope,
    ) -> Result<(), Error> {
        let epochs = all.group(group);
        let epoch_key = scope.epoch_key(group);
        let mut pipe = ::redis::pipe();
        // The key first: on a cluster it routes the pipeline to its node.
        pipe.cmd("GET").arg(&epoch_key).cmd("INFO").cmd("TIME");
        let mut values = self.send_pipe(all, conn, &pipe, 3).await?;
        values.rotate_left(1);
        let info = values.first().and_then(text).and_then(ServerInfo::parse);
        let time = values.get(1).and_then(time_ms);
        let (Some(info), Some(time)) = (info, time) else {
            return Err(unexpected_reply());
        };
        if info.evicts() && !scope.evicting_policy_allowed {
            epochs.reconnected();
            return Err(Error::detail(
                ErrorKind::ReplayStoreUnavailable,
                "Redis maxmemory-policy evicts keys: refused (use noeviction)",
            ));
        }
        all.node_read(all.run_id(group).as_deref(), &info);
        let key = values.get(2).and_then(text);
        let (loss, write) = epochs.handshake(info, time, key);
        if let Handshake::Write(fresh) = write {
            let mut pipe = ::redis::pipe();
            pipe.cmd("SET").arg(&epoch_key).arg(fresh.encode());
            pipe.cmd("GET").arg(&epoch_key);
            let values = self.send_pipe(all, conn, &pipe, 2).await?;
            epochs.written(values.last().and_then(text));
        }
        if let Some(loss) = loss {
            crate::audit::replay_epoch_started(&scope.store, loss.code());
        }
        Ok(())
    }

    /// One check, on one connection: the handshake when due (for its group,
    /// or for a connection that has not made one), then `SET NX PX`, the
    /// epoch key read back, `WAIT` and `INFO` when asked for, in one round
    /// trip (one pipeline on that connection, so that its `WAIT` covers its
    /// `SET`).
    async fn check(&self, all: &Epochs, scope: &CheckScope, job: Job) -> Result<(), Error> {
        let conn = self.pick()?;
        let epochs = all.group(job.group);
        if epochs.handshake_due() || conn.needs_handshake() {
            self.handshake(all, &conn, job.group, scope).await?;
            conn.handshaken(true);
        }
        let mut pipe = ::redis::pipe();
        pipe.cmd("SET")
            .arg(&job.key)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(job.px);
        pipe.cmd("GET").arg(scope.epoch_key(job.group));
        if let Some((n, wait)) = scope.replicas {
            pipe.cmd("WAIT").arg(n).arg(wait.as_millis().max(1) as u64);
        }
        // With the eviction opt-in, every check reads `evicted_keys` after
        // its own `SET`, so that an eviction is judged before this very
        // check returns; otherwise once per interval per server.
        let due = if scope.evicting_policy_allowed {
            InfoDue::Read
        } else {
            all.info_due(job.group)
        };
        let with_info = matches!(due, InfoDue::Read);
        if with_info {
            pipe.cmd("INFO");
        }
        let count = 2 + usize::from(scope.replicas.is_some()) + usize::from(with_info);
        let before = with_info.then(|| all.run_id(job.group)).flatten();
        let values = self.send_pipe(all, &conn, &pipe, count).await?;
        let info = match due {
            InfoDue::Read => {
                let info = values.last().and_then(text).and_then(ServerInfo::parse);
                let info = info.ok_or_else(unexpected_reply)?;
                all.node_read(before.as_deref(), &info);
                Some(info)
            }
            InfoDue::Cached(info) => Some(info),
            InfoDue::No => None,
        };
        let refused = info
            .as_ref()
            .is_some_and(|i| i.evicts() && !scope.evicting_policy_allowed);
        if let Some(loss) = epochs.after_check(values.get(1).and_then(text), info) {
            crate::audit::replay_epoch_started(&scope.store, loss.code());
        }
        judge(&values, scope.replicas, refused)
    }

    /// A connection for one check: on a single node the least busy slot
    /// (made on first use); on a cluster the next connection in turn.
    fn pick(&self) -> Result<Conn, Error> {
        if !self.cluster.is_empty() {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.cluster.len();
            return Ok(Conn::Cluster(i));
        }
        let mut best: Option<Arc<Slot>> = None;
        for i in 0..self.slots.len() {
            let slot = self.slot(i)?;
            let busy = slot.in_flight.load(Ordering::Relaxed);
            if busy == 0 {
                best = Some(slot);
                break;
            }
            if best
                .as_ref()
                .is_none_or(|b| busy < b.in_flight.load(Ordering::Relaxed))
            {
                best = Some(slot);
            }
        }
        let slot = best.ok_or_else(|| {
            Error::detail(
                ErrorKind::ReplayStoreUnavailable,
                "no single-node connection on a cluster",
            )
        })?;
        slot.in_flight.fetch_add(1, Ordering::Relaxed);
        Ok(Conn::Single(slot))
    }

    /// Sends `pipe` (`count` replies) on `conn` within the timeout; any
    /// server error among the replies fails closed; a connection error
    /// makes the next check read the server's facts again.
    async fn send_pipe(
        &self,
        epochs: &Epochs,
        conn: &Conn,
        pipe: &::redis::Pipeline,
        count: usize,
    ) -> Result<Vec<Value>, Error> {
        let slot = match (conn, &self.client) {
            (Conn::Cluster(i), Target::Cluster(client)) => {
                return self.send_cluster(client, *i, epochs, pipe, count).await;
            }
            (Conn::Single(slot), _) => slot,
            _ => return Err(unexpected_reply()),
        };
        let mut manager = slot.manager.clone();
        let reply =
            tokio::time::timeout(self.timeout, manager.send_packed_commands(pipe, 0, count));
        let failed = |e: Error| {
            epochs.reconnected();
            conn.handshaken(false);
            Err(e)
        };
        match reply.await {
            Ok(Ok(values)) => {
                slot.answered();
                if let Some(e) = server_error(&values) {
                    return Err(e);
                }
                if values.len() != count {
                    return failed(unexpected_reply());
                }
                Ok(values)
            }
            Ok(Err(e)) => {
                if e.is_timeout() {
                    self.retire_if_silent(slot);
                } else if matches!(e.kind(), ::redis::ErrorKind::Server(_)) {
                    slot.answered();
                    return Err(Error::with_source(ErrorKind::ReplayStoreUnavailable, e));
                }
                failed(Error::with_source(ErrorKind::ReplayStoreUnavailable, e))
            }
            Err(_elapsed) => {
                self.retire_if_silent(slot);
                failed(Error::detail(
                    ErrorKind::ReplayStoreUnavailable,
                    "Redis did not answer in time",
                ))
            }
        }
    }

    /// [`Link::send_pipe`] on cluster connection `i`: made on first use
    /// and dropped after any error (the next check makes a new one). A new
    /// connection may meet other servers: every group reads its facts again.
    async fn send_cluster(
        &self,
        client: &ClusterClient,
        i: usize,
        epochs: &Epochs,
        pipe: &::redis::Pipeline,
        count: usize,
    ) -> Result<Vec<Value>, Error> {
        let failed = |e: Error| {
            epochs.reconnected();
            Err(e)
        };
        let mut conn = {
            let mut guard = self.cluster[i].lock().await;
            match &*guard {
                Some(c) => c.clone(),
                None => match client.get_async_connection().await {
                    Ok(c) => {
                        *guard = Some(c.clone());
                        if i > 0 {
                            epochs.reconnected();
                        }
                        c
                    }
                    Err(e) => {
                        return failed(Error::with_source(ErrorKind::ReplayStoreUnavailable, e))
                    }
                },
            }
        };
        let values = match conn.req_packed_commands(pipe, 0, count).await {
            Ok(values) => values,
            Err(e) => {
                *self.cluster[i].lock().await = None;
                return failed(Error::with_source(ErrorKind::ReplayStoreUnavailable, e));
            }
        };
        if let Some(e) = server_error(&values) {
            return Err(e);
        }
        if values.len() != count {
            return failed(unexpected_reply());
        }
        Ok(values)
    }

    /// Connection manager `i`, created on first use (or after the last one
    /// was dropped as dead).
    fn slot(&self, i: usize) -> Result<Arc<Slot>, Error> {
        let mut guard = self.slots[i].lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = &*guard {
            return Ok(slot.clone());
        }
        // One attempt per connection: recovery is driven by the checks
        // themselves, each bounded by the timeout, never by a backoff that
        // could outlast an outage.
        let timeout = Some(self.timeout);
        let manager_config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(timeout)
            .set_response_timeout(timeout);
        let Target::Single(client) = &self.client else {
            return Err(Error::detail(
                ErrorKind::ReplayStoreUnavailable,
                "no single-node connection on a cluster",
            ));
        };
        let manager = client
            .get_connection_manager_lazy(manager_config)
            .map_err(|e| Error::with_source(ErrorKind::ReplayStoreUnavailable, e))?;
        let slot = Arc::new(Slot {
            index: i,
            manager,
            born: Instant::now(),
            last_answer: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            handshaken: AtomicBool::new(false),
        });
        *guard = Some(slot.clone());
        Ok(slot)
    }

    /// Drops `slot` if it is still current and has not answered anything
    /// for a whole timeout: its connection is presumed dead.
    fn retire_if_silent(&self, slot: &Arc<Slot>) {
        if slot.silent_for() < self.timeout {
            return;
        }
        let mut guard = self.slots[slot.index]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_some_and(|cur| Arc::ptr_eq(cur, slot)) {
            *guard = None;
        }
    }

    /// Sends `cmd` within the timeout (on the I/O thread), single node only.
    async fn send(&self, cmd: &Cmd) -> Result<Value, Error> {
        let Conn::Single(slot) = &self.pick()? else {
            return Err(unexpected_reply());
        };
        let mut manager = slot.manager.clone();
        let reply = tokio::time::timeout(self.timeout, manager.send_packed_command(cmd));
        match reply.await {
            Ok(Ok(value)) => {
                slot.answered();
                match value {
                    Value::ServerError(e) => Err(Error::with_source(
                        ErrorKind::ReplayStoreUnavailable,
                        ::redis::RedisError::from(e),
                    )),
                    value => Ok(value),
                }
            }
            Ok(Err(e)) => {
                // A dropped or refused connection: the manager reconnects by
                // itself on the next check. A timeout: maybe a dead one.
                if e.is_timeout() {
                    self.retire_if_silent(slot);
                } else if matches!(e.kind(), ::redis::ErrorKind::Server(_)) {
                    slot.answered();
                } else {
                    slot.handshaken.store(false, Ordering::Release);
                }
                Err(Error::with_source(ErrorKind::ReplayStoreUnavailable, e))
            }
            Err(_elapsed) => {
                self.retire_if_silent(slot);
                Err(Error::detail(
                    ErrorKind::ReplayStoreUnavailable,
                    "Redis did not answer in time",
                ))
            }
        }
    }
}

/// The first server error among `values`, as a fail-closed error.
fn server_error(values: &[Value]) -> Option<Error> {
    values.iter().find_map(|v| match v {
        Value::ServerError(e) => Some(Error::with_source(
            ErrorKind::ReplayStoreUnavailable,
            ::redis::RedisError::from(e.clone()),
        )),
        _ => None,
    })
}

/// A check's verdict from its replies: the `SET` answer, then the `WAIT`
/// count when `replicas` asked for one, then an evicting policy `refused`.
fn judge(values: &[Value], replicas: Option<(u32, Duration)>, refused: bool) -> Result<(), Error> {
    match values.first() {
        Some(Value::Nil) => return Err(Error::new(ErrorKind::Replayed)),
        Some(Value::Okay) => {}
        Some(Value::SimpleString(s)) if s == "OK" => {}
        _ => return Err(unexpected_reply()),
    }
    if let Some((n, _)) = replicas {
        match values.get(2) {
            Some(Value::Int(acked)) if *acked >= i64::from(n) => {}
            Some(Value::Int(_)) => {
                return Err(Error::detail(
                    ErrorKind::ReplayStoreUnavailable,
                    "Redis replicas did not acknowledge the write in time",
                ))
            }
            _ => return Err(unexpected_reply()),
        }
    }
    if refused {
        return Err(Error::detail(
            ErrorKind::ReplayStoreUnavailable,
            "Redis maxmemory-policy evicts keys: refused (use noeviction)",
        ));
    }
    Ok(())
}

fn unexpected_reply() -> Error {
    Error::detail(
        ErrorKind::ReplayStoreUnavailable,
        "unexpected reply from Redis",
    )
}

/// Milliseconds from `now` until `until`, rounded up, at least 1.
fn retention_millis(until: SystemTime, now: SystemTime) -> u64 {
    match until.duration_since(now) {
        Ok(left) => u64::try_from(left.as_nanos().div_ceil(1_000_000))
            .unwrap_or(u64::MAX)
            .clamp(1, MAX_PX),
        Err(_) => 1,
    }
}

/// `url` without its userinfo (`user:password@`) and query (which may hold
/// a password for Unix sockets).
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<unparsed>".to_owned();
    };
    let (rest, query) = match rest.split_once(['?', '#']) {
        Some((rest, _)) => (rest, "?<redacted>"),
        None => (rest, ""),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => format!("<redacted>@{host}"),
        None => authority.to_owned(),
    };
    format!("{scheme}://{host}{path}{query}")
}

impl AsyncReplayCache for RedisReplayCache {
    fn check_and_insert_async<'a>(&'a self, entry: &'a ReplayEntry<'a>) -> ReplayFuture<'a> {
        Box::pin(self.check(entry))
    }

    fn epoch(&self, now: SystemTime) -> SystemTime {
        self.epochs.epoch(now)
    }
}

impl fmt::Debug for RedisReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayCache")
            .field("url", &self.redacted_url)
            .field("key_prefix", &self.config.key_prefix)
            .field("timeout", &self.config.timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{ReplayKind, ReplayScope};

    #[test]
    fn retention_rounds_up_and_is_at_least_one_millisecond() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(retention_millis(t + Duration::from_secs(90), t), 90_000);
        assert_eq!(retention_millis(t + Duration::from_micros(1500), t), 2);
        assert_eq!(retention_millis(t + Duration::from_nanos(1), t), 1);
        assert_eq!(retention_millis(t, t), 1);
        assert_eq!(retention_millis(t - Duration::from_secs(5), t), 1);
        assert_eq!(
            retention_millis(SystemTime::UNIX_EPOCH + Duration::MAX / 2, t),
            MAX_PX
        );
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("redis://:s3cret@db.internal:6380/2"),
            "redis://<redacted>@db.internal:6380/2"
        );
        assert_eq!(
            redact_url("redis://user:p@ss@10.0.0.1"),
            "redis://<redacted>@10.0.0.1"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert_eq!(
            redact_url("redis+unix:///run/redis.sock?pass=s3cret"),
            "redis+unix:///run/redis.sock?<redacted>"
        );
        assert_eq!(redact_url("nonsense:s3cret"), "<unparsed>");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c = RedisReplayCache::new(
            "redis://admin:s3cret@127.0.0.1:1/0",
            RedisReplayConfig::new(),
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("admin"),
            "{shown}"
        );
        assert!(shown.contains("127.0.0.1:1"), "{shown}");
    }

    #[test]
    fn keys_are_fixed_size_and_scoped_by_client() {
        let c = RedisReplayCache::new("redis://127.0.0.1:1", RedisReplayConfig::new()).unwrap();
        let key = |client: &str, jti: &str| {
            let scope = ReplayScope::new(ReplayKind::ClientAssertion, "https://as", client);
            c.key(&ReplayEntry::new(scope, jti, SystemTime::now()))
        };
        let k = key("client", "jti");
        assert_eq!(k.len(), DEFAULT_REDIS_KEY_PREFIX.len() + 43);
        assert_eq!(key("client", &"x".repeat(1 << 20)).len(), k.len());
        assert_ne!(key("client", "jti"), key("other", "jti"));
        // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(key("ab", "c"), key("a", "bc"));
    }

    #[test]
    fn bad_config_and_urls_are_refused() {
        let bad = |url: &str, config| RedisReplayCache::new(url, config).unwrap_err().kind();
        assert_eq!(
            bad("http://x", RedisReplayConfig::new()),
            ErrorKind::InvalidConfig
        );
        assert_eq!(
            bad(
                "redis://x",
                RedisReplayConfig::new().timeout(Duration::ZERO)
            ),
            ErrorKind::InvalidConfig
        );
        assert_eq!(
            bad(
                "redis://x",
                RedisReplayConfig::new().key_prefix("p".repeat(300))
            ),
            ErrorKind::InvalidConfig
        );
    }

    #[test]
    fn the_sync_path_fails_closed() {
        // A Redis cache has no synchronous method; a verifier holding it
        // answers its synchronous calls with `RequiresAsync`.
        let c = RedisReplayCache::new("redis://127.0.0.1:1", RedisReplayConfig::new()).unwrap();
        let store = crate::replay::ReplayStore::Async(std::sync::Arc::new(c));
        let now = SystemTime::now();
        let scope = ReplayScope::new(ReplayKind::ClientAssertion, "https://as", "c");
        let entry = ReplayEntry::new(scope, "j", now).retain_until(now + Duration::from_secs(60));
        let e = store.record(&entry).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RequiresAsync);
    }
}
