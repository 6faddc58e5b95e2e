//! The `verify` example as a command-line program, run through
//! built once and run directly: one output line per input line,
//! replays across lines caught, exit 0; bad arguments and unreadable JWK
//! Sets exit non-zero with a one-line reason on stderr.

#[path = "common/backend.rs"]
mod backend;
#[path = "common/examples.rs"]
mod examples;

use std::process::Output;
use std::sync::Arc;

use backend::on_backend;
use client_assertion::{jwk_set, AssertionSigner, KeyType, PrivateKey};

const ISSUER: &str = "https://as.example.com";
const CLIENT: &str = "cli-client";

/// The `verify` example with `args`, reading `stdin`.
fn run_verify(args: &[&str], stdin: &str) -> Output {
    examples::run_example("verify", args, stdin)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    jwks: String,
    key: Arc<PrivateKey>,
    signer: AssertionSigner,
}

impl Setup {
    /// `--jwks` of this setup, `--client-id` and `--audience`.
    fn args(&self) -> [&str; 6] {
        [
            "--jwks",
            &self.jwks,
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
        ]
    }
}

fn setup(key_type: KeyType) -> Setup {
    // Built before anything is signed: a slow first build cannot expire it.
    examples::example("verify");
    let key = Arc::new(on_backend(PrivateKey::generate(key_type).unwrap()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    std::fs::write(&path, jwk_set([&*key]).to_json_pretty()).unwrap();
    // The example uses the system clock, and so does this signer.
    let signer = AssertionSigner::builder(key.clone(), CLIENT, ISSUER)
        .build()
        .unwrap();
    Setup {
        jwks: path.to_str().unwrap().to_owned(),
        _dir: dir,
        key,
        signer,
    }
}

#[test]
fn valid_replayed_and_garbage_lines() {
    let s = setup(KeyType::P256);
    let a = s.signer.sign().unwrap();
    let input = format!("{0}\n{0}\nnot-a-jwt\n", a.as_str());
    let out = run_verify(&s.args(), &input);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("ok {}\nrejected replayed\nrejected malformed\n", a.jti())
    );
}

#[test]
fn one_line_out_per_line_in() {
    let s = setup(KeyType::Ed25519);
    let a = s.signer.sign().unwrap();
    let b = s.signer.sign().unwrap();
    let other = AssertionSigner::builder(
        Arc::new(on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap())),
        CLIENT,
        ISSUER,
    )
    .build()
    .unwrap()
    .sign()
    .unwrap();
    let wrong_aud = AssertionSigner::builder(s.signer.key().clone(), CLIENT, "https://evil")
        .build()
        .unwrap()
        .sign()
        .unwrap();
    // CRLF line ends, an empty line, no newline at the end.
    let input = format!(
        "{}\r\n\n{}\n{}\n{}\n{}",
        a.as_str(),
        other.as_str(),
        wrong_aud.as_str(),
        a.as_str(),
        b.as_str()
    );
    let out = run_verify(
        &[
            "--jwks",
            &s.jwks,
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
            "--leeway",
            "5",
            "--max-lifetime",
            "120",
        ],
        &input,
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "ok {}\nrejected malformed\nrejected unknown_key\nrejected audience_mismatch\nrejected replayed\nok {}\n",
            a.jti(),
            b.jti()
        )
    );
    // No input, no output.
    let out = run_verify(&s.args(), "");
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn bad_arguments_fail_with_one_line() {
    let s = setup(KeyType::P256);
    let dir = tempfile::tempdir().unwrap();
    let not_jwks = dir.path().join("not.json");
    std::fs::write(&not_jwks, "{\"keys\": 7}").unwrap();
    let missing = dir.path().join("missing.json");
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["--jwks", &s.jwks, "--client-id", CLIENT],
        vec!["--jwks", &s.jwks, "--audience", ISSUER],
        vec!["--client-id", CLIENT, "--audience", ISSUER],
        vec!["--jwks", &s.jwks, "--client-id", CLIENT, "--audience"],
        vec![
            "--jwks",
            &s.jwks,
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
            "--bogus",
        ],
        vec![
            "--jwks",
            &s.jwks,
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
            "--leeway",
            "ten",
        ],
        vec![
            "--jwks",
            &s.jwks,
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
            "--leeway",
            "3600",
        ],
        vec![
            "--jwks",
            &s.jwks,
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
            "--max-lifetime",
            "0",
        ],
        vec![
            "--jwks",
            &s.jwks,
            "--jwks",
            &s.jwks,
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
        ],
        vec![
            "--jwks",
            missing.to_str().unwrap(),
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
        ],
        vec![
            "--jwks",
            not_jwks.to_str().unwrap(),
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
        ],
    ];
    for args in cases {
        let out = run_verify(&args, "x\n");
        assert!(!out.status.success(), "{args:?} should fail");
        assert_eq!(text(&out.stdout), "", "{args:?}: nothing on stdout");
        let err = text(&out.stderr);
        assert_eq!(
            err.lines().count(),
            1,
            "{args:?}: one line on stderr: {err:?}"
        );
        assert!(err.starts_with("verify: "), "{err:?}");
    }
    let out = run_verify(&["--help"], "");
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("usage: verify"));
}

