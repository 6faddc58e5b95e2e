//! The `client-assertion` binary (feature `cli`): keygen, jwks, thumbprint,
//! sign and verify, each run as a process: success, `--json` parsed, every
//! usage error (exit 2) and failure (exit 1); and the README's "Operator
//! CLI" walkthrough, run verbatim.
#![cfg(feature = "cli")]

mod cli_support;

use cli_support::*;
use client_assertion::keys::CertificateChain;
use client_assertion::PrivateKey;

#[test]
fn help_and_version() {
    let out = run(&["--help"]);
    expect(&out, 0);
    assert!(stdout(&out).contains("Examples:"));
    assert!(stdout(&out).contains("Exit status: 0 ok, 1 rejected or failed, 2 usage error"));
    for sub in [
        "keygen",
        "jwks",
        "thumbprint",
        "sign",
        "verify",
        "inspect",
        "explain",
    ] {
        let out = run(&[sub, "--help"]);
        expect(&out, 0);
        assert!(
            stdout(&out).contains("Examples:"),
            "{sub} --help has examples"
        );
        assert!(stdout(&out).contains(&format!("client-assertion {sub}")));
    }
    expect(&run(&["--version"]), 0);
}

/// The README's walkthrough, run as written with the binary on PATH.
#[test]
fn readme_walkthrough_runs_verbatim() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("\n## Operator CLI\n")
        .nth(1)
        .expect("README has an Operator CLI section");
    let section = section.split("\n## ").next().unwrap();
    let after = section
        .split("The walkthrough (the tests run this block verbatim):")
        .nth(1)
        .expect("the walkthrough is introduced");
    let block = after
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a sh block");
    assert!(block.contains("keygen") && block.contains("verify"));
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = std::path::Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("sh")
        .args(["-eu", "-c", block])
        .current_dir(dir.path())
        .env("PATH", path)
        .output()
        .unwrap();
    expect(&out, 0);
    let text = stdout(&out);
    assert!(
        text.contains("wrote a p256 private key to key.pem (mode 0600)"),
        "{text}"
    );
    assert!(
        text.contains("rfc7523bis: passes the header and claim rules"),
        "{text}"
    );
    assert!(text.contains("NOT VERIFIED"), "{text}");
    let last = text.lines().last().unwrap();
    assert!(last.starts_with("ok "), "verify accepted it: {text}");
    for name in ["key.pem", "jwks.json", "assertion.jwt"] {
        assert!(dir.path().join(name).exists(), "{name} written");
    }
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn keygen_every_type_to_a_0600_file_and_stdout() {
    let dir = tempfile::tempdir().unwrap();
    for (ty, alg) in [
        ("p256", "ES256"),
        ("p384", "ES384"),
        ("ed25519", "EdDSA"),
        ("rsa2048", "RS256"),
        ("rsa3072", "RS256"),
        ("rsa4096", "RS256"),
    ] {
        let file = format!("{ty}.pem");
        let out = run_in(
            dir.path(),
            &["keygen", "--json", "--type", ty, "--out", &file],
            b"",
        );
        expect(&out, 0);
        let report = json(&out);
        assert_eq!(report["ok"], true);
        assert_eq!(report["type"], ty);
        assert_eq!(report["alg"], alg);
        assert_eq!(report["mode"], "0600");
        let path = dir.path().join(&file);
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600, "{ty}");
        let key = PrivateKey::from_file(&path).unwrap();
        assert_eq!(report["kid"], key.kid());
        assert!(!stdout(&out).contains("PRIVATE KEY"));
    }
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");

    let out = run(&["keygen", "--type", "ed25519"]);
    expect(&out, 0);
    let pem = stdout(&out);
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    PrivateKey::from_pem(&pem).unwrap();
}

#[test]
fn keygen_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["keygen", "--type", "p256", "--out", "k.pem"];
    expect(&run_in(dir.path(), &args, b""), 0);
    let first = std::fs::read(dir.path().join("k.pem")).unwrap();
    let out = run_in(dir.path(), &args, b"");
    expect(&out, 1);
    assert!(stderr(&out).contains("exists"), "{}", stderr(&out));
    assert_eq!(std::fs::read(dir.path().join("k.pem")).unwrap(), first);
    let mut forced = args.to_vec();
    forced.push("--force");
    expect(&run_in(dir.path(), &forced, b""), 0);
    assert_ne!(std::fs::read(dir.path().join("k.pem")).unwrap(), first);
    #[cfg(unix)]
    assert_eq!(mode(&dir.path().join("k.pem")), 0o600);
    // A directory that does not exist.
    let out = run_in(
        dir.path(),
        &["keygen", "--type", "p256", "--out", "no/such/k.pem"],
        b"",
    );
    expect(&out, 1);
    let out = run_in(
        dir.path(),
        &[
            "keygen",
            "--json",
            "--type",
            "p256",
            "--out",
            "no/such/k.pem",
        ],
        b"",
    );
    expect(&out, 1);
    assert_eq!(json(&out)["error"]["kind"], "failed");
}

