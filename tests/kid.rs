//! `kid`s: every encoding of one key gets the same `kid`, the RFC 7638
//! thumbprint, checked against three independent computations; explicit
//! `kid`s are kept; the published JWK Set never carries a private member.

mod common;

use std::sync::Arc;

use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{jwk_set, AssertionSigner, JwkSet, PrivateKey, PublicJwk};
use common::*;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/// RFC 7638 by hand: the required members of the fixture's public JWK, in
/// lexicographic order, no white space, SHA-256, base64url.
fn hand_thumbprint(public: &Value) -> String {
    let members: &[&str] = match public["kty"].as_str().unwrap() {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        other => panic!("kty {other}"),
    };
    let body: Vec<String> = members
        .iter()
        .map(|m| format!("\"{m}\":\"{}\"", public[*m].as_str().unwrap()))
        .collect();
    let canonical = format!("{{{}}}", body.join(","));
    b64url_encode(&Sha256::digest(canonical.as_bytes()))
}

/// jsonwebtoken's RFC 7638 implementation.
fn jsonwebtoken_thumbprint(jwk_json: &str) -> String {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(jwk_json).unwrap();
    jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
        .unwrap()
}

#[test]
fn rfc7638_thumbprint_of_the_rfc_example() {
    // RFC 7638 §3.1.
    let json = r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB"}"#;
    let expected = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    let jwk = PublicJwk::from_json(json).unwrap();
    assert_eq!(jwk.thumbprint(), expected);
    assert_eq!(
        jwk.kid(),
        expected,
        "without a kid, the kid is the thumbprint"
    );
    assert_eq!(
        hand_thumbprint(&serde_json::from_str(json).unwrap()),
        expected
    );
    assert_eq!(jsonwebtoken_thumbprint(json), expected);
}

#[test]
fn every_encoding_of_a_key_has_the_same_kid_the_thumbprint() {
    for (name, _, formats) in KEYS {
        let expected = expected_thumbprint(name);
        let public_json = read_str(&format!("{name}.public.jwk.json"));
        let public: Value = serde_json::from_str(&public_json).unwrap();
        assert_eq!(hand_thumbprint(&public), expected, "{name}: hand-computed");
        assert_eq!(
            jsonwebtoken_thumbprint(&public_json),
            expected,
            "{name}: jsonwebtoken"
        );

        for format in formats {
            let file = format!("{name}.{format}");
            let key = on_backend(PrivateKey::from_file(data(&file)).unwrap());
            assert_eq!(key.kid(), expected, "{file}");
            assert_eq!(KeyMetadata::kid(&key), expected, "{file}");
            let jwk = key.public_jwk();
            assert_eq!(jwk.kid(), expected, "{file}");
            assert_eq!(jwk.thumbprint(), expected, "{file}");
            assert_eq!(jsonwebtoken_thumbprint(&jwk.to_json()), expected, "{file}");
            // Our public members are exactly the fixture's (fixed-size EC
            // coordinates, minimal RSA integers).
            let ours: Value = serde_json::from_str(&jwk.to_json()).unwrap();
            for (member, value) in public.as_object().unwrap() {
                assert_eq!(&ours[member], value, "{file}: member {member}");
            }
        }

        // The public encodings agree.
        let spki = read_str(&format!("{name}.spki.pem"));
        assert_eq!(
            PublicJwk::from_pem(&spki).unwrap().kid(),
            expected,
            "{name} SPKI PEM"
        );
        assert_eq!(
            PublicJwk::from_spki_der(&pem_body_der(&spki))
                .unwrap()
                .kid(),
            expected,
            "{name} SPKI DER"
        );
        assert_eq!(
            PublicJwk::from_json(&public_json).unwrap().kid(),
            expected,
            "{name} JWK"
        );
        assert_eq!(
            PublicJwk::from_pem(&read_str(&format!("{name}.pkcs8.pem")))
                .unwrap()
                .kid(),
            expected,
            "{name}: public half of the private PEM"
        );
    }
}

#[test]
fn the_kid_in_the_header_is_the_published_kid() {
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    for (name, _, formats) in KEYS {
        for format in formats {
            let key = Arc::new(on_backend(
                PrivateKey::from_file(data(&format!("{name}.{format}"))).unwrap(),
            ));
            let set = jwk_set([&*key]);
            let a = AssertionSigner::builder(key.clone(), "c", "https://as.example")
                .clock(clock.clone())
                .build()
                .unwrap()
                .sign()
                .unwrap();
            let kid = split(a.as_str()).header["kid"].as_str().unwrap().to_owned();
            assert_eq!(kid, expected_thumbprint(name));
            assert_eq!(set.keys().len(), 1);
            assert_eq!(set.keys()[0].kid(), kid);
            assert!(set.find(&kid).is_some());
        }
    }
}

#[test]
fn a_private_jwk_keeps_its_own_kid() {
    let key = Arc::new(on_backend(
        PrivateKey::from_file(data("p256.kid.jwk.json")).unwrap(),
    ));
    assert_eq!(key.kid(), "fixture-p256-2024");
    assert_eq!(key.public_jwk().kid(), "fixture-p256-2024");
    assert_eq!(key.public_jwk().thumbprint(), expected_thumbprint("p256"));
    let a = AssertionSigner::builder(key.clone(), "c", "https://as.example")
        .build()
        .unwrap()
        .sign()
        .unwrap();
    assert_eq!(split(a.as_str()).header["kid"], "fixture-p256-2024");
    let set: Value = serde_json::from_str(&jwk_set([&*key]).to_json()).unwrap();
    assert_eq!(set["keys"][0]["kid"], "fixture-p256-2024");
    assert_eq!(set["keys"][0]["alg"], "ES256");

    // A public JWK's own kid is kept too.
    let mut public = read_json("p256.public.jwk.json");
    public["kid"] = json!("mine");
    assert_eq!(
        PublicJwk::from_json(&public.to_string()).unwrap().kid(),
        "mine"
    );
}

