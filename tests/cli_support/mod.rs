//! Running the built `client-assertion` binary in the CLI tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_client-assertion");
pub const ISSUER: &str = "https://as.example.com";
pub const CLIENT: &str = "my-client";

/// The path of a fixture in `tests/data`.
pub fn data(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/").to_owned() + name
}

/// One run of the binary in `dir`, with `stdin`.
pub fn run_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("PKCS11_PIN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    // A command that never reads stdin may close it early: ignore EPIPE.
    let _ = input.write_all(stdin);
    drop(input);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    out
}

pub fn run(args: &[&str]) -> Output {
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, b"")
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit status, showing the output otherwise.
#[track_caller]
pub fn expect(out: &Output, status: i32) {
    assert_eq!(
        code(out),
        status,
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// The single JSON document on stdout.
#[track_caller]
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", stdout(out)))
}

/// A scratch directory with a fresh P-256 key, its JWK Set and one
/// assertion for `CLIENT` at `ISSUER`.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        let s = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        expect(
            &s.run(&["keygen", "--type", "p256", "--out", "key.pem"], b""),
            0,
        );
        let jwks = s.run(&["jwks", "--key", "key.pem"], b"");
        expect(&jwks, 0);
        std::fs::write(s.path("jwks.json"), &jwks.stdout).unwrap();
        s
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        run_in(self.dir.path(), args, stdin)
    }

    /// A fresh assertion signed with `key.pem`, with extra `sign` flags.
    pub fn sign(&self, extra: &[&str]) -> String {
        let mut args = vec!["sign", "--key", "key.pem", "--client-id", CLIENT];
        if !extra.contains(&"--audience") {
            args.extend(["--audience", ISSUER]);
        }
        args.extend_from_slice(extra);
        let out = self.run(&args, b"");
        expect(&out, 0);
        stdout(&out).trim().to_owned()
    }

    /// The verifier flags for `jwks.json`.
    pub fn verifier_args(&self) -> Vec<&'static str> {
        vec![
            "--jwks",
            "jwks.json",
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
        ]
    }

    /// The private key's PEM body lines: none may ever be printed.
    pub fn secret_lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("key.pem"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::to_owned)
            .collect()
    }

    /// Asserts that `out` shows no line of the private key.
    #[track_caller]
    pub fn no_secret(&self, out: &Output) {
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out));
        for line in self.secret_lines() {
            assert!(!all.contains(&line), "key material printed: {all}");
        }
        assert!(!all.contains("PRIVATE KEY"), "key material printed: {all}");
    }
}