#[test]
fn usage_errors_exit_2() {
    let s = Scratch::new();
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &["keygen"],
        &["keygen", "--type", "rsa1024"],
        &["keygen", "--type", "p256", "--force"],
        &["keygen", "--type", "p256", "--json"],
        &[
            "keygen",
            "--type",
            "p256",
            "--out",
            "x.pem",
            "--pkcs11-module",
            "m",
        ],
        &["jwks"],
        &["jwks", "--key", "-", "--key", "-"],
        &["jwks", "--key"],
        &["thumbprint"],
        &["sign", "--key", "key.pem", "--audience", ISSUER],
        &["sign", "--key", "key.pem", "--client-id", CLIENT],
        &["sign", "--client-id", CLIENT, "--audience", ISSUER],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--x5c",
        ],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--grant",
        ],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--subject",
            "s",
        ],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--profile",
            "entra-id",
        ],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--profile",
            "legacy",
        ],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--tenant",
            "t",
        ],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--profile",
            "nope",
        ],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--grant",
            "--subject",
            "s",
            "--profile",
            "fapi2",
        ],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--pkcs11-module",
            "m",
            "--pkcs11-token",
            "t",
            "--pkcs11-key",
            "k",
            "--pin-env",
            "V",
        ],
        &[
            "sign",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--pkcs11-module",
            "m",
            "--pin-env",
            "V",
        ],
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--lifetime",
            "x",
        ],
        &["verify", "--client-id", CLIENT, "--audience", ISSUER],
        &["verify", "--jwks", "jwks.json", "--audience", ISSUER],
        &["verify", "--jwks", "jwks.json", "--client-id", CLIENT],
        &[
            "verify",
            "--jwks",
            "jwks.json",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--leeway",
            "-1",
        ],
        &[
            "verify",
            "--jwks",
            "jwks.json",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--profile",
            "fapi2",
            "--leeway",
            "100",
        ],
        &[
            "verify",
            "--jwks",
            "jwks.json",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--leeway",
            "301",
        ],
        &[
            "verify",
            "--jwks",
            "jwks.json",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--alg",
            "none",
        ],
        &[
            "explain",
            "--jwks",
            "jwks.json",
            "--client-id",
            "c",
            "--audience",
            "a",
            "--alg",
            "HS256",
            "-",
        ],
        &["inspect"],
        &["inspect", "--profile", "entra-id", "-"],
        &[
            "explain",
            "--jwks",
            "jwks.json",
            "--client-id",
            "c",
            "--audience",
            "a",
        ],
        &["explain", "--client-id", "c", "--audience", "a", "x.y.z"],
    ];
    for args in cases {
        let out = s.run(args, b"");
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?} says why");
        if !args.contains(&"--json") {
            assert!(stdout(&out).is_empty(), "{args:?} prints nothing on stdout");
        }
    }
    #[cfg(not(feature = "redis"))]
    {
        let mut args = s.verifier_args();
        args.insert(0, "verify");
        args.extend(["--redis", "redis://127.0.0.1:1/0"]);
        let out = s.run(&args, b"");
        expect(&out, 2);
        assert!(stderr(&out).contains("redis feature"));
    }
}

/// No flag takes a PIN or a secret; a PIN on the command line is refused
/// without being echoed.
#[test]
fn no_secret_on_the_command_line() {
    let s = Scratch::new();
    for flag in ["--pin", "--secret", "--password"] {
        let out = s.run(
            &[
                "sign",
                "--key",
                "key.pem",
                "--client-id",
                "c",
                "--audience",
                "a",
                flag,
                "s3cr3t-1234",
            ],
            b"",
        );
        expect(&out, 2);
        assert!(!stderr(&out).contains("s3cr3t-1234"), "{}", stderr(&out));
    }
    for sub in ["keygen", "jwks", "sign"] {
        let help = stdout(&s.run(&[sub, "--help"], b""));
        assert!(help.contains("--pin-env") && help.contains("--pin-file"));
        assert!(!help.contains("--pin <"), "{sub} takes no PIN value");
    }
}

