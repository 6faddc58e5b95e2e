//! Key files rewritten under load (issue 14): torn in place, truncated and
//! written in two chunks, replaced atomically, garbled, removed then
//! written. For every key type and encoding the crate reads, two threads
//! sign while a writer rewrites the file every 200 ms among three keys, and
//! every signature must be made (no failure) and verify with one of the
//! keys the writer wrote (never a torn or foreign key). The same for a
//! `DirectoryKeyRing` whose active file is rewritten while an older retired
//! key (no longer published) lies beside it: that key must never sign.
//!
//! Every case runs for `SIGNING` (15 s) and all cases run at once, so the
//! file takes about 20 s (15 s of signing, key generation, the final
//! settle); signers pace themselves (`pace`: every 20 ms, RSA every 60 ms)
//! so that the 105 cases share two cores. The measured counts are printed
//! (run with `--nocapture` to see them).

#[path = "common/backend.rs"]
mod backend;

use std::fmt::Write as _;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use backend::{backend, registry};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use client_assertion::client::DirectoryKeyRing;
use client_assertion::keys::ReloadStatus;
use client_assertion::{
    AssertionSigner, FileKey, KeyMetadata, KeySource, KeyType, PrivateKey, Verifier,
};
use pkcs8::der::pem::LineEnding;
use pkcs8::der::{Decode, Encode};

const SIGNING: Duration = Duration::from_secs(15);
const REWRITE_EVERY: Duration = Duration::from_millis(200);
const CHUNK_PAUSE: Duration = Duration::from_millis(50);
/// The default settle window (1 s): far longer than the writer's pause
/// between its two chunks, even when a loaded machine stretches that pause
/// (measured up to ~340 ms on two busy cores), and longer than the writer's
/// 200 ms cadence, so that a key that is not self-checked cannot enter
/// service while the writer runs; it enters once the writer stops.
const SETTLE: Duration = FileKey::DEFAULT_SETTLE_WINDOW;
const CHECK: Duration = Duration::from_millis(5);
const ISSUER: &str = "https://as.example.com";
const CLIENT: &str = "file-client";

// ----- encodings -----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enc {
    RsaPkcs1Pem,
    RsaPkcs8Der,
    RsaJwk,
    EcSec1Pub,
    EcSec1NoPub,
    EcPkcs8Pub,
    EcPkcs8NoPub,
    EcJwk,
    Ed25519V1,
    Ed25519V2,
    Ed25519Jwk,
}

fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    pkcs8::der::pem::encode_string(label, LineEnding::LF, der)
        .unwrap()
        .into_bytes()
}

fn pkcs8_der(key: &PrivateKey) -> Vec<u8> {
    let pem = key.to_pkcs8_pem().unwrap();
    pkcs8::der::pem::decode_vec(pem.as_bytes()).unwrap().1
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn public_members(key: &PrivateKey) -> serde_json::Map<String, serde_json::Value> {
    let mut jwk: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&key.public_jwk().to_json()).unwrap();
    jwk.remove("kid");
    jwk.remove("alg");
    jwk
}

fn jwk(key: &PrivateKey, private: &[(&str, &[u8])]) -> Vec<u8> {
    let mut jwk = public_members(key);
    for (name, value) in private {
        jwk.insert((*name).to_owned(), b64(value).into());
    }
    serde_json::to_vec(&jwk).unwrap()
}

