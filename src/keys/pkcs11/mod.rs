//! PKCS#11 key source (feature `pkcs11`): signs with a key that never
//! leaves the token (an HSM, a smart card, SoftHSM2).
//!
//! [`Pkcs11Key`] opens a PKCS#11 module by path, finds the token by label
//! (or serial number, or slot), logs in with the user [`Pin`], finds the private key by
//! `CKA_LABEL` and/or `CKA_ID`, and reads its public half to build the
//! public JWK and the RFC 7638 `kid`. It implements [`KeySource`], so an
//! [`AssertionSigner`](crate::AssertionSigner) uses it like an in-memory
//! key.
//!
//! | key on the token | algorithm | mechanism |
//! | --- | --- | --- |
//! | EC P-256 | ES256 | `CKM_ECDSA` over a SHA-256 digest made in software; raw `r‖s` |
//! | EC P-384 | ES384 | `CKM_ECDSA` over a SHA-384 digest made in software; raw `r‖s` |
//! | Ed25519 (`CKK_EC_EDWARDS`) | EdDSA | `CKM_EDDSA` |
//! | RSA ≥ 2048 bits | RS256 (default) | `CKM_SHA256_RSA_PKCS` |
//! | RSA ≥ 2048 bits | PS256 | `CKM_SHA256_RSA_PKCS_PSS`, MGF1-SHA-256, 32-byte salt |
//!
//! When a key is opened it signs a test message with each of its
//! algorithms and checks the signature against the public key it read, so
//! a public-key object that does not belong to the private key, or a
//! token that lacks a mechanism, is reported at once
//! ([`Pkcs11Error::PublicKeyMismatch`], or the failing call).
//!
//! # The key opened is the key that signs
//!
//! The public key read at open is pinned for the life of the key source
//! (it is also the published JWK and the `kid`). Two checks hold it to
//! that key:
//!
//! - Whenever the key is looked up again by its label and/or id (after a
//!   lost session, a changed object handle, a module reset, a token that
//!   came back), the public key of the object found is compared with the
//!   pinned one. Another key under the same label (another process deleted
//!   the key pair and generated a new one) is
//!   [`ErrorKind::KeyReplaced`] ([`Pkcs11Error::KeyReplaced`]); its handle is
//!   never used, and every later signature is refused the same way until
//!   the original key is back under its label. Open a new key source (and
//!   publish its JWK) to move to the new key.
//! - Every signature the token returns is verified with the pinned public
//!   key (parsed once at open; AWS-LC when the `aws-lc-rs` feature is on,
//!   else RustCrypto) before it is returned. A signature that does not
//!   verify is never returned: the key is looked up again, and the error is
//!   [`ErrorKind::KeyReplaced`] if it is another key, else
//!   [`Pkcs11Error::InvalidSignature`] ([`ErrorKind::KeyBackend`]). On
//!   SoftHSM2 an ES256 check costs about a third of the signature's time;
//!   on a hardware or network HSM it is small next to the signature.
//!
//! # Setup (SoftHSM2)
//!
//! ```text
//! apt-get install softhsm2
//! softhsm2-util --init-token --free --label client-assertion --so-pin 5678 --pin 1234
//! export PKCS11_PIN=1234
//! ```
//!
//! ```no_run
//! use std::sync::Arc;
//! use client_assertion::keys::pkcs11::{Pin, Pkcs11Key};
//! use client_assertion::{AssertionSigner, jwk_set, KeySource, KeyType};
//!
//! let module = "/usr/lib/softhsm/libsofthsm2.so";
//! // Once: generate a non-extractable key on the token.
//! # let _ =
//! Pkcs11Key::builder(module)
//!     .token_label("client-assertion")
//!     .pin(Pin::from_env("PKCS11_PIN")?)
//!     .key_label("client-key")
//!     .generate(KeyType::P256)?;
//!
//! // At start-up: open it.
//! let key = Arc::new(
//!     Pkcs11Key::builder(module)
//!         .token_label("client-assertion")
//!         .pin(Pin::from_env("PKCS11_PIN")?)
//!         .key_label("client-key")
//!         .open()?,
//! );
//! println!("{}", jwk_set([&*key]).to_json_pretty());
//! let signer = AssertionSigner::builder(key, "my-client", "https://as.example.com").build()?;
//! let assertion = signer.sign()?;
//! # let _ = assertion;
//! # Ok::<(), client_assertion::Error>(())
//! ```
//!
//! The example `pkcs11` (`cargo run --features pkcs11 --example pkcs11`)
//! does the whole setup from the command line.
//!
//! # The module and `C_Initialize`
//!
//! A module is loaded and initialised once per process and path
//! ([`context`]); every key source on it shares that context. Use
//! [`context`] for anything else you do with the module in the same
//! process.
//!
//! Every key source calls into a module through a gate shared by all key
//! sources on that module (a read lock). Recovering a token (below) may
//! **reset** the module: under the gate's write lock, so while no key source
//! is inside the module, it calls `C_Finalize` and `C_Initialize`. A reset
//! ends every session of the process on that module and logs the process
//! out of every token: every other key source on the module finds its
//! sessions and handles stale on its next call and opens, logs in and
//! looks up (and checks) its key again, transparently, with no error.
//! Sessions you opened yourself through [`context`] are ended too, and
//! calls you make through it are not held off during a reset.
//!
//! # Threads and sessions
//!
//! A PKCS#11 session runs one operation at a time, so the key source keeps
//! a pool of sessions: each signature checks out an idle session, or opens
//! a new one while fewer than [`Pkcs11KeyBuilder::max_sessions`] (default
//! [`DEFAULT_MAX_SESSIONS`]) are open, or waits for one. Any number of
//! threads may sign at once.
//!
//! A signature is a blocking call into the module (microseconds on
//! SoftHSM2, milliseconds on a network HSM). [`KeySource::sign_async`](crate::keys::AsyncKeySource::sign_async)
//! keeps its default, which makes that call in place; in async code, sign
//! on a blocking thread (e.g. `tokio::task::spawn_blocking`) when the HSM
//! is slow.
//!
//! # Recovery
//!
//! When a call fails because the session is gone
//! (`CKR_SESSION_HANDLE_INVALID`, `CKR_SESSION_CLOSED`), the token was
//! removed or reset (`CKR_TOKEN_NOT_PRESENT`, `CKR_DEVICE_REMOVED`,
//! `CKR_DEVICE_ERROR`, `CKR_TOKEN_NOT_RECOGNIZED`, `CKR_SLOT_ID_INVALID`),
//! the module was finalised (`CKR_CRYPTOKI_NOT_INITIALIZED`), the user was
//! logged out (`CKR_USER_NOT_LOGGED_IN`) or the key handle changed
//! (`CKR_OBJECT_HANDLE_INVALID`, `CKR_KEY_HANDLE_INVALID`), the key source
//! repairs what is needed (initialises the module again, finds the token's
//! slot again by label or serial, opens a new session, logs in again, finds
//! the key again and checks it is the key opened) and retries, at most
//! [`MAX_RETRIES`] times.
//!
//! When the token is still not there ([`ErrorKind::KeyUnavailable`]), no
//! longer shows the key ([`ErrorKind::KeyNotFound`]), or holds the user PIN
//! back (see [The PIN](self#the-pin)), the module may simply
//! not have noticed a token that came back, or still hold what it read of
//! the token before: many modules, SoftHSM2 among them, see a new or
//! restored token only after `C_Initialize`. The key
//! source then resets the module (see above; one reset serves every key
//! source that saw the same failure) and tries once more. If that fails
//! too, it backs off: for [`DEFAULT_BACKOFF_FIRST`] every signature fails
//! at once with the same error, without calling the module; then the next
//! signature tries again (with a reset), and each failure doubles the
//! delay up to [`DEFAULT_BACKOFF_MAX`]
//! ([`Pkcs11KeyBuilder::reconnect_backoff`] changes both). Nothing sleeps:
//! the delay is compared with the clock when a signature is asked for. When
//! the token comes back with the same key, signing resumes without a
//! restart, within one back-off delay. A token selected by
//! [`slot`](Pkcs11KeyBuilder::slot) is only looked for in that slot.
//!
//! So while a token is away, the key sources on its module reset the
//! module at most once per back-off delay each; the other key sources on
//! the module pay one re-open per reset.
//!
//! Every other failure is an [`Error`] whose source is a [`Pkcs11Error`]
//! naming the PKCS#11 function and its `CKR_` return value, with the
//! [`ErrorKind`] given in [`Pkcs11Error::kind`]. Nothing panics.
//!
//! Idle sessions opened before a session was found lost are presumed lost
//! with it and are forgotten without `C_CloseSession`: after a module reset
//! their handle numbers may already name other, fresh sessions.
//!
//! # The PIN
//!
//! [`Pin`] zeroizes the PIN on drop and never prints it. PKCS#11 logs a
//! whole application in or out of a token, not one session: while another
//! key source of the same process is logged in to the token, `C_Login`
//! reports `CKR_USER_ALREADY_LOGGED_IN` without checking the PIN, and this
//! key source proceeds.
//!
//! A PIN the token refuses as wrong (`CKR_PIN_INCORRECT`,
//! `CKR_PIN_INVALID`, `CKR_PIN_LEN_RANGE`) is never sent again by this key
//! source: tokens lock a PIN after a few wrong tries, for every
//! application. Every later signature fails at once with the same
//! `key_access_denied` until a key source is opened with the right PIN.
//! A PIN the token holds back (`CKR_PIN_LOCKED`, `CKR_PIN_EXPIRED`,
//! `CKR_USER_PIN_NOT_INITIALIZED`) is a state of the token, not a verdict
//! on the PIN, and trying again costs no try: the key source answers with
//! the same `key_access_denied` for one back-off delay, then resets the
//! module and logs in again, as for a token that went away (see
//! [Recovery](self#recovery)), so a PIN unlocked by the security officer
//! is taken up without a restart. (SoftHSM2 reads the PINs when the module
//! is initialised, and a token file that another process is rewriting at
//! that moment reads as a token without a user PIN:
//! `CKR_USER_PIN_NOT_INITIALIZED` until the next reset.)
//!
//! # Errors
//!
//! See [`Pkcs11Error`] for the typed causes (wrong PIN, missing token,
//! missing key, replaced key, unloadable module, key type not matching the
//! algorithm, ...) and [`Pkcs11Error::kind`] for the [`ErrorKind`] each is
//! reported with: a wrong, locked or expired PIN is `key_access_denied`, a
//! missing token `key_unavailable`, a missing key `key_not_found`, a
//! replaced key `key_replaced`, and the rest (`CKR_GENERAL_ERROR`, ...)
//! `key_backend`.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use sha2::{Digest, Sha256, Sha384};

