//! Audit events (`tracing` feature): names, levels and fields of every
//! event, captured by a small in-test subscriber, and what they must never
//! carry (the token, its signature, the private key).
#![cfg(feature = "tracing")]

use std::sync::Arc;
use std::time::Duration;

use client_assertion::audit::{
    KEY_ACTIVATED, KEY_RELOADED, KEY_RELOAD_FAILED, MAX_FIELD_LEN, REJECTED, SIGNED, SIGN_FAILED,
    VERIFIED,
};
use client_assertion::client::{DirectoryKeyRing, KeyRing, MemoryKeyFactory, RotationPolicy};
use client_assertion::server::AuthMethod;
use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{
    jwk_set, Algorithm, AssertionSigner, ClientRegistry, Error, ErrorKind, FileKey, KeySource,
    KeyType, PrivateKey, PublicJwk, Verifier,
};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

const ISSUER: &str = "https://as.example.com";
const CLIENT: &str = "tenant-7f3a-client";
const NOW: u64 = 1_750_000_000;

// ----- a capturing subscriber -----

#[path = "common/capture.rs"]
mod capture;

use capture::{capture, Capture, Captured};

fn only(events: &[Captured], name: &str) -> Captured {
    let found: Vec<_> = events.iter().filter(|e| e.name == name).collect();
    assert_eq!(found.len(), 1, "one {name} event expected in {events:#?}");
    found[0].clone()
}

fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(fut)
}

// ----- fixtures -----

fn data(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

struct Fixture {
    key: Arc<PrivateKey>,
    clock: Arc<ManualClock>,
    signer: AssertionSigner,
    verifier: Verifier,
    registry: Arc<ClientRegistry>,
}

/// A client signing with the P-256 test key, registered with a verifier;
/// both on one manual clock.
fn fixture() -> Fixture {
    let key = Arc::new(PrivateKey::from_pem(&data("p256.pkcs8.pem")).unwrap());
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let signer = AssertionSigner::builder(key.clone(), CLIENT, ISSUER)
        .clock(clock.clone())
        .build()
        .unwrap();
    let registry = Arc::new(ClientRegistry::new());
    registry.register(CLIENT, &jwk_set([&*key])).unwrap();
    let verifier = Verifier::builder(ISSUER, registry.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    Fixture {
        key,
        clock,
        signer,
        verifier,
        registry,
    }
}

/// The secrets no event may contain, for `tokens` and the test key.
fn secrets(tokens: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    // (Hand-made bad tokens such as `a.b.c.d` have no secret to look for.)
    for token in tokens.iter().filter(|t| t.len() >= 16) {
        out.push(token.to_string());
        let signature = token.rsplit('.').next().unwrap();
        if signature.len() >= 16 {
            out.push(signature.to_owned());
        }
    }
    let pem = data("p256.pkcs8.pem");
    out.extend(
        pem.lines()
            .filter(|l| !l.starts_with("-----") && !l.is_empty())
            .map(str::to_owned),
    );
    let jwk: serde_json::Value = serde_json::from_str(&data("p256.jwk.json")).unwrap();
    out.push(jwk["d"].as_str().unwrap().to_owned());
    out
}

fn assert_no_secrets(events: &[Captured], tokens: &[&str]) {
    let secrets = secrets(tokens);
    for event in events {
        for (name, value) in &event.fields {
            for secret in &secrets {
                assert!(
                    !value.contains(secret.as_str()),
                    "{} field {name} carries a secret: {value}",
                    event.name
                );
            }
            assert!(value.len() <= MAX_FIELD_LEN, "{name}: {}", value.len());
        }
    }
}

// ----- signing -----

#[test]
fn signing_emits_assertion_signed() {
    let f = fixture();
    let (assertion, events) = capture(|| f.signer.sign().unwrap());
    let e = only(&events, SIGNED);
    assert_eq!(e.level, Level::DEBUG);
    assert_eq!(e.field("message"), Some("assertion.signed"));
    assert_eq!(e.field("usage"), Some("client_authentication"));
    assert_eq!(e.field("client_id"), Some(CLIENT));
    assert_eq!(e.field("kid"), Some((*f.key).kid()));
    assert_eq!(e.field("alg"), Some("ES256"));
    assert_eq!(e.field("jti"), Some(assertion.jti()));
    assert_eq!(e.field("exp"), Some((NOW + 60).to_string().as_str()));
    assert_eq!(e.fields.len(), 7, "{e:?}");

    let (async_assertion, events) = capture(|| block_on(f.signer.sign_async()).unwrap());
    let e = only(&events, SIGNED);
    assert_eq!(e.field("jti"), Some(async_assertion.jti()));
    assert_no_secrets(&events, &[assertion.as_str(), async_assertion.as_str()]);
}

/// The test key behind an HSM that has stopped answering.
#[derive(Debug)]
struct Unavailable(Arc<PrivateKey>);

impl KeyMetadata for Unavailable {
    fn algorithms(&self) -> &'static [Algorithm] {
        self.0.algorithms()
    }

    fn kid(&self) -> std::borrow::Cow<'_, str> {
        self.0.kid()
    }

    fn public_jwk(&self) -> PublicJwk {
        self.0.public_jwk()
    }
}

