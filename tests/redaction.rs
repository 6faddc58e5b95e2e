//! Redaction: the `Debug` and `Display` output of every type that holds a
//! private key or a bearer assertion, and of every error, contains no
//! private material in any common encoding, and no assertion.

mod common;

use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use client_assertion::keys::ReloadStatus;
use client_assertion::{
    jwk_set, AssertionSigner, Error, FileKey, FormParams, KeySource, PrivateKey, PublicJwk,
};
use common::*;
use serde_json::json;

/// Every private value of the fixture keys, in every encoding a careless
/// `Debug` could print it in.
fn secrets() -> Vec<String> {
    let mut out = Vec::new();
    for (name, _, formats) in KEYS {
        let jwk = read_json(&format!("{name}.jwk.json"));
        for member in ["d", "p", "q", "dp", "dq", "qi"] {
            let Some(value) = jwk[member].as_str() else {
                continue;
            };
            let bytes = b64url(value);
            out.push(value.to_owned());
            out.push(URL_SAFE_NO_PAD.encode(&bytes));
            out.push(STANDARD.encode(&bytes));
            out.push(STANDARD_NO_PAD.encode(&bytes));
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            out.push(hex.clone());
            out.push(hex.to_uppercase());
            // `Debug` of a byte slice or array, first eight bytes.
            out.push(
                format!("{:?}", &bytes[..8])
                    .trim_end_matches(']')
                    .to_owned(),
            );
            // Decimal and hex big integers (RSA).
            let n = num_bigint::BigUint::from_bytes_be(&bytes);
            out.push(n.to_string());
            out.push(format!("{n:x}"));
        }
        // The PEM bodies and the DER of every private encoding.
        for format in formats {
            let file = format!("{name}.{format}");
            if format.ends_with(".pem") {
                for line in read_str(&file).lines() {
                    if !line.starts_with("-----") && line.len() >= 16 {
                        out.push(line.to_owned());
                    }
                }
            }
            if format.ends_with(".der") {
                let der = read(&file);
                let hex: String = der[der.len() - 24..]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                out.push(hex);
            }
        }
    }
    // PEM lines and DER bytes also hold public members (RSA n, EC points):
    // what is public anyway is not a secret.
    let public: String = KEYS
        .iter()
        .map(|(name, _, _)| {
            let jwk = read_json(&format!("{name}.public.jwk.json"));
            let mut text = jwk.to_string();
            for member in ["x", "y", "n"] {
                if let Some(v) = jwk[member].as_str() {
                    let bytes = b64url(v);
                    text.push(' ');
                    text.push_str(&STANDARD.encode(&bytes));
                    text.push(' ');
                    text.extend(bytes.iter().map(|b| format!("{b:02x}")));
                }
            }
            text
        })
        .collect();
    out.retain(|s| s.len() >= 12 && !public.contains(s.as_str()));
    out
}

#[track_caller]
fn assert_clean(what: &str, text: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{what} leaks private material: {text}"
        );
    }
}

/// `Debug`, alternate `Debug`.
fn debug_forms<T: std::fmt::Debug + ?Sized>(v: &T) -> [String; 2] {
    [format!("{v:?}"), format!("{v:#?}")]
}