use crate::algorithm::{Algorithm, KeyType};
use crate::backend::{Backend, PublicParams, VerifyingKey};
use crate::error::{Error, ErrorKind};
use crate::keys::jwk::PublicJwk;
use crate::keys::parse::MIN_RSA_BITS;
use crate::keys::{KeyMetadata, KeySource};

/// The `cryptoki` crate this module is built on, re-exported on purpose.
///
/// This is the one foreign crate in the public API, for a written reason:
/// PKCS#11 allows one `C_Initialize` per module and process, so code that
/// also provisions the token (creating keys, listing slots) must use the
/// same initialised module as the key source ([`context`] returns it, a
/// `cryptoki::context::Pkcs11`), and must name that type from the same
/// `cryptoki` version this crate links. A `cryptoki` major upgrade is
/// therefore a breaking change of this crate, recorded in the CHANGELOG.
pub use cryptoki;

mod error;
mod generate;
mod outage;
mod pin;
mod pool;
mod public;
mod registry;
mod session;

pub use error::Pkcs11Error;
pub use outage::{DEFAULT_BACKOFF_FIRST, DEFAULT_BACKOFF_MAX};
pub use pin::Pin;
pub use registry::context;
pub use session::MAX_RETRIES;

use error::hex;
use outage::Backoff;
use pool::{Opened, Shared, Target};
use session::{call, ensure_logged_in, resolve_slot, Failure, TokenSelector};

