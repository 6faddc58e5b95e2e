//! The session pool, and recovery: lost sessions, a reset module, a token
//! that went away, and a key that is no longer the one opened.
//!
//! A `cryptoki` `Session` is `Send` but not `Sync`: one session serves one
//! signature at a time. Idle sessions wait in a stack behind a mutex; a
//! signature checks one out (opening a new one, up to the bound, when none
//! is idle) and returns it afterwards.
//!
//! Sessions are opened with `*_no_drop`: a session that the token reports
//! lost (`CKR_SESSION_HANDLE_INVALID`, ...) is forgotten without a
//! `C_CloseSession`, because after a module reset its handle number may
//! already belong to a fresh session. Sessions still valid are closed when
//! the key source is dropped.
//!
//! Every session, slot and key handle is tagged with the module epoch it
//! was obtained in (see `registry.rs`); after a reset of the module, all of
//! them are stale and are obtained again before the next call.
//!
//! A key found again (after any failure that made its handle doubtful) must
//! have the public key pinned when the key source was opened; another key
//! under the same label or id is [`Pkcs11Error::KeyReplaced`], and its
//! handle is never used.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use cryptoki::error::Error as CkError;
use cryptoki::object::ObjectHandle;
use cryptoki::session::Session;
use cryptoki::slot::Slot;

use super::error::Pkcs11Error;
use super::outage::{Backoff, Outage};
use super::pin::Pin;
use super::public::{find_one_private, read_key};
use super::registry::Module;
use super::session::{
    call, ensure_logged_in, resolve_slot, Failure, Needs, TokenSelector, MAX_RETRIES,
};
use crate::backend::PublicParams;
use crate::error::{Error, ErrorKind};

/// How to find the token and the key again, and what the key must be.
pub(crate) struct Target {
    pub(crate) token: TokenSelector,
    pub(crate) label: Option<String>,
    pub(crate) id: Option<Vec<u8>>,
    /// The public key read when the key source was opened.
    pub(crate) pinned: PublicParams,
}

/// The session the key was opened with and what was found through it.
pub(crate) struct Opened {
    pub(crate) session: Session,
    pub(crate) slot: Slot,
    pub(crate) key: ObjectHandle,
    /// The module epoch all three belong to.
    pub(crate) epoch: u64,
}

struct Idle {
    session: Session,
    generation: u64,
    /// The module epoch the session was opened in.
    epoch: u64,
}

struct Pool {
    idle: Vec<Idle>,
    /// Sessions alive: idle plus checked out.
    open: usize,
    /// Bumped when a session is found lost: idle sessions of an older
    /// generation are presumed lost too and forgotten.
    generation: u64,
    slot: Slot,
    key: ObjectHandle,
    /// The module epoch `slot` and `key` were found in.
    found_in: u64,
}

/// Everything a signature needs: the module, how to find the token and key
/// again, the PIN, the back-off state and the pool.
pub(crate) struct Shared {
    pub(crate) module: Arc<Module>,
    pub(crate) target: Target,
    pub(crate) pin: Pin,
    pub(crate) max_sessions: usize,
    backoff: Backoff,
    outage: Outage,
    /// The token's answer to the one login this key source tried with a
    /// PIN that was refused as wrong: never tried again (tokens lock a PIN
    /// after a few wrong tries, for every application).
    pin_refused: Mutex<Option<Error>>,
    pool: Mutex<Pool>,
    returned: Condvar,
}

/// A checked-out session. Dropping it returns the session to the pool (or,
/// if it was lost, frees its place).
struct Lease<'a> {
    shared: &'a Shared,
    session: Option<Session>,
    session_epoch: u64,
    key: ObjectHandle,
    slot: Slot,
    found_in: u64,
    generation: u64,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut pool = self.shared.lock();
        match self.session.take() {
            Some(session) => {
                let generation = pool.generation;
                pool.idle.push(Idle {
                    session,
                    generation,
                    epoch: self.session_epoch,
                });
            }
            None => pool.open -= 1,
        }
        drop(pool);
        self.shared.returned.notify_one();
    }
}

impl Shared {
    /// A pool holding the session the key was opened with.
    pub(crate) fn new(
        module: Arc<Module>,
        target: Target,
        pin: Pin,
        max_sessions: usize,
        backoff: Backoff,
        opened: Opened,
    ) -> Self {
        let pool = Pool {
            idle: vec![Idle {
                session: opened.session,
                generation: 0,
                epoch: opened.epoch,
            }],
            open: 1,
            generation: 0,
            slot: opened.slot,
            key: opened.key,
            found_in: opened.epoch,
        };
        Self {
            module,
            target,
            pin,
            max_sessions,
            backoff,
            outage: Outage::default(),
            pin_refused: Mutex::new(None),
            pool: Mutex::new(pool),
            returned: Condvar::new(),
        }
    }

