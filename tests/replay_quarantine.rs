//! Epochs and quarantine with the in-memory cache: a verifier refuses, with
//! `replay_quarantine`, what could have been accepted before its cache's
//! epoch, accepts what was issued in the epoch's second or later, stops
//! quarantining once the acceptance window has passed, and a restarted
//! verifier process accepts none of the assertions its previous process
//! accepted (the previous process is this test binary run again).

#[path = "common/backend.rs"]
mod backend;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backend::{on_backend, registry};
use client_assertion::grant::{GrantVerifier, TrustedIssuers};
use client_assertion::replay::{quarantines, ReplayEntry, ReplayKind, ReplayScope};
use client_assertion::time::{Clock, ManualClock};
use client_assertion::{
    jwk_set, AssertionSigner, ClientRegistry, ErrorKind, JwkSet, KeyType, MemoryReplayCache,
    PrivateKey, ReplayCache, Verifier,
};

const ISSUER: &str = "https://as.example.com";
const CLIENT: &str = "client";
const T0: u64 = 1_750_000_000;

struct Setup {
    key: Arc<PrivateKey>,
    registry: Arc<ClientRegistry>,
}

fn setup() -> Setup {
    let key = Arc::new(on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap()));
    let registry = Arc::new(registry());
    registry.register(CLIENT, &jwk_set([&*key])).unwrap();
    Setup { key, registry }
}

impl Setup {
    fn signer(&self, clock: &ManualClock) -> AssertionSigner {
        AssertionSigner::builder(self.key.clone(), CLIENT, ISSUER)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap()
    }

    fn verifier(&self, clock: &ManualClock) -> Verifier {
        Verifier::builder(ISSUER, self.registry.clone())
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap()
    }
}