/// The default bound on the sessions a [`Pkcs11Key`] opens.
pub const DEFAULT_MAX_SESSIONS: usize = 8;

/// The largest RSA key [`Pkcs11KeyBuilder::generate_rsa`] creates and a
/// [`Pkcs11Key`] signs with (the verifier accepts up to 8192 bits).
pub const MAX_RSA_BITS: usize = 4096;

/// The message signed (and checked) with each algorithm when a key is opened.
const PROBE: &[u8] = b"client-assertion PKCS#11 key check";

fn config(detail: &'static str) -> Error {
    Error::detail(ErrorKind::InvalidConfig, detail)
}

/// Configures and opens a [`Pkcs11Key`] (or generates one); see
/// [`Pkcs11Key::builder`].
#[must_use]
pub struct Pkcs11KeyBuilder {
    module: PathBuf,
    token: Option<TokenSelector>,
    pin: Option<Pin>,
    label: Option<String>,
    id: Option<Vec<u8>>,
    alg: Option<Algorithm>,
    kid: Option<String>,
    max_sessions: usize,
    backoff: Backoff,
}

impl fmt::Debug for Pkcs11KeyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11KeyBuilder")
            .field("module", &self.module)
            .field("token", &self.token)
            .field("pin", &self.pin)
            .field("label", &self.label)
            .field("id", &self.id.as_deref().map(hex))
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("max_sessions", &self.max_sessions)
            .field("backoff", &self.backoff)
            .finish()
    }
}