fn errors_involving_secrets() -> Vec<Error> {
    let mut errors = Vec::new();
    for (name, _, formats) in KEYS {
        let jwk = read_json(&format!("{name}.jwk.json"));
        let d = jwk["d"].as_str().unwrap();
        // Mismatching private part, damaged base64, wrong alg, symmetric.
        let mut other = jwk.clone();
        other["d"] = json!(format!("{}A", &d[..d.len() - 1]));
        errors.push(PrivateKey::from_jwk(&other.to_string()).unwrap_err());
        other["d"] = json!(format!("{d}="));
        errors.push(PrivateKey::from_jwk(&other.to_string()).unwrap_err());
        other["d"] = json!(d.replace(['-', '_'], "+"));
        errors.push(PrivateKey::from_jwk(&other.to_string()).unwrap_err());
        let mut wrong_alg = jwk.clone();
        wrong_alg["alg"] = json!("HS256");
        errors.push(PrivateKey::from_jwk(&wrong_alg.to_string()).unwrap_err());
        errors.push(PrivateKey::from_jwk(&json!({"kty": "oct", "k": d}).to_string()).unwrap_err());
        errors.push(PrivateKey::from_jwk(&format!("{{\"d\":\"{d}\"")).unwrap_err());
        // Truncated and damaged encodings.
        for format in formats {
            let bytes = read(&format!("{name}.{format}"));
            errors.push(PrivateKey::from_bytes(&bytes[..bytes.len() * 2 / 3]).unwrap_err());
            let mut damaged = bytes.clone();
            let mid = damaged.len() / 2;
            damaged[mid] = b'!';
            if let Err(e) = PrivateKey::from_bytes(&damaged) {
                errors.push(e);
            }
        }
    }
    for file in [
        "rsa1024.pkcs8.pem",
        "rsa1024.jwk.json",
        "secp256k1.sec1.pem",
        "p521.pkcs8.pem",
        "x25519.pkcs8.pem",
        "p256.encrypted.pem",
        "p256.spki.pem",
        "p256.cert.pem",
        "no-such-file.pem",
    ] {
        errors.push(PrivateKey::from_file(data(file)).unwrap_err());
    }
    let key = Arc::new(PrivateKey::from_file(data("p256.pkcs8.pem")).unwrap());
    errors.push(
        AssertionSigner::builder(key.clone(), "c", "a")
            .algorithm(client_assertion::Algorithm::Rs256)
            .build()
            .unwrap_err(),
    );
    errors.push(
        key.sign(client_assertion::Algorithm::EdDsa, b"x")
            .unwrap_err(),
    );
    assert!(errors.len() > 60);
    errors
}

#[test]
fn keys_signers_assertions_params_and_errors_print_no_secrets() {
    let secrets = secrets();
    assert!(secrets.len() > 100);
    // The check can fail: the private members themselves are in the list.
    for (name, _, _) in KEYS {
        let d = read_json(&format!("{name}.jwk.json"))["d"].clone();
        assert!(secrets.iter().any(|s| *s == d), "{name}");
        let leaky = format!("{:?}", read_str(&format!("{name}.jwk.json")));
        assert!(secrets.iter().any(|s| leaky.contains(s.as_str())));
    }
    let mut tokens = Vec::new();

    for (name, _, formats) in KEYS {
        for format in formats {
            let key = PrivateKey::from_file(data(&format!("{name}.{format}"))).unwrap();
            for text in debug_forms(&key) {
                assert_clean(&format!("PrivateKey {name}.{format}"), &text, &secrets);
                assert!(text.contains(key.kid()), "Debug shows the kid: {text}");
            }
            for text in debug_forms(&key.clone_key()) {
                assert_clean("PrivateKey::clone_key", &text, &secrets);
            }
            for text in debug_forms(&key.public_jwk()) {
                assert_clean("PublicJwk", &text, &secrets);
            }
            let set = jwk_set([&key]);
            for text in debug_forms(&set) {
                assert_clean("JwkSet", &text, &secrets);
            }
            assert_clean("JwkSet JSON", &set.to_json(), &secrets);

            let key = Arc::new(key);
            for signer in [
                AssertionSigner::builder(key.clone(), "client", "https://as.example")
                    .claim("note", json!("public"))
                    .build()
                    .unwrap(),
                AssertionSigner::grant_builder(key.clone(), "iss", "sub", "https://as.example")
                    .build()
                    .unwrap(),
            ] {
                for text in debug_forms(&signer) {
                    assert_clean("AssertionSigner", &text, &secrets);
                }
                let a = signer.sign().unwrap();
                tokens.push(a.as_str().to_owned());
                for text in debug_forms(&a) {
                    assert_clean("ClientAssertion", &text, &secrets);
                    assert!(
                        !text.contains(a.as_str()),
                        "ClientAssertion Debug shows the token"
                    );
                    let signature = a.as_str().rsplit('.').next().unwrap();
                    assert!(
                        !text.contains(signature),
                        "ClientAssertion Debug shows the signature"
                    );
                    assert!(text.contains(a.jti()), "the jti is no secret: {text}");
                }
                let params = a.form_params().with_client_id("client").with_scope("s");
                for text in debug_forms(&params) {
                    assert_clean("FormParams", &text, &secrets);
                    assert!(
                        !text.contains(a.as_str()),
                        "FormParams Debug shows the token"
                    );
                }
                for p in [
                    FormParams::client_authentication(a.as_str()),
                    FormParams::authorization_grant(a.as_str()),
                ] {
                    for text in debug_forms(&p) {
                        assert!(
                            !text.contains(a.as_str()),
                            "FormParams Debug shows the token"
                        );
                    }
                }
            }
        }
    }

    // Errors, their Display and their source chain.
    let errors = errors_involving_secrets();
    for e in &errors {
        let mut texts = debug_forms(e).to_vec();
        texts.push(e.to_string());
        texts.push(format!("{e:>40}"));
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            texts.push(s.to_string());
            texts.push(format!("{s:?}"));
            source = s.source();
        }
        for text in texts {
            assert_clean("Error", &text, &secrets);
            for token in &tokens {
                assert!(!text.contains(token.as_str()));
            }
        }
        assert!(
            e.to_string().starts_with(e.code()),
            "Display starts with the reason code: {e}"
        );
    }
}

