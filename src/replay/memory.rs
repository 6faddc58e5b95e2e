//! A bounded, sharded in-memory replay cache.
//!
//! Each (scope, `jti`) pair ([`ReplayEntry::key_material`]) is reduced to a 128-bit fingerprint with
//! two independently, randomly keyed SipHash-1-3 hashes (the keys are drawn
//! per cache, so nobody can aim collisions), and stored with its expiry in
//! one of 64 shards, each a `HashMap<u128, u64>` under its own mutex. So an
//! entry costs the same whatever the `jti` length: 24 bytes of key and
//! value plus the hash table's control byte and growth slack: 70 bytes per
//! entry measured at 1 million entries (38 to 75 bytes depending on where
//! the table is in its growth; `benches/replay.rs`, BENCHMARKS.md).
//!
//! Expired entries are purged amortised: a shard sweeps when it has doubled
//! since its last sweep, or when it is full. An unexpired entry is never
//! evicted: a full shard that has nothing to purge fails closed with
//! [`ErrorKind::ReplayCacheFull`] until its earliest entry expires.
//!
//! Its epoch ([`ReplayCache::epoch`]) is the first clock reading it is
//! asked about: the build of the first verifier that holds it (or its first
//! check), on that verifier's clock. Nothing recorded before it exists in
//! this process, so assertions issued before it are quarantined for one
//! acceptance window: a server that restarts cannot accept again what its
//! previous process accepted.

use std::collections::hash_map::{Entry, RandomState};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use crate::error::{Error, ErrorKind};
use crate::replay::{ReplayCache, ReplayEntry};

/// The default capacity of [`MemoryReplayCache`], in entries.
pub(crate) const DEFAULT_REPLAY_CAPACITY: usize = 1 << 20;

const SHARDS: usize = 64;
const MIN_SWEEP: usize = 256;

/// The fingerprint is already uniformly random: use its low bits as the hash.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

struct Shard {
    /// fingerprint -> expiry in Unix milliseconds.
    entries: HashMap<u128, u64, BuildHasherDefault<Identity>>,
    /// Sweep when `entries` reaches this size.
    sweep_at: usize,
    /// When full: the earliest expiry left after the last sweep.
    full_until: u64,
}

impl Shard {
    fn sweep(&mut self, now: u64) {
        // An entry is live through its `until` instant, gone after it.
        self.entries.retain(|_, until| *until >= now);
        self.sweep_at = (self.entries.len() * 2).max(MIN_SWEEP);
    }
}

/// A bounded in-memory [`ReplayCache`] for a single process.
///
/// Concurrent (64 independently locked shards), bounded (a fixed capacity
/// in entries), purges expired entries amortised, and never evicts an
/// unexpired entry: at capacity it fails closed with
/// [`ErrorKind::ReplayCacheFull`]. Size the capacity for the peak number of
/// assertions accepted within the verifier's acceptance window.
///
/// Its memory is its own: two verifiers share replay state only when they
/// hold the same cache (`Arc` clones of one `MemoryReplayCache`), and each
/// verifier built without one has a fresh cache of its own. For several
/// server instances (processes) use a shared store (the Redis cache)
/// instead.
///
/// Its epoch is the first clock reading a verifier hands it (see the
/// module docs of [`replay`](crate::replay)): assertions issued before it
/// are quarantined for one acceptance window after a process starts.
pub struct MemoryReplayCache {
    shards: Box<[Mutex<Shard>]>,
    per_shard: usize,
    keys: (RandomState, RandomState),
    epoch: OnceLock<SystemTime>,
}

impl MemoryReplayCache {
    /// The default capacity of [`MemoryReplayCache`], in entries.
    pub const DEFAULT_CAPACITY: usize = DEFAULT_REPLAY_CAPACITY;

    /// A cache holding at most `capacity` unexpired entries (at least 64).
    pub fn with_capacity(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    entries: HashMap::default(),
                    sweep_at: MIN_SWEEP.min(per_shard),
                    full_until: 0,
                })
            })
            .collect();
        Self {
            shards,
            per_shard,
            keys: (RandomState::new(), RandomState::new()),
            epoch: OnceLock::new(),
        }
    }

    /// The capacity in entries.
    pub fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    /// The number of entries held (expired ones not yet purged included).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).entries.len())
            .sum()
    }

    /// Whether the cache holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn fingerprint(&self, entry: &ReplayEntry<'_>) -> u128 {
        let hash = |state: &RandomState| {
            let mut h = state.build_hasher();
            entry.key_material(&mut |bytes| h.write(bytes));
            h.finish()
        };
        (u128::from(hash(&self.keys.0)) << 64) | u128::from(hash(&self.keys.1))
    }
}

