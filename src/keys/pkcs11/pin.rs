//! The user PIN: a secret, zeroized on drop, never printed.

use std::fmt;
use std::path::Path;

use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

use super::error::Pkcs11Error;
use crate::error::Error;

/// A PKCS#11 user PIN.
///
/// Held in a [`cryptoki::types::AuthPin`] (`secrecy::SecretString`), which
/// zeroizes the PIN when dropped; intermediate buffers are zeroized too.
/// `Debug` prints `Pin([redacted])`, and there is no `Display`. Read it from
/// an environment variable or a file ([`Pin::from_env`],
/// [`Pin::from_file`]), never from the command line, where every user of
/// the machine can see it.
///
/// ```
/// use client_assertion::keys::pkcs11::Pin;
///
/// let pin = Pin::new("123456");
/// assert_eq!(format!("{pin:?}"), "Pin([redacted])");
/// ```
pub struct Pin(AuthPin);

impl Pin {
    /// A PIN from a string, which is zeroized once copied.
    pub fn new(pin: impl Into<String>) -> Self {
        let pin = Zeroizing::new(pin.into());
        Self(AuthPin::from(pin.as_str()))
    }

    /// Reads the PIN from the environment variable `var`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) with
    /// [`Pkcs11Error::PinUnavailable`] when the variable is unset, empty or
    /// not Unicode.
    pub fn from_env(var: &str) -> Result<Self, Error> {
        let unavailable = |reason: &str| {
            Error::from(Pkcs11Error::PinUnavailable {
                origin: format!("environment variable {var}"),
                reason: reason.to_owned(),
            })
        };
        let value = Zeroizing::new(std::env::var(var).map_err(|e| match e {
            std::env::VarError::NotPresent => unavailable("not set"),
            std::env::VarError::NotUnicode(_) => unavailable("not valid Unicode"),
        })?);
        if value.is_empty() {
            return Err(unavailable("empty"));
        }
        Ok(Self(AuthPin::from(value.as_str())))
    }

    /// Reads the PIN from a file (its first line; a trailing `\n` or
    /// `\r\n` is not part of the PIN).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`](crate::ErrorKind::InvalidConfig) with
    /// [`Pkcs11Error::PinUnavailable`] when the file cannot be read, is
    /// empty or is not UTF-8.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let unavailable = |reason: String| {
            Error::from(Pkcs11Error::PinUnavailable {
                origin: format!("file {}", path.display()),
                reason,
            })
        };
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| unavailable(e.to_string()))?);
        let text = std::str::from_utf8(&bytes).map_err(|_| unavailable("not UTF-8".into()))?;
        let line = text.split(['\n', '\r']).next().unwrap_or_default();
        if line.is_empty() {
            return Err(unavailable("empty".into()));
        }
        Ok(Self(AuthPin::from(line)))
    }

    pub(crate) fn auth(&self) -> &AuthPin {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin([redacted])")
    }
}
