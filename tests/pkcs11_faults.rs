//! PKCS#11 faults against a real SoftHSM2 token: the key pair replaced
//! under the same label by another process, the token directory taken away
//! and brought back, a user PIN the token holds back for a while, and the
//! typed codes of a wrong PIN, a missing token and a missing key.
//!
//! Like `tests/pkcs11.rs`, the tests make a throw-away token in a directory
//! of their own (`SOFTHSM2_CONF` set before the module is first initialised
//! here), run one at a time, and remove the directory after the last one.
//! The second process of `a_key_replaced_by_another_process_never_signs`
//! is this test binary run again (`std::env::current_exe()`) with only the
//! ignored `child_replaces_the_key` test and its orders in the environment.
#![cfg(feature = "pkcs11")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_assertion::keys::pkcs11::cryptoki::object::Attribute;
use client_assertion::keys::pkcs11::cryptoki::session::UserType;
use client_assertion::keys::pkcs11::cryptoki::types::AuthPin;
use client_assertion::keys::pkcs11::{self, Pin, Pkcs11Key, Pkcs11KeyBuilder};
use client_assertion::{
    jwk_set, Algorithm, AssertionSigner, ClientRegistry, Error, ErrorKind, KeyMetadata, KeySource,
    KeyType, Verifier,
};

#[path = "common/softhsm.rs"]
mod softhsm;

use softhsm::{Suite, MODULE, USER_PIN};

const TOKEN: &str = "client-assertion-faults";
const CLIENT: &str = "pkcs11-faults-client";
const AUDIENCE: &str = "https://as.example.com";

/// The environment of the child process: its `SOFTHSM2_CONF`, the key
/// label to replace and how many times.
const CHILD_CONF: &str = "CLIENT_ASSERTION_FAULTS_CHILD_CONF";
const CHILD_LABEL: &str = "CLIENT_ASSERTION_FAULTS_CHILD_LABEL";
const CHILD_ROUNDS: &str = "CLIENT_ASSERTION_FAULTS_CHILD_ROUNDS";

/// The number of non-ignored `#[test]` functions in this file (checked by
/// `the_test_count_is_current`): the last one to finish removes the token
/// directory.
const TESTS: usize = 7;

static SUITE: Suite = Suite::new("softhsm-faults", TOKEN, TESTS);

/// Waits for the previous test; makes the token on first use.
fn setup() -> (softhsm::Guard, &'static softhsm::Token) {
    SUITE.enter()
}

fn builder(label: &str) -> Pkcs11KeyBuilder {
    Pkcs11Key::builder(MODULE)
        .token_label(TOKEN)
        .pin(Pin::new(USER_PIN))
        .key_label(label)
}

fn verifier(key: &dyn KeySource) -> Verifier {
    let registry = Arc::new(ClientRegistry::new());
    registry.register(CLIENT, &jwk_set([key])).unwrap();
    Verifier::builder(AUDIENCE, registry).build().unwrap()
}

/// What the signing threads saw.
#[derive(Debug, Default)]
struct Tally {
    verified: usize,
    /// `Ok` signatures that do not verify: must stay 0.
    bad: usize,
    errors: std::collections::BTreeMap<&'static str, usize>,
    /// The first error of each code.
    first: std::collections::BTreeMap<&'static str, String>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.verified += other.verified;
        self.bad += other.bad;
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
        for (code, e) in other.first {
            self.first.entry(code).or_insert(e);
        }
    }

    fn error(&mut self, err: &Error) {
        *self.errors.entry(err.code()).or_default() += 1;
        self.first.entry(err.code()).or_insert_with(|| {
            std::error::Error::source(err).map_or(String::new(), |s| s.to_string())
        });
    }

    fn count(&self, kind: ErrorKind) -> usize {
        self.errors.get(kind.code()).copied().unwrap_or(0)
    }
}