/// `key` in encoding `enc`; the test decodes it back to check the parser
/// reads the same key.
fn encode(key: &PrivateKey, enc: Enc) -> Vec<u8> {
    let der = pkcs8_der(key);
    let info = pkcs8::PrivateKeyInfoRef::from_der(&der).unwrap();
    let private_key = info.private_key.as_bytes();
    let ec = || sec1::EcPrivateKey::from_der(private_key).unwrap();
    let curve = || info.algorithm.parameters_oid().unwrap();
    let sec1_der = |with_public: bool| {
        let ec = ec();
        sec1::EcPrivateKey {
            private_key: ec.private_key,
            parameters: Some(sec1::EcParameters::NamedCurve(curve())),
            public_key: if with_public { ec.public_key } else { None },
        }
        .to_der()
        .unwrap()
    };
    let pkcs8_ec = |with_public: bool| {
        let inner = sec1_der(with_public);
        let inner = pkcs8::der::asn1::OctetStringRef::new(&inner).unwrap();
        pkcs8::PrivateKeyInfoRef::new(info.algorithm, inner)
            .to_der()
            .unwrap()
    };
    let seed = || private_key[2..].to_vec();
    let ed_public = || key.public_jwk();
    match enc {
        Enc::RsaPkcs1Pem => pem("RSA PRIVATE KEY", private_key),
        Enc::RsaPkcs8Der => der.clone(),
        Enc::RsaJwk => {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            use rsa::traits::PrivateKeyParts;
            let k = rsa::PrivateKey::from_pkcs1_der(private_key).unwrap();
            jwk(
                key,
                &[
                    ("d", &k.d().to_be_bytes_trimmed_vartime()),
                    ("p", &k.primes()[0].to_be_bytes_trimmed_vartime()),
                    ("q", &k.primes()[1].to_be_bytes_trimmed_vartime()),
                ],
            )
        }
        Enc::EcSec1Pub => pem("EC PRIVATE KEY", &sec1_der(true)),
        Enc::EcSec1NoPub => sec1_der(false),
        Enc::EcPkcs8Pub => pem("PRIVATE KEY", &pkcs8_ec(true)),
        Enc::EcPkcs8NoPub => pem("PRIVATE KEY", &pkcs8_ec(false)),
        Enc::EcJwk => jwk(key, &[("d", ec().private_key)]),
        Enc::Ed25519V1 => {
            // As `openssl genpkey -algorithm ED25519` writes it: 48 bytes.
            let v1 = pkcs8::PrivateKeyInfoRef::new(info.algorithm, info.private_key)
                .to_der()
                .unwrap();
            assert_eq!(v1.len(), 48);
            pem("PRIVATE KEY", &v1)
        }
        Enc::Ed25519V2 => {
            let x = ed_public().to_json();
            let x: serde_json::Value = serde_json::from_str(&x).unwrap();
            let public = URL_SAFE_NO_PAD.decode(x["x"].as_str().unwrap()).unwrap();
            let mut v2 = pkcs8::PrivateKeyInfoRef::new(info.algorithm, info.private_key);
            v2.public_key = Some(pkcs8::der::asn1::BitStringRef::from_bytes(&public).unwrap());
            pem("PRIVATE KEY", &v2.to_der().unwrap())
        }
        Enc::Ed25519Jwk => jwk(key, &[("d", &seed())]),
    }
}

/// Whether the crate must admit this encoding at once (self-checked).
fn self_checked(enc: Enc) -> bool {
    !matches!(enc, Enc::EcSec1NoPub | Enc::EcPkcs8NoPub | Enc::Ed25519V1)
}

/// Four keys of `key_type` (RSA: generated once and shared): three for the
/// writer, one to play the retired key of a directory ring.
fn keys(key_type: KeyType) -> Vec<Arc<PrivateKey>> {
    static RSA: Mutex<Vec<Arc<PrivateKey>>> = Mutex::new(Vec::new());
    if key_type == KeyType::Rsa {
        let mut rsa = RSA.lock().unwrap();
        while rsa.len() < 4 {
            rsa.push(Arc::new(PrivateKey::generate(KeyType::Rsa).unwrap()));
        }
        return rsa.clone();
    }
    (0..4)
        .map(|_| Arc::new(PrivateKey::generate(key_type).unwrap()))
        .collect()
}

struct Case {
    name: String,
    enc: Enc,
    files: Vec<Vec<u8>>,
    keys: Vec<Arc<PrivateKey>>,
    spare: Arc<PrivateKey>,
}

fn case(key_type: KeyType, enc: Enc, label: &str) -> Case {
    let mut keys = keys(key_type);
    let spare = keys.pop().unwrap();
    let files: Vec<Vec<u8>> = keys.iter().map(|k| encode(k, enc)).collect();
    for (k, f) in keys.iter().zip(&files) {
        assert_eq!(PrivateKey::from_bytes(f).unwrap().kid(), k.kid(), "{label}");
    }
    Case {
        name: label.to_owned(),
        enc,
        files,
        keys,
        spare,
    }
}

