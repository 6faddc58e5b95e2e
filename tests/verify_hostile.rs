//! Hostile assertions: one test per attack class, each rejected with its
//! documented reason code (and every rejection checked for leaks: its
//! client-facing texts never carry token content, and it maps to the OAuth
//! error `invalid_client`).
//!
//! Tokens are built by hand (JSON -> base64url -> `KeySource::sign`), so
//! each test controls the exact bytes the verifier sees.

mod verify_common;

use std::sync::Arc;
use std::time::Duration;

use client_assertion::KeyMetadata;
use client_assertion::{
    jwk_set, Algorithm, ErrorKind, KeySource, KeyType, Policy, PrivateKey, Verifier,
};
use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::Generate as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use verify_common::*;

fn p256() -> Fixture {
    Fixture::new(KeyType::P256)
}

// ---------------------------------------------------------------- algorithms

#[test]
fn alg_none_is_algorithm_not_allowed() {
    let f = p256();
    let claims = f.claims().to_string();
    for name in ["none", "None", "NONE"] {
        let header = json!({"alg": name, "kid": f.key.kid()}).to_string();
        // The canonical unsecured JWS: an empty signature segment.
        let unsecured = format!("{}.", signing_input(&header, &claims));
        assert_rejected(
            f.verify(&unsecured),
            ErrorKind::AlgorithmNotAllowed,
            &unsecured,
        );
        // The same with a signature of the registered key over it.
        let signed = sign_raw(&*f.key, Algorithm::Es256, &header, &claims);
        assert_rejected(f.verify(&signed), ErrorKind::AlgorithmNotAllowed, &signed);
    }
}

/// HMAC-SHA256 (RFC 2104), enough for the key-confusion attack.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = Sha256::new()
        .chain_update(&ipad)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

#[test]
fn hs256_keyed_with_the_public_key_is_algorithm_not_allowed() {
    // The classic key-confusion attack: an HMAC whose secret is the
    // client's *public* key (as JWK JSON, as SPKI PEM, as raw JWK Set).
    let rsa_pem = include_str!("data/rsa2048.spki.pem");
    let key = Arc::new(on_backend(
        PrivateKey::from_pem(include_str!("data/rsa2048.pkcs8.pem")).unwrap(),
    ));
    let f = Fixture::with_key(key, Policy::new(ISSUER));
    let public_jwk = f.key.public_jwk().to_json();
    let jwks = jwk_set([&*f.key]).to_json();
    for secret in [public_jwk.as_str(), rsa_pem, jwks.as_str()] {
        for alg in ["HS256", "HS384", "HS512"] {
            let header = json!({"alg": alg, "kid": f.key.kid(), "typ": "JWT"}).to_string();
            let input = signing_input(&header, &f.claims().to_string());
            let mac = hmac_sha256(secret.as_bytes(), input.as_bytes());
            let token = format!("{input}.{}", b64(&mac));
            assert_rejected(f.verify(&token), ErrorKind::AlgorithmNotAllowed, &token);
            // Without kid the answer is the same.
            let header = json!({"alg": alg}).to_string();
            let input = signing_input(&header, &f.claims().to_string());
            let token = format!(
                "{input}.{}",
                b64(&hmac_sha256(secret.as_bytes(), input.as_bytes()))
            );
            assert_rejected(f.verify(&token), ErrorKind::AlgorithmNotAllowed, &token);
        }
    }
}

#[test]
fn unknown_algorithm_names_are_algorithm_not_allowed() {
    let f = p256();
    for alg in [
        "es256",
        "ES512",
        "RS384",
        "PS512",
        "ES256K",
        "EdDSA25519",
        "",
    ] {
        let header = with(f.header(), "alg", json!(alg));
        let token = f.token(&header, &f.claims());
        assert_rejected(f.verify(&token), ErrorKind::AlgorithmNotAllowed, &token);
    }
    // A non-string alg.
    let token = f.token(&with(f.header(), "alg", json!(["ES256"])), &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::AlgorithmNotAllowed, &token);
    // No alg at all is a malformed JWS.
    let token = f.token(&with(f.header(), "alg", Value::Null), &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
}

#[test]
fn policy_restricted_algorithms_are_enforced() {
    let f = Fixture::with_policy(
        KeyType::P256,
        Policy::new(ISSUER).algorithms(&[Algorithm::EdDsa]),
    );
    let token = f.good();
    assert_rejected(f.verify(&token), ErrorKind::AlgorithmNotAllowed, &token);
}

#[test]
fn ed25519_kid_with_an_es256_header_is_algorithm_not_allowed() {
    // The client registers an Ed25519 and a P-256 key; the attacker (or a
    // confused client) names the Ed25519 key with alg ES256, signed by the
    // P-256 key.
    let ed = on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap());
    let ec = Arc::new(on_backend(PrivateKey::generate(KeyType::P256).unwrap()));
    let f = Fixture::with_key(ec.clone(), Policy::new(ISSUER));
    f.registry
        .register(
            CLIENT,
            &jwk_set([&ed as &dyn KeySource, &*ec as &dyn KeySource]),
        )
        .unwrap();
    let header = json!({"alg": "ES256", "kid": ed.kid()});
    let token = f.token(&header, &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::AlgorithmNotAllowed, &token);
    // And the other way round: the P-256 key's kid with alg EdDSA.
    let header = json!({"alg": "EdDSA", "kid": ec.kid()});
    let token = sign_json(&ed, &header, &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::AlgorithmNotAllowed, &token);
    // A JWK pinned to PS256 refuses RS256 signatures by its own key.
    let rsa = on_backend(
        PrivateKey::from_pem(include_str!("data/rsa2048.pkcs8.pem"))
            .unwrap()
            .with_algorithm(Algorithm::Ps256)
            .unwrap(),
    );
    f.registry.register(CLIENT, &jwk_set([&rsa])).unwrap();
    let unpinned =
        on_backend(PrivateKey::from_pem(include_str!("data/rsa2048.pkcs8.pem")).unwrap());
    let header = json!({"alg": "RS256", "kid": rsa.kid()});
    let token = sign_json(&unpinned, &header, &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::AlgorithmNotAllowed, &token);
    let header = json!({"alg": "PS256", "kid": rsa.kid()});
    let token = sign_json(&rsa, &header, &f.claims());
    f.verify(&token).expect("PS256 with the PS256-pinned key");
}

