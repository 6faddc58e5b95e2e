//! How the Redis replay cache knows since when its server's memory is
//! complete (its epoch), and notices when it is not any more.
//!
//! Three facts, read from the server itself:
//!
//! - **The epoch key** `prefix + "epoch"`, written by the first cache that
//!   meets a server without it, holding a random id, the server's `TIME` at
//!   creation, and the server's `run_id` and `master_replid` then. Every
//!   check reads it back in the same round trip as its `SET` (a pipeline:
//!   Redis runs both in order), so a `FLUSHALL`, `FLUSHDB`, a restart
//!   without persistence or a deletion is seen by the first check that
//!   follows it, in every process, whoever rewrote the key since (its id
//!   changed).
//! - **`run_id` and `master_replid`** (`INFO`), at every (re)connection
//!   and once per [`INFO_INTERVAL`] per server during operation (on a
//!   cluster, the 256 key groups share one reading per node, see
//!   [`Epochs::info_due`]): a restarted
//!   server has another `run_id`, a promoted replica another `run_id` and
//!   `master_replid`, even though a persisted or replicated epoch key
//!   survived.
//! - **`maxmemory_policy` and `evicted_keys`** (`INFO`): an evicting policy
//!   is refused (fail closed) unless the `danger` opt-in allows it; with
//!   the opt-in every check reads `evicted_keys` after its `SET` and a rise
//!   is a loss. (LRU never picks a key that is read on every check, so the
//!   epoch key alone could not tell.)
//!
//! Any loss starts a new epoch dated by the verifier's clock at the check
//! that saw it (never earlier than the loss), and emits `replay.epoch_started`.
//! At first contact a valid epoch key with the server's current `run_id`
//! and `master_replid` dates the epoch back to the key's creation: a Redis
//! that has kept everything for longer than the acceptance window causes
//! no quarantine.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use ::redis::Value;

/// How often a check also reads `INFO`, at most, per server.
pub(crate) const INFO_INTERVAL: Duration = Duration::from_secs(1);

/// A server reading kept this long without a new one is forgotten (the
/// next check that needs it reads `INFO` again).
const NODE_FORGET: Duration = Duration::from_secs(60);

/// What `INFO` says of the server, as far as the epoch goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ServerInfo {
    pub(crate) run_id: String,
    pub(crate) replid: String,
    pub(crate) policy: String,
    pub(crate) evicted_keys: u64,
}

impl ServerInfo {
    /// Parses an `INFO` reply (`key:value` lines).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut info = Self::default();
        for line in text.lines() {
            let Some((k, v)) = line.trim_end().split_once(':') else {
                continue;
            };
            match k {
                "run_id" => info.run_id = v.to_owned(),
                "master_replid" => info.replid = v.to_owned(),
                "maxmemory_policy" => info.policy = v.to_owned(),
                "evicted_keys" => info.evicted_keys = v.parse().ok()?,
                _ => {}
            }
        }
        (!info.run_id.is_empty()).then_some(info)
    }

    /// Whether the server may evict keys that have not expired.
    pub(crate) fn evicts(&self) -> bool {
        !self.policy.is_empty() && self.policy != "noeviction"
    }
}

/// The value of the epoch key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EpochKey {
    pub(crate) id: String,
    /// The server's `TIME` at creation, in milliseconds.
    pub(crate) created_ms: u64,
    pub(crate) run_id: String,
    pub(crate) replid: String,
}

impl EpochKey {
    /// A new key for the server described by `info`, at its time `now_ms`.
    pub(crate) fn new(info: &ServerInfo, now_ms: u64) -> Self {
        use std::hash::{BuildHasher, Hasher};
        let random = || {
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        };
        Self {
            id: format!("{:016x}{:016x}", random(), random()),
            created_ms: now_ms,
            run_id: info.run_id.clone(),
            replid: info.replid.clone(),
        }
    }

    pub(crate) fn encode(&self) -> String {
        format!(
            "1 {} {} {} {}",
            self.id, self.created_ms, self.run_id, self.replid
        )
    }

