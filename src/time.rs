//! An injectable clock, so every time rule can be tested without sleeping.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
///
/// Signers, verifiers and reloading key sources take an `Arc<dyn Clock>`;
/// production code uses [`SystemClock`], tests use [`ManualClock`].
pub trait Clock: fmt::Debug + Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualClock {
    /// Milliseconds since the Unix epoch.
    millis: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at `unix_seconds` seconds after the Unix epoch.
    pub fn at_unix(unix_seconds: u64) -> Self {
        Self {
            millis: Arc::new(AtomicU64::new(unix_seconds.saturating_mul(1000))),
        }
    }

    /// A clock standing at the current system time.
    pub fn now_from_system() -> Self {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            millis: Arc::new(AtomicU64::new(d.as_millis() as u64)),
        }
    }

    /// Moves the clock forward by `by` (millisecond resolution).
    pub fn advance(&self, by: Duration) {
        self.millis
            .fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }

    /// Moves the clock backward by `by` (millisecond resolution), e.g. to
    /// simulate a client whose clock runs behind.
    pub fn rewind(&self, by: Duration) {
        let by = by.as_millis() as u64;
        let _ = self
            .millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |m| {
                Some(m.saturating_sub(by))
            });
    }

    /// Sets the clock to `unix_seconds` seconds after the Unix epoch.
    pub fn set_unix(&self, unix_seconds: u64) {
        self.millis
            .store(unix_seconds.saturating_mul(1000), Ordering::SeqCst);
    }

    /// The clock's time in whole seconds since the Unix epoch.
    pub fn unix_seconds(&self) -> u64 {
        self.millis.load(Ordering::SeqCst) / 1000
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.millis.load(Ordering::SeqCst))
    }
}

/// Whole seconds since the Unix epoch (0 for times before it).
pub(crate) fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Seconds since the Unix epoch as a float (negative before it).
pub(crate) fn unix_seconds_f64(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::at_unix(1_000);
        let shared = c.clone();
        assert_eq!(unix_seconds(c.now()), 1_000);
        shared.advance(Duration::from_secs(61));
        assert_eq!(c.unix_seconds(), 1_061);
        c.rewind(Duration::from_secs(2_000));
        assert_eq!(c.unix_seconds(), 0);
        c.set_unix(5);
        assert_eq!(unix_seconds_f64(c.now()), 5.0);
    }
}
