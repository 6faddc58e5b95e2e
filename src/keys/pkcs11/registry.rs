//! One initialised `Pkcs11` context per module per process, behind a gate.
//!
//! `C_Initialize` may be called once per process and module; SoftHSM2 in
//! particular misbehaves when two threads initialise it at once. Every key
//! source of this crate takes its [`Module`] from here.
//!
//! Every call a key source makes into the module holds the module's gate
//! for reading ([`Module::enter`]); a [`Module::reset`] (`C_Finalize` then
//! `C_Initialize`, so that the module sees tokens that appeared since)
//! holds it for writing, so no key source is inside the module while it is
//! reset. A reset bumps the module's epoch: every session, slot id and
//! object handle obtained in an older epoch is stale, and each key source
//! notices that on its next call and opens, logs in and looks up again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, RwLockReadGuard};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Function, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};

use super::error::Pkcs11Error;
use crate::error::Error;

/// A loaded, initialised module and the gate around calls into it.
pub(crate) struct Module {
    ctx: Pkcs11,
    gate: RwLock<()>,
    /// Bumped by every reset (under the write gate).
    epoch: AtomicU64,
}

/// Held while a key source calls into the module: no reset meanwhile.
pub(crate) struct Entered<'a> {
    _read: RwLockReadGuard<'a, ()>,
    /// The epoch the calls are made in.
    pub(crate) epoch: u64,
}

impl Module {
    pub(crate) fn ctx(&self) -> &Pkcs11 {
        &self.ctx
    }

    /// Enters the module for a series of calls. Never call it twice in one
    /// thread (a waiting reset would deadlock the second read).
    pub(crate) fn enter(&self) -> Entered<'_> {
        let read = self.gate.read().unwrap_or_else(PoisonError::into_inner);
        Entered {
            _read: read,
            epoch: self.epoch.load(Ordering::Acquire),
        }
    }

    /// The current epoch (bumped by each reset).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// `C_Finalize` and `C_Initialize` again, unless another reset happened
    /// since the caller saw epoch `seen` (then that one serves). Waits for
    /// every call in progress to leave the module. Must not be called while
    /// [`Module::enter`]ed.
    pub(crate) fn reset(&self, seen: u64) -> Result<(), Pkcs11Error> {
        let _write = self.gate.write().unwrap_or_else(PoisonError::into_inner);
        if self.epoch.load(Ordering::Acquire) != seen {
            return Ok(());
        }
        // Every session of the process on this module ends here.
        self.epoch.fetch_add(1, Ordering::AcqRel);
        match self.ctx.clone().finalize() {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiNotInitialized, _)) => {}
            Err(e) => return Err(Pkcs11Error::from_cryptoki("C_Finalize", e)),
        }
        initialize(&self.ctx).map(drop)
    }

    /// Initialises the module again after someone finalised it behind the
    /// crate's back (`CKR_CRYPTOKI_NOT_INITIALIZED`), under the registry's
    /// lock so that two recovering key sources never initialise
    /// concurrently. The epoch is bumped: everything from before is stale.
    pub(crate) fn reinitialize(&self) -> Result<(), Pkcs11Error> {
        let _modules = modules();
        if initialize(&self.ctx)? {
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }
}

static MODULES: OnceLock<Mutex<HashMap<PathBuf, Arc<Module>>>> = OnceLock::new();

fn modules() -> std::sync::MutexGuard<'static, HashMap<PathBuf, Arc<Module>>> {
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
/// The crate finalises and initialises the context again only to recover a
/// token that disappeared (see [Recovery](super#recovery)); calls made
/// through this context directly are not held off during such a reset and
/// may fail with `CKR_CRYPTOKI_NOT_INITIALIZED` or a stale handle.
///
/// # Errors
/// [`ErrorKind::KeyBackend`](crate::ErrorKind::KeyBackend) with
/// [`Pkcs11Error::ModuleLoad`] when the module cannot be loaded or
/// initialised.
pub fn context(module: impl AsRef<Path>) -> Result<Pkcs11, Error> {
    Ok(shared(module.as_ref())?.ctx.clone())
}

/// The shared [`Module`] at `module`, loaded and initialised on first use.
pub(crate) fn shared(module: &Path) -> Result<Arc<Module>, Error> {
    let load_error = |reason: String| {
        Error::from(Pkcs11Error::ModuleLoad {
            path: module.to_owned(),
            reason,
        })
    };
    let canonical = std::fs::canonicalize(module).map_err(|e| load_error(e.to_string()))?;
    let mut modules = modules();
    if let Some(m) = modules.get(&canonical) {
        return Ok(m.clone());
    }
    let ctx = Pkcs11::new(&canonical).map_err(|e| load_error(e.to_string()))?;
    initialize(&ctx).map_err(|e| load_error(e.to_string()))?;
    let m = Arc::new(Module {
        ctx,
        gate: RwLock::new(()),
        epoch: AtomicU64::new(0),
    });
    modules.insert(canonical, m.clone());
    Ok(m)
}

/// `C_Initialize`; `true` if this call initialised the module, `false` if
/// it already was.
fn initialize(ctx: &Pkcs11) -> Result<bool, Pkcs11Error> {
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => Ok(true),
        Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, Function::Initialize)) => {
            Ok(false)
        }
        Err(e) => Err(Pkcs11Error::from_cryptoki("C_Initialize", e)),
    }
}