// ---------------------------------------------------------------- signatures

#[test]
fn wrong_key_with_the_registered_kid_is_bad_signature() {
    let f = p256();
    let attacker = on_backend(PrivateKey::generate(KeyType::P256).unwrap());
    let token = sign_json(&attacker, &f.header(), &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    // Without kid: every key of the algorithm is tried, none verifies.
    let token = sign_json(
        &attacker,
        &with(f.header(), "kid", Value::Null),
        &f.claims(),
    );
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    // Raw p256, outside our key types.
    let raw = p256::ecdsa::SigningKey::generate();
    let input = signing_input(&f.header().to_string(), &f.claims().to_string());
    let sig: p256::ecdsa::Signature = raw.sign(input.as_bytes());
    let token = format!("{input}.{}", b64(&sig.to_bytes()));
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
}

#[test]
fn tampered_header_is_bad_signature() {
    let f = p256();
    let good = f.good();
    let (_, rest) = good.split_once('.').unwrap();
    // Same members, another typ / an added member: the signature no longer covers it.
    for header in [
        with(f.header(), "typ", json!("JWT")),
        with(f.header(), "x5t", json!("AAAA")),
        with(f.header(), "typ", Value::Null),
    ] {
        let token = format!("{}.{rest}", b64(header.to_string().as_bytes()));
        assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    }
    f.verify(&good).expect("the untampered token");
}

#[test]
fn tampered_payload_is_bad_signature() {
    let f = p256();
    let header = f.header();
    let claims = f.claims();
    let good = f.token(&header, &claims);
    let parts: Vec<&str> = good.split('.').collect();
    for tampered in [
        with(claims.clone(), "exp", json!(NOW + 50)),
        with(claims.clone(), "jti", json!("another-jti")),
        with(claims.clone(), "extra", json!(true)),
    ] {
        let token = format!(
            "{}.{}.{}",
            parts[0],
            b64(tampered.to_string().as_bytes()),
            parts[2]
        );
        assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    }
    // Another token's signature spliced in.
    let other = f.good();
    let token = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        other.rsplit('.').next().unwrap()
    );
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    f.verify(&good).expect("the untampered token");
}

#[test]
fn der_encoded_ecdsa_signature_is_bad_signature() {
    let f = p256();
    let input = signing_input(&f.header().to_string(), &f.claims().to_string());
    let raw = f.key.sign(Algorithm::Es256, input.as_bytes()).unwrap();
    let der = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
    let token = format!("{input}.{}", b64(der.as_bytes()));
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    // The raw signature of the very same input is good.
    let token = format!("{input}.{}", b64(&raw));
    f.verify(&token).expect("raw r||s");
    // Truncated and extended raw signatures.
    let f = p256();
    let input = signing_input(&f.header().to_string(), &f.claims().to_string());
    let raw = f.key.sign(Algorithm::Es256, input.as_bytes()).unwrap();
    for sig in [
        &raw[..63],
        &[raw.as_slice(), &[0]].concat()[..],
        &[0u8; 64][..],
    ] {
        let token = format!("{input}.{}", b64(sig));
        assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    }
}