/// Signs and verifies from `threads` threads until `until`, at most
/// `max_each` signatures per thread.
fn sign_until(
    signer: &AssertionSigner,
    verifier: &Verifier,
    threads: usize,
    until: Instant,
    max_each: usize,
) -> Tally {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut tally = Tally::default();
                    for _ in 0..max_each {
                        if Instant::now() >= until {
                            break;
                        }
                        match signer.sign() {
                            Ok(a) if verifier.verify(a.as_str()).is_ok() => tally.verified += 1,
                            Ok(_) => tally.bad += 1,
                            Err(e) => {
                                tally.error(&e);
                                // Errors come back at once during a back-off.
                                std::thread::sleep(Duration::from_millis(1));
                            }
                        }
                    }
                    tally
                })
            })
            .collect();
        let mut total = Tally::default();
        for h in handles {
            total.add(h.join().expect("a signing thread panicked"));
        }
        total
    })
}

/// Destroys every object labelled `label` and generates a new P-256 key
/// pair under it (a fresh random id), through this process's context.
/// SoftHSM2 may fail to read the token for a moment while the other
/// process rewrites its files: the whole replacement is retried (bounded).
fn replace_key(label: &str) {
    let mut last = String::new();
    for _ in 0..40 {
        match try_replace_key(label) {
            Ok(()) => return,
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("cannot replace the key: {last}");
}

fn try_replace_key(label: &str) -> Result<(), String> {
    let ctx = pkcs11::context(MODULE).map_err(|e| e.to_string())?;
    let slot = ctx
        .get_slots_with_token()
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .is_ok_and(|t| t.label().trim_end() == TOKEN)
        })
        .ok_or("the token is not listed")?;
    let session = ctx.open_rw_session(slot).map_err(|e| e.to_string())?;
    let _ = session.login(UserType::User, Some(&AuthPin::from(USER_PIN)));
    let handles = session
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .map_err(|e| e.to_string())?;
    for handle in handles {
        session.destroy_object(handle).map_err(|e| e.to_string())?;
    }
    drop(session);
    // Generation opens (and so checks) the new key, then drops it.
    builder(label)
        .generate(KeyType::P256)
        .map(drop)
        .map_err(|e| format!("{e:?}"))
}

/// The child process, killed (if still running) and reaped when dropped,
/// even when the test fails.
struct ChildProcess(std::process::Child);

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The second process: replaces the key `CHILD_LABEL` `CHILD_ROUNDS` times,
/// 300 ms apart. Does nothing unless run by the parent test.
#[test]
#[ignore = "run as a child process by a_key_replaced_by_another_process_never_signs"]
fn child_replaces_the_key() {
    let (Ok(conf), Ok(label), Ok(rounds)) = (
        std::env::var(CHILD_CONF),
        std::env::var(CHILD_LABEL),
        std::env::var(CHILD_ROUNDS),
    ) else {
        return;
    };
    std::env::set_var("SOFTHSM2_CONF", conf);
    let rounds: usize = rounds.parse().unwrap();
    for _ in 0..rounds.min(20) {
        std::thread::sleep(Duration::from_millis(300));
        replace_key(&label);
    }
}

#[test]
fn a_key_replaced_by_another_process_never_signs() {
    const ROUNDS: usize = 5;
    let (_t, fixture) = setup();
    drop(builder("replaced").generate(KeyType::P256).unwrap());
    // Opened by label alone, as the README does; a short back-off so that
    // the window between a delete and a generate (key_not_found, then a
    // back-off) does not hide every replacement.
    let backoff = Duration::from_millis(200);
    let key = Arc::new(
        builder("replaced")
            .reconnect_backoff(Duration::from_millis(50), backoff)
            .open()
            .unwrap(),
    );
    let verifier = verifier(&*key);
    let signer = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
        .build()
        .unwrap();
    let mut child = ChildProcess(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "child_replaces_the_key",
                "--nocapture",
                "-q",
            ])
            .env(CHILD_CONF, &fixture.conf)
            .env(CHILD_LABEL, "replaced")
            .env(CHILD_ROUNDS, ROUNDS.to_string())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    let mut tally = Tally::default();
    // Sign while the child works (bounded: 10 s, and until it is done plus 1 s).
    let deadline = start + Duration::from_secs(10);
    let mut child_done = None;
    while Instant::now() < deadline {
        let slice = (Instant::now() + Duration::from_millis(250)).min(deadline);
        tally.add(sign_until(&signer, &verifier, 2, slice, 100_000));
        if child_done.is_none() {
            if let Some(status) = child.0.try_wait().unwrap() {
                assert!(status.success(), "the child process failed: {status}");
                child_done = Some(Instant::now());
            }
        }
        if child_done.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
            break;
        }
    }
    assert!(
        child_done.is_some(),
        "the child process did not finish in 10 s"
    );
    drop(child);
    println!(
        "key replaced {ROUNDS} times by another process over {:?}: {} verified, {} bad Ok, errors {:?}, first of each {:?}",
        start.elapsed(),
        tally.verified,
        tally.bad,
        tally.errors,
        tally.first
    );
    assert_eq!(tally.bad, 0, "an Ok signature did not verify: {tally:?}");
    assert!(tally.verified > 0, "{tally:?}");
    assert!(tally.count(ErrorKind::KeyReplaced) > 0, "{tally:?}");
    // Once replaced, it stays refused: the replacement is never used.
    std::thread::sleep(backoff);
    let err = key.sign(Algorithm::Es256, b"after").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyReplaced, "{err:?}");
}

