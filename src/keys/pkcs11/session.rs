//! The session pool, login, and recovery from lost sessions.
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

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::ObjectHandle;
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;

use super::error::Pkcs11Error;
use super::pin::Pin;
use super::public::{find_one_private, FindError};
use super::registry;
use crate::error::Error;

/// How many times a failed PKCS#11 call is repaired and retried (so a
/// signature makes at most `MAX_RETRIES + 1` attempts).
pub const MAX_RETRIES: usize = 2;

/// How the token is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenSelector {
    Label(String),
    Slot(u64),
}

/// A failure inside the pool: a PKCS#11 call error (which may be
/// recoverable) or a final, typed error.
pub(crate) enum Failure {
    Call(&'static str, CkError),
    Final(Error),
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Call(function, e) => Pkcs11Error::from_cryptoki(function, e).into(),
            Failure::Final(e) => e,
        }
    }
}

impl From<Pkcs11Error> for Failure {
    fn from(e: Pkcs11Error) -> Self {
        Self::Final(e.into())
    }
}

impl From<FindError> for Failure {
    fn from(e: FindError) -> Self {
        match e {
            FindError::Call(e) => Self::Call("C_FindObjects", e),
            FindError::Typed(e) => e.into(),
        }
    }
}

pub(crate) fn call(function: &'static str) -> impl FnOnce(CkError) -> Failure {
    move |e| Failure::Call(function, e)
}

/// What must be redone before a retry.
#[derive(Clone, Copy, Debug, Default)]
struct Needs {
    /// `C_Initialize` again (someone finalised the module).
    init: bool,
    /// Find the token's slot again (the token was removed and may be back
    /// in another slot).
    slot: bool,
    /// The session is gone: forget it and open a new one.
    lost: bool,
    /// Make sure the user is logged in.
    login: bool,
    /// Find the key object again (its handle may have changed).
    key: bool,
}

impl Needs {
    /// The repair for a recoverable error, `None` for every other error.
    fn after(e: &CkError) -> Option<Self> {
        let CkError::Pkcs11(rv, _) = e else {
            return None;
        };
        // A lost session may mean a reset module or token, which may have
        // renumbered its slots: the slot is looked up again too.
        let all = Self {
            init: false,
            slot: true,
            lost: true,
            login: true,
            key: true,
        };
        Some(match rv {
            RvError::SessionHandleInvalid
            | RvError::SessionClosed
            | RvError::TokenNotPresent
            | RvError::DeviceRemoved
            | RvError::DeviceError
            | RvError::TokenNotRecognized
            | RvError::SlotIdInvalid => all,
            RvError::CryptokiNotInitialized => Self { init: true, ..all },
            RvError::UserNotLoggedIn | RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid => {
                Self {
                    login: true,
                    key: true,
                    ..Self::default()
                }
            }
            _ => return None,
        })
    }
}

/// Logs the user in on `session` (once per token and application: a
/// second login reports `CKR_USER_ALREADY_LOGGED_IN`, which is success).
pub(crate) fn login(session: &Session, pin: &Pin) -> Result<(), Failure> {
    match session.login(UserType::User, Some(pin.auth())) {
        Ok(()) => Ok(()),
        Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
        Err(CkError::Pkcs11(
            rv @ (RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange),
            _,
        )) => Err(Pkcs11Error::PinIncorrect {
            rv: super::error::rv_name(rv),
        }
        .into()),
        Err(CkError::Pkcs11(
            rv @ (RvError::PinLocked | RvError::PinExpired | RvError::UserPinNotInitialized),
            _,
        )) => Err(Pkcs11Error::PinLocked {
            rv: super::error::rv_name(rv),
        }
        .into()),
        Err(e) => Err(Failure::Call("C_Login", e)),
    }
}

/// Logs in unless the session already is in a user state.
pub(crate) fn ensure_logged_in(session: &Session, pin: &Pin) -> Result<(), Failure> {
    let info = session
        .get_session_info()
        .map_err(call("C_GetSessionInfo"))?;
    match info.session_state() {
        SessionState::RoUser | SessionState::RwUser => Ok(()),
        _ => login(session, pin),
    }
}

/// The slot holding the selected token.
pub(crate) fn resolve_slot(ctx: &Pkcs11, token: &TokenSelector) -> Result<Slot, Failure> {
    match token {
        TokenSelector::Slot(id) => {
            let not_found = || Failure::from(Pkcs11Error::SlotNotFound { slot: *id });
            let slot = Slot::try_from(*id).map_err(|_| not_found())?;
            match ctx.get_token_info(slot) {
                Ok(_) => Ok(slot),
                Err(CkError::Pkcs11(
                    RvError::SlotIdInvalid | RvError::TokenNotPresent | RvError::TokenNotRecognized,
                    _,
                )) => Err(not_found()),
                Err(e) => Err(Failure::Call("C_GetTokenInfo", e)),
            }
        }
        TokenSelector::Label(label) => {
            let slots = ctx.get_slots_with_token().map_err(call("C_GetSlotList"))?;
            let mut found = Vec::new();
            for slot in slots {
                match ctx.get_token_info(slot) {
                    Ok(info) if info.token_initialized() && info.label().trim_end() == label => {
                        found.push(slot);
                    }
                    // A token removed while we list: not the one we want.
                    Ok(_)
                    | Err(CkError::Pkcs11(
                        RvError::TokenNotPresent
                        | RvError::TokenNotRecognized
                        | RvError::SlotIdInvalid
                        | RvError::DeviceRemoved,
                        _,
                    )) => {}
                    Err(e) => return Err(Failure::Call("C_GetTokenInfo", e)),
                }
            }
            match found.as_slice() {
                [slot] => Ok(*slot),
                [] => Err(Pkcs11Error::TokenNotFound {
                    label: label.clone(),
                }
                .into()),
                many => Err(Pkcs11Error::AmbiguousToken {
                    label: label.clone(),
                    count: many.len(),
                }
                .into()),
            }
        }
    }
}