#[test]
fn file_keys_and_reload_statuses_print_no_secrets() {
    let secrets = secrets();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.pem");
    std::fs::write(&path, read("rsa2048.pkcs1.pem")).unwrap();
    let events = Arc::new(std::sync::Mutex::new(Vec::<ReloadStatus>::new()));
    let sink = events.clone();
    let key = Arc::new(
        FileKey::open(&path)
            .unwrap()
            .with_listener(move |s| sink.lock().unwrap().push(s.clone())),
    );
    for text in debug_forms(&*key) {
        assert_clean("FileKey", &text, &secrets);
    }
    let signer = AssertionSigner::builder(key.clone(), "c", "https://as.example")
        .build()
        .unwrap();
    for text in debug_forms(&signer) {
        assert_clean("AssertionSigner(FileKey)", &text, &secrets);
    }
    // Failed reloads with contents that hold secrets.
    let jwk = read_str("p256.jwk.json");
    for content in [
        jwk.replace("\"kty\"", "\"kty \""),
        jwk.replace("\"d\": \"", "\"d\": \"=="),
        read_str("p384.pkcs8.pem")[..200].to_owned(),
        read_str("ed25519.jwk.json").replace("OKP", "oct"),
    ] {
        std::fs::write(&path, &content).unwrap();
        let status = key.reload();
        assert!(matches!(status, ReloadStatus::Failed { .. }), "{status:?}");
        for text in debug_forms(&status) {
            assert_clean("ReloadStatus", &text, &secrets);
        }
        if let ReloadStatus::Failed { error, .. } = &status {
            assert_clean("ReloadStatus error", &error.to_string(), &secrets);
        }
    }
    std::fs::write(&path, read("ed25519.pkcs8.pem")).unwrap();
    let status = key.reload();
    for text in debug_forms(&status) {
        assert_clean("ReloadStatus", &text, &secrets);
    }
    for status in events.lock().unwrap().iter() {
        for text in debug_forms(status) {
            assert_clean("listener status", &text, &secrets);
        }
    }
    for text in debug_forms(&*key) {
        assert_clean("FileKey", &text, &secrets);
    }
    let public = PublicJwk::from_json(&read_str("rsa2048.jwk.json")).unwrap();
    assert_clean("PublicJwk from a private JWK", &public.to_json(), &secrets);
}