impl Pkcs11KeyBuilder {
    /// Selects the token by its label (`CKA_LABEL` of the token, as given to
    /// `softhsm2-util --init-token --label`).
    pub fn token_label(mut self, label: impl Into<String>) -> Self {
        self.token = Some(TokenSelector::Label(label.into()));
        self
    }

    /// Selects the token by its serial number (`serialNumber` of
    /// `CK_TOKEN_INFO`, trailing blanks ignored) instead of its label.
    pub fn token_serial(mut self, serial: impl Into<String>) -> Self {
        self.token = Some(TokenSelector::Serial(serial.into()));
        self
    }

    /// Selects the token by slot id instead of label. Tokens that can move
    /// between slots (or come back in another one after a reset) are
    /// better selected by label or serial.
    pub fn slot(mut self, slot_id: u64) -> Self {
        self.token = Some(TokenSelector::Slot(slot_id));
        self
    }

    /// The user PIN (required).
    pub fn pin(mut self, pin: Pin) -> Self {
        self.pin = Some(pin);
        self
    }

    /// Selects the private key by `CKA_LABEL`.
    pub fn key_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Selects the private key by `CKA_ID` (with a label: by both).
    pub fn key_id(mut self, id: impl Into<Vec<u8>>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Restricts the key to one algorithm (e.g. PS256 for an RSA key),
    /// which is then also published as the JWK's `alg`. Opening fails with
    /// [`Pkcs11Error::KeyTypeMismatch`] if the key is of another type.
    pub fn algorithm(mut self, alg: Algorithm) -> Self {
        self.alg = Some(alg);
        self
    }

    /// Replaces the `kid` (by default the RFC 7638 thumbprint).
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The most sessions the key source opens at once (default
    /// [`DEFAULT_MAX_SESSIONS`]); signatures beyond it wait for a session.
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max;
        self
    }

    /// The back-off while the token cannot be reached (default
    /// [`DEFAULT_BACKOFF_FIRST`] doubling up to [`DEFAULT_BACKOFF_MAX`]):
    /// after a signature failed with [`ErrorKind::KeyUnavailable`] or
    /// [`ErrorKind::KeyNotFound`] and a module reset did not help,
    /// signatures fail at once with the same error for `first`, then the
    /// next one looks for the token again; each failed look doubles the
    /// wait, up to `max` (at most one hour: `open` refuses more). See
    /// [Recovery](self#recovery).
    pub fn reconnect_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.backoff = Backoff { first, max };
        self
    }

    fn checked(&self) -> Result<(&TokenSelector, &Pin), Error> {
        let token = self
            .token
            .as_ref()
            .ok_or_else(|| config("select the PKCS#11 token by label or slot"))?;
        let pin = self
            .pin
            .as_ref()
            .ok_or_else(|| config("a PKCS#11 user PIN is required"))?;
        if self.label.is_none() && self.id.is_none() {
            return Err(config("select the PKCS#11 key by label and/or id"));
        }
        if self.label.as_deref() == Some("") || self.id.as_deref() == Some(&[]) {
            return Err(config("the PKCS#11 key label and id must not be empty"));
        }
        if self.max_sessions == 0 {
            return Err(config("max_sessions must be at least 1"));
        }
        if self.backoff.first.is_zero()
            || self.backoff.max < self.backoff.first
            || self.backoff.max > Duration::from_secs(3600)
        {
            return Err(config(
                "the reconnect back-off must be positive, its bound at least its first delay and at most 1 h",
            ));
        }
        Ok((token, pin))
    }