/// `token` with its `jti` replaced by `jti`, signed again with `key`.
fn with_jti(key: &PrivateKey, token: &str, jti: &str) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine as _;
    use client_assertion::{Algorithm, KeySource as _};
    let mut parts = token.split('.');
    let header = parts.next().unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&B64.decode(parts.next().unwrap()).unwrap()).unwrap();
    claims["jti"] = jti.into();
    let input = format!("{header}.{}", B64.encode(claims.to_string()));
    let sig = key.sign(Algorithm::Es256, input.as_bytes()).unwrap();
    format!("{input}.{}", B64.encode(sig))
}

/// Client-chosen `jti`s that would print alike, or hide text, are escaped:
/// a space, a backslash, controls, bidi overrides and zero-width characters.
#[test]
fn jti_output_is_unambiguous() {
    let s = setup(KeyType::P256);
    let cases = [
        ("a b", r"a\u{20}b"),
        (r"a\u{20}b", r"a\\u{20}b"),
        ("tab\there", r"tab\there"),
        ("rtl\u{202e}txt", r"rtl\u{202e}txt"),
        ("zero\u{200b}width", r"zero\u{200b}width"),
        ("bom\u{feff}", r"bom\u{feff}"),
        ("nbsp\u{a0}", r"nbsp\u{a0}"),
        ("ünïcödé-ok", "ünïcödé-ok"),
    ];
    let input: String = cases
        .iter()
        .map(|(jti, _)| with_jti(&s.key, s.signer.sign().unwrap().as_str(), jti) + "\n")
        .collect();
    let out = run_verify(&s.args(), &input);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let expected: String = cases.iter().map(|(_, p)| format!("ok {p}\n")).collect();
    assert_eq!(text(&out.stdout), expected);
}

/// `--jwks /dev/zero` (or any file over 64 KiB) is refused after reading
/// 64 KiB + 1 bytes, not read until memory runs out.
#[test]
fn oversized_jwks_file_is_refused() {
    let args = [
        "--jwks",
        "/dev/zero",
        "--client-id",
        CLIENT,
        "--audience",
        ISSUER,
    ];
    let out = run_verify(&args, "");
    assert_eq!(out.status.code(), Some(2), "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("larger than"),
        "{}",
        text(&out.stderr)
    );
}

/// A line of several MiB is refused as `too_large` without being buffered
/// whole, and the next line is read as usual.
#[test]
fn a_huge_line_is_too_large_and_the_next_one_is_read() {
    let s = setup(KeyType::P256);
    let a = s.signer.sign().unwrap();
    let input = format!("{}\n{}\n", "x".repeat(3 << 20), a.as_str());
    let out = run_verify(&s.args(), &input);
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("rejected too_large\nok {}\n", a.jti())
    );
}