#[test]
fn jwks_of_files_and_stdin() {
    let s = Scratch::new();
    let out = s.run(
        &[
            "jwks",
            "--key",
            "key.pem",
            "--key",
            &data("rsa2048.pkcs8.pem"),
        ],
        b"",
    );
    expect(&out, 0);
    s.no_secret(&out);
    let set: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys
        .iter()
        .all(|k| k.get("d").is_none() && k.get("p").is_none()));
    let kid = PrivateKey::from_file(s.path("key.pem"))
        .unwrap()
        .kid()
        .to_owned();
    assert_eq!(keys[0]["kid"], kid.as_str());
    // --json: the same set on one line; `-` reads the key from stdin.
    let pem = std::fs::read(s.path("key.pem")).unwrap();
    let out = s.run(&["jwks", "--json", "--key", "-"], &pem);
    expect(&out, 0);
    assert_eq!(stdout(&out).lines().count(), 1);
    assert_eq!(json(&out)["keys"][0]["kid"], kid.as_str());
}

#[test]
fn jwks_failures_exit_1() {
    let s = Scratch::new();
    for (file, code_) in [
        ("no-such-file.pem".to_owned(), None),
        (data("p256.spki.pem"), Some("public_key_only")),
        (data("rsa1024.pkcs8.pem"), Some("weak_key")),
        (data("secp256k1.pkcs8.pem"), Some("unsupported_key")),
        (data("README.md"), Some("invalid_key")),
    ] {
        let out = s.run(&["jwks", "--json", "--key", &file], b"");
        expect(&out, 1);
        let report = json(&out);
        assert_eq!(report["ok"], false);
        if let Some(c) = code_ {
            assert_eq!(report["error"]["code"], c, "{file}");
        }
    }
}

#[test]
fn thumbprints_of_keys_jwks_and_certificates() {
    let s = Scratch::new();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("thumbprints.json")).unwrap()).unwrap();
    let p256 = expected["p256"].as_str().unwrap();
    for input in [
        "p256.pkcs8.pem",
        "p256.sec1.der",
        "p256.jwk.json",
        "p256.public.jwk.json",
        "p256.spki.pem",
    ] {
        let out = s.run(&["thumbprint", "--json", &data(input)], b"");
        expect(&out, 0);
        let report = json(&out);
        assert_eq!(report["input"]["kind"], "key");
        assert_eq!(report["input"]["thumbprint"], p256, "{input}");
        s.no_secret(&out);
    }
    // Text output and stdin.
    let jwk = std::fs::read(data("p256.kid.jwk.json")).unwrap();
    let out = s.run(&["thumbprint", "-"], &jwk);
    expect(&out, 0);
    let text = stdout(&out);
    assert!(text.contains(&format!("thumbprint: {p256}")), "{text}");
    assert!(text.contains("(the JWK's own kid)"), "{text}");
    assert!(!text.contains("\"d\""));
    // A JWK Set: every key.
    let out = s.run(&["thumbprint", "--json", "jwks.json"], b"");
    expect(&out, 0);
    let kid = PrivateKey::from_file(s.path("key.pem"))
        .unwrap()
        .kid()
        .to_owned();
    assert_eq!(json(&out)["input"]["keys"][0]["thumbprint"], kid.as_str());
    // A certificate: x5t#S256 and x5t.
    let chain = CertificateChain::from_file(data("p256.cert.pem")).unwrap();
    let out = s.run(&["thumbprint", "--json", &data("p256.cert.pem")], b"");
    expect(&out, 0);
    let report = json(&out);
    assert_eq!(report["input"]["kind"], "certificate");
    assert_eq!(report["input"]["x5t#S256"], chain.thumbprint_sha256());
    assert_eq!(report["input"]["x5t"], chain.thumbprint_sha1());
    let out = s.run(&["thumbprint", &data("certs/rsa.cert.der")], b"");
    expect(&out, 0);
    assert!(stdout(&out).contains("x5t#S256:"));
    // Failures.
    for bad in [
        data("README.md"),
        "missing.pem".into(),
        data("rsa1024.public.jwk.json"),
    ] {
        let out = s.run(&["thumbprint", &bad], b"");
        expect(&out, 1);
    }
    let out = s.run(&["thumbprint", "-"], b"{\"kty\":\"EC\"");
    expect(&out, 1);
}

