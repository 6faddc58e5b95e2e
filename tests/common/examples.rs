//! The crate's examples as programs: built once per test process with this
//! test build's features (so the library is not rebuilt with others), then
//! run directly, without `cargo run`. Tests that time an assertion build the
//! example before they sign, so a slow first build cannot expire it.
//! Included with `#[path = "common/examples.rs"]`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// Every feature of the crate this test build has on.
fn features() -> String {
    [
        (cfg!(feature = "jsonwebtoken"), "jsonwebtoken"),
        (cfg!(feature = "pkcs11"), "pkcs11"),
        (cfg!(feature = "redis"), "redis"),
        (cfg!(feature = "aws-lc-rs"), "aws-lc-rs"),
        (cfg!(feature = "tracing"), "tracing"),
        (cfg!(feature = "cli"), "cli"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect::<Vec<_>>()
    .join(",")
}

/// The path of the example `name`, built on first use (a no-op after
/// `cargo test` with the same features).
pub fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap();
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let path = build(name);
    built.insert(name.to_owned(), path.clone());
    path
}

fn build(name: &str) -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "--example",
            name,
        ])
        .args(["--features", &features()])
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the {name} example failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .and_then(|m| m["executable"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| panic!("cargo reports the {name} example"))
}

/// Runs the example `name` with `args`, writing `stdin` to it.
pub fn run_example(name: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(example(name))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example runs");
    // A program that exits early (bad arguments) closes its stdin.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().expect("the example exits")
}