fn all_encodings() -> Vec<Case> {
    let mut cases = vec![
        case(KeyType::Rsa, Enc::RsaPkcs1Pem, "rsa pkcs1 pem"),
        case(KeyType::Rsa, Enc::RsaPkcs8Der, "rsa pkcs8 der"),
        case(KeyType::Rsa, Enc::RsaJwk, "rsa jwk"),
    ];
    for (kt, n) in [(KeyType::P256, "p256"), (KeyType::P384, "p384")] {
        for (enc, what) in [
            (Enc::EcSec1Pub, "sec1 pem +pub"),
            (Enc::EcSec1NoPub, "sec1 der -pub"),
            (Enc::EcPkcs8Pub, "pkcs8 pem +pub"),
            (Enc::EcPkcs8NoPub, "pkcs8 pem -pub"),
            (Enc::EcJwk, "jwk"),
        ] {
            cases.push(case(kt, enc, &format!("{n} {what}")));
        }
    }
    cases.push(case(KeyType::Ed25519, Enc::Ed25519V1, "ed25519 pkcs8 v1"));
    cases.push(case(KeyType::Ed25519, Enc::Ed25519V2, "ed25519 pkcs8 v2"));
    cases.push(case(KeyType::Ed25519, Enc::Ed25519Jwk, "ed25519 jwk"));
    cases
}

// ----- the writer -----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Overwrites in place, no truncation, in two chunks `CHUNK_PAUSE` apart.
    InPlace,
    /// Truncates, then writes in two chunks `CHUNK_PAUSE` apart.
    Truncate,
    /// Writes a temporary file and renames it.
    Atomic,
    /// Every other rewrite is random bytes (written in place, truncated).
    Garbage,
    /// Removes the file, waits `CHUNK_PAUSE`, writes it.
    Missing,
}

/// The key the writer leaves in place when it stops.
const LAST: usize = 2;

const MODES: [Mode; 5] = [
    Mode::InPlace,
    Mode::Truncate,
    Mode::Atomic,
    Mode::Garbage,
    Mode::Missing,
];

fn in_two_chunks(path: &Path, bytes: &[u8], truncate: bool) -> Duration {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(truncate)
        .open(path)
        .unwrap();
    let half = bytes.len() / 2;
    f.write_all(&bytes[..half]).unwrap();
    let torn = Instant::now();
    std::thread::sleep(CHUNK_PAUSE);
    f.seek(SeekFrom::Start(half as u64)).unwrap();
    f.write_all(&bytes[half..]).unwrap();
    torn.elapsed()
}

/// Writes round `round`'s content; returns how long the file was torn.
fn write_round(path: &Path, mode: Mode, round: usize, files: &[Vec<u8>]) -> Duration {
    let bytes = &files[round % files.len()];
    match mode {
        Mode::InPlace => in_two_chunks(path, bytes, false),
        Mode::Truncate => in_two_chunks(path, bytes, true),
        Mode::Atomic => {
            // A dot name: a DirectoryKeyRing ignores it (a `key-<t>.tmp`
            // would be a key file of the same activation time).
            let name = path.file_name().unwrap().to_str().unwrap();
            let tmp = path.with_file_name(format!(".{name}.tmp"));
            std::fs::write(&tmp, bytes).unwrap();
            std::fs::rename(&tmp, path).unwrap();
            Duration::ZERO
        }
        Mode::Garbage if round % 2 == 1 => {
            let mut junk = vec![0u8; bytes.len()];
            getrandom::fill(&mut junk).unwrap();
            std::fs::write(path, junk).unwrap();
            Duration::ZERO
        }
        Mode::Garbage => {
            std::fs::write(path, bytes).unwrap();
            Duration::ZERO
        }
        Mode::Missing => {
            std::fs::remove_file(path).unwrap();
            let gone = Instant::now();
            std::thread::sleep(CHUNK_PAUSE);
            std::fs::write(path, bytes).unwrap();
            gone.elapsed()
        }
    }
}