/// The one token directory under `tokens`.
fn token_dir(tokens: &Path) -> PathBuf {
    let dirs = subdirs(tokens);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

#[test]
fn a_token_taken_away_and_brought_back_recovers_without_a_restart() {
    let (_t, fixture) = setup();
    drop(builder("moved").generate(KeyType::P256).unwrap());
    let key = Arc::new(
        builder("moved")
            .reconnect_backoff(Duration::from_millis(250), Duration::from_secs(1))
            .open()
            .unwrap(),
    );
    let verifier = verifier(&*key);
    let signer = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
        .build()
        .unwrap();
    let before = sign_until(
        &signer,
        &verifier,
        1,
        Instant::now() + Duration::from_millis(200),
        10_000,
    );
    assert!(
        before.verified > 0 && before.errors.is_empty(),
        "{before:?}"
    );

    let dir = token_dir(&fixture.dir.join("tokens"));
    let aside = fixture.dir.join("aside");
    std::fs::rename(&dir, &aside).unwrap();
    let taken = Instant::now();
    let gone = sign_until(
        &signer,
        &verifier,
        2,
        taken + Duration::from_secs(2),
        100_000,
    );
    std::fs::rename(&aside, &dir).unwrap();
    let restored = Instant::now();
    let mut recovered = None;
    let mut meanwhile = Tally::default();
    while restored.elapsed() < Duration::from_secs(15) {
        match signer.sign() {
            Ok(a) => {
                verifier.verify(a.as_str()).unwrap();
                recovered = Some(restored.elapsed());
                break;
            }
            Err(e) => meanwhile.error(&e),
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!(
        "token directory away for 2 s: {} verified, {} bad Ok, errors {:?} (first {:?}); after it returned: errors {:?}, recovered after {:?}",
        gone.verified, gone.bad, gone.errors, gone.first, meanwhile.errors, recovered
    );
    assert_eq!(gone.bad, 0, "{gone:?}");
    let typed = gone.count(ErrorKind::KeyUnavailable) + gone.count(ErrorKind::KeyNotFound);
    assert!(typed > 0, "{gone:?}");
    let recovered = recovered.expect("signing recovers once the token is back");
    assert!(recovered < Duration::from_secs(5), "{recovered:?}");
    let after = sign_until(
        &signer,
        &verifier,
        2,
        Instant::now() + Duration::from_millis(300),
        10_000,
    );
    assert!(
        after.verified > 0 && after.errors.is_empty() && after.bad == 0,
        "{after:?}"
    );
}

#[test]
fn wrong_pin_missing_token_and_missing_key_have_distinct_codes() {
    let (_t, _) = setup();
    drop(builder("codes").generate(KeyType::P256).unwrap());
    // No key source of this binary is open now, so C_Login checks the PIN.
    let wrong_pin = Pkcs11Key::builder(MODULE)
        .token_label(TOKEN)
        .pin(Pin::new("000000"))
        .key_label("codes")
        .open()
        .unwrap_err();
    let no_token = Pkcs11Key::builder(MODULE)
        .token_label("no-such-token")
        .pin(Pin::new(USER_PIN))
        .key_label("codes")
        .open()
        .unwrap_err();
    let no_key = builder("no-such-key").open().unwrap_err();
    let codes = [wrong_pin.code(), no_token.code(), no_key.code()];
    println!("wrong PIN, missing token, missing key: {codes:?}");
    assert_eq!(
        codes,
        ["key_access_denied", "key_unavailable", "key_not_found"]
    );
    for err in [&wrong_pin, &no_token, &no_key] {
        assert!(pkcs11::Pkcs11Error::from_error(err).is_some(), "{err:?}");
        assert!(!format!("{err:?} {err}").contains(USER_PIN));
    }

    // By serial number as well.
    let ctx = pkcs11::context(MODULE).unwrap();
    let key = builder("codes").open().unwrap();
    let serial = ctx
        .get_token_info(key.slot_id().try_into().unwrap())
        .unwrap()
        .serial_number()
        .trim_end()
        .to_owned();
    let by_serial = Pkcs11Key::builder(MODULE)
        .token_serial(&serial)
        .pin(Pin::new(USER_PIN))
        .key_label("codes")
        .open()
        .unwrap();
    assert_eq!(by_serial.kid(), key.kid());
    let err = Pkcs11Key::builder(MODULE)
        .token_serial("no-such-serial")
        .pin(Pin::new(USER_PIN))
        .key_label("codes")
        .open()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyUnavailable);
}

/// A key source opened with a wrong PIN while another one kept the token
/// logged in (C_Login then answers "already logged in"): once the token
/// logs out and refuses that PIN, the key source never sends it again (a
/// token locks a PIN after a few wrong tries, for every key source); the
/// key source with the right PIN is unaffected.
#[test]
fn a_refused_pin_is_not_tried_again() {
    let (_t, _) = setup();
    drop(builder("pin").generate(KeyType::P256).unwrap());
    let good = builder("pin").open().unwrap();
    let wrong = Pkcs11Key::builder(MODULE)
        .token_label(TOKEN)
        .pin(Pin::new("000000"))
        .key_label("pin")
        .open()
        .expect("opened while the application is logged in");
    // Log the application out, through a session of our own.
    let ctx = pkcs11::context(MODULE).unwrap();
    let session = ctx
        .open_ro_session(good.slot_id().try_into().unwrap())
        .unwrap();
    session.logout().unwrap();
    let input = b"header.claims";
    let kinds: Vec<ErrorKind> = (0..5)
        .map(|_| wrong.sign(Algorithm::Es256, input).unwrap_err().kind())
        .collect();
    assert_eq!(kinds, [ErrorKind::KeyAccessDenied; 5]);
    good.sign(Algorithm::Es256, input)
        .expect("the right PIN logs in again");
    let again = wrong.sign(Algorithm::Es256, input).unwrap_err();
    assert_eq!(again.kind(), ErrorKind::KeyAccessDenied, "{again:?}");
}

/// A user PIN the token holds back is a state of the token, not a refused
/// PIN. Here SoftHSM2 reads the token, when its module is initialised
/// again, from a file without a user PIN (as it does when another process
/// is rewriting the file at that moment): `CKR_USER_PIN_NOT_INITIALIZED`
/// until the next `C_Initialize`. The key source fails with
/// `key_access_denied` for one back-off delay, then resets the module,
/// logs in again and signs, without being opened again.
#[test]
fn a_pin_held_back_by_the_token_is_tried_again_after_the_backoff() {
    const LABEL: &str = "held-back";
    let (_t, fixture) = setup();
    let tokens = fixture.dir.join("tokens");
    let before: Vec<PathBuf> = subdirs(&tokens);
    // A second token, in SoftHSM2's free slot: its file is saved between
    // C_InitToken and C_InitPIN.
    let ctx = pkcs11::context(MODULE).unwrap();
    let slot = softhsm::init_free_token(&ctx, LABEL);
    let dir = subdirs(&tokens)
        .into_iter()
        .find(|d| !before.contains(d))
        .expect("the new token's directory");
    let second = RemoveOnDrop([dir.clone(), fixture.dir.join("held-back-aside")]);
    let file = Path::new("token.object");
    let without_pin = std::fs::read(dir.join(file)).unwrap();
    softhsm::init_user_pin(&ctx, slot);
    let open = |b: Pkcs11KeyBuilder| b.token_label(LABEL).pin(Pin::new(USER_PIN)).key_label("k");
    drop(
        open(Pkcs11Key::builder(MODULE))
            .generate(KeyType::P256)
            .unwrap(),
    );
    // Long enough that `at_once` comes well within it on a loaded machine.
    let backoff = Duration::from_secs(1);
    let key = open(Pkcs11Key::builder(MODULE))
        .reconnect_backoff(backoff, backoff)
        .open()
        .unwrap();
    key.sign(Algorithm::Es256, b"before").unwrap();
    let with_pin = std::fs::read(dir.join(file)).unwrap();
    let wait = || std::thread::sleep(backoff + Duration::from_millis(100));

    // Away (so the next signature resets the module), then back without a
    // user PIN: read so by the reset.
    let aside = &second.0[1];
    std::fs::rename(&dir, aside).unwrap();
    let away = key.sign(Algorithm::Es256, b"away").unwrap_err();
    replace_file(&aside.join(file), &without_pin);
    std::fs::rename(aside, &dir).unwrap();
    wait();
    let held = key.sign(Algorithm::Es256, b"held").unwrap_err();
    // The file is whole again; the module still has the old reading.
    replace_file(&dir.join(file), &with_pin);
    let at_once = key.sign(Algorithm::Es256, b"at once").unwrap_err();
    wait();
    let after = key.sign(Algorithm::Es256, b"after");
    drop(key);
    drop(second);
    println!(
        "token away: {away:?}; back without a user PIN: {held:?}; within the back-off: {at_once:?}; after it: {after:?}"
    );
    assert_eq!(away.kind(), ErrorKind::KeyUnavailable, "{away:?}");
    for err in [&held, &at_once] {
        assert_eq!(err.kind(), ErrorKind::KeyAccessDenied, "{err:?}");
        assert_eq!(
            pkcs11::Pkcs11Error::from_error(err).and_then(|e| e.rv()),
            Some("CKR_USER_PIN_NOT_INITIALIZED"),
            "{err:?}"
        );
    }
    after.expect("the key source logs in again after the back-off");
}

/// Paths removed (if present) when dropped, even when the test fails.
struct RemoveOnDrop<const N: usize>([PathBuf; N]);

impl<const N: usize> Drop for RemoveOnDrop<N> {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}

/// The directories under `dir`.
fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Writes `bytes` to `file` in one rename.
fn replace_file(file: &Path, bytes: &[u8]) {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

#[test]
fn checking_each_signature_costs_little_next_to_the_token() {
    const N: usize = 300;
    let (_t, _) = setup();
    let key = builder("cost").generate(KeyType::P256).unwrap();
    let msg = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJjb3N0In0";
    let start = Instant::now();
    let mut sig = Vec::new();
    for _ in 0..N {
        sig = key.sign(Algorithm::Es256, msg).unwrap();
    }
    let sign = start.elapsed() / N as u32;

    let jwk: serde_json::Value = serde_json::from_str(&key.public_jwk().to_json()).unwrap();
    let coord = |name: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().unwrap())
            .unwrap()
    };
    let mut point = vec![4u8];
    point.extend(coord("x"));
    point.extend(coord("y"));
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
    let signature = p256::ecdsa::Signature::from_slice(&sig).unwrap();
    let start = Instant::now();
    for _ in 0..N {
        use p256::ecdsa::signature::Verifier as _;
        vk.verify(msg, &signature).unwrap();
    }
    let rust_crypto = start.elapsed() / N as u32;
    #[cfg(feature = "aws-lc-rs")]
    let aws_lc = {
        use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
        let pk = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point);
        let start = Instant::now();
        for _ in 0..N {
            pk.verify(msg, &sig).unwrap();
        }
        Some(start.elapsed() / N as u32)
    };
    #[cfg(not(feature = "aws-lc-rs"))]
    let aws_lc: Option<Duration> = None;
    println!(
        "ES256 on SoftHSM2, mean of {N}: sign (token + check) {sign:?}; the check alone: RustCrypto {rust_crypto:?}, AWS-LC {aws_lc:?}"
    );
}

#[test]
fn the_test_count_is_current() {
    let (_t, _) = setup();
    let source = include_str!("pkcs11_faults.rs");
    let ignored = source.matches("\n#[test]\n#[ignore").count();
    assert_eq!(source.matches("\n#[test]\n").count() - ignored, TESTS);
}
