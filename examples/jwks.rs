//! Prints the public JWK Set (pretty JSON) of one or more private key files:
//! what a client registers with its authorization server or serves at its
//! `jwks_uri`.
//!
//! ```text
//! cargo run --example jwks -- --key FILE [--key FILE ...]
//! ```
//!
//! Each key file may be PKCS#8, SEC1 or PKCS#1 PEM, DER, or a private JWK.
//! Every key is published with its `kid` (the RFC 7638 thumbprint, or a
//! private JWK's own `kid`): the same `kid` that
//! `cargo run --example sign -- --key FILE ...` writes in the header. No
//! private member is ever printed. On any failure the program prints a
//! one-line reason on stderr and exits with a non-zero status.

use std::process::ExitCode;

use client_assertion::{jwk_set, KeySource, PrivateKey};

const USAGE: &str = "usage: jwks --key FILE [--key FILE ...]";

/// Parses the command line into key paths; `Ok(None)` for `--help`.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Vec<String>>, String> {
    let mut keys = Vec::new();
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--key" => keys.push(
                args.next()
                    .ok_or_else(|| format!("--key needs a value; {USAGE}"))?,
            ),
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        }
    }
    if keys.is_empty() {
        return Err(format!("at least one --key is required; {USAGE}"));
    }
    Ok(Some(keys))
}

/// The error's `Display`, followed by its cause (e.g. the I/O error), on one line.
fn one_line(e: &client_assertion::Error) -> String {
    let mut line = e.to_string();
    if let Some(source) = std::error::Error::source(e) {
        line.push_str(": ");
        line.push_str(&source.to_string());
    }
    line.replace(['\n', '\r'], " ")
}

fn main() -> ExitCode {
    let paths = match parse_args(std::env::args().skip(1)) {
        Ok(Some(paths)) => paths,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("jwks: {message}");
            return ExitCode::from(2);
        }
    };
    let mut keys = Vec::with_capacity(paths.len());
    for path in &paths {
        match PrivateKey::from_file(path) {
            Ok(key) => keys.push(key),
            Err(e) => {
                eprintln!("jwks: {path}: {}", one_line(&e));
                return ExitCode::FAILURE;
            }
        }
    }
    let set = jwk_set(keys.iter().map(|k| k as &dyn KeySource));
    println!("{}", set.to_json_pretty());
    ExitCode::SUCCESS
}