#[test]
fn embedded_x5c_with_attacker_key_and_signature_is_bad_signature() {
    // The attacker's own certificate and key (the P-256 fixture), with the
    // victim client's kid, or with none: x5c is never used as a key.
    let cert_pem = include_str!("data/p256.cert.pem");
    let cert_b64: String = cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let attacker = on_backend(PrivateKey::from_pem(include_str!("data/p256.pkcs8.pem")).unwrap());
    let f = p256();
    let header = with(f.header(), "x5c", json!([cert_b64]));
    let token = sign_json(&attacker, &header, &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    let header = json!({"alg": "ES256", "x5c": [cert_b64]});
    let token = sign_json(&attacker, &header, &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    // With the attacker's thumbprint as kid: not a registered key.
    let header = json!({"alg": "ES256", "kid": attacker.kid(), "x5c": [cert_b64]});
    let token = sign_json(&attacker, &header, &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::UnknownKey, &token);
    // x5c by itself does not hurt a genuine token.
    let header = with(f.header(), "x5c", json!([cert_b64]));
    let token = f.token(&header, &f.claims());
    f.verify(&token).expect("x5c is ignored");
}

#[test]
fn unknown_kid_is_unknown_key() {
    let f = p256();
    for kid in ["no-such-key", "", &f.key.kid().to_uppercase()] {
        let token = f.token(&with(f.header(), "kid", json!(kid)), &f.claims());
        assert_rejected(f.verify(&token), ErrorKind::UnknownKey, &token);
    }
    // A non-string kid is malformed.
    let token = f.token(&with(f.header(), "kid", json!(1)), &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
}

#[test]
fn no_kid_and_several_keys_finds_the_right_one() {
    let keys: Vec<PrivateKey> = (0..3)
        .map(|_| on_backend(PrivateKey::generate(KeyType::P256).unwrap()))
        .collect();
    let ed = on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap());
    let f = p256();
    let mut sources: Vec<&dyn KeySource> = keys.iter().map(|k| k as &dyn KeySource).collect();
    sources.insert(1, &ed);
    f.registry.register(CLIENT, &jwk_set(sources)).unwrap();
    for key in keys.iter().chain([&ed]) {
        let header = json!({"alg": key.algorithms()[0].name(), "typ": "JWT"});
        let token = sign_json(key, &header, &f.claims());
        let v = f.verify(&token).expect("the signing key is found");
        assert_eq!(v.kid(), key.kid());
    }
    // At most MAX_KEYS_TRIED_WITHOUT_KID keys of the algorithm are tried.
    let many: Vec<PrivateKey> = (0..=client_assertion::Verifier::MAX_KEYS_TRIED_WITHOUT_KID)
        .map(|_| on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap()))
        .collect();
    f.registry.register(CLIENT, &jwk_set(many.iter())).unwrap();
    let last = many.last().unwrap();
    let token = sign_json(last, &json!({"alg": "EdDSA"}), &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    let token = sign_json(last, &header_of(last), &f.claims());
    assert_eq!(
        f.verify(&token).unwrap().kid(),
        last.kid(),
        "with its kid it is found"
    );
    // No key of the token's algorithm at all.
    let rsa = on_backend(PrivateKey::from_pem(include_str!("data/rsa2048.pkcs8.pem")).unwrap());
    let token = sign_json(&rsa, &json!({"alg": "RS256"}), &f.claims());
    assert_rejected(f.verify(&token), ErrorKind::AlgorithmNotAllowed, &token);
}

// ---------------------------------------------------------------- audience

#[test]
fn wrong_audience_is_audience_mismatch() {
    let f = p256();
    for aud in [
        json!("https://evil.example.com"),
        json!("https://as.example.com/"),
        json!("HTTPS://AS.EXAMPLE.COM"),
        json!(TOKEN_ENDPOINT),
        json!(""),
        json!(1),
        json!({"aud": ISSUER}),
        json!([]),
    ] {
        let token = f.token(&f.header(), &with(f.claims(), "aud", aud));
        assert_rejected(f.verify(&token), ErrorKind::AudienceMismatch, &token);
    }
}

#[test]
fn audience_arrays() {
    // Default: an array is rejected even with the issuer as sole member.
    let f = p256();
    let token = f.token(&f.header(), &with(f.claims(), "aud", json!([ISSUER])));
    assert_rejected(f.verify(&token), ErrorKind::AudienceMismatch, &token);

    let f = Fixture::with_policy(
        KeyType::P256,
        Policy::new(ISSUER).accept_single_element_audience_array(),
    );
    let token = f.token(&f.header(), &with(f.claims(), "aud", json!([ISSUER])));
    assert_eq!(f.verify(&token).unwrap().audience(), ISSUER);
    // An extra member, a duplicate member, a wrong sole member, a
    // non-string member: rejected even with the opt-in.
    for aud in [
        json!([ISSUER, "https://evil.example.com"]),
        json!(["https://evil.example.com", ISSUER]),
        json!([ISSUER, ISSUER]),
        json!(["https://evil.example.com"]),
        json!([1]),
        json!([[ISSUER]]),
    ] {
        let token = f.token(&f.header(), &with(f.claims(), "aud", aud));
        assert_rejected(f.verify(&token), ErrorKind::AudienceMismatch, &token);
    }
}

// ---------------------------------------------------------------- duplicates

#[test]
fn duplicate_json_members_are_malformed() {
    let f = p256();
    let kid = f.key.kid();
    let header = format!(r#"{{"alg":"ES256","kid":"{kid}"}}"#);
    let claims = |extra: &str| {
        format!(
            r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"{ISSUER}","jti":"{}","iat":{NOW},"exp":{}{extra}}}"#,
            f.jti(),
            NOW + 60
        )
    };
    // Control: the hand-written token is good.
    let token = f.token_raw(&header, &claims(""));
    f.verify(&token).expect("control");
    for extra in [
        r#","aud":"https://evil.example.com""#.to_owned(),
        format!(r#","aud":"{ISSUER}""#),
        format!(r#","iss":"{OTHER_CLIENT}""#),
        format!(r#","exp":{}"#, NOW + 3000),
        r#","jti":"second""#.to_owned(),
        r#","custom":1,"custom":2"#.to_owned(),
        // The same name spelled with an escape.
        r#","\u0061ud":"https://evil.example.com""#.to_owned(),
    ] {
        let token = f.token_raw(&header, &claims(&extra));
        assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
    }
    for header in [
        format!(r#"{{"alg":"ES256","kid":"{kid}","alg":"none"}}"#),
        format!(r#"{{"alg":"ES256","kid":"{kid}","alg":"ES256"}}"#),
        format!(r#"{{"alg":"ES256","kid":"{kid}","kid":"other"}}"#),
        format!(r#"{{"alg":"ES256","kid":"{kid}","typ":"JWT","typ":"at+jwt"}}"#),
    ] {
        let token = f.token_raw(&header, &claims(""));
        assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
    }
}

// ---------------------------------------------------------------- iss / sub

#[test]
fn iss_differs_from_sub_is_subject_mismatch() {
    let f = p256();
    f.registry
        .register(OTHER_CLIENT, &jwk_set([&*f.key]))
        .unwrap();
    for sub in [
        json!(OTHER_CLIENT),
        json!("someone-else"),
        json!(format!("{CLIENT} ")),
    ] {
        let token = f.token(&f.header(), &with(f.claims(), "sub", sub));
        assert_rejected(f.verify(&token), ErrorKind::SubjectMismatch, &token);
    }
    // A non-string sub is invalid.
    let token = f.token(&f.header(), &with(f.claims(), "sub", json!(7)));
    assert_rejected(f.verify(&token), ErrorKind::InvalidClaim, &token);
}

#[test]
fn unknown_issuer_is_unknown_client() {
    let f = p256();
    for client in ["nobody", "", "TENANT-7F3A-CLIENT"] {
        let claims = claims_for(client, &f.jti(), NOW);
        let token = f.token(&f.header(), &claims);
        assert_rejected(f.verify(&token), ErrorKind::UnknownClient, &token);
    }
    // A removed client is unknown from then on.
    let token = f.good();
    assert!(f.registry.remove(CLIENT));
    assert_rejected(f.verify(&token), ErrorKind::UnknownClient, &token);
}

/// Client B is registered with its own key. A token that names B as iss and
/// sub but is signed with client A's key is refused:
/// - with A's `kid` in the header: `unknown_key` (B has no key of that kid);
/// - without `kid`: `bad_signature` (B's keys are tried, none verifies).
#[test]
fn other_client_signed_with_this_clients_key() {
    let f = p256();
    let b_key = on_backend(PrivateKey::generate(KeyType::P256).unwrap());
    f.registry
        .register(OTHER_CLIENT, &jwk_set([&b_key]))
        .unwrap();
    let claims = claims_for(OTHER_CLIENT, &f.jti(), NOW);
    let token = f.token(&f.header(), &claims);
    assert_rejected(f.verify(&token), ErrorKind::UnknownKey, &token);
    let token = f.token(&with(f.header(), "kid", Value::Null), &claims);
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    // Claiming B's kid while signing with A's key.
    let token = f.token(&with(f.header(), "kid", json!(b_key.kid())), &claims);
    assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
    // B's own token is fine.
    let token = sign_json(
        &b_key,
        &header_of(&b_key),
        &claims_for(OTHER_CLIENT, &f.jti(), NOW),
    );
    assert_eq!(f.verify(&token).unwrap().client_id(), OTHER_CLIENT);
}

#[test]
fn client_id_parameter_must_match_iss() {
    let f = p256();
    f.registry
        .register(OTHER_CLIENT, &jwk_set([&*f.key]))
        .unwrap();
    let token = f.good();
    for client_id in [OTHER_CLIENT, "", "tenant-7f3a-clien"] {
        let err = f.verifier.verify_with_client_id(&token, client_id);
        assert_rejected(err, ErrorKind::IssuerMismatch, &token);
    }
    let v = f.verifier.verify_with_client_id(&token, CLIENT).unwrap();
    assert_eq!(v.client_id(), CLIENT);
}

// ---------------------------------------------------------------- claims

#[test]
fn missing_claims_are_missing_claim() {
    let f = p256();
    for name in ["jti", "exp", "iss", "sub", "aud"] {
        let token = f.token(&f.header(), &with(f.claims(), name, Value::Null));
        assert_rejected(f.verify(&token), ErrorKind::MissingClaim, &token);
    }
    // An empty claims object.
    let token = f.token(&f.header(), &json!({}));
    assert_rejected(f.verify(&token), ErrorKind::MissingClaim, &token);
    // iat and nbf are optional (exp - now bounds the lifetime instead).
    let claims = with(with(f.claims(), "iat", Value::Null), "nbf", Value::Null);
    f.verify(&f.token(&f.header(), &claims))
        .expect("no iat, no nbf");
}

#[test]
fn claims_of_the_wrong_type_are_invalid_claim() {
    let f = p256();
    for (name, value) in [
        ("exp", json!((NOW + 60).to_string())),
        ("exp", json!(null)),
        ("exp", json!(-1)),
        ("exp", json!(true)),
        ("exp", json!([NOW + 60])),
        ("iat", json!(NOW.to_string())),
        ("nbf", json!({})),
        ("jti", json!(12345)),
        ("jti", json!("")),
        ("iss", json!([CLIENT])),
    ] {
        // json!(null) would remove the member: write it by hand.
        let claims = if value.is_null() {
            let mut c = f.claims().to_string();
            c.pop();
            c.push_str(r#","x":0}"#);
            c.replace(r#""exp":"#, r#""exp":null,"old_exp":"#)
        } else {
            with(f.claims(), name, value).to_string()
        };
        let token = f.token_raw(&f.header().to_string(), &claims);
        assert_rejected(f.verify(&token), ErrorKind::InvalidClaim, &token);
    }
}

#[test]
fn jti_length_is_bounded() {
    let f = p256();
    let long = "j".repeat(257);
    let token = f.token(&f.header(), &with(f.claims(), "jti", json!(long)));
    assert_rejected(f.verify(&token), ErrorKind::InvalidClaim, &token);
    // Multi-byte: 129 two-byte characters are 258 bytes.
    let long = "é".repeat(129);
    let token = f.token(&f.header(), &with(f.claims(), "jti", json!(long)));
    assert_rejected(f.verify(&token), ErrorKind::InvalidClaim, &token);
    let max = "j".repeat(256);
    let token = f.token(&f.header(), &with(f.claims(), "jti", json!(max)));
    assert_eq!(f.verify(&token).unwrap().jti().len(), 256);
}

// ---------------------------------------------------------------- time

#[test]
fn expired_just_past_exp_plus_leeway() {
    let f = p256();
    // exp = NOW + 60, leeway 30: accepted until (excluding) NOW + 90.
    let claims = f.claims();
    let token = f.token(&f.header(), &claims);
    f.clock.set_unix(NOW + 90);
    assert_rejected(f.verify(&token), ErrorKind::Expired, &token);
    f.clock.set_unix(NOW + 91);
    assert_rejected(f.verify(&token), ErrorKind::Expired, &token);
    f.clock.set_unix(NOW + 89);
    f.clock.advance(Duration::from_millis(999));
    f.verify(&token).expect("1 ms before exp + leeway");
}

#[test]
fn expiry_at_the_leeway_edges() {
    let f = Fixture::with_policy(KeyType::P256, Policy::new(ISSUER).leeway(Duration::ZERO));
    let token = f.good();
    f.clock.set_unix(NOW + 60);
    assert_rejected(f.verify(&token), ErrorKind::Expired, &token);
    f.clock.set_unix(NOW + 59);
    f.verify(&token).expect("before exp, no leeway");
    // Fractional exp.
    let f = p256();
    let claims = with(f.claims(), "exp", json!(NOW as f64 + 60.5));
    let token = f.token(&f.header(), &claims);
    f.clock.set_unix(NOW + 90);
    f.clock.advance(Duration::from_millis(500));
    assert_rejected(f.verify(&token), ErrorKind::Expired, &token);
    f.clock.set_unix(NOW + 90);
    f.clock.advance(Duration::from_millis(499));
    f.verify(&token).expect("fractional exp");
}

#[test]
fn nbf_and_iat_in_the_future() {
    let f = p256();
    // Beyond the leeway (30 s).
    for name in ["nbf", "iat"] {
        let claims = with(f.claims(), name, json!(NOW + 31));
        let claims = with(claims, "exp", json!(NOW + 91));
        let token = f.token(&f.header(), &claims);
        assert_rejected(f.verify(&token), ErrorKind::NotYetValid, &token);
        // Fractionally beyond.
        let claims = with(f.claims(), name, json!(NOW as f64 + 30.001));
        let token = f.token(&f.header(), &claims);
        assert_rejected(f.verify(&token), ErrorKind::NotYetValid, &token);
    }
    // Within the leeway, up to its edge: accepted (client clock ahead).
    for skew in [1, 29, 30] {
        let claims = with(f.claims(), "nbf", json!(NOW + skew));
        let claims = with(claims, "iat", json!(NOW + skew));
        let claims = with(claims, "exp", json!(NOW + skew + 60));
        f.verify(&f.token(&f.header(), &claims))
            .expect("nbf/iat within leeway");
    }
}

/// `nbf` at or after `exp` leaves no instant at which the assertion is valid
/// (RFC 7519 §4.1.4, §4.1.5): refused even while `now` lies inside the leeway
/// of both.
#[test]
fn empty_validity_window() {
    let f = p256();
    for (nbf, exp) in [(NOW + 10, NOW + 5), (NOW + 5, NOW + 5), (NOW, NOW)] {
        let claims = with(with(f.claims(), "nbf", json!(nbf)), "exp", json!(exp));
        let claims = with(claims, "iat", json!(NOW - 1));
        let token = f.token(&f.header(), &claims);
        assert_rejected(f.verify(&token), ErrorKind::InvalidClaim, &token);
    }
    // A fractional window of 1 ms is still a window.
    let claims = with(f.claims(), "nbf", json!(NOW as f64 + 0.5));
    let claims = with(claims, "exp", json!(NOW as f64 + 0.501));
    f.verify(&f.token(&f.header(), &claims))
        .expect("a 1 ms window");
}

#[test]
fn lifetime_too_long_and_too_old() {
    let f = p256();
    // exp - iat = 3601 > 3600.
    let claims = with(f.claims(), "exp", json!(NOW + 3601));
    let token = f.token(&f.header(), &claims);
    assert_rejected(f.verify(&token), ErrorKind::LifetimeTooLong, &token);
    // Exactly the maximum is fine.
    let claims = with(f.claims(), "exp", json!(NOW + 3600));
    f.verify(&f.token(&f.header(), &claims)).expect("3600 s");
    // Without iat: exp - now beyond max_lifetime + leeway.
    let claims = with(
        with(f.claims(), "iat", Value::Null),
        "exp",
        json!(NOW + 3631),
    );
    let token = f.token(&f.header(), &claims);
    assert_rejected(f.verify(&token), ErrorKind::LifetimeTooLong, &token);
    // Too old: now - iat = 331 > max_age (300) + leeway (30), exp still ahead.
    let iat = NOW - 331;
    let claims = with(
        with(with(f.claims(), "iat", json!(iat)), "nbf", json!(iat)),
        "exp",
        json!(iat + 600),
    );
    let token = f.token(&f.header(), &claims);
    assert_rejected(f.verify(&token), ErrorKind::LifetimeTooLong, &token);
    // now - iat = 330 is still accepted.
    let iat = NOW - 330;
    let claims = with(with(f.claims(), "iat", json!(iat)), "exp", json!(iat + 600));
    f.verify(&f.token(&f.header(), &claims))
        .expect("age at the edge");
}

// ---------------------------------------------------------------- replay

#[test]
fn replay_is_replayed() {
    let f = p256();
    let claims = claims_for(CLIENT, "jti-replayed-0001", NOW);
    let token = f.token(&f.header(), &claims);
    f.verify(&token).expect("first presentation");
    assert_rejected(f.verify(&token), ErrorKind::Replayed, &token);
    f.clock.advance(Duration::from_secs(45));
    assert_rejected(f.verify(&token), ErrorKind::Replayed, &token);
    // A new token with the same jti (a new signature, other times) too.
    let again = f.token(
        &f.header(),
        &claims_for(CLIENT, "jti-replayed-0001", NOW + 45),
    );
    assert_rejected(f.verify(&again), ErrorKind::Replayed, &again);
    // Through verify_with_client_id as well.
    let err = f.verifier.verify_with_client_id(&token, CLIENT);
    assert_rejected(err, ErrorKind::Replayed, &token);
}

/// The replay entry must outlive every instant at which the verifier would
/// still accept the assertion, including the last one.
#[test]
fn replay_is_caught_at_the_last_acceptable_instant() {
    // Age bound: accepted while now - iat <= max_age + leeway (330 s).
    let f = p256();
    let claims = with(f.claims(), "exp", json!(NOW + 3600));
    let token = f.token(&f.header(), &claims);
    f.verify(&token).expect("first presentation");
    f.clock.set_unix(NOW + 330);
    assert_rejected(f.verify(&token), ErrorKind::Replayed, &token);
    f.clock.advance(Duration::from_millis(1));
    assert_rejected(f.verify(&token), ErrorKind::LifetimeTooLong, &token);

    // Expiry bound: accepted while now < exp + leeway.
    let f = p256();
    let token = f.good();
    f.verify(&token).expect("first presentation");
    f.clock.set_unix(NOW + 89);
    f.clock.advance(Duration::from_millis(999));
    assert_rejected(f.verify(&token), ErrorKind::Replayed, &token);
    f.clock.advance(Duration::from_millis(1));
    assert_rejected(f.verify(&token), ErrorKind::Expired, &token);
}

#[test]
fn same_jti_from_two_clients_is_two_assertions() {
    let f = p256();
    let b_key = on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap());
    f.registry
        .register(OTHER_CLIENT, &jwk_set([&b_key]))
        .unwrap();
    let a = f.token(&f.header(), &claims_for(CLIENT, "shared-jti", NOW));
    let b = sign_json(
        &b_key,
        &header_of(&b_key),
        &claims_for(OTHER_CLIENT, "shared-jti", NOW),
    );
    f.verify(&a).unwrap();
    f.verify(&b).unwrap();
    assert_rejected(f.verify(&b), ErrorKind::Replayed, &b);
}

// ---------------------------------------------------------------- header

#[test]
fn embedded_key_headers_are_header_not_allowed() {
    let f = p256();
    let attacker = on_backend(PrivateKey::generate(KeyType::P256).unwrap());
    let attacker_jwk: Value = serde_json::from_str(&attacker.public_jwk().to_json()).unwrap();
    for (name, value) in [
        ("jwk", attacker_jwk.clone()),
        ("jku", json!("https://attacker.example/jwks.json")),
        ("x5u", json!("https://attacker.example/cert.pem")),
        ("jwk", json!(null)),
    ] {
        let header = if value.is_null() {
            // A null member counts as present.
            let mut h = f.header().to_string();
            h.pop();
            h.push_str(r#","jwk":null}"#);
            h
        } else {
            with(f.header(), name, value).to_string()
        };
        // Signed by the attacker with the embedded key, and by the
        // registered key: both refused for the header alone.
        for key in [&attacker, &*f.key] {
            let token = sign_raw(key, Algorithm::Es256, &header, &f.claims().to_string());
            assert_rejected(f.verify(&token), ErrorKind::HeaderNotAllowed, &token);
        }
    }
}

#[test]
fn crit_is_header_not_allowed() {
    let f = p256();
    for crit in [json!(["exp"]), json!(["b64"]), json!([]), json!("b64")] {
        let header = with(with(f.header(), "crit", crit), "b64", json!(false));
        let token = f.token(&header, &f.claims());
        assert_rejected(f.verify(&token), ErrorKind::HeaderNotAllowed, &token);
    }
}

#[test]
fn other_token_types_are_type_not_allowed() {
    let f = p256();
    for typ in [
        json!("at+jwt"),
        json!("application/at+jwt"),
        json!("dpop+jwt"),
        json!("JOSE"),
        json!("logout+jwt"),
        json!("secevent+jwt"),
        json!(""),
        json!(1),
        json!(["JWT"]),
    ] {
        let token = f.token(&with(f.header(), "typ", typ), &f.claims());
        assert_rejected(f.verify(&token), ErrorKind::TypeNotAllowed, &token);
    }
}

#[test]
fn client_assertion_token_types_are_accepted() {
    let f = p256();
    for typ in [
        json!("JWT"),
        json!("jwt"),
        json!("client-authentication+jwt"),
        json!("Client-Authentication+JWT"),
        json!("application/client-authentication+jwt"),
        Value::Null,
    ] {
        let token = f.token(&with(f.header(), "typ", typ.clone()), &f.claims());
        f.verify(&token)
            .unwrap_or_else(|e| panic!("typ {typ} refused: {e}"));
    }
}

// ---------------------------------------------------------------- shape

#[test]
fn oversized_token_is_too_large() {
    let f = p256();
    let padding = "x".repeat(Policy::DEFAULT_MAX_TOKEN_SIZE);
    let token = f.token(&f.header(), &with(f.claims(), "pad", json!(padding)));
    assert_rejected(f.verify(&token), ErrorKind::TooLarge, &token);
    // Garbage beyond the limit is too large before it is malformed.
    let garbage = "!".repeat(Policy::DEFAULT_MAX_TOKEN_SIZE + 1);
    assert_rejected(f.verify(&garbage), ErrorKind::TooLarge, &garbage);
    // A valid token just under a smaller limit passes.
    let f = Fixture::with_policy(KeyType::P256, Policy::new(ISSUER).max_token_size(1024));
    let token = f.good();
    assert!(token.len() < 1024);
    f.verify(&token).expect("under the limit");
    let token = f.token(
        &f.header(),
        &with(f.claims(), "pad", json!("x".repeat(1024))),
    );
    assert_rejected(f.verify(&token), ErrorKind::TooLarge, &token);
}

/// A token whose signature contains `-` or `_`, so that the standard
/// alphabet can be substituted.
fn token_with_url_chars(f: &Fixture) -> String {
    loop {
        let t = f.good();
        let sig = t.rsplit('.').next().unwrap();
        if sig.contains('-') || sig.contains('_') {
            return t;
        }
    }
}

#[test]
fn non_canonical_base64url_is_malformed() {
    let f = p256();
    let good = f.good();
    let parts: Vec<&str> = good.split('.').collect();
    let mut bad = Vec::new();
    // Padding on each segment (the header JSON is re-encoded so that its
    // length needs padding).
    let header = format!("{}  ", f.header()); // 2 spaces: still valid JSON
    let input = signing_input(&header, &f.claims().to_string());
    let h = input.split('.').next().unwrap();
    if !h.len().is_multiple_of(4) {
        bad.push(format!(
            "{h}{}.{}.{}",
            "=".repeat(4 - h.len() % 4),
            parts[1],
            parts[2]
        ));
    }
    for pad in ["=", "=="] {
        bad.push(format!("{}.{}.{}{pad}", parts[0], parts[1], parts[2]));
        bad.push(format!("{}.{}{pad}.{}", parts[0], parts[1], parts[2]));
    }
    // The standard alphabet (`+`, `/`) where base64url has `-`, `_`.
    let t = token_with_url_chars(&f);
    let (input, sig) = t.rsplit_once('.').unwrap();
    bad.push(format!(
        "{input}.{}",
        sig.replace('-', "+").replace('_', "/")
    ));
    // A line break or space inside a segment.
    bad.push(format!("{input}.{}\n{}", &sig[..10], &sig[10..]));
    bad.push(format!("{input}. {sig}"));
    for token in &bad {
        assert_rejected(f.verify(token), ErrorKind::Malformed, token);
    }
    f.verify(&t).expect("the canonical token");
}

#[test]
fn non_canonical_trailing_bits_in_the_signature_are_malformed() {
    // A 64-byte ES256 signature is 86 base64url characters; the last one
    // carries 2 bits and 4 zero bits. Setting one of those zero bits gives
    // another spelling of the same signature bytes, which must be refused
    // (a lenient decoder would accept it: one token, two encodings).
    let f = p256();
    let good = f.good();
    let (input, sig) = good.rsplit_once('.').unwrap();
    assert_eq!(sig.len(), 86);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = sig.as_bytes()[85];
    let value = ALPHABET.iter().position(|&c| c == last).unwrap();
    assert_eq!(value & 0b1111, 0, "canonical encoding");
    for low in 1..16 {
        let mut s = sig.as_bytes().to_vec();
        s[85] = ALPHABET[value | low];
        let token = format!("{input}.{}", String::from_utf8(s).unwrap());
        assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
    }
    // The same for the header and payload segments when they have spare bits.
    for idx in 0..2 {
        let parts: Vec<&str> = good.split('.').collect();
        let seg = parts[idx];
        let spare = match seg.len() % 4 {
            2 => 0b1111,
            3 => 0b11,
            _ => continue,
        };
        let last = *seg.as_bytes().last().unwrap();
        let value = ALPHABET.iter().position(|&c| c == last).unwrap();
        let mut s = seg.as_bytes().to_vec();
        *s.last_mut().unwrap() = ALPHABET[value | (spare & 1)];
        let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        p[idx] = String::from_utf8(s).unwrap();
        let token = p.join(".");
        assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
    }
    f.verify(&good).expect("the canonical token");
}

#[test]
fn non_json_and_non_object_parts_are_malformed() {
    let f = p256();
    let header = f.header().to_string();
    for claims in [
        "not json".to_owned(),
        "[]".to_owned(),
        format!("[{}]", f.claims()),
        "\"a string\"".to_owned(),
        "42".to_owned(),
        "null".to_owned(),
        format!("{} {{}}", f.claims()),
        format!("{}x", f.claims()),
        "{".to_owned(),
        "\u{feff}{}".to_owned(),
    ] {
        let token = f.token_raw(&header, &claims);
        assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
    }
    // Invalid UTF-8 inside a JSON string.
    let mut claims = f.claims().to_string().into_bytes();
    let at = claims.iter().position(|&b| b == b'j').unwrap();
    claims[at] = 0xff;
    let input = format!("{}.{}", b64(header.as_bytes()), b64(&claims));
    let sig = f.key.sign(Algorithm::Es256, input.as_bytes()).unwrap();
    let token = format!("{input}.{}", b64(&sig));
    assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
    // A non-object header.
    let token = f.token_raw("[\"ES256\"]", &f.claims().to_string());
    assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
    // Deeply nested JSON does not overflow the stack: in a registered
    // claim it hits the parser's depth limit (malformed); in another member
    // it is skipped without recursion.
    let f = Fixture::with_policy(KeyType::P256, Policy::new(ISSUER).max_token_size(1 << 20));
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let claims = with(f.claims(), "aud", json!("AUD-PLACEHOLDER"))
        .to_string()
        .replace(r#""AUD-PLACEHOLDER""#, &deep);
    let token = f.token_raw(&header, &claims);
    assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
    let mut claims = f.claims().to_string();
    claims.pop();
    claims.push_str(&format!(r#","x":{deep}}}"#));
    let token = f.token_raw(&f.header().to_string(), &claims);
    f.verify(&token).expect("a deep unknown member is skipped");
}

#[test]
fn wrong_segment_counts_are_malformed() {
    let f = p256();
    let good = f.good();
    let parts: Vec<&str> = good.split('.').collect();
    for token in [
        format!("{}.{}", parts[0], parts[1]),
        format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[2]),
        format!("{good}."),
        format!(".{good}"),
        format!("{}..{}", parts[0], parts[2]),
        // JWE-shaped: five segments.
        format!(
            "{}.{}.{}.{}.{}",
            parts[0], parts[1], parts[2], parts[1], parts[2]
        ),
        parts[0].to_owned(),
        String::new(),
        ".".to_owned(),
        "..".to_owned(),
    ] {
        assert_rejected(f.verify(&token), ErrorKind::Malformed, &token);
    }
    f.verify(&good).expect("three segments");
}

/// An empty signature segment is well formed (it is how an unsecured JWS
/// looks), so with a real algorithm it is simply a signature that does not
/// verify, for every key type.
#[test]
fn empty_signature_with_a_real_algorithm_is_bad_signature() {
    for key_type in [KeyType::P256, KeyType::P384, KeyType::Ed25519, KeyType::Rsa] {
        let f = Fixture::new(key_type);
        for alg in f.key.algorithms() {
            let header = with(f.header(), "alg", json!(alg.name()));
            let input = signing_input(&header.to_string(), &f.claims().to_string());
            let token = format!("{input}.");
            assert_rejected(f.verify(&token), ErrorKind::BadSignature, &token);
        }
    }
}

// ---------------------------------------------------------------- keys

#[test]
fn rsa_1024_registration_is_weak_key() {
    let registry = registry();
    let err = registry
        .register_pems(CLIENT, [include_str!("data/rsa1024.spki.pem")])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WeakKey);
    assert_eq!(err.code(), "weak_key");
    assert!(!err.kind().is_rejection());
    let jwk = include_str!("data/rsa1024.public.jwk.json");
    let err = registry
        .register_jwks_json(CLIENT, &format!(r#"{{"keys":[{jwk}]}}"#))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WeakKey);
    // One weak key spoils the whole set: nothing is registered.
    let good = include_str!("data/p256.spki.pem");
    let err = registry
        .register_pems(CLIENT, [good, include_str!("data/rsa1024.spki.pem")])
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WeakKey);
    assert!(!registry.contains(CLIENT));
}

#[test]
fn unusable_registrations_are_refused() {
    let registry = registry();
    // Symmetric keys can never be registered; published with their `k`,
    // they are a leaked secret.
    let err = registry
        .register_jwks_json(
            CLIENT,
            r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}"#,
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PrivateKeyPublished, "{err:?}");
    let err = registry
        .register_jwks_json(CLIENT, r#"{"keys":[{"kty":"oct","kid":"h"}]}"#)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed, "{err:?}");
    // Unsupported curves.
    for pem in [
        include_str!("data/secp256k1.spki.pem"),
        include_str!("data/x25519.spki.pem"),
        include_str!("data/ed448.spki.pem"),
        include_str!("data/p521.spki.pem"),
    ] {
        let err = registry.register_pems(CLIENT, [pem]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedKey, "{err:?}");
    }
    // Two keys with the same kid.
    let k = on_backend(PrivateKey::generate(KeyType::P256).unwrap());
    let k2 = PrivateKey::generate(KeyType::P256)
        .unwrap()
        .with_kid(k.kid());
    let json = format!(
        r#"{{"keys":[{},{}]}}"#,
        k.public_jwk().to_json(),
        k2.public_jwk().to_json()
    );
    assert_eq!(
        registry
            .register_jwks_json(CLIENT, &json)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );
    assert!(registry.is_empty());
}

// ---------------------------------------------------------------- errors

#[test]
fn rejections_carry_no_token_content() {
    let f = p256();
    let secretish = "S3CR3T-TOKEN-CONTENT-0123456789";
    let tokens = [
        f.token(&with(f.header(), "kid", json!(secretish)), &f.claims()),
        f.token(&f.header(), &with(f.claims(), "aud", json!(secretish))),
        f.token(&f.header(), &with(f.claims(), "iss", json!(secretish))),
        f.token(&f.header(), &with(f.claims(), "sub", json!(secretish))),
        f.token(&with(f.header(), "typ", json!(secretish)), &f.claims()),
        f.token(&with(f.header(), "alg", json!(secretish)), &f.claims()),
        secretish.to_owned(),
        format!("{secretish}.{secretish}.{secretish}"),
    ];
    for token in &tokens {
        let err = f.verify(token).unwrap_err();
        assert_no_token_content(&err, token);
        for text in [
            err.description().to_owned(),
            err.to_string(),
            format!("{err:?}"),
        ] {
            assert!(!text.contains(secretish), "{text}");
            assert!(!text.contains(&f.key.kid().to_string()), "{text}");
        }
        assert_eq!(
            err.oauth_error(client_assertion::Usage::ClientAuthentication),
            "invalid_client"
        );
    }
}

#[test]
fn verifier_debug_shows_no_keys() {
    let f = p256();
    let text = format!("{:?}", f.verifier);
    assert!(text.contains("Verifier"));
    let jwk = f.key.public_jwk().to_json();
    let x: Value = serde_json::from_str(&jwk).unwrap();
    assert!(!text.contains(x["x"].as_str().unwrap()));
}

#[test]
fn the_builder_refuses_unsafe_policies() {
    let registry = Arc::new(registry());
    for policy in [
        Policy::new(""),
        Policy::new(ISSUER).also_accept_audience(""),
        Policy::new(ISSUER).leeway(Duration::from_secs(301)),
        Policy::new(ISSUER).max_lifetime(Duration::ZERO),
        Policy::new(ISSUER).max_lifetime(Duration::from_secs(24 * 3600 + 1)),
        Policy::new(ISSUER).max_age(Duration::ZERO),
        Policy::new(ISSUER).max_token_size(100),
        Policy::new(ISSUER).max_jti_length(0),
        Policy::new(ISSUER).algorithms(&[]),
    ] {
        let err = Verifier::builder(ISSUER, registry.clone())
            .policy(policy)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    }
}

#[test]
fn exp_before_iat_is_invalid_claim() {
    let f = Fixture::new(KeyType::Ed25519);
    let claims = with(with(f.claims(), "iat", json!(NOW)), "exp", json!(NOW - 1));
    let token = f.token(&f.header(), &claims);
    assert_rejected(f.verify(&token), ErrorKind::InvalidClaim, &token);
}
