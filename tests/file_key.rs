//! `FileKey` reloading with a manual clock and a temporary directory:
//! atomic replacement, the check interval, failures that keep the old key
//! in service, recovery, and concurrent signing while the file is swapped.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_assertion::keys::ReloadStatus;
use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{Algorithm, AssertionSigner, ErrorKind, FileKey, KeySource, KeyType};
use common::*;

const INTERVAL: Duration = Duration::from_secs(30);

/// Replaces `path` atomically: write a temporary file, then rename it.
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn header_kid(signer: &AssertionSigner) -> String {
    let a = signer.sign().unwrap();
    let kid = split(a.as_str()).header["kid"].as_str().unwrap().to_owned();
    assert_eq!(a.kid(), kid);
    kid
}

fn failed_kind(status: &ReloadStatus) -> (ErrorKind, String) {
    match status {
        ReloadStatus::Failed { error, kept_kid } => (error.kind(), kept_kid.clone()),
        other => panic!("expected Failed, got {other:?}"),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    clock: ManualClock,
    key: Arc<FileKey>,
    events: Arc<Mutex<Vec<ReloadStatus>>>,
    signer: AssertionSigner,
}

fn fixture(initial: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.key");
    replace(&path, &read(initial));
    let clock = ManualClock::at_unix(1_700_000_000);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let key = Arc::new(
        FileKey::open(&path)
            .unwrap()
            .with_clock(Arc::new(clock.clone()))
            .with_check_interval(INTERVAL)
            .with_listener(move |s| sink.lock().unwrap().push(s.clone())),
    );
    assert_eq!(key.path(), path);
    let signer = AssertionSigner::builder(key.clone(), "client", "https://as.example")
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    Fixture {
        _dir: dir,
        path,
        clock,
        key,
        events,
        signer,
    }
}

impl Fixture {
    fn events(&self) -> Vec<ReloadStatus> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

#[test]
fn a_replaced_file_is_used_after_the_check_interval() {
    let f = fixture("p256.pkcs8.pem");
    let p256 = expected_thumbprint("p256");
    let p384 = expected_thumbprint("p384");
    assert_eq!(header_kid(&f.signer), p256);
    assert_eq!(f.key.kid(), p256);

    replace(&f.path, &read("p384.sec1.pem"));
    // Before the interval: the old key, the file is not even looked at.
    f.clock.advance(INTERVAL - Duration::from_secs(1));
    assert_eq!(header_kid(&f.signer), p256);
    assert!(f.events().is_empty());
    assert!(matches!(f.key.last_status(), ReloadStatus::Unchanged));

    // After it: the new key signs, with its own algorithm.
    f.clock.advance(Duration::from_secs(1));
    let a = f.signer.sign().unwrap();
    assert_eq!(split(a.as_str()).header["kid"], p384.as_str());
    assert_eq!(a.algorithm(), Algorithm::Es384);
    jwt_verify(
        a.as_str(),
        &decoding_key_from_spki("p384", KeyType::P384),
        Algorithm::Es384,
    )
    .unwrap();
    assert!(matches!(&f.events()[..], [ReloadStatus::Reloaded { kid }] if *kid == p384));
    assert!(matches!(f.key.last_status(), ReloadStatus::Reloaded { kid } if kid == p384));
    assert_eq!(f.key.kid(), p384);
    assert_eq!(f.key.public_jwk().kid(), p384);
    assert_eq!(f.key.current().kid(), p384);

    // The same content again is no reload (and no listener call).
    replace(&f.path, &read("p384.sec1.pem"));
    assert!(matches!(f.key.reload(), ReloadStatus::Unchanged));
    assert!(f.events().is_empty());
}

#[test]
fn reload_checks_now_whatever_the_interval() {
    let f = fixture("ed25519.pkcs8.der");
    replace(&f.path, &read("rsa2048.jwk.json"));
    let rsa = expected_thumbprint("rsa2048");
    assert!(matches!(f.key.reload(), ReloadStatus::Reloaded { kid } if kid == rsa));
    assert_eq!(header_kid(&f.signer), rsa);
    assert_eq!(f.key.algorithms(), &[Algorithm::Rs256, Algorithm::Ps256]);
}

#[test]
fn a_bad_file_keeps_the_old_key_and_reports_the_failure() {
    let f = fixture("p256.sec1.pem");
    let p256 = expected_thumbprint("p256");
    let pem = read("ed25519.pkcs8.pem");

    let cases: Vec<(&str, Option<Vec<u8>>, ErrorKind)> = vec![
        (
            "garbage",
            Some(b"this is not a key".to_vec()),
            ErrorKind::InvalidKey,
        ),
        (
            "truncated",
            Some(pem[..pem.len() / 2].to_vec()),
            ErrorKind::InvalidKey,
        ),
        ("empty", Some(Vec::new()), ErrorKind::InvalidKey),
        (
            "public only",
            Some(read("ed25519.spki.pem")),
            ErrorKind::PublicKeyOnly,
        ),
        ("weak", Some(read("rsa1024.pkcs8.pem")), ErrorKind::WeakKey),
        (
            "foreign curve",
            Some(read("secp256k1.sec1.pem")),
            ErrorKind::UnsupportedKey,
        ),
        ("deleted", None, ErrorKind::Io),
    ];
    for (what, content, kind) in cases {
        match &content {
            Some(bytes) => replace(&f.path, bytes),
            None => std::fs::remove_file(&f.path).unwrap(),
        }
        f.clock.advance(INTERVAL);
        // Signing triggers the check; the old key still signs.
        let a = f.signer.sign().unwrap();
        assert_eq!(a.kid(), p256, "{what}");
        jwt_verify(
            a.as_str(),
            &decoding_key_from_spki("p256", KeyType::P256),
            Algorithm::Es256,
        )
        .unwrap();
        assert_eq!(
            failed_kind(&f.key.last_status()),
            (kind, p256.clone()),
            "{what}"
        );
        let events = f.events();
        assert_eq!(events.len(), 1, "{what}: listener called once");
        assert_eq!(failed_kind(&events[0]), (kind, p256.clone()), "{what}");
        // An explicit reload gives the same verdict.
        assert_eq!(failed_kind(&f.key.reload()), (kind, p256.clone()), "{what}");
        assert_eq!(f.key.kid(), p256, "{what}");
        let _ = f.events();
    }

    // A good file again: recovery. An Ed25519 PKCS#8 v1 file (no public
    // key, as OpenSSL writes it) is not self-checked: it settles first.
    replace(&f.path, &read("ed25519.pkcs8.pem"));
    f.clock.advance(INTERVAL);
    let ed = expected_thumbprint("ed25519");
    assert_eq!(header_kid(&f.signer), p256, "settling");
    assert!(matches!(&f.events()[..], [ReloadStatus::Settling { kept_kid }] if *kept_kid == p256));
    f.clock.advance(FileKey::DEFAULT_SETTLE_WINDOW);
    assert_eq!(header_kid(&f.signer), ed);
    assert!(matches!(&f.events()[..], [ReloadStatus::Reloaded { kid }] if *kid == ed));
    assert!(matches!(f.key.last_status(), ReloadStatus::Reloaded { .. }));
}

#[test]
fn restoring_the_same_key_after_a_deletion_recovers() {
    // The file disappears for a moment (a non-atomic deploy) and comes
    // back with the very key in service: the status must not stay Failed.
    let f = fixture("p256.pkcs8.pem");
    let p256 = expected_thumbprint("p256");
    std::fs::remove_file(&f.path).unwrap();
    assert_eq!(failed_kind(&f.key.reload()).0, ErrorKind::Io);
    replace(&f.path, &read("p256.pkcs8.pem"));
    let status = f.key.reload();
    assert!(
        !matches!(status, ReloadStatus::Failed { .. }),
        "still failed after the file came back: {status:?}"
    );
    assert!(!matches!(f.key.last_status(), ReloadStatus::Failed { .. }));
    assert_eq!(header_kid(&f.signer), p256);

    // Likewise after a garbage file replaced by the key in service.
    replace(&f.path, b"garbage");
    assert_eq!(failed_kind(&f.key.reload()).0, ErrorKind::InvalidKey);
    replace(&f.path, &read("p256.pkcs8.pem"));
    assert!(!matches!(f.key.reload(), ReloadStatus::Failed { .. }));
}

#[test]
fn an_explicit_algorithm_that_no_longer_fits_fails_cleanly() {
    let f = fixture("p256.pkcs8.pem");
    let pinned = AssertionSigner::builder(f.key.clone(), "client", "https://as.example")
        .algorithm(Algorithm::Es256)
        .clock(Arc::new(f.clock.clone()))
        .build()
        .unwrap();
    replace(&f.path, &read("p384.pkcs8.pem"));
    f.clock.advance(INTERVAL);
    assert_eq!(
        pinned.sign().unwrap_err().kind(),
        ErrorKind::AlgorithmNotAllowed
    );
    assert_eq!(header_kid(&f.signer), expected_thumbprint("p384"));
}

#[test]
fn the_default_check_interval_applies() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.pem");
    replace(&path, &read("p256.pkcs8.pem"));
    let clock = ManualClock::at_unix(1_700_000_000);
    let key = Arc::new(
        FileKey::open(&path)
            .unwrap()
            .with_clock(Arc::new(clock.clone())),
    );
    replace(&path, &read("p384.pkcs8.pem"));
    clock.advance(FileKey::DEFAULT_CHECK_INTERVAL - Duration::from_millis(1));
    assert_eq!(key.snapshot().unwrap().kid(), expected_thumbprint("p256"));
    clock.advance(Duration::from_millis(1));
    assert_eq!(key.snapshot().unwrap().kid(), expected_thumbprint("p384"));
}

#[test]
fn concurrent_signing_while_the_file_is_swapped() {
    const FILES: [(&str, &str, KeyType); 4] = [
        ("p256", "p256.sec1.pem", KeyType::P256),
        ("p384", "p384.pkcs8.der", KeyType::P384),
        ("ed25519", "ed25519.jwk.json", KeyType::Ed25519),
        ("rsa2048", "rsa2048.pkcs1.pem", KeyType::Rsa),
    ];
    let f = fixture("p256.pkcs8.pem");
    let by_kid: HashMap<String, (jsonwebtoken::DecodingKey, Algorithm)> = FILES
        .iter()
        .map(|(name, _, kt)| {
            (
                expected_thumbprint(name),
                (decoding_key_from_spki(name, *kt), kt.algorithms()[0]),
            )
        })
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let signer = Arc::new(f.signer);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (signer, stop) = (signer.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut tokens = Vec::new();
                while !stop.load(Ordering::Relaxed) || tokens.len() < 20 {
                    tokens.push(signer.sign().unwrap().into_string());
                }
                tokens
            })
        })
        .collect();

    for round in 0..60 {
        let (_, file, _) = FILES[round % FILES.len()];
        replace(&f.path, &read(file));
        f.clock.advance(INTERVAL);
        std::thread::sleep(Duration::from_millis(3));
    }
    stop.store(true, Ordering::Relaxed);

    let mut kids_seen = HashMap::new();
    let mut total = 0;
    for worker in workers {
        for token in worker.join().unwrap() {
            let jws = split(&token);
            let kid = jws.header["kid"].as_str().unwrap();
            let (dk, alg) = by_kid
                .get(kid)
                .unwrap_or_else(|| panic!("unknown kid {kid}"));
            assert_eq!(jws.header["alg"], alg.name());
            jwt_verify(&token, dk, *alg)
                .unwrap_or_else(|e| panic!("token with kid {kid} does not verify: {e}"));
            *kids_seen.entry(kid.to_owned()).or_insert(0) += 1;
            total += 1;
        }
    }
    assert!(total >= 80);
    assert!(
        kids_seen.len() >= 2,
        "the swaps were observed by the signers: {kids_seen:?}"
    );
    assert!(f
        .events
        .lock()
        .unwrap()
        .iter()
        .all(|s| matches!(s, ReloadStatus::Reloaded { .. })));
}
