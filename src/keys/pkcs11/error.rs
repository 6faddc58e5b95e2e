//! The typed cause of every PKCS#11 failure, carried as the
//! [`std::error::Error::source`] of the crate's [`Error`].

use std::path::PathBuf;

use cryptoki::context::Function;
use cryptoki::error::{Error as CkError, RvError};

use crate::algorithm::{Algorithm, KeyType};
use crate::error::{Error, ErrorKind};

/// Why a PKCS#11 key source failed.
///
/// Every error returned by [`Pkcs11Key`](super::Pkcs11Key) and
/// [`Pkcs11KeyBuilder`](super::Pkcs11KeyBuilder) is a crate [`Error`] whose
/// [`std::error::Error::source`] is a `Pkcs11Error`; get it back with
/// [`Pkcs11Error::from_error`] (a `downcast_ref` of the source). The crate
/// error's [`ErrorKind`] is [`Pkcs11Error::kind`] (a table there).
///
/// An RSA key below 2048 bits is refused with [`ErrorKind::WeakKey`] (no
/// `Pkcs11Error` source: the check is the crate's own). Nothing here ever
/// contains the PIN or key material.
///
/// ```
/// use client_assertion::keys::pkcs11::{Pin, Pkcs11Error, Pkcs11Key};
/// use client_assertion::ErrorKind;
///
/// let err = Pkcs11Key::builder("/nonexistent/libpkcs11.so")
///     .token_label("t")
///     .pin(Pin::new("1234"))
///     .key_label("k")
///     .open()
///     .unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::KeyBackend);
/// assert_eq!(err.code(), "key_backend");
/// assert!(matches!(
///     Pkcs11Error::from_error(&err),
///     Some(Pkcs11Error::ModuleLoad { .. })
/// ));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The PKCS#11 module could not be loaded (no such file, or not a
    /// PKCS#11 library), or its `C_Initialize` failed.
    #[error("cannot load PKCS#11 module {}: {reason}", path.display())]
    ModuleLoad {
        /// The module path as given.
        path: PathBuf,
        /// Why it could not be loaded.
        reason: String,
    },
    /// No slot holds an initialised token with this label.
    #[error("no PKCS#11 token labelled {label:?}")]
    TokenNotFound {
        /// The token label looked for.
        label: String,
    },
    /// No slot holds an initialised token with this serial number.
    #[error("no PKCS#11 token with serial number {serial:?}")]
    TokenSerialNotFound {
        /// The serial number looked for.
        serial: String,
    },
    /// Several slots hold a token with this label (or serial number).
    #[error("{count} PKCS#11 tokens are labelled {label:?}; select one by slot")]
    AmbiguousToken {
        /// The token label (or serial number) looked for.
        label: String,
        /// How many tokens carry it.
        count: usize,
    },
    /// The slot does not exist or holds no token.
    #[error("PKCS#11 slot {slot} does not exist or holds no token")]
    SlotNotFound {
        /// The slot id.
        slot: u64,
    },
    /// `C_Login` refused the user PIN (`CKR_PIN_INCORRECT`, `CKR_PIN_INVALID`
    /// or `CKR_PIN_LEN_RANGE`).
    #[error("the token refused the user PIN ({rv})")]
    PinIncorrect {
        /// The `CKR_` return value of `C_Login`.
        rv: String,
    },
    /// The user PIN is locked (`CKR_PIN_LOCKED`) or expired
    /// (`CKR_PIN_EXPIRED`), or the user PIN was never initialised
    /// (`CKR_USER_PIN_NOT_INITIALIZED`).
    #[error("the user PIN cannot be used ({rv})")]
    PinLocked {
        /// The `CKR_` return value of `C_Login`.
        rv: String,
    },
    /// The PIN could not be read from its environment variable or file.
    #[error("cannot read the PIN from {origin}: {reason}")]
    PinUnavailable {
        /// Where the PIN was to come from (`environment variable NAME`,
        /// `file PATH`); never the PIN itself.
        origin: String,
        /// Why it could not be read.
        reason: String,
    },
    /// No private key on the token matches the label and/or id.
    #[error("no private key with {} on the token", describe(label.as_deref(), id.as_deref()))]
    KeyNotFound {
        /// The `CKA_LABEL` looked for.
        label: Option<String>,
        /// The `CKA_ID` looked for.
        id: Option<Vec<u8>>,
    },
    /// The key found again under the label and/or id (after a lost
    /// session, a changed handle, a token that went away) is not the key
    /// opened: its public key differs from the one read at open. The key
    /// source never signs with it.
    #[error("the private key with {} on the token is not the key opened (replaced)", describe(label.as_deref(), id.as_deref()))]
    KeyReplaced {
        /// The `CKA_LABEL` the key was opened by.
        label: Option<String>,
        /// The `CKA_ID` the key was opened by.
        id: Option<Vec<u8>>,
    },
    /// The token returned a signature that does not verify with the public
    /// key read at open, while the key found under the label and/or id is
    /// still that key: the token is faulty. Never returned as a signature.
    #[error("the token returned a {alg} signature that does not verify with the key opened")]
    InvalidSignature {
        /// The algorithm signed with.
        alg: Algorithm,
    },
    /// Several private keys match the label and/or id.
    #[error("{count} private keys with {} on the token; give a CKA_ID too", describe(label.as_deref(), id.as_deref()))]
    AmbiguousKey {
        /// The `CKA_LABEL` looked for.
        label: Option<String>,
        /// The `CKA_ID` looked for.
        id: Option<Vec<u8>>,
        /// How many private keys match.
        count: usize,
    },
    /// Key generation was asked for a label or id that a key on the token
    /// already has.
    #[error("a key with {} already exists on the token", describe(label.as_deref(), id.as_deref()))]
    KeyExists {
        /// The requested `CKA_LABEL`.
        label: Option<String>,
        /// The requested `CKA_ID`.
        id: Option<Vec<u8>>,
    },
    /// The key on the token is of another type than the requested
    /// algorithm needs (e.g. an RSA key asked to sign ES256).
    #[error("the key is {found:?} but {requested} needs a {:?} key", requested.key_type())]
    KeyTypeMismatch {
        /// The algorithm asked for.
        requested: Algorithm,
        /// The type of the key found on the token.
        found: KeyType,
    },
    /// The key on the token cannot be used by this crate (another key type
    /// or curve, `CKA_SIGN` false, `CKA_ALWAYS_AUTHENTICATE` true).
    #[error("unsupported PKCS#11 key: {reason}")]
    UnsupportedKey {
        /// What is not supported.
        reason: &'static str,
    },
    /// Neither a public-key object with the key's id/label nor the private
    /// key's own attributes expose the public key.
    #[error("the public half of the key is not readable on the token")]
    PublicKeyUnavailable,
    /// A test signature made with the private key does not verify with the
    /// public key found on the token.
    #[error("the public key found on the token does not match the private key")]
    PublicKeyMismatch,
    /// The token returned a signature of an unexpected shape.
    #[error("the token returned a malformed {alg} signature")]
    MalformedSignature {
        /// The algorithm signed with.
        alg: Algorithm,
    },
    /// A PKCS#11 function returned an error.
    #[error("{function} returned {rv}")]
    Call {
        /// The function, e.g. `C_Sign`.
        function: String,
        /// The return value, e.g. `CKR_SESSION_HANDLE_INVALID`.
        rv: String,
    },
    /// A PKCS#11 call failed before or after the module was called (a
    /// missing function pointer, a value the wrapper could not convert).
    #[error("{function} failed: {reason}")]
    Library {
        /// The function, e.g. `C_GetAttributeValue`.
        function: String,
        /// What went wrong.
        reason: String,
    },
}