    pub(crate) fn decode(s: &str) -> Option<Self> {
        let mut parts = s.split(' ');
        if parts.next()? != "1" {
            return None;
        }
        let key = Self {
            id: parts.next()?.to_owned(),
            created_ms: parts.next()?.parse().ok()?,
            run_id: parts.next()?.to_owned(),
            replid: parts.next()?.to_owned(),
        };
        parts.next().is_none().then_some(key)
    }

    /// Whether the key was written by the server `info` describes, in its
    /// current replication history.
    pub(crate) fn matches(&self, info: &ServerInfo) -> bool {
        self.run_id == info.run_id && self.replid == info.replid
    }
}

/// Why a new epoch started (the `reason` of `replay.epoch_started`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loss {
    /// No epoch key at first contact: the server may have been flushed,
    /// or never used by this prefix.
    NoEpochKey,
    /// The epoch key disappeared or was rewritten (flush, deletion, a
    /// restart without persistence, another cache's new epoch).
    EpochKeyChanged,
    /// Another `run_id`: the server restarted.
    Restarted,
    /// Another replication id: a replica was promoted (failover).
    Failover,
    /// `evicted_keys` rose.
    Evicted,
}

impl Loss {
    pub(crate) const fn code(self) -> &'static str {
        match self {
            Self::NoEpochKey => "no_epoch_key",
            Self::EpochKeyChanged => "epoch_key_changed",
            Self::Restarted => "restarted",
            Self::Failover => "failover",
            Self::Evicted => "evicted",
        }
    }
}

/// An epoch learnt from the server, not yet put on the verifier's clock.
#[derive(Clone, Copy, Debug)]
enum Pending {
    /// The memory is complete since `age` before the next clock reading.
    Since(Duration),
    /// A loss: the epoch is the next clock reading.
    Now,
}

/// The cache's knowledge of its server, shared by all its checks.
#[derive(Debug, Default)]
pub(crate) struct EpochState {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The epoch on the verifier's clock, once one was read.
    epoch: Option<SystemTime>,
    pending: Option<Pending>,
    /// The epoch key as last seen (encoded); `None` before first contact.
    known: Option<String>,
    info: Option<ServerInfo>,
    /// Whether the next check must first (re)read the server's facts.
    handshake_due: bool,
}

/// What the handshake found and must write.
pub(crate) enum Handshake {
    /// The key is current: nothing to write.
    Keep,
    /// Write this new key (a loss, or none yet).
    Write(EpochKey),
}