impl KeySource for Unavailable {
    fn sign(&self, _: Algorithm, _: &[u8]) -> Result<Vec<u8>, Error> {
        Err(Error::new(ErrorKind::KeyBackend))
    }
}

#[test]
fn a_failed_signature_emits_assertion_sign_failed() {
    let f = fixture();
    let signer = AssertionSigner::builder(Arc::new(Unavailable(f.key.clone())), CLIENT, ISSUER)
        .clock(f.clock.clone())
        .build()
        .unwrap();
    for (result, events) in [
        capture(|| signer.sign()),
        capture(|| block_on(signer.sign_async())),
    ] {
        assert_eq!(result.unwrap_err().kind(), ErrorKind::KeyBackend);
        assert!(events.iter().all(|e| e.name != SIGNED), "{events:?}");
        let e = only(&events, SIGN_FAILED);
        assert_eq!(e.level, Level::WARN);
        assert_eq!(e.field("message"), Some("assertion.sign_failed"));
        assert_eq!(e.field("usage"), Some("client_authentication"));
        assert_eq!(e.field("client_id"), Some(CLIENT));
        assert_eq!(e.field("reason"), Some("key_backend"));
        assert_eq!(e.fields.len(), 4, "{e:?}");
        assert_no_secrets(&events, &[]);
    }
}

#[test]
fn grant_signing_reports_its_usage() {
    let f = fixture();
    let signer = AssertionSigner::grant_builder(f.key.clone(), CLIENT, "user-42", ISSUER)
        .build()
        .unwrap();
    let (_, events) = capture(|| signer.sign().unwrap());
    let e = only(&events, SIGNED);
    assert_eq!(e.field("usage"), Some("authorization_grant"));
    assert_eq!(e.field("client_id"), Some(CLIENT));
}

#[test]
fn key_ring_signing_reports_the_active_key_and_its_activation() {
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let (ring, events) = capture(|| {
        KeyRing::new(
            RotationPolicy::new(Duration::from_secs(86_400)),
            Arc::new(MemoryKeyFactory::new(KeyType::Ed25519)),
            clock.clone(),
        )
        .unwrap()
    });
    let ring = Arc::new(ring);
    let first = ring.kid().into_owned();
    // The first key is handed in by `new`; the ring's own activations are
    // the ones it performs later.
    assert!(events.iter().all(|e| e.name != KEY_ACTIVATED), "{events:?}");

    let signer = AssertionSigner::builder(ring.clone(), CLIENT, ISSUER)
        .clock(clock.clone())
        .build()
        .unwrap();
    let (assertion, events) = capture(|| {
        for _ in 0..72 {
            clock.advance(Duration::from_secs(3600));
            ring.tick().unwrap();
        }
        signer.sign().unwrap()
    });
    let activated: Vec<_> = events.iter().filter(|e| e.name == KEY_ACTIVATED).collect();
    assert!(!activated.is_empty(), "{events:#?}");
    for e in &activated {
        assert_eq!(e.level, Level::INFO);
        assert_ne!(e.field("kid"), Some(first.as_str()));
    }
    assert_eq!(
        activated.last().unwrap().field("kid"),
        Some(assertion.kid())
    );
    let signed = only(&events, SIGNED);
    assert_eq!(signed.field("kid"), Some(assertion.kid()));
    assert_eq!(signed.field("alg"), Some("EdDSA"));
}

