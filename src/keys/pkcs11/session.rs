//! Login, finding the token's slot, and which failures can be repaired
//! (the pool that uses them is in `pool.rs`).

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::{Slot, TokenInfo};

use super::error::Pkcs11Error;
use super::pin::Pin;
use super::public::FindError;
use crate::error::Error;

/// How many times a failed PKCS#11 call is repaired and retried (so a
/// signature makes at most `MAX_RETRIES + 1` attempts).
pub const MAX_RETRIES: usize = 2;

/// How the token is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokenSelector {
    Label(String),
    Serial(String),
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
pub(crate) struct Needs {
    /// `C_Initialize` again (someone finalised the module).
    pub(crate) init: bool,
    /// Find the token's slot again (the token was removed and may be back
    /// in another slot).
    pub(crate) slot: bool,
    /// The session is gone: forget it and open a new one.
    pub(crate) lost: bool,
    /// Make sure the user is logged in.
    pub(crate) login: bool,
    /// Find the key object again (its handle may have changed).
    pub(crate) key: bool,
}

impl Needs {
    /// Everything but `C_Initialize`: a new session on a slot and key
    /// looked up again.
    pub(crate) fn all() -> Self {
        Self {
            init: false,
            slot: true,
            lost: true,
            login: true,
            key: true,
        }
    }

    /// The repair for a recoverable error, `None` for every other error.
    pub(crate) fn after(e: &CkError) -> Option<Self> {
        let CkError::Pkcs11(rv, _) = e else {
            return None;
        };
        // A lost session may mean a reset module or token, which may have
        // renumbered its slots: the slot is looked up again too.
        let all = Self::all();
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
        TokenSelector::Label(wanted) => by_token_info(
            ctx,
            wanted,
            |t| t.label(),
            |label| Pkcs11Error::TokenNotFound { label },
        ),
        TokenSelector::Serial(wanted) => by_token_info(
            ctx,
            wanted,
            |t| t.serial_number(),
            |serial| Pkcs11Error::TokenSerialNotFound { serial },
        ),
    }
}

/// The one slot whose token's label (or serial) `field` is `wanted`.
fn by_token_info(
    ctx: &Pkcs11,
    wanted: &str,
    field: impl Fn(&TokenInfo) -> &str,
    not_found: impl FnOnce(String) -> Pkcs11Error,
) -> Result<Slot, Failure> {
    let slots = ctx.get_slots_with_token().map_err(call("C_GetSlotList"))?;
    let mut found = Vec::new();
    for slot in slots {
        // A token removed while we list, or one that does not answer (SoftHSM2
        // gives CKR_GENERAL_ERROR for a token whose directory went away):
        // not found, so that recovery resets the module and looks again.
        if let Ok(info) = ctx.get_token_info(slot) {
            if info.token_initialized() && field(&info).trim_end() == wanted {
                found.push(slot);
            }
        }
    }
    match found.as_slice() {
        [slot] => Ok(*slot),
        [] => Err(not_found(wanted.to_owned()).into()),
        many => Err(Pkcs11Error::AmbiguousToken {
            label: wanted.to_owned(),
            count: many.len(),
        }
        .into()),
    }
}