impl EpochState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a check must first run the handshake.
    pub(crate) fn handshake_due(&self) -> bool {
        let g = self.lock();
        g.known.is_none() || g.handshake_due
    }

    /// After a connection error: read the server's facts again before
    /// trusting the next answer (it may be another server now).
    pub(crate) fn reconnected(&self) {
        self.lock().handshake_due = true;
    }

    /// The server this group last read `INFO` from (its `run_id`), and
    /// that reading.
    fn info(&self) -> Option<ServerInfo> {
        self.lock().info.clone()
    }

    /// Judges the handshake's reading: the server `info`, its time
    /// `server_ms`, and the epoch key `key` (raw). Returns the losses seen
    /// and what to write.
    pub(crate) fn handshake(
        &self,
        info: ServerInfo,
        server_ms: u64,
        key: Option<&str>,
    ) -> (Option<Loss>, Handshake) {
        let mut g = self.lock();
        let first_contact = g.known.is_none();
        let decoded = key.and_then(EpochKey::decode);
        let loss = match (&decoded, &g.info) {
            (None, _) if first_contact => Some(Loss::NoEpochKey),
            (None, _) => Some(Loss::EpochKeyChanged),
            (Some(k), _) if k.run_id != info.run_id && k.replid != info.replid => {
                Some(Loss::Failover)
            }
            (Some(k), _) if !k.matches(&info) => Some(Loss::Restarted),
            (Some(_), Some(old)) if old.evicted_keys < info.evicted_keys => Some(Loss::Evicted),
            (Some(_), _) if !first_contact && g.known.as_deref() != key => {
                Some(Loss::EpochKeyChanged)
            }
            (Some(_), _) => None,
        };
        g.info = Some(info.clone());
        g.handshake_due = false;
        match (loss, decoded) {
            (None, Some(k)) => {
                if first_contact {
                    let age = server_ms.saturating_sub(k.created_ms);
                    g.pending = Some(Pending::Since(Duration::from_millis(age)));
                }
                g.known = key.map(str::to_owned);
                (None, Handshake::Keep)
            }
            (loss, _) => {
                g.pending = Some(Pending::Now);
                let fresh = EpochKey::new(&info, server_ms);
                g.known = Some(fresh.encode());
                (
                    loss.or(Some(Loss::EpochKeyChanged)),
                    Handshake::Write(fresh),
                )
            }
        }
    }

    /// After writing the epoch key: the value the server holds now (a
    /// concurrent writer may have won).
    pub(crate) fn written(&self, key: Option<&str>) {
        let mut g = self.lock();
        if let Some(k) = key {
            if g.known.as_deref() != Some(k) {
                g.known = Some(k.to_owned());
                g.pending = Some(Pending::Now);
            }
        } else {
            g.handshake_due = true;
        }
    }

    /// Judges what a check read back after its `SET`: the epoch key `key`
    /// and, when asked for, the server's `info`.
    pub(crate) fn after_check(&self, key: Option<&str>, info: Option<ServerInfo>) -> Option<Loss> {
        let mut g = self.lock();
        let mut loss = None;
        if g.known.as_deref() != key {
            loss = Some(Loss::EpochKeyChanged);
            g.handshake_due = true;
        }
        if let Some(info) = info {
            match &g.info {
                Some(old) if old.run_id != info.run_id => {
                    loss = Some(Loss::Restarted);
                    g.handshake_due = true;
                }
                Some(old) if old.replid != info.replid => {
                    loss = Some(Loss::Failover);
                    g.handshake_due = true;
                }
                Some(old) if old.evicted_keys < info.evicted_keys => {
                    loss = loss.or(Some(Loss::Evicted));
                }
                _ => {}
            }
            if info.evicts() {
                // Re-read (and refuse, unless allowed) before the next check.
                g.handshake_due |= g.info.as_ref().is_some_and(|old| !old.evicts());
            }
            g.info = Some(info);
        }
        if loss.is_some() {
            g.pending = Some(Pending::Now);
        }
        loss
    }

    /// The epoch on the verifier's clock, whose reading is `now`: a pending
    /// epoch is put on that clock (never moving the epoch back).
    #[cfg(test)]
    pub(crate) fn epoch(&self, now: SystemTime) -> SystemTime {
        self.known_epoch(now).unwrap_or(now)
    }

    /// [`EpochState::epoch`], `None` before the server was ever read.
    fn known_epoch(&self, now: SystemTime) -> Option<SystemTime> {
        let mut g = self.lock();
        if let Some(p) = g.pending.take() {
            let at = match p {
                Pending::Since(age) => now.checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH),
                Pending::Now => now,
            };
            g.epoch = Some(g.epoch.map_or(at, |e| e.max(at)));
        }
        g.epoch
    }
}

/// The epochs of a cache: one per group of keys with its own epoch key
/// (one group on a single node; on a cluster, one per hash tag, so that
/// every check reads the epoch key of the node that holds its own key).
/// The cache's epoch is the latest of them: a loss on any node
/// quarantines the whole cache.
#[derive(Debug)]
pub(crate) struct Epochs {
    groups: Vec<EpochState>,
    /// The last `INFO` reading of each server, by the `run_id` the groups
    /// knew it by: a reading taken through one group serves every group on
    /// the same server for [`INFO_INTERVAL`].
    nodes: Mutex<HashMap<String, NodeReading>>,
}

/// One server's last `INFO` reading.
#[derive(Debug)]
struct NodeReading {
    /// When it was taken (or claimed, while in flight).
    at: Instant,
    info: ServerInfo,
}

/// Whether a check reads `INFO` ([`Epochs::info_due`]).
#[derive(Debug)]
pub(crate) enum InfoDue {
    /// The group's server was read within [`INFO_INTERVAL`] and nothing
    /// changed since this group last looked.
    No,
    /// The group's server was read within [`INFO_INTERVAL`], through
    /// another group, and this is what it said: judge it as this group's own.
    Cached(ServerInfo),
    /// This check reads `INFO` (the turn is claimed).
    Read,
}