// ----- verification -----

#[test]
fn every_verify_entry_point_emits_assertion_verified() {
    let f = fixture();
    let tokens: Vec<_> = (0..5).map(|_| f.signer.sign().unwrap()).collect();
    let (_, events) = capture(|| {
        f.verifier.verify(tokens[0].as_str()).unwrap();
        f.verifier
            .verify_with_client_id(tokens[1].as_str(), CLIENT)
            .unwrap();
        block_on(f.verifier.verify_async(tokens[2].as_str())).unwrap();
        block_on(
            f.verifier
                .verify_with_client_id_async(tokens[3].as_str(), CLIENT),
        )
        .unwrap();
        f.verifier
            .dangerous()
            .verify_without_replay_check(tokens[4].as_str())
            .unwrap();
    });
    assert_eq!(events.len(), 5, "{events:#?}");
    for (e, token) in events.iter().zip(&tokens) {
        assert_eq!(e.name, VERIFIED);
        assert_eq!(e.level, Level::INFO);
        assert_eq!(e.field("message"), Some("assertion.verified"));
        assert_eq!(e.field("usage"), Some("client_authentication"));
        assert_eq!(e.field("client_id"), Some(CLIENT));
        assert_eq!(e.field("kid"), Some((*f.key).kid()));
        assert_eq!(e.field("alg"), Some("ES256"));
        assert_eq!(e.field("jti"), Some(token.jti()));
        assert_eq!(e.field("exp"), Some((NOW + 60).to_string().as_str()));
        assert_eq!(e.fields.len(), 8, "{e:?}");
    }
    let checked: Vec<_> = events.iter().map(|e| e.field("replay_checked")).collect();
    assert_eq!(
        checked,
        [
            Some("true"),
            Some("true"),
            Some("true"),
            Some("true"),
            Some("false")
        ]
    );
    let strs: Vec<&str> = tokens.iter().map(|t| t.as_str()).collect();
    assert_no_secrets(&events, &strs);
}

/// Verifies `token` under capture and returns its single rejection event.
fn rejection(verifier: &Verifier, token: &str, code: &str) -> Captured {
    let (result, events) = capture(|| verifier.verify(token));
    assert_eq!(result.unwrap_err().code(), code);
    let e = only(&events, REJECTED);
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(e.level, Level::WARN);
    assert_eq!(e.field("message"), Some("assertion.rejected"));
    assert_eq!(e.field("usage"), Some("client_authentication"));
    assert_eq!(e.field("reason"), Some(code));
    assert_eq!(e.field("replay_checked"), Some("true"));
    assert_no_secrets(&events, &[token]);
    e
}

#[test]
fn bad_signature_names_the_registered_client_and_kid() {
    let f = fixture();
    let a = f.signer.sign().unwrap();
    let b = f.signer.sign().unwrap();
    // a's header and claims with b's (valid, but not for them) signature.
    let (input, _) = a.as_str().rsplit_once('.').unwrap();
    let (_, sig_b) = b.as_str().rsplit_once('.').unwrap();
    let forged = format!("{input}.{sig_b}");
    let e = rejection(&f.verifier, &forged, "bad_signature");
    assert_eq!(e.field("client_id"), Some(CLIENT));
    assert_eq!(e.field("kid"), Some((*f.key).kid()));
    assert_eq!(e.field("claimed_client_id"), None);
    assert_eq!(e.field("jti"), None);
    assert_no_secrets(&[e], &[b.as_str()]);
}

