//! Prints the public JWK Set (pretty JSON) of one or more private key files:
//! what a client registers with its authorization server or serves at its
//! `jwks_uri`.
//!
//! ```text
//! cargo run --example jwks -- --key FILE [--key FILE ...]
//! cargo run --features pkcs11 --example jwks -- [--key FILE ...] \
//!     --pkcs11-module PATH --pkcs11-token LABEL --pkcs11-key LABEL --pin-env VAR
//! ```
//!
//! With the `pkcs11` feature, the public key of one key on a PKCS#11 token
//! can be published too (alone or with key files): `--pkcs11-module PATH`
//! (e.g. `/usr/lib/softhsm/libsofthsm2.so`), `--pkcs11-token LABEL`,
//! `--pkcs11-key LABEL` (the key's `CKA_LABEL`) and `--pin-env VAR` (the
//! environment variable holding the user PIN; never the command line).
//! Built without the feature, these flags are refused with a one-line
//! error.
//!
//! Each key file may be PKCS#8, SEC1 or PKCS#1 PEM, DER, or a private JWK.
//! Every key is published with its `kid` (the RFC 7638 thumbprint, or a
//! private JWK's own `kid`): the same `kid` that
//! `cargo run --example sign -- --key FILE ...` writes in the header. No
//! private member is ever printed. On any failure the program prints a
//! one-line reason on stderr and exits with a non-zero status.

use std::process::ExitCode;
use std::sync::Arc;

use client_assertion::{jwk_set, KeySource, PrivateKey};

mod support;
use support::{one_line, Pkcs11Flags, PKCS11_FLAGS};

const USAGE: &str = "usage: jwks [--key FILE ...] [--pkcs11-module PATH --pkcs11-token LABEL \
--pkcs11-key LABEL --pin-env VAR] (at least one key)";

/// The keys to publish: key files and an optional PKCS#11 key.
type Keys = (Vec<String>, Option<Pkcs11Flags>);

/// Parses the command line into the keys; `Ok(None)` for `--help`.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Keys>, String> {
    let Some(mut flags) = support::parse(args, &PKCS11_FLAGS, &["--key"], USAGE)? else {
        return Ok(None);
    };
    let keys = flags.take_all("--key");
    let pkcs11 = flags.pkcs11("jwks")?;
    if keys.is_empty() && pkcs11.is_none() {
        return Err(format!("at least one --key is required; {USAGE}"));
    }
    Ok(Some((keys, pkcs11)))
}

fn main() -> ExitCode {
    let (paths, pkcs11) = match parse_args(std::env::args().skip(1)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("jwks: {message}");
            return ExitCode::from(2);
        }
    };
    let mut keys: Vec<Arc<dyn KeySource>> = Vec::with_capacity(paths.len() + 1);
    for path in &paths {
        match PrivateKey::from_file(path) {
            Ok(key) => keys.push(Arc::new(key)),
            Err(e) => {
                eprintln!("jwks: {path}: {}", one_line(&e));
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(args) = &pkcs11 {
        match args.open() {
            Ok(key) => keys.push(key),
            Err(e) => {
                eprintln!("jwks: PKCS#11 key {:?}: {}", args.key, one_line(&e));
                return ExitCode::FAILURE;
            }
        }
    }
    let set = jwk_set(keys.iter().map(|k| &**k as &dyn KeySource));
    println!("{}", set.to_json_pretty());
    ExitCode::SUCCESS
}