impl Default for MemoryReplayCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_REPLAY_CAPACITY)
    }
}

fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl ReplayCache for MemoryReplayCache {
    fn epoch(&self, now: SystemTime) -> SystemTime {
        *self.epoch.get_or_init(|| now)
    }

    fn check_and_insert(&self, entry: &ReplayEntry<'_>) -> Result<(), Error> {
        ReplayCache::epoch(self, entry.now());
        let fp = self.fingerprint(entry);
        let (until, now) = (unix_millis(entry.until()), unix_millis(entry.now()));
        let shard = &self.shards[(fp >> 64) as usize % SHARDS];
        let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
        if shard.entries.len() < shard.sweep_at.min(self.per_shard) {
            // The common case, no sweep due: one probe decides and inserts.
            return match shard.entries.entry(fp) {
                Entry::Occupied(e) if *e.get() >= now => Err(Error::new(ErrorKind::Replayed)),
                Entry::Occupied(mut e) => {
                    e.insert(until);
                    Ok(())
                }
                Entry::Vacant(e) => {
                    e.insert(until);
                    Ok(())
                }
            };
        }
        if let Some(&expiry) = shard.entries.get(&fp) {
            if expiry >= now {
                return Err(Error::new(ErrorKind::Replayed));
            }
        } else if shard.entries.len() >= shard.sweep_at.min(self.per_shard) {
            if shard.entries.len() >= self.per_shard && now <= shard.full_until {
                return Err(Error::new(ErrorKind::ReplayCacheFull));
            }
            shard.sweep(now);
            if shard.entries.len() >= self.per_shard {
                shard.full_until = shard.entries.values().copied().min().unwrap_or(0);
                return Err(Error::new(ErrorKind::ReplayCacheFull));
            }
        }
        match shard.entries.entry(fp) {
            Entry::Occupied(mut e) => {
                e.insert(until);
            }
            Entry::Vacant(e) => {
                e.insert(until);
            }
        }
        Ok(())
    }
}

impl fmt::Debug for MemoryReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayCache")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::{ReplayKind, ReplayScope};
    use std::time::Duration;

    fn check(
        c: &MemoryReplayCache,
        client: &str,
        jti: &str,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<(), Error> {
        let scope = ReplayScope::new(ReplayKind::ClientAssertion, "https://as.example", client);
        c.check_and_insert(&ReplayEntry::new(scope, jti, now).retain_until(until))
    }

    fn t(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn replay_is_caught_until_expiry_and_scoped_by_client() {
        let c = MemoryReplayCache::with_capacity(1000);
        check(&c, "a", "j", t(100), t(10)).unwrap();
        assert_eq!(
            check(&c, "a", "j", t(100), t(99)).unwrap_err().kind(),
            ErrorKind::Replayed
        );
        check(&c, "b", "j", t(100), t(10)).unwrap();
        assert_eq!(
            check(&c, "a", "j", t(200), t(100)).unwrap_err().kind(),
            ErrorKind::Replayed,
            "still recorded at its `until` instant"
        );
        check(&c, "a", "j", t(200), t(101)).unwrap();
    }

    #[test]
    fn full_cache_fails_closed_and_recovers_after_expiry() {
        let c = MemoryReplayCache::with_capacity(64);
        let mut accepted = 0;
        let mut full = 0;
        for i in 0..10_000 {
            match check(&c, "c", &i.to_string(), t(100), t(10)) {
                Ok(()) => accepted += 1,
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::ReplayCacheFull);
                    full += 1;
                }
            }
        }
        assert!(accepted <= c.capacity());
        assert_eq!(accepted + full, 10_000);
        // Every accepted entry is still remembered: none was evicted.
        let replays = (0..10_000)
            .filter(|i| {
                check(&c, "c", &i.to_string(), t(100), t(11))
                    .is_err_and(|e| e.kind() == ErrorKind::Replayed)
            })
            .count();
        assert_eq!(replays, accepted);
        // After expiry there is room again.
        check(&c, "c", "fresh", t(300), t(101)).unwrap();
    }
}