#[test]
fn expired_and_replayed_rejections() {
    let f = fixture();
    let token = f.signer.sign().unwrap();
    f.verifier.verify(token.as_str()).unwrap();

    let e = rejection(&f.verifier, token.as_str(), "replayed");
    assert_eq!(e.field("client_id"), Some(CLIENT));
    assert_eq!(e.field("kid"), Some((*f.key).kid()));
    // The replayed jti, signed by the client's key, is given for forensics.
    assert_eq!(e.field("jti"), Some(token.jti()));

    let late = f.signer.sign().unwrap();
    f.clock.advance(Duration::from_secs(3600));
    let e = rejection(&f.verifier, late.as_str(), "expired");
    assert_eq!(e.field("client_id"), Some(CLIENT));
    assert_eq!(e.field("kid"), Some((*f.key).kid()));
    assert_eq!(e.field("jti"), None);
}

#[test]
fn unknown_client_is_reported_as_claimed_bounded_and_escaped() {
    let f = fixture();
    let intruder = "intruder\nWARN client_assertion::audit: assertion.verified \u{1b}[31m\u{202e}";
    let signer = AssertionSigner::builder(f.key.clone(), intruder, ISSUER)
        .clock(f.clock.clone())
        .build()
        .unwrap();
    let token = signer.sign().unwrap();
    let e = rejection(&f.verifier, token.as_str(), "unknown_client");
    assert_eq!(e.field("client_id"), None);
    assert_eq!(e.field("kid"), None);
    assert_eq!(
        e.field("claimed_client_id"),
        Some(
            "intruder\\nWARN\\u{20}client_assertion::audit:\\u{20}assertion.verified\\u{20}\\u{1b}[31m\\u{202e}"
        )
    );

    // A long claimed issuer is cut to the bound.
    let long = "x".repeat(2000);
    let signer = AssertionSigner::builder(f.key.clone(), long.as_str(), ISSUER)
        .clock(f.clock.clone())
        .build()
        .unwrap();
    let token = signer.sign().unwrap();
    let e = rejection(&f.verifier, token.as_str(), "unknown_client");
    let claimed = e.field("claimed_client_id").unwrap();
    assert_eq!(claimed.len(), MAX_FIELD_LEN);
    assert!(claimed.ends_with("..."));
}

#[test]
fn malformed_and_oversized_tokens_carry_only_the_reason() {
    let f = fixture();
    let token = f.signer.sign().unwrap();
    let truncated = &token.as_str()[..token.as_str().len() - 10];
    for (bad, code) in [
        ("not-a-jwt", "malformed"),
        ("a.b.c.d", "malformed"),
        (truncated, "bad_signature"),
    ] {
        let e = rejection(&f.verifier, bad, code);
        if code == "malformed" {
            assert_eq!(e.fields.len(), 4, "{e:?}");
        }
    }
    let huge = format!("{}.{}.{}", "a".repeat(10_000), "b".repeat(10_000), "c");
    let e = rejection(&f.verifier, &huge, "too_large");
    assert_eq!(e.fields.len(), 4, "{e:?}");
}

#[test]
fn unknown_key_reports_the_claimed_kid_of_a_registered_client() {
    let f = fixture();
    let other = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let signer = AssertionSigner::builder(other.clone(), CLIENT, ISSUER)
        .clock(f.clock.clone())
        .build()
        .unwrap();
    let token = signer.sign().unwrap();
    let e = rejection(&f.verifier, token.as_str(), "unknown_key");
    assert_eq!(e.field("client_id"), Some(CLIENT));
    assert_eq!(e.field("kid"), Some((*other).kid()));
}

#[test]
fn dangerous_rejections_say_the_replay_check_was_skipped() {
    let f = fixture();
    let (result, events) = capture(|| {
        f.verifier
            .dangerous()
            .verify_without_replay_check("not-a-jwt")
    });
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Malformed);
    let e = only(&events, REJECTED);
    assert_eq!(e.field("replay_checked"), Some("false"));
}

#[test]
fn async_rejections_are_reported() {
    let f = fixture();
    f.registry.remove(CLIENT);
    let token = f.signer.sign().unwrap();
    let (result, events) = capture(|| block_on(f.verifier.verify_async(token.as_str())));
    assert_eq!(result.unwrap_err().kind(), ErrorKind::UnknownClient);
    let e = only(&events, REJECTED);
    assert_eq!(e.field("claimed_client_id"), Some(CLIENT));
    assert_no_secrets(&events, &[token.as_str()]);
}