impl Epochs {
    pub(crate) fn new(groups: usize) -> Self {
        Self {
            groups: (0..groups.max(1)).map(|_| EpochState::default()).collect(),
            nodes: Mutex::new(HashMap::new()),
        }
    }

    fn nodes(&self) -> std::sync::MutexGuard<'_, HashMap<String, NodeReading>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a check on `group` should also read `INFO`: once per
    /// [`INFO_INTERVAL`] per server (claiming the turn), not per group. A
    /// group whose server was read more recently through another group
    /// takes that reading instead, so a change seen by any group's
    /// reading is judged by every group on that server at its next check.
    pub(crate) fn info_due(&self, group: usize) -> InfoDue {
        let Some(mine) = self.group(group).info() else {
            return InfoDue::Read;
        };
        let mut nodes = self.nodes();
        match nodes.get_mut(&mine.run_id) {
            Some(r) if r.at.elapsed() < INFO_INTERVAL => {
                if r.info == mine {
                    InfoDue::No
                } else {
                    InfoDue::Cached(r.info.clone())
                }
            }
            Some(r) => {
                r.at = Instant::now();
                InfoDue::Read
            }
            None => {
                let at = Instant::now();
                nodes.insert(mine.run_id.clone(), NodeReading { at, info: mine });
                InfoDue::Read
            }
        }
    }

    /// Records an `INFO` reading `info` taken through `group`, whose server
    /// was known as `before` (its `run_id`), so that the other groups on
    /// that server judge it too.
    pub(crate) fn node_read(&self, before: Option<&str>, info: &ServerInfo) {
        let at = Instant::now();
        let mut nodes = self.nodes();
        nodes.retain(|_, r| r.at.elapsed() < NODE_FORGET);
        for run_id in before.into_iter().chain([info.run_id.as_str()]) {
            let reading = NodeReading {
                at,
                info: info.clone(),
            };
            nodes.insert(run_id.to_owned(), reading);
        }
    }

    /// The `run_id` of the server `group` last read.
    pub(crate) fn run_id(&self, group: usize) -> Option<String> {
        self.group(group).info().map(|i| i.run_id)
    }

    pub(crate) fn len(&self) -> usize {
        self.groups.len()
    }

    pub(crate) fn group(&self, i: usize) -> &EpochState {
        &self.groups[i % self.groups.len()]
    }

    /// After a connection error: which server answers now is unknown, so
    /// every group reads its facts again.
    pub(crate) fn reconnected(&self) {
        for g in &self.groups {
            g.reconnected();
        }
    }

    /// The latest epoch of all groups.
    pub(crate) fn epoch(&self, now: SystemTime) -> SystemTime {
        let mut latest = SystemTime::UNIX_EPOCH;
        let mut any = false;
        for g in &self.groups {
            if let Some(e) = g.known_epoch(now) {
                latest = latest.max(e);
                any = true;
            }
        }
        if any {
            latest
        } else {
            now
        }
    }
}

/// The text of a bulk or simple string reply.
pub(crate) fn text(v: &Value) -> Option<&str> {
    match v {
        Value::BulkString(b) => std::str::from_utf8(b).ok(),
        Value::SimpleString(s) => Some(s),
        Value::VerbatimString { text, .. } => Some(text),
        _ => None,
    }
}