    /// Logs in unless the session already is logged in, or the token has
    /// refused this key source's PIN as wrong before (a wrong PIN is tried
    /// once, then every call fails at once with the same error, until the
    /// key source is opened again with the right PIN).
    ///
    /// Only a verdict on the PIN itself is kept: a PIN that is locked,
    /// expired or not initialised is a state of the token that costs no
    /// try and that an administrator (or, with SoftHSM2, another process
    /// rewriting the token file) may change; it waits out the back-off
    /// instead, with a module reset (see [`unavailable`]).
    fn log_in(&self, session: &Session) -> Result<(), Failure> {
        let mut refused = self
            .pin_refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(error) = refused.as_ref() {
            return Err(Failure::Final(error.clone()));
        }
        match ensure_logged_in(session, &self.pin) {
            Err(Failure::Final(error))
                if matches!(
                    Pkcs11Error::from_error(&error),
                    Some(Pkcs11Error::PinIncorrect { .. })
                ) =>
            {
                *refused = Some(error.clone());
                Err(Failure::Final(error))
            }
            other => other,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sessions currently open (idle or in use).
    pub(crate) fn open_sessions(&self) -> usize {
        self.lock().open
    }

    /// The slot the token was last found in.
    pub(crate) fn slot(&self) -> Slot {
        self.lock().slot
    }

    fn lease(&self, pool: &Pool, session: Option<Session>, session_epoch: u64) -> Lease<'_> {
        Lease {
            shared: self,
            session,
            session_epoch,
            key: pool.key,
            slot: pool.slot,
            found_in: pool.found_in,
            generation: pool.generation,
        }
    }

    /// An idle session of the current generation and module epoch, or a
    /// free place for a new one; waits while `max_sessions` are in use.
    fn checkout(&self) -> Lease<'_> {
        let epoch = self.module.epoch();
        let mut pool = self.lock();
        loop {
            while let Some(idle) = pool.idle.pop() {
                if idle.generation == pool.generation && idle.epoch == epoch {
                    return self.lease(&pool, Some(idle.session), idle.epoch);
                }
                // Presumed lost (see the module doc): forgotten, not closed.
                pool.open -= 1;
                drop(idle);
            }
            if pool.open < self.max_sessions {
                pool.open += 1;
                return self.lease(&pool, None, epoch);
            }
            pool = self
                .returned
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Runs `op` on a pooled session with the key handle; see
    /// [`Shared::run_with`].
    pub(crate) fn run<T>(
        &self,
        function: &'static str,
        op: impl FnMut(&Session, ObjectHandle) -> Result<T, CkError>,
    ) -> Result<T, Error> {
        self.run_with(Needs::default(), function, op)
    }

    /// Looks the key up again and checks it is still the key opened.
    pub(crate) fn check_key(&self) -> Result<(), Error> {
        let needs = Needs {
            login: true,
            key: true,
            ..Needs::default()
        };
        self.run_with(needs, "C_FindObjects", |_, _| Ok(()))
    }

    /// Runs `op` after the repairs in `needs`, repairing and retrying (at
    /// most [`MAX_RETRIES`] times) after a lost session, a logout, a
    /// removed token or a changed key handle. When the token cannot be
    /// reached or the key is not found, the module is reset once and `op`
    /// tried again; if that fails too, calls fail at once with the same
    /// error until the back-off delay has passed. `function` names the call in errors that do not
    /// name it themselves.
    pub(crate) fn run_with<T>(
        &self,
        needs: Needs,
        function: &'static str,
        mut op: impl FnMut(&Session, ObjectHandle) -> Result<T, CkError>,
    ) -> Result<T, Error> {
        let now = Instant::now();
        if let Some(error) = self.outage.blocked(now) {
            return Err(error.into());
        }
        let mut lease = self.checkout();
        let seen = self.module.epoch();
        let result = self.attempt(&mut lease, needs, function, &mut op);
        let Some(first) = unavailable(&result).cloned() else {
            self.outage.recovered();
            return result;
        };
        // The token may be back where the module has not looked yet.
        // The back-off counts from the failure, not from the call's start
        // (a slow token's call may outlast the delay).
        if let Err(e) = self.module.reset(seen) {
            self.outage.failed(first, Instant::now(), self.backoff);
            return Err(e.into());
        }
        let result = self.attempt(&mut lease, needs, function, &mut op);
        match unavailable(&result) {
            Some(still) => self
                .outage
                .failed(still.clone(), Instant::now(), self.backoff),
            None => self.outage.recovered(),
        }
        result
    }

    /// One try of `op` inside the module's gate, with the repairs `needs`
    /// plus whatever a reset since the lease's last use requires.
    fn attempt<T>(
        &self,
        lease: &mut Lease<'_>,
        mut needs: Needs,
        function: &'static str,
        op: &mut impl FnMut(&Session, ObjectHandle) -> Result<T, CkError>,
    ) -> Result<T, Error> {
        let entered = self.module.enter();
        if lease.session.is_some() && lease.session_epoch != entered.epoch {
            needs.lost = true;
        }
        if lease.found_in != entered.epoch {
            needs.slot = true;
            needs.login = true;
            needs.key = true;
        }
        let mut retries = 0;
        loop {
            let result = self.repair(lease, needs).and_then(|(session, key)| {
                op(session, key).map_err(|e| Failure::Call(function, e))
            });
            match result {
                Ok(value) => return Ok(value),
                Err(Failure::Call(f, e)) => match Needs::after(&e) {
                    Some(next) if retries < MAX_RETRIES => {
                        retries += 1;
                        needs = next;
                    }
                    _ => return Err(Failure::Call(f, e).into()),
                },
                Err(Failure::Final(e)) => return Err(e),
            }
        }
    }

    /// Brings the lease back to a usable state and returns its session and
    /// key handle.
    fn repair<'l>(
        &self,
        lease: &'l mut Lease<'_>,
        needs: Needs,
    ) -> Result<(&'l Session, ObjectHandle), Failure> {
        if needs.init {
            self.module.reinitialize()?;
        }
        let epoch = self.module.epoch();
        if needs.lost {
            // Forget (do not close) the lost session.
            lease.session = None;
            let mut pool = self.lock();
            if pool.generation == lease.generation {
                pool.generation += 1;
            }
            lease.generation = pool.generation;
        }
        if needs.slot {
            if !matches!(self.target.token, TokenSelector::Slot(_)) {
                lease.slot = resolve_slot(self.module.ctx(), &self.target.token)?;
            }
            self.lock().slot = lease.slot;
        }
        let fresh = lease.session.is_none();
        let session = match lease.session.take() {
            Some(session) => session,
            None => {
                let session = self
                    .module
                    .ctx()
                    .open_ro_session_no_drop(lease.slot)
                    .map_err(call("C_OpenSession"))?;
                lease.session_epoch = epoch;
                session
            }
        };
        let session: &Session = lease.session.insert(session);
        if fresh || needs.login {
            self.log_in(session)?;
        }
        if needs.key {
            let t = &self.target;
            let key = find_one_private(session, t.label.as_deref(), t.id.as_deref())?;
            self.check_pinned(session, key)?;
            lease.key = key;
            let mut pool = self.lock();
            pool.key = key;
            if needs.slot {
                lease.found_in = epoch;
                pool.found_in = epoch;
            }
        }
        Ok((session, lease.key))
    }

    /// Refuses a key found again that is not the key opened: another public
    /// key, or one that cannot even be read as the opened key's type.
    fn check_pinned(&self, session: &Session, key: ObjectHandle) -> Result<(), Failure> {
        let replaced = || {
            Failure::from(Pkcs11Error::KeyReplaced {
                label: self.target.label.clone(),
                id: self.target.id.clone(),
            })
        };
        match read_key(session, key) {
            Ok(info) if info.params == self.target.pinned => Ok(()),
            Ok(_) => Err(replaced()),
            Err(e) => match Pkcs11Error::from_error(&e) {
                // Gone between C_FindObjects and C_GetAttributeValue.
                Some(Pkcs11Error::Call { rv, .. })
                    if rv == "CKR_OBJECT_HANDLE_INVALID" || rv == "CKR_KEY_HANDLE_INVALID" =>
                {
                    Err(Pkcs11Error::KeyNotFound {
                        label: self.target.label.clone(),
                        id: self.target.id.clone(),
                    }
                    .into())
                }
                Some(Pkcs11Error::Call { .. } | Pkcs11Error::Library { .. }) => {
                    Err(Failure::Final(e))
                }
                _ => Err(replaced()),
            },
        }
    }
}

/// The `Pkcs11Error` of a result that failed because the token cannot be
/// reached, no longer shows the key, or holds the user PIN back (locked,
/// expired, not initialised): the module may not have seen the token come
/// back, or may still hold the token's state from when it last read it
/// (SoftHSM2 loses a token whose directory went away and sees it again only
/// after `C_Initialize`; it reads the PINs there too, and a token file
/// being rewritten by another process reads as one without a user PIN).
fn unavailable<T>(result: &Result<T, Error>) -> Option<&Pkcs11Error> {
    let error = result.as_ref().err()?;
    match error.kind() {
        ErrorKind::KeyUnavailable | ErrorKind::KeyNotFound => Pkcs11Error::from_error(error),
        ErrorKind::KeyAccessDenied => {
            Pkcs11Error::from_error(error).filter(|e| matches!(e, Pkcs11Error::PinLocked { .. }))
        }
        _ => None,
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let _entered = self.module.enter();
        let epoch = self.module.epoch();
        let pool = self.pool.get_mut().unwrap_or_else(PoisonError::into_inner);
        let current = pool.generation;
        for idle in pool.idle.drain(..) {
            if idle.generation == current && idle.epoch == epoch {
                // Closing also logs out once the last session is gone.
                let _ = idle.session.close();
            }
        }
    }
}