/// A token request refused while it is read (`TokenRequest::from_form` /
/// `from_pairs`) emits one `assertion.rejected` with the error code as
/// `reason`, and nothing of the body: no client id, `kid`, `jti`, and not
/// the assertion it carried.
#[test]
fn refused_token_requests_are_audited_with_their_reason_only() {
    use client_assertion::server::TokenRequest;
    let f = fixture();
    let token = f.signer.sign().unwrap();
    let body = token.form_params().client_credentials().to_urlencoded();
    let t = token.as_str();
    let cases: [(Vec<u8>, Option<&str>, &str); 5] = [
        (
            format!("{body}&client_assertion={t}").into_bytes(),
            None,
            "duplicate_parameter",
        ),
        (
            body.clone().into_bytes(),
            Some("Basic Y2xpZW50OnNlY3JldA=="),
            "multiple_auth_methods",
        ),
        (
            format!("client_assertion_type=urn%3Aexample%3Aother&client_assertion={t}")
                .into_bytes(),
            None,
            "unsupported_assertion_type",
        ),
        (
            format!("client_id={CLIENT}&client_assertion={t}").into_bytes(),
            None,
            "missing_parameter",
        ),
        (
            b"client_assertion=\xff\xfe".to_vec(),
            None,
            "invalid_request",
        ),
    ];
    for (bytes, authorization, code) in cases {
        let (result, events) = capture(|| TokenRequest::from_form(&bytes, authorization));
        assert_eq!(result.unwrap_err().code(), code);
        assert_eq!(events.len(), 1, "{events:#?}");
        let e = only(&events, REJECTED);
        assert_eq!(e.level, Level::WARN);
        assert_eq!(e.field("usage"), Some("client_authentication"));
        assert_eq!(e.field("reason"), Some(code));
        for absent in ["client_id", "claimed_client_id", "kid", "jti"] {
            assert_eq!(e.field(absent), None, "{e:?}");
        }
        assert_no_secrets(&events, &[t]);
    }
    // The pairs entry point too, and an accepted request emits nothing.
    let pairs = [("client_secret", "s3cret-value"), ("client_assertion", t)];
    let (result, events) = capture(|| TokenRequest::from_pairs(pairs, None));
    assert_eq!(result.unwrap_err().code(), "multiple_auth_methods");
    assert_eq!(
        only(&events, REJECTED).field("reason"),
        Some("multiple_auth_methods")
    );
    assert!(events
        .iter()
        .all(|e| e.fields.values().all(|v| !v.contains("s3cret"))));
    let (result, events) = capture(|| TokenRequest::from_form(body.as_bytes(), None));
    assert!(result.is_ok());
    assert!(events.is_empty(), "{events:#?}");
}

#[test]
fn nothing_breaks_without_a_subscriber() {
    let f = fixture();
    let token = f.signer.sign().unwrap();
    assert!(block_on(f.signer.sign_async()).is_ok());
    assert_eq!(
        f.verifier.verify(token.as_str()).unwrap().jti(),
        token.jti()
    );
    assert_eq!(
        f.verifier.verify(token.as_str()).unwrap_err().kind(),
        ErrorKind::Replayed
    );
    assert_eq!(
        f.verifier.verify("x").unwrap_err().kind(),
        ErrorKind::Malformed
    );
}

