//! Our `jsonwebtoken` feature never picks a jsonwebtoken crypto backend,
//! and the crate pulls in no HTTP stack.
//!
//! jsonwebtoken 12 (as 11) panics at its first signature operation when both of
//! its backends (`rust_crypto`, `aws_lc_rs`) are enabled. The
//! dev-dependency enables `aws_lc_rs`; this test binary links our crate
//! with its `jsonwebtoken` feature and signs and verifies with
//! jsonwebtoken itself, so it would panic if our normal dependency enabled
//! `rust_crypto`. The dependency tree is also checked with `cargo tree`.

mod common;

use std::process::Command;

/// jsonwebtoken's own round trip (its backend selection) in the same
/// binary as our conversions.
#[cfg(feature = "jsonwebtoken")]
#[test]
fn jsonwebtoken_signs_and_verifies_next_to_our_conversions() {
    use std::sync::Arc;

    use client_assertion::{jwk_set, AssertionSigner, JwkSet, KeyMetadata, PrivateKey, PublicJwk};
    use common::*;
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
    use serde_json::{json, Value};

    // jsonwebtoken alone: ES256 with the fixture key.
    let enc = EncodingKey::from_ec_pem(&read("p256.pkcs8.pem")).unwrap();
    let dec = DecodingKey::from_ec_pem(&read("p256.spki.pem")).unwrap();
    let claims = json!({"sub": "x", "exp": 4_000_000_000u64});
    let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &enc).unwrap();
    let data =
        jsonwebtoken::decode::<Value>(&token, &dec, &Validation::new(Algorithm::ES256)).unwrap();
    assert_eq!(data.claims, claims);

    // Our PublicJwk as jsonwebtoken's Jwk verifies our assertions, and
    // jsonwebtoken's thumbprint of it is our kid.
    for (name, key_type, _) in KEYS {
        let key = Arc::new(PrivateKey::from_file(data_path(name)).unwrap());
        let jwk = key.public_jwk().to_jsonwebtoken();
        assert_eq!(jwk.common.key_id.as_deref(), Some(PrivateKey::kid(&key)));
        assert_eq!(
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .unwrap(),
            key.kid()
        );
        let a = AssertionSigner::builder(key.clone(), "c", "https://as.example")
            .build()
            .unwrap()
            .sign()
            .unwrap();
        let dk = DecodingKey::from_jwk(&jwk).unwrap();
        jwt_verify(a.as_str(), &dk, key_type.algorithms()[0]).unwrap();
        // And back.
        assert_eq!(
            PublicJwk::from_jsonwebtoken(&jwk).unwrap(),
            key.public_jwk()
        );
    }

    // JWK Sets both ways.
    let keys: Vec<PrivateKey> = KEYS
        .iter()
        .map(|(name, _, _)| PrivateKey::from_file(data_path(name)).unwrap())
        .collect();
    let set = jwk_set(keys.iter());
    let theirs = set.to_jsonwebtoken();
    assert_eq!(theirs.keys.len(), 4);
    for key in &keys {
        assert!(theirs.find(key.kid()).is_some());
    }
    assert_eq!(JwkSet::from_jsonwebtoken(&theirs).unwrap(), set);
    // jsonwebtoken reads our JSON directly, too.
    let parsed: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&set.to_json()).unwrap();
    assert_eq!(parsed, theirs);
}

#[cfg(feature = "jsonwebtoken")]
fn data_path(name: &str) -> std::path::PathBuf {
    common::data(&format!("{name}.pkcs8.pem"))
}

/// Runs `cargo tree` for this package (offline when possible) and returns
/// its standard output.
fn cargo_tree(args: &[&str]) -> String {
    let run = |offline: bool| {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["tree", "-p", "client-assertion", "--target", "all"])
            .args(args);
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
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn our_jsonwebtoken_feature_enables_no_crypto_backend() {
    let tree = cargo_tree(&["--features", "jsonwebtoken", "-e", "features,normal"]);
    assert!(
        tree.contains("jsonwebtoken v12"),
        "the feature links jsonwebtoken:\n{tree}"
    );
    for forbidden in [
        r#"jsonwebtoken feature "rust_crypto""#,
        r#"jsonwebtoken feature "aws_lc_rs""#,
        r#"jsonwebtoken feature "default""#,
        "aws-lc-rs v",
        "aws-lc-sys v",
    ] {
        assert!(
            !tree.contains(forbidden),
            "{forbidden} in the normal dependency tree:\n{tree}"
        );
    }
}

#[test]
fn no_http_crate_in_the_normal_dependency_tree() {
    const HTTP: [&str; 11] = [
        "reqwest",
        "hyper",
        "hyper-util",
        "ureq",
        "isahc",
        "surf",
        "curl",
        "curl-sys",
        "http",
        "http-body",
        "h2",
    ];
    for features in [&["--features", "jsonwebtoken"][..], &["--all-features"][..]] {
        let mut args = vec!["-e", "normal", "--prefix", "none", "--format", "{p}"];
        args.extend_from_slice(features);
        let tree = cargo_tree(&args);
        let crates: Vec<&str> = tree
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert!(crates.contains(&"client-assertion"));
        for name in &crates {
            assert!(
                !HTTP.contains(name),
                "HTTP crate {name} in the normal dependency tree with {features:?}"
            );
        }
    }
}