/// Return values that mean the token cannot be reached.
const UNAVAILABLE: [&str; 4] = [
    "CKR_TOKEN_NOT_PRESENT",
    "CKR_DEVICE_REMOVED",
    "CKR_TOKEN_NOT_RECOGNIZED",
    "CKR_SLOT_ID_INVALID",
];

/// Return values that mean the PIN was refused.
const ACCESS_DENIED: [&str; 6] = [
    "CKR_PIN_INCORRECT",
    "CKR_PIN_INVALID",
    "CKR_PIN_LEN_RANGE",
    "CKR_PIN_LOCKED",
    "CKR_PIN_EXPIRED",
    "CKR_USER_PIN_NOT_INITIALIZED",
];

fn describe(label: Option<&str>, id: Option<&[u8]>) -> String {
    let mut out = String::new();
    if let Some(label) = label {
        out.push_str(&format!("CKA_LABEL {label:?}"));
    }
    if let Some(id) = id {
        if !out.is_empty() {
            out.push_str(" and ");
        }
        out.push_str("CKA_ID ");
        out.push_str(&hex(id));
    }
    if out.is_empty() {
        out.push_str("no selector");
    }
    out
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

impl Pkcs11Error {
    /// The `Pkcs11Error` behind a crate [`Error`], if it has one.
    pub fn from_error(err: &Error) -> Option<&Pkcs11Error> {
        std::error::Error::source(err)?.downcast_ref::<Pkcs11Error>()
    }

    /// The `CKR_` return value behind this error, if a PKCS#11 function
    /// returned one.
    pub fn rv(&self) -> Option<&str> {
        match self {
            Self::Call { rv, .. } | Self::PinIncorrect { rv } | Self::PinLocked { rv } => Some(rv),
            _ => None,
        }
    }

    /// The [`ErrorKind`] this error is reported with.
    ///
    /// | `Pkcs11Error` | [`ErrorKind`] (code) |
    /// | --- | --- |
    /// | [`PinIncorrect`](Self::PinIncorrect) (`CKR_PIN_INCORRECT`, `CKR_PIN_INVALID`, `CKR_PIN_LEN_RANGE`), [`PinLocked`](Self::PinLocked) (`CKR_PIN_LOCKED`, `CKR_PIN_EXPIRED`, `CKR_USER_PIN_NOT_INITIALIZED`); [`Call`](Self::Call) returning any of these | [`ErrorKind::KeyAccessDenied`] (`key_access_denied`) |
    /// | [`TokenNotFound`](Self::TokenNotFound), [`TokenSerialNotFound`](Self::TokenSerialNotFound), [`SlotNotFound`](Self::SlotNotFound); [`Call`](Self::Call) returning `CKR_TOKEN_NOT_PRESENT`, `CKR_DEVICE_REMOVED`, `CKR_TOKEN_NOT_RECOGNIZED` or `CKR_SLOT_ID_INVALID` | [`ErrorKind::KeyUnavailable`] (`key_unavailable`) |
    /// | [`KeyNotFound`](Self::KeyNotFound) | [`ErrorKind::KeyNotFound`] (`key_not_found`) |
    /// | [`KeyReplaced`](Self::KeyReplaced) | [`ErrorKind::KeyReplaced`] (`key_replaced`) |
    /// | [`KeyTypeMismatch`](Self::KeyTypeMismatch) | [`ErrorKind::AlgorithmNotAllowed`] |
    /// | [`UnsupportedKey`](Self::UnsupportedKey) | [`ErrorKind::UnsupportedKey`] |
    /// | [`PinUnavailable`](Self::PinUnavailable) | [`ErrorKind::InvalidConfig`] |
    /// | every other variant: [`ModuleLoad`](Self::ModuleLoad), [`AmbiguousToken`](Self::AmbiguousToken), [`AmbiguousKey`](Self::AmbiguousKey), [`KeyExists`](Self::KeyExists), [`PublicKeyUnavailable`](Self::PublicKeyUnavailable), [`PublicKeyMismatch`](Self::PublicKeyMismatch), [`MalformedSignature`](Self::MalformedSignature), [`InvalidSignature`](Self::InvalidSignature), [`Library`](Self::Library), and [`Call`](Self::Call) with any other `CKR_` value (`CKR_GENERAL_ERROR`, `CKR_DEVICE_ERROR`, `CKR_DEVICE_MEMORY`, ...) | [`ErrorKind::KeyBackend`] (`key_backend`) |
    ///
    /// `KeyAccessDenied` is not retried at once: a key source never
    /// sends a PIN the token refused as wrong ([`PinIncorrect`](Self::PinIncorrect))
    /// again (a wrong PIN retried locks the token), and tries a locked,
    /// expired or uninitialised one ([`PinLocked`](Self::PinLocked)) again
    /// only once per back-off delay, after a module reset (trying costs no
    /// try, and an administrator may unlock it); `KeyUnavailable` may heal when the token returns
    /// (the key source looks for it again, see [Recovery](super#recovery));
    /// `KeyReplaced` heals only if the original key comes back under its
    /// label.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::PinIncorrect { .. } | Self::PinLocked { .. } => ErrorKind::KeyAccessDenied,
            Self::TokenNotFound { .. }
            | Self::TokenSerialNotFound { .. }
            | Self::SlotNotFound { .. } => ErrorKind::KeyUnavailable,
            Self::Call { rv, .. } if UNAVAILABLE.contains(&rv.as_str()) => {
                ErrorKind::KeyUnavailable
            }
            Self::Call { rv, .. } if ACCESS_DENIED.contains(&rv.as_str()) => {
                ErrorKind::KeyAccessDenied
            }
            Self::KeyNotFound { .. } => ErrorKind::KeyNotFound,
            Self::KeyReplaced { .. } => ErrorKind::KeyReplaced,
            Self::KeyTypeMismatch { .. } => ErrorKind::AlgorithmNotAllowed,
            Self::UnsupportedKey { .. } => ErrorKind::UnsupportedKey,
            Self::PinUnavailable { .. } => ErrorKind::InvalidConfig,
            _ => ErrorKind::KeyBackend,
        }
    }

    /// From a `cryptoki` error of a call to `function` (used when the
    /// error does not name the function itself).
    pub(crate) fn from_cryptoki(function: &'static str, err: CkError) -> Self {
        match err {
            CkError::Pkcs11(rv, f) => Self::Call {
                function: function_name(f),
                rv: rv_name(rv),
            },
            other => Self::Library {
                function: function.to_owned(),
                reason: other.to_string(),
            },
        }
    }
}