struct Pool {
    /// Idle sessions with the generation they were opened or last used in.
    idle: Vec<(Session, u64)>,
    /// Sessions alive: idle plus checked out.
    open: usize,
    /// Bumped when a session is found lost: idle sessions of an older
    /// generation are presumed lost too and forgotten.
    generation: u64,
    slot: Slot,
    key: ObjectHandle,
}

/// Everything a signature needs: the context, how to find the token and
/// key again, the PIN, and the pool.
pub(crate) struct Shared {
    pub(crate) ctx: Pkcs11,
    pub(crate) token: TokenSelector,
    pub(crate) pin: Pin,
    pub(crate) label: Option<String>,
    pub(crate) id: Option<Vec<u8>>,
    pub(crate) max_sessions: usize,
    pool: Mutex<Pool>,
    returned: Condvar,
}

/// A checked-out session. Dropping it returns the session to the pool (or,
/// if it was lost, frees its place).
struct Lease<'a> {
    shared: &'a Shared,
    session: Option<Session>,
    key: ObjectHandle,
    slot: Slot,
    generation: u64,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut pool = self.shared.lock();
        match self.session.take() {
            Some(session) => {
                let generation = pool.generation;
                pool.idle.push((session, generation));
            }
            None => pool.open -= 1,
        }
        drop(pool);
        self.shared.returned.notify_one();
    }
}

impl Shared {
    /// A pool holding `session` (logged in, on `slot`) and the key handle.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        ctx: Pkcs11,
        token: TokenSelector,
        pin: Pin,
        label: Option<String>,
        id: Option<Vec<u8>>,
        max_sessions: usize,
        slot: Slot,
        key: ObjectHandle,
        session: Session,
    ) -> Self {
        Self {
            ctx,
            token,
            pin,
            label,
            id,
            max_sessions,
            pool: Mutex::new(Pool {
                idle: vec![(session, 0)],
                open: 1,
                generation: 0,
                slot,
                key,
            }),
            returned: Condvar::new(),
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

    /// An idle session of the current generation, or a free place for a new
    /// one; waits while `max_sessions` are in use.
    fn checkout(&self) -> Lease<'_> {
        let mut pool = self.lock();
        loop {
            while let Some((session, generation)) = pool.idle.pop() {
                if generation == pool.generation {
                    return Lease {
                        shared: self,
                        session: Some(session),
                        key: pool.key,
                        slot: pool.slot,
                        generation,
                    };
                }
                // Opened before a session was found lost: presumed lost
                // too. Forgotten, not closed (see the module doc).
                pool.open -= 1;
                drop(session);
            }
            if pool.open < self.max_sessions {
                pool.open += 1;
                return Lease {
                    shared: self,
                    session: None,
                    key: pool.key,
                    slot: pool.slot,
                    generation: pool.generation,
                };
            }
            pool = self
                .returned
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Runs `op` on a pooled session with the key handle, repairing and
    /// retrying (at most [`MAX_RETRIES`] times) after a lost session, a
    /// logout, a removed token or a changed key handle. `function` names the
    /// call in errors that do not name it themselves.
    pub(crate) fn run<T>(
        &self,
        function: &'static str,
        mut op: impl FnMut(&Session, ObjectHandle) -> Result<T, CkError>,
    ) -> Result<T, Error> {
        let mut lease = self.checkout();
        let mut needs = Needs::default();
        let mut retries = 0;
        loop {
            let result = self.repair(&mut lease, needs).and_then(|(session, key)| {
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
            registry::reinitialize(&self.ctx)?;
        }
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
            let slot = match self.token {
                TokenSelector::Label(_) => resolve_slot(&self.ctx, &self.token)?,
                TokenSelector::Slot(_) => lease.slot,
            };
            lease.slot = slot;
            self.lock().slot = slot;
        }
        let fresh = lease.session.is_none();
        let session = match lease.session.take() {
            Some(session) => session,
            None => self
                .ctx
                .open_ro_session_no_drop(lease.slot)
                .map_err(call("C_OpenSession"))?,
        };
        let session: &Session = lease.session.insert(session);
        if fresh || needs.login {
            ensure_logged_in(session, &self.pin)?;
        }
        if needs.key {
            let key = find_one_private(session, self.label.as_deref(), self.id.as_deref())?;
            lease.key = key;
            self.lock().key = key;
        }
        Ok((session, lease.key))
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        let pool = self.pool.get_mut().unwrap_or_else(PoisonError::into_inner);
        let current = pool.generation;
        for (session, generation) in pool.idle.drain(..) {
            if generation == current {
                // Closing also logs out once the last session is gone.
                let _ = session.close();
            }
        }
    }
}