    /// Opens the key: loads the module, finds the token, logs in, finds the
    /// key and its public half, and checks a test signature.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] if the token, PIN or key selector is
    /// missing; otherwise a [`Pkcs11Error`] as source:
    /// [`ModuleLoad`](Pkcs11Error::ModuleLoad),
    /// [`TokenNotFound`](Pkcs11Error::TokenNotFound),
    /// [`PinIncorrect`](Pkcs11Error::PinIncorrect),
    /// [`KeyNotFound`](Pkcs11Error::KeyNotFound),
    /// [`KeyTypeMismatch`](Pkcs11Error::KeyTypeMismatch),
    /// [`UnsupportedKey`](Pkcs11Error::UnsupportedKey), ...;
    /// [`ErrorKind::WeakKey`] for RSA below 2048 bits.
    pub fn open(self) -> Result<Pkcs11Key, Error> {
        let module = registry::shared(&self.module)?;
        let (opened, info, algorithms, token_label) = self.find(&module)?;
        let Some(pin) = self.pin else {
            // `find` checked the PIN is there; never leave a session open.
            let _entered = module.enter();
            let _ = opened.session.close();
            return Err(config("a PKCS#11 user PIN is required"));
        };
        let public = PublicJwk::new(info.params.clone(), self.kid, self.alg);
        let target = Target {
            token: self
                .token
                .unwrap_or_else(|| TokenSelector::Label(token_label.clone())),
            label: self.label,
            id: self.id,
            pinned: info.params.clone(),
        };
        let shared = Shared::new(module, target, pin, self.max_sessions, self.backoff, opened);
        // After `shared`, which closes the session if this fails.
        let verifier = VerifyingKey::new(&info.params, verify_backend())?;
        let key = Pkcs11Key {
            shared,
            module: self.module,
            token_label,
            key_type: info.key_type,
            algorithms,
            public,
            verifier,
            label: info.label,
            id: info.id,
        };
        for &alg in algorithms {
            let signature = key.token_sign(alg, PROBE)?;
            if !key.verifier.verify(alg, PROBE, &signature) {
                return Err(Pkcs11Error::PublicKeyMismatch.into());
            }
        }
        Ok(key)
    }

    /// Inside the module's gate: finds the token, logs in, finds the key
    /// and reads it. The session is closed again on failure.
    fn find(
        &self,
        module: &registry::Module,
    ) -> Result<(Opened, public::KeyInfo, &'static [Algorithm], String), Error> {
        let (token, pin) = self.checked()?;
        let entered = module.enter();
        let ctx = module.ctx();
        let slot = resolve_slot(ctx, token)?;
        let session = ctx
            .open_ro_session_no_drop(slot)
            .map_err(call("C_OpenSession"))?;
        let found = (|| -> Result<_, Error> {
            ensure_logged_in(&session, pin)?;
            let key = public::find_one_private(&session, self.label.as_deref(), self.id.as_deref())
                .map_err(Failure::from)?;
            let info = public::read_key(&session, key)?;
            let algorithms = match self.alg {
                Some(alg) if alg.key_type() != info.key_type => {
                    return Err(Pkcs11Error::KeyTypeMismatch {
                        requested: alg,
                        found: info.key_type,
                    }
                    .into())
                }
                Some(alg) => KeyType::only(alg),
                None => info.key_type.algorithms(),
            };
            Ok((key, info, algorithms))
        })();
        let (key, info, algorithms) = match found {
            Ok(found) => found,
            Err(e) => {
                let _ = session.close();
                return Err(e);
            }
        };
        let token_label = match ctx.get_token_info(slot) {
            Ok(t) => t.label().trim_end().to_owned(),
            Err(_) => String::new(),
        };
        let opened = Opened {
            session,
            slot,
            key,
            epoch: entered.epoch,
        };
        Ok((opened, info, algorithms, token_label))
    }

    /// Generates a key pair of `key_type` on the token (RSA: 2048 bits),
    /// then opens it.
    ///
    /// The private key is a token object (`CKA_TOKEN`), private, sensitive
    /// (`CKA_SENSITIVE`), not extractable (`CKA_EXTRACTABLE` false) and may
    /// only sign; the public key carries the same label and id. A key label
    /// is required; without [`Pkcs11KeyBuilder::key_id`] a random 16-byte
    /// id is chosen.
    ///
    /// # Errors
    /// [`Pkcs11Error::KeyExists`] if an object on the token already has the
    /// label or id; [`Pkcs11Error::KeyTypeMismatch`] if an
    /// [`algorithm`](Self::algorithm) was set that `key_type` cannot sign
    /// with; the call that failed otherwise; then as
    /// [`Pkcs11KeyBuilder::open`].
    pub fn generate(self, key_type: KeyType) -> Result<Pkcs11Key, Error> {
        self.generate_inner(key_type, 2048)
    }

