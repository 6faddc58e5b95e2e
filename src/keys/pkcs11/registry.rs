//! One initialised `Pkcs11` context per module per process.
//!
//! `C_Initialize` may be called once per process and module; SoftHSM2 in
//! particular misbehaves when two threads initialise it at once. Every key
//! source of this crate takes its context from here.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};

use super::error::Pkcs11Error;
use crate::error::Error;

static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();

fn modules() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Pkcs11>> {
    MODULES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// The process-wide, initialised `cryptoki` context of the PKCS#11 module
/// at `module`.
///
/// The module is loaded and `C_Initialize`d (with `CKF_OS_LOCKING_OK`) the
/// first time its (canonical) path is asked for; later calls return the
/// same context. [`Pkcs11Key`](super::Pkcs11Key) uses it too, so code that
/// needs the module for something else (initialising a token, listing
/// slots) must take the context from here: a second `C_Initialize` of the
/// same module in the same process fails or, worse, resets it.
///
/// The context is never finalised by this crate.
///
/// # Errors
/// [`ErrorKind::KeyBackend`](crate::ErrorKind::KeyBackend) with
/// [`Pkcs11Error::ModuleLoad`] when the module cannot be loaded or
/// initialised.
pub fn context(module: impl AsRef<Path>) -> Result<Pkcs11, Error> {
    let module = module.as_ref();
    let load_error = |reason: String| {
        Error::from(Pkcs11Error::ModuleLoad {
            path: module.to_owned(),
            reason,
        })
    };
    let canonical = std::fs::canonicalize(module).map_err(|e| load_error(e.to_string()))?;
    let mut modules = modules();
    if let Some(ctx) = modules.get(&canonical) {
        return Ok(ctx.clone());
    }
    let ctx = Pkcs11::new(&canonical).map_err(|e| load_error(e.to_string()))?;
    initialize(&ctx).map_err(|e| load_error(e.to_string()))?;
    modules.insert(canonical, ctx.clone());
    Ok(ctx)
}

fn initialize(ctx: &Pkcs11) -> Result<(), Pkcs11Error> {
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(())
        | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, Function::Initialize)) => Ok(()),
        Err(e) => Err(Pkcs11Error::from_cryptoki("C_Initialize", e)),
    }
}

/// Initialises `ctx` again after someone finalised it
/// (`CKR_CRYPTOKI_NOT_INITIALIZED`), under the registry's lock so that two
/// recovering key sources never initialise concurrently.
pub(crate) fn reinitialize(ctx: &Pkcs11) -> Result<(), Pkcs11Error> {
    let _modules = modules();
    initialize(ctx)
}