#[test]
fn a_subscriber_that_wants_only_errors_gets_no_audit_events() {
    // A subscriber that wants only ERROR gets nothing, and the rejection
    // hook returns before it parses the token again.
    struct OnlyErrors(Capture);
    impl Subscriber for OnlyErrors {
        fn enabled(&self, m: &Metadata<'_>) -> bool {
            *m.level() <= Level::ERROR
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, e: &Event<'_>) {
            self.0.record(e)
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
    let f = fixture();
    let capture = Capture::default();
    let events = capture.0.clone();
    tracing::subscriber::with_default(OnlyErrors(capture), || {
        let token = f.signer.sign().unwrap();
        f.verifier.verify(token.as_str()).unwrap();
        assert!(f.verifier.verify(token.as_str()).is_err());
    });
    assert!(events.lock().unwrap().is_empty());
}

// ----- key files -----

#[test]
fn directory_key_ring_reports_the_key_it_puts_in_service() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(format!("key-{}.pem", NOW - 60)),
        data("p256.pkcs8.pem"),
    )
    .unwrap();
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let (ring, events) = capture(|| DirectoryKeyRing::open_with(dir.path(), clock.clone()));
    let ring = ring.unwrap();
    let first = ring.kid().into_owned();
    // The key found at opening is the starting point, not an activation.
    assert!(events.iter().all(|e| e.name != KEY_ACTIVATED), "{events:?}");

    let next = PrivateKey::generate(KeyType::Ed25519).unwrap();
    std::fs::write(
        dir.path().join(format!("key-{}.pem", NOW + 600)),
        next.to_pkcs8_pem().unwrap().as_bytes(),
    )
    .unwrap();
    // Published but not yet in service: no event.
    let (_, events) = capture(|| ring.reload());
    assert!(events.iter().all(|e| e.name != KEY_ACTIVATED), "{events:?}");
    assert_eq!(ring.kid(), first.as_str());

    clock.advance(Duration::from_secs(600));
    let (_, events) = capture(|| {
        ring.reload();
        ring.reload();
    });
    let e = only(&events, KEY_ACTIVATED);
    assert_eq!(e.level, Level::INFO);
    assert_eq!(e.field("kid"), Some(next.kid()));
    assert_eq!(ring.kid(), next.kid());
    assert_no_secrets(&events, &[]);
}

#[test]
fn file_key_reloads_and_failures_are_reported_without_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    let p256 = data("p256.pkcs8.pem");
    std::fs::write(&path, &p256).unwrap();
    let key = FileKey::open(&path).unwrap();
    let first = key.kid().into_owned();

    // Self-checked (the PKCS#8 EC key embeds its public key): taken at once.
    std::fs::write(&path, data("p384.pkcs8.pem")).unwrap();
    let (_, events) = capture(|| key.reload());
    let e = only(&events, KEY_RELOADED);
    assert_eq!(e.level, Level::INFO);
    assert_eq!(e.field("kid"), Some(&*key.kid()));
    assert!(e.field("path").unwrap().ends_with("key.pem"));

    // A broken file keeps the key in service, and says so once.
    let broken = p256.replace("MIG", "xxx");
    std::fs::write(&path, &broken).unwrap();
    let (_, events) = capture(|| {
        key.reload();
        key.reload();
    });
    let e = only(&events, KEY_RELOAD_FAILED);
    assert_eq!(e.level, Level::WARN);
    assert_eq!(e.field("kept_kid"), Some(&*key.kid()));
    assert_ne!(e.field("kept_kid"), Some(first.as_str()));
    assert!(e.field("reason").is_some());
    assert_no_secrets(&events, &[]);
    for line in broken.lines().filter(|l| !l.starts_with("-----")) {
        assert!(e.fields.values().all(|v| !v.contains(line)));
    }
}

// ----- the dependency -----

