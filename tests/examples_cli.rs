//! The `sign` and `jwks` examples as command-line programs: exact stdout,
//! one-line errors on stderr, non-zero exits, and `kid` agreement.
//!
//! The examples are built once with `cargo build --message-format=json`
//! (a no-op after `cargo test`, which builds them with the same features),
//! and the binaries it reports are run directly.

mod common;
#[path = "common/examples.rs"]
mod examples;

use std::path::Path;
use std::process::{Command, Output};

use client_assertion::{Algorithm, KeyType};
use common::*;
use serde_json::Value;

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn run(bin: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .output()
        .expect("the example runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Runs `sign` successfully and returns its single output line.
fn sign_ok(bin: &Path, args: &[&str]) -> String {
    let out = run(bin, args);
    assert!(
        out.status.success(),
        "sign {args:?} failed: {}",
        stderr(&out)
    );
    assert_eq!(stderr(&out), "", "sign {args:?} wrote to stderr");
    let text = stdout(&out);
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {text:?}");
    let token = lines[0].to_owned();
    assert_eq!(token.split('.').count(), 3, "a compact JWS: {token}");
    split(&token); // every segment base64url, header and claims JSON
    token
}

/// Runs `jwks` successfully and returns the parsed set.
fn jwks_ok(bin: &Path, files: &[&str]) -> Value {
    let mut args = Vec::new();
    for f in files {
        args.push("--key".to_owned());
        args.push(data(f).to_str().unwrap().to_owned());
    }
    let out = Command::new(bin).args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "jwks {files:?} failed: {}",
        stderr(&out)
    );
    assert_eq!(stderr(&out), "");
    let text = stdout(&out);
    assert!(text.contains("\n  "), "pretty JSON: {text}");
    serde_json::from_str(&text).expect("stdout is exactly one JSON document")
}

/// A failing run: non-zero exit, nothing on stdout, one line on stderr.
fn assert_fails(bin: &Path, args: &[&str], reason: &str) {
    let out = run(bin, args);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert_eq!(stdout(&out), "", "{args:?} wrote to stdout");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{args:?}: one stderr line: {err:?}");
    assert!(err.ends_with('\n'));
    assert!(
        err.contains(reason),
        "{args:?}: {err:?} should mention {reason}"
    );
}

#[test]
fn sign_and_jwks_examples() {
    let (sign, jwks) = (examples::example("sign"), examples::example("jwks"));
    let path = |name: &str| data(name).to_str().unwrap().to_owned();
    let base = |key: &str| -> Vec<String> {
        [
            "--key",
            &path(key),
            "--client-id",
            "cli-client",
            "--audience",
            "https://as.example.com",
        ]
        .map(str::to_owned)
        .to_vec()
    };

    // Every key type and several encodings: the algorithm follows the key,
    // the token verifies, and sign's header kid is the kid jwks prints.
    for (file, spki, key_type) in [
        ("p256.pkcs8.pem", "p256", KeyType::P256),
        ("p384.sec1.pem", "p384", KeyType::P384),
        ("ed25519.jwk.json", "ed25519", KeyType::Ed25519),
        ("rsa2048.pkcs1.der", "rsa2048", KeyType::Rsa),
        ("p256.kid.jwk.json", "p256", KeyType::P256),
    ] {
        let token = sign_ok(&sign, &refs(&base(file)));
        let jws = split(&token);
        let alg = key_type.algorithms()[0];
        assert_eq!(jws.header["alg"], alg.name(), "{file}");
        assert_eq!(jws.header["typ"], "client-authentication+jwt");
        assert_eq!(jws.claims["iss"], "cli-client");
        assert_eq!(jws.claims["sub"], "cli-client");
        assert_eq!(jws.claims["aud"], "https://as.example.com");
        assert_eq!(
            jws.claims["exp"].as_u64().unwrap() - jws.claims["iat"].as_u64().unwrap(),
            60
        );
        jwt_verify(&token, &decoding_key_from_spki(spki, key_type), alg)
            .unwrap_or_else(|e| panic!("{file}: {e}"));

        let set = jwks_ok(&jwks, &[file]);
        let keys = set["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(
            keys[0]["kid"], jws.header["kid"],
            "{file}: sign and jwks agree"
        );
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(keys[0].get(private).is_none(), "{file}: {private} printed");
        }
    }

    // --alg and --lifetime.
    let mut args = base("rsa2048.pkcs8.pem");
    args.extend(["--alg", "PS256", "--lifetime", "300"].map(str::to_owned));
    let token = sign_ok(&sign, &refs(&args));
    let jws = split(&token);
    assert_eq!(jws.header["alg"], "PS256");
    assert_eq!(
        jws.claims["exp"].as_u64().unwrap() - jws.claims["iat"].as_u64().unwrap(),
        300
    );
    jwt_verify(
        &token,
        &decoding_key_from_spki("rsa2048", KeyType::Rsa),
        Algorithm::Ps256,
    )
    .unwrap();

    // Several keys in one set, in order.
    let set = jwks_ok(
        &jwks,
        &["p256.sec1.pem", "ed25519.pkcs8.der", "rsa2048.jwk.json"],
    );
    let kids: Vec<&str> = set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(
        kids,
        [
            expected_thumbprint("p256"),
            expected_thumbprint("ed25519"),
            expected_thumbprint("rsa2048")
        ]
    );

    // Failures.
    let fails = |key: &str, extra: &[&str], reason: &str| {
        let mut args = base(key);
        args.extend(extra.iter().map(|s| s.to_string()));
        assert_fails(&sign, &refs(&args), reason);
    };
    fails("no-such-key.pem", &[], "io");
    fails("p256.spki.pem", &[], "public_key_only");
    fails("p256.public.jwk.json", &[], "public_key_only");
    fails(
        "p256.pkcs8.pem",
        &["--alg", "none"],
        "algorithm_not_allowed",
    );
    fails(
        "p256.pkcs8.pem",
        &["--alg", "HS256"],
        "algorithm_not_allowed",
    );
    fails(
        "p256.pkcs8.pem",
        &["--alg", "ES384"],
        "algorithm_not_allowed",
    );
    fails(
        "rsa2048.pkcs8.pem",
        &["--alg", "ES256"],
        "algorithm_not_allowed",
    );
    fails("rsa1024.pkcs8.pem", &[], "weak_key");
    fails("p256.pkcs8.pem", &["--lifetime", "0"], "invalid_config");
    fails("p256.pkcs8.pem", &["--lifetime", "3601"], "invalid_config");
    fails("p256.pkcs8.pem", &["--lifetime", "soon"], "--lifetime");
    fails("p256.pkcs8.pem", &["--bogus", "1"], "unknown argument");
    assert_fails(&sign, &[], "--key");
    assert_fails(&sign, &["--key"], "--key");
    assert_fails(&sign, &["--key", &path("p256.pkcs8.pem")], "--client-id");

    assert_fails(&jwks, &[], "--key");
    assert_fails(
        &jwks,
        &[
            "--key",
            &path("p256.pkcs8.pem"),
            "--key",
            &path("missing.pem"),
        ],
        "io",
    );
    assert_fails(&jwks, &["--key", &path("p256.spki.pem")], "public_key_only");
}
