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

use client_assertion::{jwk_set, KeySource, PrivateKey};

const USAGE: &str = "usage: jwks [--key FILE ...] [--pkcs11-module PATH --pkcs11-token LABEL \
--pkcs11-key LABEL --pin-env VAR] (at least one key)";

/// A key on a PKCS#11 token (feature `pkcs11`).
#[cfg_attr(not(feature = "pkcs11"), allow(dead_code))]
struct Pkcs11Args {
    module: String,
    token: String,
    key: String,
    pin_env: String,
}

/// Parses the command line into key paths and an optional PKCS#11 key;
/// `Ok(None)` for `--help`.
#[allow(clippy::type_complexity)]
fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> Result<Option<(Vec<String>, Option<Pkcs11Args>)>, String> {
    let mut keys = Vec::new();
    let mut pkcs11: [Option<String>; 4] = Default::default();
    const PKCS11_FLAGS: [&str; 4] = [
        "--pkcs11-module",
        "--pkcs11-token",
        "--pkcs11-key",
        "--pin-env",
    ];
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--key" => keys.push(
                args.next()
                    .ok_or_else(|| format!("--key needs a value; {USAGE}"))?,
            ),
            other => {
                let Some(i) = PKCS11_FLAGS.iter().position(|f| *f == other) else {
                    return Err(format!("unknown argument {other:?}; {USAGE}"));
                };
                let value = args
                    .next()
                    .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
                if pkcs11[i].replace(value).is_some() {
                    return Err(format!("{flag} given twice; {USAGE}"));
                }
            }
        }
    }
    let pkcs11 = match pkcs11 {
        [None, None, None, None] => None,
        _ if !cfg!(feature = "pkcs11") => {
            return Err("the --pkcs11-* flags need the pkcs11 feature: \
                        cargo run --features pkcs11 --example jwks -- ..."
                .into())
        }
        [module, token, key, pin_env] => {
            let missing = |name: &str| format!("{name} is required with a PKCS#11 key; {USAGE}");
            Some(Pkcs11Args {
                module: module.ok_or_else(|| missing("--pkcs11-module"))?,
                token: token.ok_or_else(|| missing("--pkcs11-token"))?,
                key: key.ok_or_else(|| missing("--pkcs11-key"))?,
                pin_env: pin_env.ok_or_else(|| missing("--pin-env"))?,
            })
        }
    };
    if keys.is_empty() && pkcs11.is_none() {
        return Err(format!("at least one --key is required; {USAGE}"));
    }
    Ok(Some((keys, pkcs11)))
}

#[cfg(feature = "pkcs11")]
fn open_pkcs11(args: &Pkcs11Args) -> Result<Box<dyn KeySource>, client_assertion::Error> {
    use client_assertion::pkcs11::{Pin, Pkcs11Key};
    let key = Pkcs11Key::builder(&args.module)
        .token_label(&args.token)
        .pin(Pin::from_env(&args.pin_env)?)
        .key_label(&args.key)
        .open()?;
    Ok(Box::new(key))
}

/// parse_args refuses the --pkcs11-* flags without the feature.
#[cfg(not(feature = "pkcs11"))]
fn open_pkcs11(_: &Pkcs11Args) -> Result<Box<dyn KeySource>, client_assertion::Error> {
    Err(client_assertion::ErrorKind::InvalidConfig.into())
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
    let mut keys: Vec<Box<dyn KeySource>> = Vec::with_capacity(paths.len() + 1);
    for path in &paths {
        match PrivateKey::from_file(path) {
            Ok(key) => keys.push(Box::new(key)),
            Err(e) => {
                eprintln!("jwks: {path}: {}", one_line(&e));
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(args) = &pkcs11 {
        match open_pkcs11(args) {
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