/// The server's `TIME` reply in milliseconds.
pub(crate) fn time_ms(v: &Value) -> Option<u64> {
    let Value::Array(parts) = v else {
        return None;
    };
    let secs: u64 = text(parts.first()?)?.parse().ok()?;
    let micros: u64 = text(parts.get(1)?)?.parse().ok()?;
    Some(secs.saturating_mul(1000) + micros / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(run: &str, repl: &str, evicted: u64) -> ServerInfo {
        ServerInfo {
            run_id: run.into(),
            replid: repl.into(),
            policy: "noeviction".into(),
            evicted_keys: evicted,
        }
    }

    fn t(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn info_and_keys_parse() {
        let i = ServerInfo::parse(
            "# Server\r\nrun_id:abc\r\n# Memory\r\nmaxmemory_policy:allkeys-lru\r\n\
             # Stats\r\nevicted_keys:7\r\n# Replication\r\nmaster_replid:r1\r\n",
        )
        .unwrap();
        assert_eq!(i.run_id, "abc");
        assert_eq!(i.replid, "r1");
        assert_eq!(i.evicted_keys, 7);
        assert!(i.evicts());
        let k = EpochKey::new(&i, 5);
        assert_eq!(EpochKey::decode(&k.encode()), Some(k.clone()));
        assert!(k.matches(&i));
        assert_eq!(EpochKey::decode("2 a 1 b c"), None);
        assert_eq!(EpochKey::decode("1 a x b c"), None);
        assert_ne!(EpochKey::new(&i, 5).id, k.id);
    }

    #[test]
    fn an_old_matching_key_needs_no_quarantine_and_losses_start_epochs() {
        let s = EpochState::default();
        assert!(s.handshake_due());
        let key = EpochKey {
            id: "x".into(),
            created_ms: 1_000_000,
            run_id: "r".into(),
            replid: "p".into(),
        }
        .encode();
        let (loss, write) = s.handshake(info("r", "p", 0), 4_000_000, Some(&key));
        assert!(loss.is_none() && matches!(write, Handshake::Keep));
        assert_eq!(s.epoch(t(10_000)), t(10_000 - 3000));
        assert!(!s.handshake_due());
        // The same key read back: nothing happened.
        assert_eq!(s.after_check(Some(&key), None), None);
        assert_eq!(s.epoch(t(10_001)), t(7000));
        // The key is gone (FLUSHALL): a new epoch at the next reading.
        assert_eq!(s.after_check(None, None), Some(Loss::EpochKeyChanged));
        assert_eq!(s.epoch(t(10_002)), t(10_002));
        assert!(s.handshake_due());
        // A promoted replica: another run_id and replid, the key replicated.
        let (loss, write) = s.handshake(info("r2", "p2", 0), 4_000_500, Some(&key));
        assert_eq!(loss, Some(Loss::Failover));
        let Handshake::Write(fresh) = write else {
            panic!("a new key must be written")
        };
        s.written(Some(&fresh.encode()));
        assert_eq!(s.epoch(t(10_005)), t(10_005));
        // evicted_keys rose.
        let after = s.after_check(Some(&fresh.encode()), Some(info("r2", "p2", 3)));
        assert_eq!(after, Some(Loss::Evicted));
        // The epoch never moves back.
        assert_eq!(s.epoch(t(9_000)), t(10_005));
    }

    #[test]
    fn info_is_read_once_per_server_and_shared_by_its_groups() {
        let all = Epochs::new(4);
        let key = EpochKey::new(&info("r", "p", 0), 1).encode();
        for g in 0..4 {
            let _ = all.group(g).handshake(info("r", "p", 0), 1, Some(&key));
        }
        // Before any reading: the first group reads, the others wait.
        assert!(matches!(all.info_due(0), InfoDue::Read));
        assert!(matches!(all.info_due(1), InfoDue::No));
        // A reading through group 0 shows a restart: the other groups of
        // that server judge it at their next check, without reading.
        let restarted = info("r2", "p", 0);
        all.node_read(Some("r"), &restarted);
        assert_eq!(
            all.group(0)
                .after_check(Some(&key), Some(restarted.clone())),
            Some(Loss::Restarted)
        );
        let InfoDue::Cached(seen) = all.info_due(1) else {
            panic!("group 1 must take group 0's reading")
        };
        assert_eq!(
            all.group(1).after_check(Some(&key), Some(seen)),
            Some(Loss::Restarted)
        );
        // Group 0 knows the new server now, read just now.
        assert!(matches!(all.info_due(0), InfoDue::No));
    }

    #[test]
    fn first_contact_without_a_key_or_with_a_foreign_one_is_a_loss() {
        let s = EpochState::default();
        let (loss, _) = s.handshake(info("r", "p", 0), 1, None);
        assert_eq!(loss, Some(Loss::NoEpochKey));
        assert_eq!(s.epoch(t(50)), t(50));
        let s = EpochState::default();
        let key = EpochKey::new(&info("old", "p", 0), 1).encode();
        let (loss, _) = s.handshake(info("r", "p", 0), 1, Some(&key));
        assert_eq!(loss, Some(Loss::Restarted));
    }
}