    /// Generates an RSA key pair of `bits` bits (2048 to [`MAX_RSA_BITS`])
    /// on the token, then opens it. See [`Pkcs11KeyBuilder::generate`].
    ///
    /// # Errors
    /// [`ErrorKind::WeakKey`] below 2048 bits, [`ErrorKind::InvalidConfig`]
    /// above [`MAX_RSA_BITS`]; otherwise as [`Pkcs11KeyBuilder::generate`].
    pub fn generate_rsa(self, bits: usize) -> Result<Pkcs11Key, Error> {
        if bits < MIN_RSA_BITS {
            return Err(Error::detail(
                ErrorKind::WeakKey,
                "RSA modulus is shorter than 2048 bits",
            ));
        }
        if bits > MAX_RSA_BITS {
            return Err(config("RSA keys above 4096 bits are not supported"));
        }
        self.generate_inner(KeyType::Rsa, bits)
    }

    fn generate_inner(mut self, key_type: KeyType, bits: usize) -> Result<Pkcs11Key, Error> {
        let Some(label) = self.label.clone() else {
            return Err(config("a key label is required to generate a PKCS#11 key"));
        };
        if let Some(alg) = self.alg {
            if alg.key_type() != key_type {
                return Err(Pkcs11Error::KeyTypeMismatch {
                    requested: alg,
                    found: key_type,
                }
                .into());
            }
        }
        let id = match self.id.clone() {
            Some(id) => id,
            None => {
                let mut id = vec![0u8; 16];
                crate::random::fill(&mut id)?;
                id
            }
        };
        self.id = Some(id.clone());
        let (token, pin) = self.checked()?;
        let module = registry::shared(&self.module)?;
        {
            let _entered = module.enter();
            let ctx = module.ctx();
            let slot = resolve_slot(ctx, token)?;
            let session = ctx
                .open_rw_session_no_drop(slot)
                .map_err(call("C_OpenSession"))?;
            let generated = (|| -> Result<(), Failure> {
                ensure_logged_in(&session, pin)?;
                generate::check_free(&session, &label, &id)?;
                generate::generate_pair(&session, key_type, bits, &label, &id)
            })();
            let _ = session.close();
            generated?;
        }
        self.open()
    }
}

/// A private key on a PKCS#11 token, used as a [`KeySource`].
///
/// Built with [`Pkcs11Key::builder`]. Cheap to share behind an `Arc`;
/// signs from any number of threads at once (see the [module
/// documentation](self) for sessions and recovery). `Debug` shows the
/// module, token, key and `kid`, never the PIN.
pub struct Pkcs11Key {
    shared: Shared,
    module: PathBuf,
    token_label: String,
    key_type: KeyType,
    algorithms: &'static [Algorithm],
    public: PublicJwk,
    /// The public key read at open, parsed once: every signature the token
    /// returns is checked with it before it is returned.
    verifier: VerifyingKey,
    label: Option<String>,
    id: Vec<u8>,
}

impl Pkcs11Key {
    /// A builder for a key in the PKCS#11 module at `module` (e.g.
    /// `/usr/lib/softhsm/libsofthsm2.so`).
    pub fn builder(module: impl Into<PathBuf>) -> Pkcs11KeyBuilder {
        Pkcs11KeyBuilder {
            module: module.into(),
            token: None,
            pin: None,
            label: None,
            id: None,
            alg: None,
            kid: None,
            max_sessions: DEFAULT_MAX_SESSIONS,
            backoff: Backoff::default(),
        }
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The key's `CKA_LABEL`, if it has one.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// The key's `CKA_ID` (empty if it has none).
    pub fn id(&self) -> &[u8] {
        &self.id
    }

    /// The module path as given.
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token_label
    }

    /// The id of the slot the token was last found in.
    pub fn slot_id(&self) -> u64 {
        self.shared.slot().id()
    }

    /// Sessions open now (idle or signing).
    pub fn open_sessions(&self) -> usize {
        self.shared.open_sessions()
    }

    /// The bound on open sessions.
    pub fn max_sessions(&self) -> usize {
        self.shared.max_sessions
    }