fn code(r: Result<client_assertion::VerifiedAssertion, client_assertion::Error>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn older_assertions_are_quarantined_until_the_window_has_passed() {
    let s = setup();
    let clock = ManualClock::at_unix(T0);
    let signer = s.signer(&clock);
    let before = signer.sign().unwrap(); // iat T0
    clock.advance(Duration::from_millis(1500)); // T0 + 1.5 s
    let early = signer.sign().unwrap(); // iat T0 + 1
    clock.advance(Duration::from_millis(200)); // T0 + 1.7 s: the start
    let verifier = s.verifier(&clock);
    let same_second = signer.sign().unwrap(); // iat T0 + 1 too

    let err = verifier.verify(before.as_str()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReplayQuarantine);
    assert_eq!(err.code(), "replay_quarantine");
    // Issued in the epoch's own second: checked normally, whichever came
    // first, the verifier or the assertion.
    assert_eq!(code(verifier.verify(early.as_str())), "ok");
    assert_eq!(code(verifier.verify(same_second.as_str())), "ok");
    assert_eq!(code(verifier.verify(same_second.as_str())), "replayed");
    // The quarantined one stays spent: a second try is a replay.
    assert_eq!(code(verifier.verify(before.as_str())), "replayed");

    // Fresh assertions are accepted throughout.
    clock.advance(Duration::from_secs(60));
    assert_eq!(code(verifier.verify(signer.sign().unwrap().as_str())), "ok");
    // Past max_age + leeway (5 min + 30 s) an assertion issued before the
    // epoch is too old anyway: the quarantine has nothing left to do.
    let old = {
        let c = ManualClock::at_unix(T0);
        s.signer(&c).sign().unwrap()
    };
    clock.set_unix(T0 + 331);
    let late = code(verifier.verify(old.as_str()));
    assert!(matches!(late, "expired" | "lifetime_too_long"), "{late}");
}

#[test]
fn the_danger_opt_out_accepts_what_the_quarantine_refuses() {
    let s = setup();
    let clock = ManualClock::at_unix(T0);
    let before = s.signer(&clock).sign().unwrap();
    clock.advance(Duration::from_secs(5));
    let verifier = Verifier::builder(ISSUER, s.registry.clone())
        .clock(Arc::new(clock.clone()))
        .danger_accept_replays_after_state_loss()
        .build()
        .unwrap();
    assert_eq!(code(verifier.verify(before.as_str())), "ok");
    assert_eq!(code(verifier.verify(before.as_str())), "replayed");
    // Without a replay record there is no quarantine either.
    let strict = s.verifier(&clock);
    let unchecked = strict
        .dangerous()
        .verify_without_replay_check(before.as_str());
    assert!(unchecked.is_ok());
}

#[test]
fn the_rule_compares_whole_seconds_and_bounds_entries_without_iat() {
    let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
    let scope = ReplayScope::new(ReplayKind::ClientAssertion, ISSUER, CLIENT);
    let epoch = at(10_700);
    let entry = |since: Option<SystemTime>| {
        let e = ReplayEntry::new(scope, "j", at(11_000));
        match since {
            Some(t) => e.issued_at(Some(t)),
            None => e,
        }
    };
    assert!(quarantines(epoch, &entry(Some(at(9_999)))));
    assert!(!quarantines(epoch, &entry(Some(at(10_000)))));
    assert!(!quarantines(epoch, &entry(Some(at(10_900)))));
    // Nothing said of when it became acceptable: it could have been seen.
    assert!(quarantines(epoch, &entry(None)));
    let no_iat = ReplayEntry::new(scope, "j", at(11_000)).acceptable_since(at(10_000));
    assert!(!quarantines(epoch, &no_iat));
}

#[test]
fn an_assertion_without_iat_is_quarantined_while_it_may_have_been_seen() {
    use client_assertion::Policy;
    let s = setup();
    let clock = ManualClock::at_unix(T0);
    let policy = Policy::new(ISSUER).max_lifetime(Duration::from_secs(60));
    let verifier = Verifier::builder(ISSUER, s.registry.clone())
        .policy(policy)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    // exp - max_lifetime - leeway = T0 + 90 - 90 = T0: acceptable since
    // the epoch's second, not quarantined; exp T0 + 89: since before it.
    let token = |exp: u64, jti: &str| hand_signed(&s.key, jti, None, exp);
    assert_eq!(
        code(verifier.verify(&token(T0 + 89, "a"))),
        "replay_quarantine"
    );
    assert_eq!(code(verifier.verify(&token(T0 + 90, "b"))), "ok");
}

/// A signed assertion with the given claims, built by hand.
fn hand_signed(key: &PrivateKey, jti: &str, iat: Option<u64>, exp: u64) -> String {
    hand_signed_to(key, jti, iat, exp, ISSUER)
}

/// `jti` again, for another authorization server (audience).
fn hand_signed_for(key: &PrivateKey, jti: &str, aud: &str) -> String {
    hand_signed_to(key, jti, Some(T0), T0 + 60, aud)
}

fn hand_signed_to(key: &PrivateKey, jti: &str, iat: Option<u64>, exp: u64, aud: &str) -> String {
    use base64::Engine as _;
    use client_assertion::{Algorithm, KeySource};
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let header = serde_json::json!({"alg": "EdDSA", "kid": key.kid(), "typ": "JWT"});
    let mut claims = serde_json::json!({
        "iss": CLIENT, "sub": CLIENT, "aud": aud, "jti": jti, "exp": exp,
    });
    if let Some(iat) = iat {
        claims["iat"] = iat.into();
    }
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = KeySource::sign(key, Algorithm::EdDsa, input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&sig))
}

