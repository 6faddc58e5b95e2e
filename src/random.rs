//! Randomness from the operating system's CSPRNG (`getrandom`), for `jti`s,
//! generated keys, secrets and PKCS#11 key ids: a failing OS generator is a
//! typed error, never a panic.

use crate::error::{Error, ErrorKind};

/// The error for a failing OS random generator.
pub(crate) fn failed<E>(_: E) -> Error {
    Error::detail(ErrorKind::KeyBackend, "the OS random generator failed")
}

/// Fills `buf` from the OS CSPRNG.
///
/// # Errors
/// [`ErrorKind::KeyBackend`] if the OS generator fails.
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buf).map_err(failed)
}
