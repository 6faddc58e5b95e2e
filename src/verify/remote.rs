//! Client keys fetched from a `jwks_uri`, with your own HTTP client.
//!
//! The crate never does I/O: you implement [`JwksFetcher`] (an async fetch
//! of the client's JWK Set bytes) and register it with
//! [`ClientRegistry::register_remote`](crate::ClientRegistry::register_remote).
//! The registry then keeps, per client:
//!
//! - a cached, parsed key set, used for at most `max_age` after a fetch;
//! - on an unknown `kid` (the client has rotated), one refresh at most per
//!   `cooldown` (default 30 s), **single-flight**: concurrent misses for one
//!   client wait for the same fetch instead of starting their own;
//! - **stale-if-error**: when a refresh fails, the last good set stays in use
//!   for up to `stale_if_error` past its `max_age`; only when no usable set is
//!   known does verification fail, with
//!   [`ErrorKind::KeysUnavailable`](crate::ErrorKind::KeysUnavailable);
//! - each fetched document is read by the rules of
//!   [`JwkSet::from_json`](crate::JwkSet::from_json) (at most
//!   [`JwkSet::MAX_JSON_LEN`](crate::JwkSet::MAX_JSON_LEN) bytes, checked
//!   before anything is parsed; keys a verifier cannot use skipped and
//!   reported by `key.skipped` audit events). A document that is refused,
//!   one carrying a private key above all, counts as a failed fetch: the
//!   last good set stays in use as above, and a `jwks.refused` audit event
//!   names the reason. Except for the keys whose private half the refused
//!   document published (matched by RFC 7638 thumbprint): those have
//!   leaked, and are dropped from the cached set at once.
//!
//! The synchronous `Verifier::verify` uses the cached set only and never
//! waits for a fetch; use `Verifier::verify_async` for remote clients.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime};

use super::keyset::{report_skipped, ClientKeys};
use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::keys::JwkSet;

/// The future returned by [`JwksFetcher::fetch`]: the JWK Set document bytes.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, Error>> + Send + 'a>>;

/// Fetches a client's JWK Set (e.g. a GET on its `jwks_uri` with your own
/// HTTP client). Return the response body; map transport failures to
/// [`Error::with_source`] with [`ErrorKind::KeysUnavailable`].
pub trait JwksFetcher: fmt::Debug + Send + Sync {
    /// Fetches the current JWK Set document of `client_id`.
    fn fetch<'a>(&'a self, client_id: &'a str) -> FetchFuture<'a>;
}

/// Cache timings for a remote JWK Set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteJwksConfig {
    /// How long a fetched set is used before it is refreshed (default 5 min).
    pub max_age: Duration,
    /// The least time between two fetches of one client's set (default 30 s,
    /// at least 1 s).
    pub cooldown: Duration,
    /// How long past `max_age` the last good set stays in use while fetches
    /// fail (default 1 hour).
    pub stale_if_error: Duration,
}

impl Default for RemoteJwksConfig {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(300),
            cooldown: Duration::from_secs(30),
            stale_if_error: Duration::from_secs(3600),
        }
    }
}

impl RemoteJwksConfig {
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.cooldown < Duration::from_secs(1) || self.max_age < self.cooldown {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "remote JWKS: cooldown must be at least 1 s and at most max_age",
            ));
        }
        Ok(())
    }
}

struct State {
    keys: Option<Arc<ClientKeys>>,
    fetched_at: Option<SystemTime>,
    last_attempt: Option<SystemTime>,
    in_flight: bool,
    /// Bumped when a fetch finishes; waiters watch it.
    generation: u64,
    waiters: Vec<Waker>,
    fetches: u64,
    /// Thumbprints of keys a fetched document published with their private
    /// half: never trusted again by this client entry (at most
    /// [`MAX_LEAKED`]; kept in memory only).
    leaked: Vec<String>,
}

/// The most leaked-key thumbprints remembered per client.
const MAX_LEAKED: usize = 256;

/// One remotely keyed client.
pub(crate) struct RemoteClient {
    client_id: String,
    fetcher: Arc<dyn JwksFetcher>,
    config: RemoteJwksConfig,
    /// The registry's backend, which fetched keys are parsed for.
    backend: Backend,
    state: Mutex<State>,
}

/// Why keys are wanted.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Any usable set will do (refresh if older than `max_age`).
    Current,
    /// The token's `kid` was not in the set: refresh unless in cooldown.
    Miss,
}

