//! Inputs found by the fuzz targets in `fuzz_targets/` (see `scripts/fuzz.sh`),
//! replayed through the same hidden entry points, plus every committed seed.
//!
//! `client_assertion::fuzzing` exists only under `--cfg fuzzing`, which
//! cargo-fuzz sets; run from the repository root (as `scripts/test.sh` does):
//!
//! ```sh
//! RUSTFLAGS="--cfg fuzzing" CARGO_TARGET_DIR=fuzz/target/regressions \
//!     cargo test --manifest-path fuzz/Cargo.toml --test regressions
//! ```
//!
//! Each regression names the target that found it and what was wrong.

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use client_assertion::fuzzing::{self, FUZZ_CLIENT, FUZZ_ISSUER, FUZZ_NOW};
use client_assertion::time::ManualClock;
use client_assertion::{ClientRegistry, MemoryReplayCache, ReplayCache, Verifier};

/// Every `fuzz/corpus/<target>/seed-*` file, replayed through `entry`.
fn replay_seeds(target: &str, entry: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut seeds = 0;
    for file in std::fs::read_dir(&dir).expect("the seed corpus exists") {
        let path = file.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("seed-") {
            entry(&std::fs::read(&path).expect("a seed reads"));
            seeds += 1;
        }
    }
    assert!(seeds > 0, "no seeds in {}", dir.display());
}

#[test]
fn seed_corpora_run_clean() {
    replay_seeds("verify_token", fuzzing::verify_token);
    replay_seeds("parse_token", fuzzing::parse_token);
    replay_seeds("parse_private_key", fuzzing::parse_private_key);
    replay_seeds("parse_public_key", fuzzing::parse_public_key);
    replay_seeds("parse_jwks", fuzzing::parse_jwks);
}

/// parse_token: a claims segment holding a byte that is not UTF-8
/// (`"fuv\xaeuclient"`) inside a member the verifier skips was accepted,
/// because serde_json does not validate the strings it skips. Header and
/// claims must be UTF-8 JSON (RFC 7519 §7.2); they are now `malformed`.
#[test]
fn parse_token_rejects_non_utf8_in_a_skipped_member() {
    let crash = concat!(
        "eyJhbGciOiJSUzI1NiIsImtpZCI6Ii1hOFVSWW9saV9PVnU5NVYtc2ZaZHJhMXN6VHFheWhMSjZRZXRveXhkeVkifQ",
        ".eyJpc2MiOiJmdXaudWNsaWVudCIsInN2YiI6ImZ1enotY2xpZW50IiwiYXVkIjoiaHR0cHM6Ly9hcy5leGFtcGxlLmNvbSIs",
        "Imp0aSI6ImEzZjFjMmQ0IiwiaWF0IjoxNzUwMDAwMDAwLCJuYmYiOjE3NTAwMDAwMDAsImV4cCI6MTc1MDAwMDA2MH0",
        ".BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH",
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH",
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH",
        "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBw",
    );
    fuzzing::parse_token(crash.as_bytes());
}

/// The same defect end to end: a validly signed assertion whose claims
/// carry a non-UTF-8 byte (or the header does) is rejected as `malformed`.
#[test]
fn signed_assertion_with_non_utf8_json_is_malformed() {
    let registry = Arc::new(ClientRegistry::new());
    registry
        .register_jwks_json(FUZZ_CLIENT, &fuzzing::fixture_jwks())
        .expect("the fixture registers");
    // A cache whose memory is complete since long before the clock (a
    // server running for a while): these tokens carry no `iat`, and this
    // test is about their encoding, not the quarantine after a start.
    let cache = Arc::new(MemoryReplayCache::default());
    ReplayCache::epoch(&*cache, std::time::UNIX_EPOCH);
    let verifier = Verifier::builder(FUZZ_ISSUER, registry)
        .replay_cache(cache)
        .clock(Arc::new(ManualClock::at_unix(FUZZ_NOW)))
        .build()
        .expect("default policy");
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let claims = |extra: &[u8]| {
        [
            format!(
                r#"{{"iss":"{FUZZ_CLIENT}","sub":"{FUZZ_CLIENT}","aud":"{FUZZ_ISSUER}","jti":"j","exp":{},"note":""#,
                FUZZ_NOW + 60
            )
            .as_bytes(),
            extra,
            br#""}"#,
        ]
        .concat()
    };
    let header = |extra: &[u8]| [br#"{"alg":"EdDSA","x":""#, extra, br#""}"#].concat();
    let token =
        |h: &[u8], c: &[u8]| fuzzing::sign_with_fixture_key(2, &format!("{}.{}", b64(h), b64(c)));

    // Control: the same token with UTF-8 text verifies.
    assert!(verifier
        .verify(&token(&header(b"ok"), &claims("é".as_bytes())))
        .is_ok());
    for (h, c) in [
        (header(b"ok"), claims(b"\xae")),
        (header(b"\xff\xfe"), claims(b"ok")),
        (header(b"ok"), claims(b"\xed\xa0\x80")), // an encoded surrogate
    ] {
        let err = verifier.verify(&token(&h, &c)).unwrap_err();
        assert_eq!(err.code(), "malformed");
    }
}