#[test]
fn one_cache_serves_several_verifiers_and_servers_and_default_ones_are_separate() {
    let s = setup();
    let clock = ManualClock::at_unix(T0);
    let cache: Arc<dyn ReplayCache> = Arc::new(MemoryReplayCache::default());
    let shared = |issuer: &str| {
        let registry = Arc::new(ClientRegistry::new());
        registry.register(CLIENT, &jwk_set([&*s.key])).unwrap();
        Verifier::builder(issuer, registry)
            .replay_cache(cache.clone())
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap()
    };
    let (a, b, other_server) = (
        shared(ISSUER),
        shared(ISSUER),
        shared("https://as2.example"),
    );
    let assertion = s.signer(&clock).sign().unwrap();
    assert_eq!(code(a.verify(assertion.as_str())), "ok");
    assert_eq!(code(b.verify(assertion.as_str())), "replayed");
    // The same client and jti for another authorization server: its own
    // scope (the issuer is part of it), so no false replay.
    let other = hand_signed_for(&s.key, assertion.jti(), "https://as2.example");
    assert_eq!(code(other_server.verify(&other)), "ok");
    // A grant verifier on the same cache shares it without collisions.
    let issuers = Arc::new(TrustedIssuers::new());
    issuers.register(CLIENT, &jwk_set([&*s.key])).unwrap();
    let grants = GrantVerifier::builder(ISSUER, issuers)
        .replay_cache(cache.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let grant = AssertionSigner::grant_builder(s.key.clone(), CLIENT, "alice", ISSUER)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
        .sign()
        .unwrap();
    assert!(grants.verify(grant.as_str()).is_ok());
    assert_eq!(
        grants.verify(grant.as_str()).unwrap_err().kind(),
        ErrorKind::Replayed
    );

    // Two verifiers built without a cache have a memory each: documented.
    let (x, y) = (s.verifier(&clock), s.verifier(&clock));
    let twice = s.signer(&clock).sign().unwrap();
    assert_eq!(code(x.verify(twice.as_str())), "ok");
    assert_eq!(code(y.verify(twice.as_str())), "ok");
}

// ---------------------------------------------------------------------------
// A verifier process restarted.

const RESTART_TOKENS: usize = 1000;

/// Not a test of its own: the verifier process of
/// `a_restarted_verifier_process_accepts_no_replay`, run with
/// `CA_QUARANTINE_CHILD` set. Mode `first`: builds a verifier, then signs
/// and verifies `RESTART_TOKENS` assertions as a live server would,
/// writing the accepted ones out. Mode `second`: a new process, presented
/// with all of them, then with fresh ones.
#[test]
fn child_process() {
    let Ok(mode) = std::env::var("CA_QUARANTINE_CHILD") else {
        return;
    };
    let dir = std::path::PathBuf::from(std::env::var("CA_QUARANTINE_DIR").unwrap());
    let key = PrivateKey::from_pem(&std::fs::read_to_string(dir.join("key.pem")).unwrap()).unwrap();
    let key = Arc::new(on_backend(key));
    let registry = Arc::new(registry());
    let jwks = JwkSet::from_json(&jwk_set([&*key]).to_json()).unwrap();
    registry.register(CLIENT, &jwks).unwrap();
    let verifier = Verifier::builder(ISSUER, registry).build().unwrap();
    let signer = AssertionSigner::builder(key, CLIENT, ISSUER)
        .build()
        .unwrap();
    let mut out = Vec::new();
    if mode == "first" {
        for _ in 0..RESTART_TOKENS {
            let a = signer.sign().unwrap();
            if verifier.verify(a.as_str()).is_ok() {
                out.push(a.as_str().to_owned());
            }
        }
        let last = client_assertion::time::SystemClock.now();
        out.push(format!("{}", unix_secs(last)));
        std::fs::write(dir.join("accepted"), out.join("\n")).unwrap();
    } else {
        let text = std::fs::read_to_string(dir.join("accepted")).unwrap();
        for token in text.lines().take(RESTART_TOKENS) {
            out.push(code(verifier.verify(token)).to_owned());
        }
        for _ in 0..10 {
            out.push(format!(
                "fresh {}",
                code(verifier.verify(signer.sign().unwrap().as_str()))
            ));
        }
        std::fs::write(dir.join("second"), out.join("\n")).unwrap();
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn run_child(mode: &str, dir: &std::path::Path) {
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["child_process", "--exact", "--test-threads", "1"])
        .env("CA_QUARANTINE_CHILD", mode)
        .env("CA_QUARANTINE_DIR", dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "child {mode}: {status}");
}

#[test]
fn a_restarted_verifier_process_accepts_no_replay() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(KeyType::Ed25519).unwrap();
    std::fs::write(dir.path().join("key.pem"), &*key.to_pkcs8_pem().unwrap()).unwrap();
    run_child("first", dir.path());
    let text = std::fs::read_to_string(dir.path().join("accepted")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last: u64 = lines.pop().unwrap().parse().unwrap();
    assert_eq!(lines.len(), RESTART_TOKENS, "the first process accepts all");
    // The documented residual window is the second of the restart itself:
    // a process restarted in the same second as its predecessor's last
    // acceptance could accept that second's assertions again. A real
    // restart takes longer; here, start the second process in a later
    // second (at most one second of waiting).
    while unix_secs(SystemTime::now()) <= last {
        std::thread::sleep(Duration::from_millis(20));
    }
    run_child("second", dir.path());
    let text = std::fs::read_to_string(dir.path().join("second")).unwrap();
    let mut codes = std::collections::HashMap::<&str, usize>::new();
    for line in text.lines() {
        *codes.entry(line).or_default() += 1;
    }
    println!("restarted process: {codes:?}");
    assert_eq!(codes.get("ok"), None, "0 replays accepted: {codes:?}");
    assert_eq!(codes.get("replay_quarantine"), Some(&RESTART_TOKENS));
    assert_eq!(codes.get("fresh ok"), Some(&10));
}
