//! The `verify` example with `--trust FILE --audience AUD`: one output
//! line per input token, `ok <client_id>` or `rejected <code>`, through
//! `cargo run --quiet --example verify`.

mod verify_common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use client_assertion::{jwk_set, Algorithm, KeyType, PrivateKey};
use serde_json::json;
use verify_common::{sign_raw, ISSUER};

const K8S: &str = "https://kubernetes.default.svc.cluster.local";

fn run_verify(args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--quiet", "--example", "verify"]);
    let features: Vec<&str> = [
        (cfg!(feature = "jsonwebtoken"), "jsonwebtoken"),
        (cfg!(feature = "pkcs11"), "pkcs11"),
        (cfg!(feature = "redis"), "redis"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    let mut child = cmd
        .arg("--")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo run");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().expect("verify exits")
}

fn k8s_token(key: &PrivateKey, ns: &str, sa: &str, now: u64) -> String {
    let header = json!({"alg": "ES256", "kid": key.kid()});
    let claims = json!({
        "aud": [ISSUER], "iss": K8S, "iat": now, "nbf": now, "exp": now + 600,
        "jti": "0f2a", "sub": format!("system:serviceaccount:{ns}:{sa}"),
        "kubernetes.io": {"namespace": ns, "serviceaccount": {"name": sa, "uid": "u-1"}},
    });
    sign_raw(
        key,
        Algorithm::Es256,
        &header.to_string(),
        &claims.to_string(),
    )
}

#[test]
fn trust_file_mode_prints_client_ids_and_codes() {
    let dir = tempfile::tempdir().unwrap();
    let key = PrivateKey::generate(KeyType::P256).unwrap();
    std::fs::write(
        dir.path().join("cluster.jwks.json"),
        jwk_set([&key]).to_json(),
    )
    .unwrap();
    let trust = json!({"clients": [
        {"client_id": "payments", "preset": "kubernetes", "issuer": K8S,
         "jwks_file": "cluster.jwks.json",
         "claims": [{"claim": "sub", "exact": "system:serviceaccount:prod:payments"}]},
        {"client_id": "ops", "preset": "kubernetes", "issuer": K8S,
         "jwks_file": "cluster.jwks.json",
         "claims": [{"claim": ["kubernetes.io", "namespace"], "one_of": ["ops", "shared"]}]},
        {"client_id": "shared-a", "preset": "kubernetes", "issuer": K8S,
         "jwks_file": "cluster.jwks.json",
         "claims": [{"claim": ["kubernetes.io", "serviceaccount", "name"], "exact": "both"}]}
    ]});
    let file = dir.path().join("trust.json");
    std::fs::write(&file, trust.to_string()).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let input = [
        k8s_token(&key, "prod", "payments", now),
        k8s_token(&key, "ops", "runner", now),
        k8s_token(&key, "dev", "payments", now),
        k8s_token(&key, "shared", "both", now),
        "not a token".to_owned(),
    ]
    .join("\n");
    let out = run_verify(
        &["--trust", file.to_str().unwrap(), "--audience", ISSUER],
        &input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "ok payments\nok ops\nrejected subject_mismatch\nrejected ambiguous_client\nrejected malformed\n"
    );
    // --trust replaces --jwks/--client-id; a shared issuer without a pin
    // is refused when the file is read.
    let f = file.to_str().unwrap();
    let bad = run_verify(
        &["--trust", f, "--client-id", "x", "--audience", ISSUER],
        "",
    );
    assert!(!bad.status.success());
    let unpinned = json!({"clients": [{"client_id": "ci", "preset": "github_actions",
        "jwks_file": "cluster.jwks.json",
        "claims": [{"claim": "sub", "exact": "repo:o/r:ref:refs/heads/main"}]}]});
    std::fs::write(&file, unpinned.to_string()).unwrap();
    let out = run_verify(&["--trust", f, "--audience", ISSUER], "");
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.starts_with("verify: ") && err.contains("shared_issuer_unpinned"),
        "{err}"
    );
}