#[test]
fn with_kid_sets_an_explicit_kid() {
    let key = Arc::new(on_backend(
        PrivateKey::from_file(data("ed25519.pkcs8.pem"))
            .unwrap()
            .with_kid("2024-06-signing"),
    ));
    assert_eq!(key.kid(), "2024-06-signing");
    assert_eq!(
        key.public_jwk().thumbprint(),
        expected_thumbprint("ed25519")
    );
    let a = AssertionSigner::builder(key.clone(), "c", "https://as.example")
        .build()
        .unwrap()
        .sign()
        .unwrap();
    assert_eq!(a.kid(), "2024-06-signing");
    assert_eq!(split(a.as_str()).header["kid"], "2024-06-signing");
    let set = jwk_set([&*key]);
    assert_eq!(set.keys()[0].kid(), "2024-06-signing");

    let jwk = key.public_jwk().with_kid("renamed");
    assert_eq!(jwk.kid(), "renamed");
    assert_eq!(jwk.thumbprint(), expected_thumbprint("ed25519"));
}

/// Every private member of every fixture's private JWK, as written there.
fn private_values() -> Vec<String> {
    let mut values = Vec::new();
    for (name, _, _) in KEYS {
        let jwk = read_json(&format!("{name}.jwk.json"));
        for m in PRIVATE_MEMBERS {
            if let Some(v) = jwk[m].as_str() {
                values.push(v.to_owned());
            }
        }
    }
    assert!(values.len() >= 9);
    values
}

fn assert_public_only(set_json: &str) {
    let set: Value = serde_json::from_str(set_json).unwrap();
    let keys = set["keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        for m in PRIVATE_MEMBERS {
            assert!(key.get(m).is_none(), "private member {m} in {key}");
        }
        assert_eq!(key["use"], "sig");
        assert!(key["kid"].is_string());
    }
    for secret in private_values() {
        assert!(!set_json.contains(&secret), "a private value leaked");
    }
}

#[test]
fn the_jwk_set_never_contains_private_members() {
    // Keys from private JWKs (which carry d, p, q, dp, dq, qi) and from PEM.
    let mut keys: Vec<PrivateKey> = KEYS
        .iter()
        .map(|(name, _, _)| PrivateKey::from_file(data(&format!("{name}.jwk.json"))).unwrap())
        .collect();
    keys.push(PrivateKey::from_file(data("p256.sec1.pem")).unwrap());
    keys.push(PrivateKey::from_file(data("p256.kid.jwk.json")).unwrap());
    let set = jwk_set(keys.iter());
    // The P-256 key read twice with the same kid appears once.
    assert_eq!(set.keys().len(), 5);
    assert_public_only(&set.to_json());
    assert_public_only(&set.to_json_pretty());
    assert_public_only(&serde_json::to_string(&set).unwrap());
    for key in &keys {
        let jwk = key.public_jwk().to_json();
        assert_public_only(&format!(r#"{{"keys":[{jwk}]}}"#));
    }

    // A set that (wrongly) holds private JWKs has leaked them: it is
    // refused, and the error carries none of the private values.
    let private_set = format!(
        r#"{{"keys":[{},{}]}}"#,
        read_str("rsa2048.jwk.json"),
        read_str("p384.jwk.json")
    );
    let err = JwkSet::from_json(&private_set).unwrap_err();
    assert_eq!(err.kind(), client_assertion::ErrorKind::PrivateKeyPublished);
    let shown = format!("{err} {err:?}");
    for secret in private_values() {
        assert!(!shown.contains(&secret), "a private value in the error");
    }
    // A single JWK read for its public half keeps that half only.
    let single = PublicJwk::from_json(&read_str("ed25519.jwk.json")).unwrap();
    assert_public_only(&format!(r#"{{"keys":[{}]}}"#, single.to_json()));
}

#[test]
fn text_before_a_pem_block_is_skipped() {
    // RFC 7468 §5.2 allows explanatory text before the encapsulation
    // boundary: `openssl pkcs12 -nodes` writes "Bag Attributes" lines, and
    // some editors write a byte order mark.
    let dir = tempfile::tempdir().unwrap();
    for (name, _, formats) in KEYS {
        for format in formats.iter().filter(|f| f.ends_with(".pem")) {
            let pem = read_str(&format!("{name}.{format}"));
            for prefix in [
                "Bag Attributes\n    localKeyID: 01 00 00 00 \nKey Attributes: <No Attributes>\n",
                "\u{feff}",
                "# the client key\r\n\r\n",
            ] {
                let text = format!("{prefix}{pem}");
                let from_pem = PrivateKey::from_pem(&text).unwrap();
                let from_bytes = PrivateKey::from_bytes(text.as_bytes()).unwrap();
                let path = dir.path().join("key.pem");
                std::fs::write(&path, &text).unwrap();
                let from_file = PrivateKey::from_file(&path).unwrap();
                for key in [from_pem, from_bytes, from_file] {
                    assert_eq!(key.kid(), expected_thumbprint(name), "{name}.{format}");
                }
            }
        }
    }
}