fn claims(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn header(token: &str) -> serde_json::Value {
    use base64::Engine as _;
    let part = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn sign_variants() {
    let s = Scratch::new();
    let token = s.sign(&[]);
    assert_eq!(claims(&token)["iss"], CLIENT);
    assert_eq!(header(&token)["typ"], "client-authentication+jwt");
    // --form: the url-encoded body, with client_id.
    let body = s.sign(&["--form"]);
    assert!(body.starts_with(
        "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=ey"
    ));
    assert!(body.ends_with("&client_id=my-client"));
    // --json.
    let mut args = vec![
        "sign",
        "--json",
        "--key",
        "key.pem",
        "--client-id",
        CLIENT,
        "--audience",
        ISSUER,
        "--lifetime",
        "120",
    ];
    let out = s.run(&args, b"");
    expect(&out, 0);
    s.no_secret(&out);
    let report = json(&out);
    let jws = report["assertion"].as_str().unwrap();
    assert_eq!(report["jti"], claims(jws)["jti"]);
    assert_eq!(report["alg"], "ES256");
    assert_eq!(
        report["exp"].as_u64().unwrap() - report["iat"].as_u64().unwrap(),
        120
    );
    assert!(report["form"].as_str().unwrap().contains(jws));
    // --grant --subject: iss and sub differ, typ JWT, a grant body.
    args = vec![
        "sign",
        "--key",
        "key.pem",
        "--client-id",
        "issuer-app",
        "--audience",
        ISSUER,
        "--grant",
        "--subject",
        "alice",
        "--form",
    ];
    let out = s.run(&args, b"");
    expect(&out, 0);
    assert!(stdout(&out).starts_with(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
    ));
    let out = s.run(&args[..args.len() - 1], b"");
    let grant = stdout(&out).trim().to_owned();
    assert_eq!(claims(&grant)["sub"], "alice");
    assert_eq!(claims(&grant)["iss"], "issuer-app");
    assert_eq!(header(&grant)["typ"], "JWT");
}

#[test]
fn sign_profiles() {
    let s = Scratch::new();
    let rsa = data("rsa2048.pkcs8.pem");
    let base = ["sign", "--key", rsa.as_str(), "--client-id", CLIENT];
    let with = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        let out = s.run(&a, b"");
        expect(&out, 0);
        stdout(&out).trim().to_owned()
    };
    let fapi = with(&["--audience", ISSUER, "--profile", "fapi2"]);
    assert_eq!(header(&fapi)["alg"], "PS256");
    let legacy = with(&[
        "--profile",
        "legacy",
        "--token-endpoint",
        "https://as.example.com/token",
    ]);
    assert_eq!(claims(&legacy)["aud"], "https://as.example.com/token");
    assert_eq!(header(&legacy)["typ"], "JWT");
    let entra_key = data("certs/entra.key.pem");
    let entra_cert = data("certs/entra.cert.pem");
    let out = s.run(
        &[
            "sign",
            "--key",
            &entra_key,
            "--cert",
            &entra_cert,
            "--client-id",
            "app",
            "--profile",
            "entra-id",
            "--tenant",
            "contoso.onmicrosoft.com",
        ],
        b"",
    );
    expect(&out, 0);
    let entra = stdout(&out).trim().to_owned();
    assert_eq!(
        claims(&entra)["aud"],
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    );
    assert!(header(&entra)["x5t#S256"].is_string());
    assert_eq!(header(&entra)["alg"], "PS256");
}

#[test]
fn sign_failures_exit_1() {
    let s = Scratch::new();
    let rsa = data("rsa2048.pkcs8.pem");
    let cert = data("p256.cert.pem");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--key", "key.pem", "--alg", "none"],
            "algorithm_not_allowed",
        ),
        (
            vec!["--key", "key.pem", "--alg", "HS256"],
            "algorithm_not_allowed",
        ),
        (
            vec!["--key", "key.pem", "--alg", "RS256"],
            "algorithm_not_allowed",
        ),
        (
            vec!["--key", "key.pem", "--lifetime", "7200"],
            "invalid_config",
        ),
        (
            vec!["--key", "key.pem", "--lifetime", "0"],
            "invalid_config",
        ),
        (vec!["--key", "missing.pem"], ""),
        (vec!["--key", "jwks.json"], ""),
        (
            vec!["--key", "key.pem", "--cert", cert.as_str()],
            "certificate_mismatch",
        ),
        (
            vec!["--key", "key.pem", "--cert", "jwks.json"],
            "invalid_certificate",
        ),
        (
            vec![
                "--key",
                rsa.as_str(),
                "--profile",
                "fapi2",
                "--alg",
                "RS256",
            ],
            "algorithm_not_allowed",
        ),
        (
            vec![
                "--key",
                rsa.as_str(),
                "--profile",
                "entra-id",
                "--tenant",
                "t",
            ],
            "invalid_config",
        ),
        (
            vec![
                "--key",
                "key.pem",
                "--profile",
                "entra-id",
                "--tenant",
                "bad/tenant",
            ],
            "invalid_config",
        ),
    ];
    for (extra, c) in cases {
        let mut args = vec![
            "sign",
            "--json",
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
        ];
        if extra.contains(&"--profile") && extra.contains(&"entra-id") {
            args.truncate(4);
        }
        args.extend(extra.iter().copied());
        let out = s.run(&args, b"");
        assert_eq!(code(&out), 1, "{args:?}: {}", stderr(&out));
        let report = json(&out);
        if !c.is_empty() {
            assert_eq!(report["error"]["code"], c, "{args:?}");
        }
        s.no_secret(&out);
    }
}