impl RemoteClient {
    pub(crate) fn new(
        client_id: String,
        fetcher: Arc<dyn JwksFetcher>,
        config: RemoteJwksConfig,
        backend: Backend,
    ) -> Self {
        Self {
            client_id,
            fetcher,
            config,
            backend,
            state: Mutex::new(State {
                keys: None,
                fetched_at: None,
                last_attempt: None,
                in_flight: false,
                generation: 0,
                waiters: Vec::new(),
                fetches: 0,
                leaked: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn usable(&self, st: &State, now: SystemTime) -> Option<Arc<ClientKeys>> {
        let fetched = st.fetched_at?;
        let age = now.duration_since(fetched).unwrap_or_default();
        (age <= self.config.max_age + self.config.stale_if_error)
            .then(|| st.keys.clone())
            .flatten()
    }

    /// The cached keys, without fetching.
    pub(crate) fn cached(&self, now: SystemTime) -> Result<Arc<ClientKeys>, Error> {
        let st = self.lock();
        self.usable(&st, now)
            .ok_or_else(|| Error::new(ErrorKind::KeysUnavailable))
    }

    /// How many fetches have been started.
    pub(crate) fn fetch_count(&self) -> u64 {
        self.lock().fetches
    }

    /// Keys for a verification, refreshing when `need` and the cache rules
    /// say so (at most once per cooldown, single-flight).
    pub(crate) async fn keys(&self, now: SystemTime, need: Need) -> Result<Arc<ClientKeys>, Error> {
        let generation = {
            let mut st = self.lock();
            let fresh = st
                .fetched_at
                .is_some_and(|t| now.duration_since(t).unwrap_or_default() <= self.config.max_age);
            let cooling = st
                .last_attempt
                .is_some_and(|t| now.duration_since(t).unwrap_or_default() < self.config.cooldown);
            let want = match need {
                Need::Current => !fresh,
                Need::Miss => true,
            };
            if !want || (cooling && !st.in_flight) {
                return self
                    .usable(&st, now)
                    .ok_or_else(|| Error::new(ErrorKind::KeysUnavailable));
            }
            if st.in_flight {
                Some(st.generation)
            } else {
                st.in_flight = true;
                st.last_attempt = Some(now);
                st.fetches += 1;
                None
            }
        };
        if let Some(generation) = generation {
            // Another task is fetching: wait for it, then use what it got.
            WaitForGeneration {
                client: self,
                generation,
            }
            .await;
            let st = self.lock();
            return self
                .usable(&st, now)
                .ok_or_else(|| Error::new(ErrorKind::KeysUnavailable));
        }
        // This task fetches. A guard clears `in_flight` even if the future
        // is dropped mid-fetch, so waiters are never stranded.
        let guard = FetchGuard { client: self };
        let result = self
            .fetcher
            .fetch(&self.client_id)
            .await
            .and_then(|bytes| self.take(&bytes));
        let failure = match result {
            Ok(keys) => {
                let mut st = self.lock();
                st.keys = Some(Arc::new(keys));
                st.fetched_at = Some(now);
                None
            }
            Err(e) => Some(e),
        };
        drop(guard);
        let st = self.lock();
        self.usable(&st, now)
            .ok_or_else(|| failure.unwrap_or_else(|| Error::new(ErrorKind::KeysUnavailable)))
    }

    /// The keys of a fetched JWK Set document, by the rules of
    /// [`JwkSet::from_json`]; its skipped keys are reported (`key.skipped`),
    /// and so is a refused document (`jwks.refused`).
    fn take(&self, body: &[u8]) -> Result<ClientKeys, Error> {
        let result = read_document(body, self.backend).and_then(|(set, keys)| {
            report_skipped(&self.client_id, &set);
            self.without_leaked(keys)
        });
        if let Err(e) = &result {
            self.forget_leaked(body);
            crate::audit::jwks_refused(&self.client_id, e);
        }
        result
    }

    /// Remembers every key whose private half `body` published (whatever
    /// else made the document refused) and drops them from the cached set:
    /// the rest of the earlier set stays in force, a leaked key does not
    /// (no key left: `keys_unavailable` until a good fetch).
    fn forget_leaked(&self, body: &[u8]) {
        let leaked = std::str::from_utf8(body)
            .map(JwkSet::leaked_thumbprints)
            .unwrap_or_default();
        if leaked.is_empty() {
            return;
        }
        let mut st = self.lock();
        for thumbprint in leaked {
            if !st.leaked.contains(&thumbprint) && st.leaked.len() < MAX_LEAKED {
                st.leaked.push(thumbprint);
            }
        }
        if let Some(keys) = st.keys.take() {
            st.keys = keys.without(&st.leaked).map(Arc::new);
        }
    }

    /// `keys` without the keys published with their private half before.
    fn without_leaked(&self, keys: ClientKeys) -> Result<ClientKeys, Error> {
        let st = self.lock();
        if st.leaked.is_empty() {
            return Ok(keys);
        }
        keys.without(&st.leaked).ok_or_else(|| {
            Error::detail(
                ErrorKind::PrivateKeyPublished,
                "every key of the JWK Set was published with its private half before",
            )
        })
    }
}

/// A fetched JWK Set document, length checked before anything is parsed.
fn read_document(body: &[u8], backend: Backend) -> Result<(JwkSet, ClientKeys), Error> {
    JwkSet::check_len(body.len())?;
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::detail(ErrorKind::KeysUnavailable, "JWKS is not UTF-8"))?;
    let set = JwkSet::from_json(text)?;
    let keys = ClientKeys::from_set(&set, backend)?;
    Ok((set, keys))
}

struct FetchGuard<'a> {
    client: &'a RemoteClient,
}

impl Drop for FetchGuard<'_> {
    fn drop(&mut self) {
        let mut st = self.client.lock();
        st.in_flight = false;
        st.generation += 1;
        for w in st.waiters.drain(..) {
            w.wake();
        }
    }
}

struct WaitForGeneration<'a> {
    client: &'a RemoteClient,
    generation: u64,
}

impl Future for WaitForGeneration<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.client.lock();
        if st.generation != self.generation || !st.in_flight {
            Poll::Ready(())
        } else {
            st.waiters.push(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl fmt::Debug for RemoteClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteClient")
            .field("client_id", &self.client_id)
            .field("fetcher", &self.fetcher)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
