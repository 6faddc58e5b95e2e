//! Our `jsonwebtoken` feature never picks a jsonwebtoken crypto backend,
//! and the crate pulls in no HTTP stack.
//!
//! jsonwebtoken 12 (as 11) panics at its first signature operation when both of
//! its backends (`rust_crypto`, `aws_lc_rs`) are enabled. The
//! dev-dependency enables `rust_crypto` (it shares our RustCrypto crates, so
//! the package's tests build no C); this test binary links our crate with
//! its `jsonwebtoken` feature and signs and verifies with jsonwebtoken
//! itself, so it would panic if our normal dependency enabled `aws_lc_rs`.
//! tests/suites/jsonwebtoken_aws_lc_rs.rs runs the same round trip with
//! `aws_lc_rs` (the other direction). The dependency tree is also checked
//! with `cargo tree`.

mod common;

use std::process::Command;

#[cfg(feature = "jsonwebtoken")]
#[path = "common/jsonwebtoken_oracle.rs"]
mod oracle;

#[cfg(feature = "jsonwebtoken")]
#[test]
fn jsonwebtoken_signs_and_verifies_next_to_our_conversions() {
    oracle::jsonwebtoken_signs_and_verifies_next_to_our_conversions();
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