#[test]
fn verify_lines_json_replay_and_failures() {
    let s = Scratch::new();
    let a = s.sign(&[]);
    let b = s.sign(&[]);
    let mut args = s.verifier_args();
    args.insert(0, "verify");
    let input = format!("{a}\n{b}\n{a}\nnot-a-token\n");
    let out = s.run(&args, input.as_bytes());
    expect(&out, 1);
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        format!("ok {}", claims(&a)["jti"].as_str().unwrap())
    );
    assert!(lines[1].starts_with("ok "));
    assert_eq!(lines[2], "rejected replayed");
    assert_eq!(lines[3], "rejected malformed");
    // All accepted: exit 0; --json one object per line; a TOKEN argument.
    let c = s.sign(&[]);
    let mut json_args = args.clone();
    json_args.insert(1, "--json");
    let out = s.run(&json_args, format!("{c}\n").as_bytes());
    expect(&out, 0);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["client_id"], CLIENT);
    assert_eq!(v["jti"], claims(&c)["jti"]);
    let mut one = json_args.clone();
    one.push(&c);
    // A new process has a new in-memory replay cache: accepted again.
    let out = s.run(&one, b"");
    expect(&out, 0);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v["jti"], claims(&c)["jti"]);
    let out = s.run(&json_args, format!("{c}\n{c}\n").as_bytes());
    expect(&out, 1);
    let v: serde_json::Value = serde_json::from_str(stdout(&out).lines().nth(1).unwrap()).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["code"], "replayed");
    assert_eq!(v["oauth_error"], "invalid_client");
    // --profile: a default-signed token passes rfc7523bis, a grant (typ JWT) does not.
    let grant = s.sign(&["--grant", "--subject", CLIENT]);
    let mut prof = args.clone();
    prof.extend(["--profile", "rfc7523bis"]);
    let out = s.run(&prof, format!("{}\n{grant}\n", s.sign(&[])).as_bytes());
    expect(&out, 1);
    let text = stdout(&out);
    assert!(text.lines().next().unwrap().starts_with("ok "));
    assert_eq!(text.lines().nth(1).unwrap(), "rejected type_not_allowed");
    // Unreadable, oversized or invalid JWK Sets fail with exit 1.
    std::fs::write(s.path("big.json"), vec![b' '; 70 * 1024]).unwrap();
    std::fs::write(
        s.path("private.json"),
        std::fs::read(data("p256.jwk.json"))
            .map(|k| format!("{{\"keys\":[{}]}}", String::from_utf8(k).unwrap()))
            .unwrap(),
    )
    .unwrap();
    for jwks in ["missing.json", "big.json", "private.json", "key.pem"] {
        let out = s.run(
            &[
                "verify",
                "--json",
                "--jwks",
                jwks,
                "--client-id",
                CLIENT,
                "--audience",
                ISSUER,
            ],
            b"",
        );
        assert_eq!(code(&out), 1, "{jwks}: {}", stderr(&out));
        assert_eq!(json(&out)["ok"], false);
    }
}
