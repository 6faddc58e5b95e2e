//! Property tests: `Verifier::verify` never panics on arbitrary input, and
//! a mutated token is never accepted unless it is byte-identical to the
//! original (no malleability: one valid encoding per signed token).

#[path = "../common/backend.rs"]
mod backend;

use std::sync::{Arc, OnceLock};

use backend::{on_backend, registry};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use client_assertion::client::TokenType;
use client_assertion::time::ManualClock;
use client_assertion::{
    jwk_set, AssertionSigner, KeySource, KeyType, Policy, PrivateKey, Verifier,
};
use proptest::prelude::*;

const ISSUER: &str = "https://as.example.com";
const CLIENT: &str = "client";

struct World {
    verifier: Verifier,
    /// Valid tokens (ES256, EdDSA, EdDSA without `typ`), never presented
    /// through `verify` except by the properties themselves.
    tokens: Vec<String>,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let clock = Arc::new(ManualClock::at_unix(1_750_000_000));
        let ec = Arc::new(on_backend(PrivateKey::generate(KeyType::P256).unwrap()));
        let ed = Arc::new(on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap()));
        let registry = Arc::new(registry());
        registry
            .register(CLIENT, &jwk_set([&*ec as &dyn KeySource, &*ed]))
            .unwrap();
        let verifier = Verifier::builder(ISSUER, registry)
            .policy(Policy::new(ISSUER).accept_single_element_audience_array())
            .clock(clock.clone())
            .build()
            .unwrap();
        let sign = |key: &Arc<PrivateKey>, typ| {
            AssertionSigner::builder(key.clone(), CLIENT, ISSUER)
                .clock(clock.clone())
                .token_type(typ)
                .build()
                .unwrap()
                .sign()
                .unwrap()
                .into_string()
        };
        let tokens = vec![
            sign(&ec, TokenType::ClientAuthentication),
            sign(&ed, TokenType::Jwt),
            sign(&ed, TokenType::Omitted),
        ];
        for t in &tokens {
            verifier
                .dangerous()
                .verify_without_replay_check(t)
                .expect("the originals are valid");
        }
        World { verifier, tokens }
    })
}

/// Verifies `candidate` both ways; returns whether it was accepted as a
/// valid token (ignoring replay).
fn check(candidate: &str) -> bool {
    let w = world();
    let valid = w
        .verifier
        .dangerous()
        .verify_without_replay_check(candidate);
    let presented = w.verifier.verify(candidate);
    if let Err(e) = &presented {
        assert!(e.kind().is_rejection(), "{e:?}");
        assert!(!e.code().is_empty());
    }
    if presented.is_ok() {
        assert!(valid.is_ok(), "accepted by verify but not valid");
    }
    valid.is_ok()
}

#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    FlipBit(usize, u8),
    Truncate(usize),
    Swap(usize, usize),
    /// Copy a range of the token elsewhere (segment splicing).
    Splice(usize, usize, usize),
    /// Re-encode one segment after changing one byte of its decoded form,
    /// so that the change reaches the JSON parser or the signature check
    /// in canonical base64url.
    Decoded(usize, usize, u8),
}

fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => proptest::sample::select(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".to_vec()
        ),
        2 => proptest::sample::select(b".=+/ \n\t\0\"\\{}[],:".to_vec()),
        1 => any::<u8>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), interesting_byte()).prop_map(|(i, b)| Mutation::Set(i, b)),
        2 => (any::<usize>(), interesting_byte()).prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => any::<usize>().prop_map(Mutation::Remove),
        2 => (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
        1 => (any::<usize>(), any::<usize>(), 1usize..40)
            .prop_map(|(i, j, n)| Mutation::Splice(i, j, n)),
        3 => (0usize..3, any::<usize>(), any::<u8>())
            .prop_map(|(s, i, b)| Mutation::Decoded(s, i, b)),
    ]
}

