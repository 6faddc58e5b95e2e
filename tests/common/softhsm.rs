//! A throw-away SoftHSM2 token for one PKCS#11 test binary: its own
//! directory under `CARGO_TARGET_TMPDIR` and its own `SOFTHSM2_CONF` (set
//! before the module is first initialised in the process), tests run one
//! at a time (SoftHSM2 state is process-wide), the directory removed when
//! the last test is done. Included with `#[path = "common/softhsm.rs"]` by
//! `tests/pkcs11.rs`, `tests/pkcs11_faults.rs` and `benches/pkcs11.rs`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use client_assertion::keys::pkcs11;
use client_assertion::keys::pkcs11::cryptoki::context::Pkcs11;
use client_assertion::keys::pkcs11::cryptoki::session::UserType;
use client_assertion::keys::pkcs11::cryptoki::slot::Slot;
use client_assertion::keys::pkcs11::cryptoki::types::AuthPin;

/// Debian's SoftHSM2 module (`scripts/softhsm.sh` installs it).
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// The user PIN of every test token.
pub const USER_PIN: &str = "fedcba123456";
/// The security officer PIN of every test token.
pub const SO_PIN: &str = "abcdef654321";

/// A token made for this process.
pub struct Token {
    /// Everything of this token: `tokens/` and `softhsm2.conf`.
    pub dir: PathBuf,
    /// The `SOFTHSM2_CONF` file (for a child process).
    pub conf: PathBuf,
}

/// The token of one test binary, made by its first test.
pub struct Suite {
    /// Directory name prefix: `<prefix>-<pid>`.
    prefix: &'static str,
    label: &'static str,
    /// The number of tests that call [`Suite::enter`]: the last one to
    /// finish removes the directory.
    tests: usize,
    token: OnceLock<Token>,
    serial: Mutex<()>,
    finished: AtomicUsize,
}

/// Held for the length of one test: serialises the tests and cleans up
/// after the last one.
pub struct Guard {
    suite: &'static Suite,
    _serial: MutexGuard<'static, ()>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.suite.finished.fetch_add(1, Ordering::SeqCst) + 1 == self.suite.tests {
            if let Some(token) = self.suite.token.get() {
                let _ = std::fs::remove_dir_all(&token.dir);
            }
        }
    }
}

impl Suite {
    /// A suite whose token is labelled `label`, in `<prefix>-<pid>`, for
    /// `tests` tests.
    pub const fn new(prefix: &'static str, label: &'static str, tests: usize) -> Self {
        Self {
            prefix,
            label,
            tests,
            token: OnceLock::new(),
            serial: Mutex::new(()),
            finished: AtomicUsize::new(0),
        }
    }

    /// Waits for the previous test, makes the token on first use.
    pub fn enter(&'static self) -> (Guard, &'static Token) {
        let serial = self.serial.lock().unwrap_or_else(PoisonError::into_inner);
        let token = self
            .token
            .get_or_init(|| init_token(self.prefix, self.label));
        (
            Guard {
                suite: self,
                _serial: serial,
            },
            token,
        )
    }
}

/// Token directories of earlier runs whose process is gone.
fn sweep_stale(root: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|n| n.strip_prefix('-'))
        else {
            continue;
        };
        if pid.bytes().all(|b| b.is_ascii_digit()) && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn init_token(prefix: &str, label: &str) -> Token {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    sweep_stale(&root, prefix);
    let dir = root.join(format!("{prefix}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let conf = make_token(&dir, label);
    Token { dir, conf }
}

/// Makes a token labelled `label` (PINs [`SO_PIN`], [`USER_PIN`]) in a
/// SoftHSM2 configuration of its own under `dir`, and points
/// `SOFTHSM2_CONF` at it; must run before the module is first initialised
/// in this process. Returns the configuration file.
pub fn make_token(dir: &Path, label: &str) -> PathBuf {
    assert!(
        Path::new(MODULE).exists(),
        "the SoftHSM2 module {MODULE} is missing: install it with scripts/softhsm.sh \
         (apt-get install softhsm2); the PKCS#11 tests do not skip"
    );
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
            tokens.display()
        ),
    )
    .unwrap();
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let ctx = pkcs11::context(MODULE).expect("SoftHSM2 loads");
    let slot = init_free_token(&ctx, label);
    init_user_pin(&ctx, slot);
    conf
}

/// Initialises SoftHSM2's free slot as a token labelled `label` with the
/// SO PIN [`SO_PIN`] and no user PIN yet; returns its slot.
pub fn init_free_token(ctx: &Pkcs11, label: &str) -> Slot {
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| !ctx.get_token_info(*s).unwrap().token_initialized())
        .expect("SoftHSM2 offers a free slot");
    ctx.init_token(slot, &AuthPin::from(SO_PIN), label).unwrap();
    slot
}

/// Sets the user PIN [`USER_PIN`] of the token in `slot`, as its SO.
pub fn init_user_pin(ctx: &Pkcs11, slot: Slot) {
    let session = ctx.open_rw_session(slot).unwrap();
    session
        .login(UserType::So, Some(&AuthPin::from(SO_PIN)))
        .unwrap();
    session.init_pin(&AuthPin::from(USER_PIN)).unwrap();
}