/// The crate names of this package's normal dependency tree with `features`.
fn normal_tree(features: &[&str]) -> std::collections::BTreeSet<String> {
    let run = |offline: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "tree",
                "-p",
                "client-assertion",
                "--target",
                "all",
                "-e",
                "normal",
            ])
            .args(["--prefix", "none", "--format", "{p}"])
            .args(features);
        if offline {
            cmd.arg("--offline");
        }
        cmd.output().expect("cargo runs")
    };
    let mut out = run(true);
    if !out.status.success() {
        out = run(false);
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn tracing_is_a_dependency_only_with_its_feature_and_brings_little() {
    let default = normal_tree(&[]);
    assert!(default.contains("client-assertion"));
    assert!(
        !default.iter().any(|c| c.starts_with("tracing")),
        "{default:?}"
    );
    let with = normal_tree(&["--features", "tracing"]);
    let added: Vec<_> = with.difference(&default).map(String::as_str).collect();
    assert!(added.contains(&"tracing"), "{added:?}");
    for name in &added {
        assert!(
            ["tracing", "tracing-core", "pin-project-lite", "once_cell"].contains(name),
            "the tracing feature brings in {name}"
        );
    }
}

// ----- JWT bearer grants and client_secret_jwt -----

#[test]
fn grant_verification_reports_the_issuer_and_never_the_subject() {
    use client_assertion::grant::{GrantVerifier, TrustedIssuers};
    let f = fixture();
    let issuers = Arc::new(TrustedIssuers::new());
    issuers
        .register("https://idp.example", &jwk_set([&*f.key]))
        .unwrap();
    let grants = GrantVerifier::builder(ISSUER, issuers)
        .clock(f.clock.clone())
        .build()
        .unwrap();
    let subject = "alice@example.org";
    let signer =
        AssertionSigner::grant_builder(f.key.clone(), "https://idp.example", subject, ISSUER)
            .clock(f.clock.clone())
            .build()
            .unwrap();
    let token = signer.sign().unwrap().into_string();
    let (ok, events) = capture(|| grants.verify(&token));
    ok.unwrap();
    let e = only(&events, VERIFIED);
    assert_eq!(e.field("usage"), Some("authorization_grant"));
    assert_eq!(e.field("client_id"), Some("https://idp.example"));
    assert_eq!(e.field("kid"), Some((*f.key).kid()));
    let (err, events) = capture(|| grants.verify(&token));
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Replayed);
    let e = only(&events, REJECTED);
    assert_eq!(e.field("usage"), Some("authorization_grant"));
    assert_eq!(e.field("reason"), Some("replayed"));
    let all: Vec<Captured> = capture(|| grants.verify("a.b.c")).1;
    assert_eq!(only(&all, REJECTED).field("reason"), Some("malformed"));
    for event in events.iter().chain(&all) {
        assert!(event.fields.values().all(|v| !v.contains(subject)));
    }
    assert_no_secrets(&events, &[&token]);
}

#[test]
fn client_secret_jwt_events_carry_no_secret() {
    use client_assertion::secret::{ClientSecret, ClientSecretJwtSigner, HmacAlgorithm};
    use client_assertion::Policy;
    let f = fixture();
    let secret = "s3cr3t-marker-0123456789abcdefghijklmnopqrstuvwxyz";
    let signer = ClientSecretJwtSigner::builder(
        ClientSecret::from_bytes(secret.as_bytes()).unwrap(),
        "legacy",
        ISSUER,
    )
    .clock(f.clock.clone())
    .build()
    .unwrap();
    f.registry
        .register_client_secret(
            "legacy",
            ClientSecret::from_bytes(secret.as_bytes()).unwrap(),
            &[HmacAlgorithm::Hs256],
        )
        .unwrap();
    let verifier = Verifier::builder(ISSUER, f.registry.clone())
        .policy(Policy::new(ISSUER).allow_client_secret_jwt())
        .clock(f.clock.clone())
        .build()
        .unwrap();
    let (assertion, signed) = capture(|| signer.sign().unwrap());
    let e = only(&signed, SIGNED);
    assert_eq!(e.field("alg"), Some("HS256"));
    assert_eq!(e.field("client_id"), Some("legacy"));
    let token = assertion.as_str().to_owned();
    let (ok, verified) = capture(|| verifier.authenticate_client(&token, None));
    assert_eq!(ok.unwrap().method(), AuthMethod::ClientSecretJwt);
    let e = only(&verified, VERIFIED);
    assert_eq!(e.field("alg"), Some("HS256"));
    assert_eq!(e.field("client_id"), Some("legacy"));
    let (err, rejected) = capture(|| verifier.authenticate_client(&token, None));
    assert_eq!(err.unwrap_err().kind(), ErrorKind::Replayed);
    assert_eq!(only(&rejected, REJECTED).field("reason"), Some("replayed"));
    let all: Vec<Captured> = signed.into_iter().chain(verified).chain(rejected).collect();
    for event in &all {
        assert!(event.fields.values().all(|v| !v.contains(secret)));
    }
    assert_no_secrets(&all, &[&token]);
}