fn apply(token: &str, mutations: &[Mutation]) -> String {
    let mut t = token.as_bytes().to_vec();
    for m in mutations {
        let len = t.len().max(1);
        match *m {
            Mutation::Set(i, b) if !t.is_empty() => t[i % len] = b,
            Mutation::Insert(i, b) => t.insert(i % (t.len() + 1), b),
            Mutation::Remove(i) if !t.is_empty() => {
                t.remove(i % len);
            }
            Mutation::FlipBit(i, bit) if !t.is_empty() => t[i % len] ^= 1 << bit,
            Mutation::Truncate(i) => t.truncate(i % len),
            Mutation::Swap(i, j) if !t.is_empty() => t.swap(i % len, j % len),
            Mutation::Splice(i, j, n) if !t.is_empty() => {
                let from = i % len;
                let chunk: Vec<u8> = t[from..(from + n).min(t.len())].to_vec();
                let at = j % (t.len() + 1);
                t.splice(at..at, chunk);
            }
            Mutation::Decoded(seg, i, b) => {
                let text = String::from_utf8_lossy(&t).into_owned();
                let mut parts: Vec<String> = text.split('.').map(str::to_owned).collect();
                if let Some(part) = parts.get_mut(seg) {
                    if let Ok(mut bytes) = URL_SAFE_NO_PAD.decode(part.as_bytes()) {
                        if !bytes.is_empty() {
                            let k = i % bytes.len();
                            bytes[k] = b;
                        }
                        *part = URL_SAFE_NO_PAD.encode(&bytes);
                    }
                }
                t = parts.join(".").into_bytes();
            }
            _ => {}
        }
    }
    match String::from_utf8(t) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Three segments of arbitrary (base64url-encoded) bytes, or of arbitrary
/// JSON objects over the registered member names.
fn jws_shaped() -> impl Strategy<Value = String> {
    let json_value = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        "[a-zA-Z0-9:/._+-]{0,40}".prop_map(|s| format!("\"{s}\"")),
        Just(format!("\"{CLIENT}\"")),
        Just(format!("\"{ISSUER}\"")),
        Just("[\"https://as.example.com\"]".to_owned()),
        Just("\"ES256\"".to_owned()),
        Just("\"EdDSA\"".to_owned()),
        Just("\"none\"".to_owned()),
        Just("1750000000".to_owned()),
        Just("1750000060".to_owned()),
    ];
    let member = (
        proptest::sample::select(vec![
            "alg", "kid", "typ", "crit", "jwk", "x5c", "iss", "sub", "aud", "exp", "nbf", "iat",
            "jti", "x",
        ]),
        json_value,
    )
        .prop_map(|(k, v)| format!("\"{k}\":{v}"));
    let object =
        proptest::collection::vec(member, 0..9).prop_map(|m| format!("{{{}}}", m.join(",")));
    prop_oneof![
        (
            proptest::collection::vec(any::<u8>(), 0..200),
            proptest::collection::vec(any::<u8>(), 0..400),
            proptest::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(|(h, p, s)| format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(h),
                URL_SAFE_NO_PAD.encode(p),
                URL_SAFE_NO_PAD.encode(s)
            )),
        (
            object.clone(),
            object,
            proptest::collection::vec(any::<u8>(), 0..130)
        )
            .prop_map(|(h, p, s)| format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode(h),
                URL_SAFE_NO_PAD.encode(p),
                URL_SAFE_NO_PAD.encode(s)
            )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic_nor_pass(s in any::<String>()) {
        prop_assert!(!check(&s));
    }

    #[test]
    fn base64ish_strings_never_panic_nor_pass(s in "[A-Za-z0-9_.=+/-]{0,700}") {
        prop_assert!(!check(&s));
    }

    #[test]
    fn jws_shaped_garbage_never_panics_nor_passes(s in jws_shaped()) {
        prop_assert!(!check(&s));
    }

    #[test]
    fn mutated_tokens_pass_only_when_identical(
        which in 0usize..3,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let original = &world().tokens[which];
        let mutated = apply(original, &mutations);
        let accepted = check(&mutated);
        prop_assert_eq!(accepted, &mutated == original, "mutated: {}", mutated);
    }
}

#[test]
fn the_originals_are_accepted_once() {
    // `check` on an unmutated original: valid, and through `verify` it is
    // accepted the first time only (the properties above may have presented
    // it already, so only validity is asserted here).
    for t in &world().tokens {
        assert!(check(t));
        assert_eq!(
            world().verifier.verify(t).unwrap_err().kind(),
            client_assertion::ErrorKind::Replayed
        );
    }
}