    /// Signs `input` with `alg` on the token, checks the signature with the
    /// public key read at open, and returns it.
    ///
    /// A signature that does not verify is never returned: if the key found
    /// under the label and/or id is no longer the key opened the error is
    /// [`Pkcs11Error::KeyReplaced`], otherwise
    /// [`Pkcs11Error::InvalidSignature`].
    fn sign_checked(&self, alg: Algorithm, input: &[u8]) -> Result<Vec<u8>, Error> {
        let signature = self.token_sign(alg, input)?;
        if self.verifier.verify(alg, input, &signature) {
            return Ok(signature);
        }
        self.shared.check_key()?;
        Err(Pkcs11Error::InvalidSignature { alg }.into())
    }

    /// Signs `input` with `alg` on the token and returns the JWS signature
    /// (its shape checked, not its validity).
    fn token_sign(&self, alg: Algorithm, input: &[u8]) -> Result<Vec<u8>, Error> {
        let digest;
        let (mechanism, data): (Mechanism<'_>, &[u8]) = match alg {
            Algorithm::Es256 => {
                digest = Sha256::digest(input).to_vec();
                (Mechanism::Ecdsa, &digest)
            }
            Algorithm::Es384 => {
                digest = Sha384::digest(input).to_vec();
                (Mechanism::Ecdsa, &digest)
            }
            Algorithm::EdDsa => (
                Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                input,
            ),
            Algorithm::Rs256 => (Mechanism::Sha256RsaPkcs, input),
            Algorithm::Ps256 => (
                Mechanism::Sha256RsaPkcsPss(PkcsPssParams {
                    hash_alg: MechanismType::SHA256,
                    mgf: PkcsMgfType::MGF1_SHA256,
                    s_len: 32.into(),
                }),
                input,
            ),
        };
        let signature = self
            .shared
            .run("C_Sign", |session, key| session.sign(&mechanism, key, data))?;
        normalise(alg, &self.public.params, signature)
    }
}

/// The backend that checks the token's signatures: AWS-LC when compiled in
/// (faster), else RustCrypto.
fn verify_backend() -> Backend {
    #[cfg(feature = "aws-lc-rs")]
    return Backend::AwsLc;
    #[cfg(not(feature = "aws-lc-rs"))]
    Backend::RustCrypto
}

/// Checks the shape of a token's signature: ECDSA as raw `r‖s` (DER
/// converted), Ed25519 64 bytes, RSA the modulus length (left-padded).
fn normalise(alg: Algorithm, params: &PublicParams, sig: Vec<u8>) -> Result<Vec<u8>, Error> {
    let malformed = || Error::from(Pkcs11Error::MalformedSignature { alg });
    match (alg, params) {
        (Algorithm::Es256, _) if sig.len() == 64 => Ok(sig),
        (Algorithm::Es384, _) if sig.len() == 96 => Ok(sig),
        (Algorithm::Es256 | Algorithm::Es384, _) => {
            crate::backend::ecdsa_signature_from_der(alg, &sig).ok_or_else(malformed)
        }
        (Algorithm::EdDsa, _) if sig.len() == 64 => Ok(sig),
        (Algorithm::Rs256 | Algorithm::Ps256, PublicParams::Rsa { n, .. }) => {
            let size = n.len();
            if sig.len() == size {
                Ok(sig)
            } else if sig.len() < size {
                let mut padded = vec![0u8; size - sig.len()];
                padded.extend_from_slice(&sig);
                Ok(padded)
            } else {
                Err(malformed())
            }
        }
        _ => Err(malformed()),
    }
}

impl fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("module", &self.module)
            .field("token", &self.token_label)
            .field("slot", &self.slot_id())
            .field("label", &self.label)
            .field("id", &hex(&self.id))
            .field("key_type", &self.key_type)
            .field("kid", &self.public.kid)
            .field("algorithms", &self.algorithms)
            .field("pin", &self.shared.pin)
            .field("max_sessions", &self.shared.max_sessions)
            .finish()
    }
}

impl KeyMetadata for Pkcs11Key {
    fn algorithms(&self) -> &'static [Algorithm] {
        self.algorithms
    }

    fn kid(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.public.kid)
    }

    fn public_jwk(&self) -> PublicJwk {
        self.public.clone()
    }
}

impl KeySource for Pkcs11Key {
    fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        if !self.algorithms.contains(&alg) {
            return Err(crate::backend::mismatch());
        }
        self.sign_checked(alg, signing_input)
    }
}