/// Rewrites `path` every `REWRITE_EVERY` until `stop`, then writes
/// `files[LAST]` atomically; the longest torn (or missing) time, and the
/// number of rewrites.
fn writer(
    path: PathBuf,
    mode: Mode,
    files: Vec<Vec<u8>>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<(Duration, usize)> {
    std::thread::spawn(move || {
        let mut longest = Duration::ZERO;
        let mut round = 1;
        let end = Instant::now() + SIGNING + Duration::from_secs(5);
        while !stop.load(Ordering::Relaxed) && Instant::now() < end {
            let start = Instant::now();
            longest = longest.max(write_round(&path, mode, round, &files));
            round += 1;
            std::thread::sleep(REWRITE_EVERY.saturating_sub(start.elapsed()));
        }
        write_round(&path, Mode::Atomic, LAST, &files);
        (longest, round - 1)
    })
}

// ----- the signers -----

#[derive(Default)]
struct Counts {
    signed: AtomicUsize,
    failed: AtomicUsize,
    unverified: AtomicUsize,
    foreign: AtomicUsize,
}

fn pace(key_type: KeyType) -> Duration {
    // RSA signing costs ~1.5 ms: fewer signatures, the same checks' rate
    // per torn window is lower but RSA is self-checked.
    if key_type == KeyType::Rsa {
        Duration::from_millis(60)
    } else {
        Duration::from_millis(20)
    }
}

fn verifier(keys: &[Arc<PrivateKey>]) -> Arc<Verifier> {
    let registry = Arc::new(registry());
    registry
        .register(
            CLIENT,
            &client_assertion::jwk_set(keys.iter().map(|k| &**k)),
        )
        .unwrap();
    Arc::new(Verifier::builder(ISSUER, registry).build().unwrap())
}

/// Two signers for `SIGNING`; `foreign_kid` must never sign.
fn sign_for_a_while(
    source: Arc<dyn KeySource>,
    verifier: Arc<Verifier>,
    key_type: KeyType,
    foreign_kid: Option<String>,
    counts: Arc<Counts>,
) -> Vec<JoinHandle<()>> {
    let signer = Arc::new(
        AssertionSigner::builder(source, CLIENT, ISSUER)
            .build()
            .unwrap(),
    );
    (0..2)
        .map(|_| {
            let (signer, verifier, counts) = (signer.clone(), verifier.clone(), counts.clone());
            let foreign = foreign_kid.clone();
            std::thread::spawn(move || {
                let end = Instant::now() + SIGNING;
                for _ in 0..100_000 {
                    if Instant::now() >= end {
                        break;
                    }
                    match signer.sign() {
                        Err(_) => {
                            counts.failed.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(a) => {
                            counts.signed.fetch_add(1, Ordering::Relaxed);
                            if foreign.as_deref() == Some(a.kid()) {
                                counts.foreign.fetch_add(1, Ordering::Relaxed);
                            }
                            let ok = verifier.dangerous().verify_without_replay_check(a.as_str());
                            if ok.is_err() {
                                counts.unverified.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    std::thread::sleep(pace(key_type));
                }
            })
        })
        .collect()
}

// ----- FileKey -----

#[derive(Default)]
struct Statuses {
    reloaded: AtomicUsize,
    settling: AtomicUsize,
    failed: AtomicUsize,
}

/// After the writer's final atomic write of `keys[LAST]`: two checks a
/// settle window apart, then whether the source's `kid` is that key's.
fn last_key_settles(reload: impl Fn(), kid: impl Fn() -> String, keys: &[Arc<PrivateKey>]) -> bool {
    reload();
    std::thread::sleep(SETTLE);
    reload();
    kid() == keys[LAST].kid()
}

struct Outcome {
    name: String,
    mode: Mode,
    counts: Arc<Counts>,
    statuses: Arc<Statuses>,
    torn: Duration,
    rewrites: usize,
    /// Whether the last key written entered service once the writer stopped.
    settled_last: bool,
}

impl Outcome {
    fn line(&self) -> String {
        let c = &self.counts;
        let s = &self.statuses;
        format!(
            "{:<20} {:<8} signed {:>4} failed {} unverified {} foreign {} | reloaded {:>3} settling {:>3} refused {:>3} | rewrites {:>3} max torn {:>3} ms | last key in service {}",
            self.name,
            format!("{:?}", self.mode),
            c.signed.load(Ordering::Relaxed),
            c.failed.load(Ordering::Relaxed),
            c.unverified.load(Ordering::Relaxed),
            c.foreign.load(Ordering::Relaxed),
            s.reloaded.load(Ordering::Relaxed),
            s.settling.load(Ordering::Relaxed),
            s.failed.load(Ordering::Relaxed),
            self.rewrites,
            self.torn.as_millis(),
            self.settled_last,
        )
    }

    fn is_clean(&self) -> bool {
        let c = &self.counts;
        c.failed.load(Ordering::Relaxed) == 0
            && c.unverified.load(Ordering::Relaxed) == 0
            && c.foreign.load(Ordering::Relaxed) == 0
            && c.signed.load(Ordering::Relaxed) > 0
            && self.settled_last
    }
}

fn file_case(case: &Case, mode: Mode) -> JoinHandle<Outcome> {
    let (name, files, keys, enc) = (
        case.name.clone(),
        case.files.clone(),
        case.keys.clone(),
        case.enc,
    );
    std::thread::spawn(move || {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("client.key");
        std::fs::write(&path, &files[0]).unwrap();
        let statuses = Arc::new(Statuses::default());
        let sink = statuses.clone();
        let key = FileKey::open(&path)
            .unwrap()
            .with_backend(backend())
            .unwrap()
            .with_check_interval(CHECK)
            .with_settle_window(SETTLE)
            .with_listener(move |s| {
                let counter = match s {
                    ReloadStatus::Reloaded { .. } => &sink.reloaded,
                    ReloadStatus::Settling { .. } => &sink.settling,
                    _ => &sink.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            });
        let key_type = keys[0].key_type();
        let counts = Arc::new(Counts::default());
        let stop = Arc::new(AtomicBool::new(false));
        let w = writer(path, mode, files, stop.clone());
        let key = Arc::new(key);
        let signers =
            sign_for_a_while(key.clone(), verifier(&keys), key_type, None, counts.clone());
        for s in signers {
            s.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        let (torn, rewrites) = w.join().unwrap();
        if !self_checked(enc) {
            assert!(
                statuses.settling.load(Ordering::Relaxed) > 0,
                "{name} {mode:?}: a key that is not self-checked settles"
            );
        }
        let settled_last = last_key_settles(|| drop(key.reload()), || key.kid().into(), &keys);
        Outcome {
            name,
            mode,
            counts,
            statuses,
            torn,
            rewrites,
            settled_last,
        }
    })
}

fn report(title: &str, legend: &str, outcomes: Vec<Outcome>) {
    let mut text = format!("{title}\n{legend}\n");
    for o in &outcomes {
        let _ = writeln!(text, "{}", o.line());
    }
    println!("{text}");
    let bad: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.is_clean())
        .map(Outcome::line)
        .collect();
    assert!(
        bad.is_empty(),
        "cases that failed a signature or signed with a key nobody wrote (settle window {} ms):\n{}",
        SETTLE.as_millis(),
        bad.join("\n")
    );
}

#[test]
fn a_file_key_signs_only_with_keys_that_were_written() {
    let cases = all_encodings();
    let started = Instant::now();
    let handles: Vec<_> = cases
        .iter()
        .flat_map(|c| MODES.iter().map(move |m| file_case(c, *m)))
        .collect();
    let outcomes: Vec<Outcome> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    report(
        &format!(
            "FileKey, {} cases in {:?}",
            outcomes.len(),
            started.elapsed()
        ),
        "(reloaded / settling / refused: listener calls: Reloaded, Settling started, Failed)",
        outcomes,
    );
}

// ----- DirectoryKeyRing -----

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn ring_case(case: &Case, mode: Mode) -> JoinHandle<Outcome> {
    let (name, files, keys) = (case.name.clone(), case.files.clone(), case.keys.clone());
    let retired = case.spare.clone();
    let key_type = keys[0].key_type();
    std::thread::spawn(move || {
        let dir = tempfile::tempdir().unwrap();
        let now = unix_now();
        // Retired a day ago: past its grace, no longer published.
        let retired_kid = PrivateKey::kid(&retired).to_owned();
        std::fs::write(
            dir.path().join(format!("key-{}.pem", now - 2 * 86_400)),
            retired.to_pkcs8_pem().unwrap().as_bytes(),
        )
        .unwrap();
        let path = dir.path().join(format!("key-{}.key", now - 86_400));
        std::fs::write(&path, &files[0]).unwrap();
        let ring = Arc::new(
            DirectoryKeyRing::open(dir.path())
                .unwrap()
                .with_backend(backend())
                .unwrap()
                .with_check_interval(CHECK)
                .with_settle_window(SETTLE),
        );
        assert_eq!(ring.kid(), keys[0].kid());
        assert!(!ring.jwks().as_str().contains(&retired_kid));
        let counts = Arc::new(Counts::default());
        let statuses = Arc::new(Statuses::default());
        let stop = Arc::new(AtomicBool::new(false));
        let w = writer(path, mode, files, stop.clone());
        let signers = sign_for_a_while(
            ring.clone(),
            verifier(&keys),
            key_type,
            Some(retired_kid.clone()),
            counts.clone(),
        );
        // Watch the ring: what it publishes, what it reports.
        let mut published_retired = 0;
        let mut kids = std::collections::BTreeSet::new();
        while signers.iter().any(|s| !s.is_finished()) {
            if ring.jwks().as_str().contains(&retired_kid) {
                published_retired += 1;
            }
            kids.insert(ring.kid().into_owned());
            if !ring.settling().is_empty() {
                statuses.settling.fetch_add(1, Ordering::Relaxed);
            }
            if !ring.problems().is_empty() {
                statuses.failed.fetch_add(1, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        for s in signers {
            s.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        let (torn, rewrites) = w.join().unwrap();
        statuses.reloaded.store(kids.len(), Ordering::Relaxed);
        counts
            .foreign
            .fetch_add(published_retired, Ordering::Relaxed);
        let settled_last = last_key_settles(|| drop(ring.reload()), || ring.kid().into(), &keys);
        Outcome {
            name,
            mode,
            counts,
            statuses,
            torn,
            rewrites,
            settled_last,
        }
    })
}

#[test]
fn a_directory_ring_never_falls_back_to_a_retired_key_or_a_torn_one() {
    let cases = [
        case(KeyType::Ed25519, Enc::Ed25519V1, "ed25519 pkcs8 v1"),
        case(KeyType::Ed25519, Enc::Ed25519V2, "ed25519 pkcs8 v2"),
        case(KeyType::P256, Enc::EcSec1NoPub, "p256 sec1 der -pub"),
        case(KeyType::P384, Enc::EcPkcs8Pub, "p384 pkcs8 pem +pub"),
        case(KeyType::Rsa, Enc::RsaPkcs1Pem, "rsa pkcs1 pem"),
    ];
    let started = Instant::now();
    let handles: Vec<_> = cases
        .iter()
        .flat_map(|c| MODES.iter().map(move |m| ring_case(c, *m)))
        .collect();
    let outcomes: Vec<Outcome> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    report(
        &format!("DirectoryKeyRing, {} cases in {:?}", outcomes.len(), started.elapsed()),
        "(reloaded: distinct active kids seen; settling / refused: samples every 10 ms with settling() / problems() non-empty; foreign: signatures by, plus samples publishing, the retired key)",
        outcomes,
    );
}

// ----- the settle rule, step by step (manual clock) -----

fn torn(new: &[u8], old: &[u8]) -> Vec<u8> {
    let half = new.len() / 2;
    [&new[..half], &old[half..]].concat()
}

/// Overwrites `path` in place (no truncation, as a non-atomic writer does),
/// then waits long enough for the file's change time to move on.
fn overwrite(path: &Path, bytes: &[u8]) {
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
    std::thread::sleep(Duration::from_millis(20));
}

#[test]
fn a_key_that_is_not_self_checked_enters_only_once_it_stayed_unchanged_for_the_window() {
    use client_assertion::time::ManualClock;
    let c = case(KeyType::Ed25519, Enc::Ed25519V1, "ed25519 v1");
    let (k0, k1) = (c.keys[0].kid().into_owned(), c.keys[1].kid().into_owned());
    // The issue's premise: a torn v1 file is a valid key nobody wrote.
    let torn_file = torn(&c.files[1], &c.files[0]);
    let foreign = PrivateKey::from_bytes(&torn_file).unwrap().kid().to_owned();
    assert!(foreign != k0 && foreign != k1);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.key");
    std::fs::write(&path, &c.files[0]).unwrap();
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let key = FileKey::open(&path).unwrap().with_clock(clock.clone());
    let settling =
        |s: ReloadStatus| matches!(s, ReloadStatus::Settling { kept_kid } if kept_kid == k0);

    // Torn, then finished within the window: the torn content never enters.
    overwrite(&path, &torn_file);
    assert!(settling(key.reload()));
    clock.advance(Duration::from_millis(500));
    assert!(settling(key.reload()));
    overwrite(&path, &c.files[1]);
    clock.advance(Duration::from_millis(600));
    assert!(
        settling(key.reload()),
        "the whole file starts its own window"
    );
    assert_eq!(key.kid(), k0);
    clock.advance(FileKey::DEFAULT_SETTLE_WINDOW);
    assert!(matches!(key.reload(), ReloadStatus::Reloaded { kid } if kid == k1));

    // The same torn bytes written again (a periodic writer torn at the same
    // offset) are a new write: the window starts again.
    let torn_back = torn(&c.files[0], &c.files[1]);
    overwrite(&path, &torn_back);
    assert!(matches!(key.reload(), ReloadStatus::Settling { .. }));
    clock.advance(Duration::from_millis(900));
    overwrite(&path, &torn_back);
    clock.advance(Duration::from_millis(200));
    assert!(matches!(key.reload(), ReloadStatus::Settling { .. }));
    assert_eq!(key.kid(), k1);

    // The honest limit: a writer that stops mid-file for longer than the
    // window leaves a stable file, and a torn file that is a valid key enters.
    clock.advance(FileKey::DEFAULT_SETTLE_WINDOW);
    let entered = key.reload();
    assert!(
        matches!(&entered, ReloadStatus::Reloaded { kid } if *kid != k0 && *kid != k1),
        "{entered:?}"
    );

    // A self-checked encoding torn the same way is refused at once.
    let v2 = case(KeyType::Ed25519, Enc::Ed25519V2, "ed25519 v2");
    std::fs::write(&path, &v2.files[0]).unwrap();
    let key = FileKey::open(&path).unwrap().with_clock(clock.clone());
    overwrite(&path, &torn(&v2.files[1], &v2.files[0]));
    assert!(matches!(key.reload(), ReloadStatus::Failed { .. }));
    assert_eq!(key.kid(), v2.keys[0].kid());
}

#[test]
fn a_directory_ring_keeps_its_active_key_while_the_file_is_gone() {
    use client_assertion::time::ManualClock;
    use client_assertion::ErrorKind;
    let t = 1_700_000_000;
    let clock = Arc::new(ManualClock::at_unix(t));
    let c = case(KeyType::Ed25519, Enc::Ed25519V1, "ed25519 v1");
    let dir = tempfile::tempdir().unwrap();
    let retired = dir.path().join(format!("key-{}.pem", t - 2 * 86_400));
    std::fs::write(&retired, encode(&c.spare, Enc::Ed25519V2)).unwrap();
    let active = dir.path().join(format!("key-{}.pem", t - 86_400));
    std::fs::write(&active, &c.files[0]).unwrap();
    let ring = DirectoryKeyRing::open_with(dir.path(), clock.clone())
        .unwrap()
        .with_check_interval(Duration::ZERO);
    let (k0, k1) = (c.keys[0].kid().into_owned(), c.keys[1].kid().into_owned());
    let retired_kid = c.spare.kid().into_owned();
    assert_eq!(ring.kid(), k0);
    assert!(!ring.jwks().as_str().contains(&retired_kid));

    // Gone: the active key stays active and published, the retired key
    // neither signs nor comes back into the set.
    std::fs::remove_file(&active).unwrap();
    let problems = ring.reload();
    assert!(
        problems
            .iter()
            .any(|(p, e)| *p == active && e.kind() == ErrorKind::KeyNotFound),
        "{problems:?}"
    );
    assert_eq!(ring.kid(), k0);
    assert!(ring.jwks().as_str().contains(&k0));
    assert!(!ring.jwks().as_str().contains(&retired_kid));

    // Back with another key in an encoding that is not self-checked: it
    // settles first, then takes over.
    std::fs::write(&active, &c.files[1]).unwrap();
    ring.reload();
    assert_eq!(ring.settling(), vec![active.clone()]);
    assert_eq!(ring.kid(), k0);
    clock.advance(FileKey::DEFAULT_SETTLE_WINDOW);
    ring.reload();
    assert!(ring.settling().is_empty());
    assert_eq!(ring.kid(), k1);
    assert!(!ring.jwks().as_str().contains(&retired_kid));

    // Gone again, then a newer self-checked file: it takes over at once.
    std::fs::remove_file(&active).unwrap();
    ring.reload();
    assert_eq!(ring.kid(), k1);
    let newer = dir.path().join(format!("key-{}.pem", t - 3600));
    std::fs::write(&newer, encode(&c.keys[2], Enc::Ed25519V2)).unwrap();
    assert!(ring.reload().is_empty());
    assert_eq!(ring.kid(), c.keys[2].kid());
}
