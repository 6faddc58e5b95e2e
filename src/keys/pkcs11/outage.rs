//! The back-off while a token is unavailable.
//!
//! When a signature fails because the token cannot be reached or the key is
//! no longer on it (the error's kind is
//! [`ErrorKind::KeyUnavailable`](crate::ErrorKind::KeyUnavailable) or
//! [`ErrorKind::KeyNotFound`](crate::ErrorKind::KeyNotFound)), or because
//! the token holds the user PIN back (locked, expired, not initialised),
//! the key source remembers the error and, until the back-off delay has
//! passed, answers every signature with it at once, without calling the
//! module. The next call after the delay tries again (and resets the module
//! if needed); each failed try doubles the delay, up to its bound. Nothing
//! sleeps: the delay is measured against the clock when a call arrives.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::error::Pkcs11Error;

/// The first delay after a token became unavailable.
pub const DEFAULT_BACKOFF_FIRST: Duration = Duration::from_secs(1);
/// The bound on the delay between two attempts to reach the token again.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The delays between attempts: `first`, doubling, at most `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub(crate) first: Duration,
    pub(crate) max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: DEFAULT_BACKOFF_FIRST,
            max: DEFAULT_BACKOFF_MAX,
        }
    }
}

struct Down {
    error: Pkcs11Error,
    retry_at: Instant,
    delay: Duration,
}

/// Whether the token is known to be unavailable, and until when.
#[derive(Default)]
pub(crate) struct Outage(Mutex<Option<Down>>);

impl Outage {
    /// The remembered error while `now` is before the next attempt.
    pub(crate) fn blocked(&self, now: Instant) -> Option<Pkcs11Error> {
        let down = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        down.as_ref()
            .filter(|d| now < d.retry_at)
            .map(|d| d.error.clone())
    }

    /// An attempt failed at `now` with `error`: the next one waits for the
    /// first delay, or twice the last one (at most `backoff.max`). Failures
    /// of attempts made concurrently, while a wait is already running,
    /// double nothing.
    pub(crate) fn failed(&self, error: Pkcs11Error, now: Instant, backoff: Backoff) {
        let mut down = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let delay = match down.as_ref() {
            Some(d) if now < d.retry_at => return,
            Some(d) => d.delay.saturating_mul(2).min(backoff.max),
            None => backoff.first.min(backoff.max),
        };
        *down = Some(Down {
            error,
            // `open` bounds `backoff.max` to an hour; never panic anyway.
            retry_at: now.checked_add(delay).unwrap_or(now),
            delay,
        });
    }

    /// The token answered: no back-off any more.
    pub(crate) fn recovered(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_up_to_its_bound_and_resets() {
        let backoff = Backoff {
            first: Duration::from_secs(1),
            max: Duration::from_secs(5),
        };
        let outage = Outage::default();
        let t0 = Instant::now();
        let err = Pkcs11Error::TokenNotFound { label: "t".into() };
        assert!(outage.blocked(t0).is_none());
        let mut now = t0;
        for expected in [1, 2, 4, 5, 5] {
            outage.failed(err.clone(), now, backoff);
            let delay = Duration::from_secs(expected);
            assert_eq!(outage.blocked(now + delay / 2), Some(err.clone()));
            assert!(outage.blocked(now + delay).is_none());
            now += delay;
        }
        outage.recovered();
        assert!(outage.blocked(now).is_none());
        outage.failed(err.clone(), now, backoff);
        // A concurrent attempt failing during the wait doubles nothing.
        outage.failed(err.clone(), now + Duration::from_millis(500), backoff);
        assert!(outage.blocked(now + Duration::from_millis(999)).is_some());
        assert!(outage.blocked(now + Duration::from_secs(1)).is_none());
    }
}