impl From<Pkcs11Error> for Error {
    fn from(err: Pkcs11Error) -> Self {
        Error::with_source(err.kind(), err)
    }
}

/// `C_SignInit` for [`Function::SignInit`].
pub(crate) fn function_name(f: Function) -> String {
    format!("C_{f:?}")
}

/// `CKR_SESSION_HANDLE_INVALID` for [`RvError::SessionHandleInvalid`].
pub(crate) fn rv_name(rv: RvError) -> String {
    match rv {
        RvError::VendorDefined(code) => format!("CKR_VENDOR_DEFINED+{code:#x}"),
        RvError::UnknownErrorCode(code) => format!("CKR_{code:#x}"),
        other => {
            let camel = format!("{other:?}");
            let mut out = String::with_capacity(camel.len() + 8);
            out.push_str("CKR");
            for c in camel.chars() {
                if c.is_ascii_uppercase() {
                    out.push('_');
                }
                out.push(c.to_ascii_uppercase());
            }
            out
        }
    }
}

/// A shorthand: a crate error from a `cryptoki` error of `function`.
pub(crate) fn ck(function: &'static str) -> impl FnOnce(CkError) -> Error {
    move |e| Pkcs11Error::from_cryptoki(function, e).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_specification() {
        assert_eq!(
            rv_name(RvError::SessionHandleInvalid),
            "CKR_SESSION_HANDLE_INVALID"
        );
        assert_eq!(
            rv_name(RvError::CryptokiNotInitialized),
            "CKR_CRYPTOKI_NOT_INITIALIZED"
        );
        assert_eq!(rv_name(RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(rv_name(RvError::UnknownErrorCode(0x1234)), "CKR_0x1234");
        assert_eq!(function_name(Function::SignInit), "C_SignInit");
        assert_eq!(function_name(Function::InitPIN), "C_InitPIN");
        let e = Pkcs11Error::from_cryptoki(
            "C_Sign",
            CkError::Pkcs11(RvError::UserNotLoggedIn, Function::Sign),
        );
        assert_eq!(e.to_string(), "C_Sign returned CKR_USER_NOT_LOGGED_IN");
        assert_eq!(e.rv(), Some("CKR_USER_NOT_LOGGED_IN"));
        let err: Error = e.clone().into();
        assert_eq!(err.kind(), ErrorKind::KeyBackend);
        assert_eq!(Pkcs11Error::from_error(&err), Some(&e));
    }

    #[test]
    fn kinds_follow_the_table() {
        let call =
            |rv: RvError| Pkcs11Error::from_cryptoki("C_Sign", CkError::Pkcs11(rv, Function::Sign));
        for (e, kind) in [
            (call(RvError::GeneralError), ErrorKind::KeyBackend),
            (call(RvError::DeviceError), ErrorKind::KeyBackend),
            (call(RvError::TokenNotPresent), ErrorKind::KeyUnavailable),
            (call(RvError::DeviceRemoved), ErrorKind::KeyUnavailable),
            (call(RvError::SlotIdInvalid), ErrorKind::KeyUnavailable),
            (call(RvError::PinExpired), ErrorKind::KeyAccessDenied),
            (
                Pkcs11Error::PinIncorrect {
                    rv: "CKR_PIN_INCORRECT".into(),
                },
                ErrorKind::KeyAccessDenied,
            ),
            (
                Pkcs11Error::PinLocked {
                    rv: "CKR_PIN_LOCKED".into(),
                },
                ErrorKind::KeyAccessDenied,
            ),
            (
                Pkcs11Error::TokenNotFound { label: "t".into() },
                ErrorKind::KeyUnavailable,
            ),
            (
                Pkcs11Error::TokenSerialNotFound { serial: "1".into() },
                ErrorKind::KeyUnavailable,
            ),
            (
                Pkcs11Error::SlotNotFound { slot: 1 },
                ErrorKind::KeyUnavailable,
            ),
            (
                Pkcs11Error::KeyNotFound {
                    label: None,
                    id: None,
                },
                ErrorKind::KeyNotFound,
            ),
            (
                Pkcs11Error::KeyReplaced {
                    label: None,
                    id: None,
                },
                ErrorKind::KeyReplaced,
            ),
            (
                Pkcs11Error::InvalidSignature {
                    alg: Algorithm::Es256,
                },
                ErrorKind::KeyBackend,
            ),
        ] {
            assert_eq!(e.kind(), kind, "{e}");
            assert_eq!(Error::from(e).kind(), kind);
        }
    }
}
