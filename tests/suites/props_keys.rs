//! Key loading never panics on arbitrary bytes, text, mutated key files or
//! mutated JWK members (moved from tests/key_errors.rs with proptest).

#[path = "../common/mod.rs"]
mod common;

use client_assertion::{JwkSet, PrivateKey, PublicJwk};
use common::*;
use proptest::prelude::*;
use serde_json::{json, Value};

/// Every valid private key fixture, as bytes.
fn valid_files() -> Vec<Vec<u8>> {
    KEYS.iter()
        .flat_map(|(name, _, formats)| formats.iter().map(move |f| read(&format!("{name}.{f}"))))
        .collect()
}

fn no_panic_on(bytes: &[u8]) {
    let _ = PrivateKey::from_bytes(bytes);
    let _ = PrivateKey::from_der(bytes);
    let _ = PublicJwk::from_spki_der(bytes);
    let text = String::from_utf8_lossy(bytes);
    let _ = PrivateKey::from_pem(&text);
    let _ = PrivateKey::from_jwk(&text);
    let _ = PublicJwk::from_pem(&text);
    let _ = PublicJwk::from_json(&text);
    let _ = JwkSet::from_json(&text);
    let _ = JwkSet::from_json(&format!("{{\"keys\":[{text}]}}"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        no_panic_on(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        no_panic_on(text.as_bytes());
    }

    #[test]
    fn mutated_key_files_never_panic(
        file in 0usize..18,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..8),
    ) {
        let files = valid_files();
        let mut bytes = files[file % files.len()].clone();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                bytes.push(byte);
                continue;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes[i] ^= 1 << (byte % 8),
                2 => bytes.insert(i, byte),
                _ => { bytes.truncate(i); }
            }
        }
        no_panic_on(&bytes);
    }

    #[test]
    fn mutated_jwk_members_never_panic(
        key in 0usize..4,
        member in prop::sample::select(vec!["kty", "crv", "x", "y", "n", "e", "d", "p", "q", "kid", "alg", "use", "key_ops"]),
        value in prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            "[A-Za-z0-9_-]{0,400}".prop_map(Value::from),
            proptest::collection::vec(any::<u8>(), 0..600).prop_map(|b| Value::from(b64url_encode(&b))),
            Just(json!(["sign"])),
            Just(json!({})),
        ],
    ) {
        let (name, _, _) = KEYS[key];
        let mut jwk = read_json(&format!("{name}.jwk.json"));
        jwk[member] = value;
        no_panic_on(jwk.to_string().as_bytes());
    }
}
