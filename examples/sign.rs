//! Mints one client assertion (RFC 7523 `private_key_jwt`) with a key file
//! and prints the compact JWS, and nothing else, on stdout.
//!
//! ```text
//! cargo run --example sign -- --key FILE --client-id ID --audience AUD [--alg ALG] [--lifetime SECS]
//! ```
//!
//! - `--key FILE`: the private key: PKCS#8, SEC1 or PKCS#1 PEM, DER, or a
//!   private JWK (detected from the content).
//! - `--client-id ID`: written as both `iss` and `sub`.
//! - `--audience AUD`: written as `aud`, usually the authorization server's
//!   issuer identifier.
//! - `--alg ALG`: `ES256`, `ES384`, `EdDSA`, `RS256` or `PS256`; by default
//!   the algorithm follows the key (RSA keys sign RS256).
//! - `--lifetime SECS`: `exp - iat` in seconds (default 60, at most 3600).
//!
//! The header's `kid` is the one `cargo run --example jwks -- --key FILE`
//! publishes for the same file. On any failure (a missing or unreadable
//! file, a public-only key, `--alg none`, an HMAC or unknown algorithm, an
//! algorithm that does not fit the key) the program prints a one-line
//! reason on stderr and exits with a non-zero status.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use client_assertion::{Algorithm, AssertionSigner, PrivateKey};

const USAGE: &str =
    "usage: sign --key FILE --client-id ID --audience AUD [--alg ALG] [--lifetime SECS]";

struct Args {
    key: String,
    client_id: String,
    audience: String,
    alg: Option<String>,
    lifetime: Option<u64>,
}

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let (mut key, mut client_id, mut audience, mut alg, mut lifetime) =
        (None, None, None, None, None);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let slot = match flag.as_str() {
            "--key" => &mut key,
            "--client-id" => &mut client_id,
            "--audience" => &mut audience,
            "--alg" => &mut alg,
            "--lifetime" => &mut lifetime,
            other => return Err(format!("unknown argument {other:?}; {USAGE}")),
        };
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value; {USAGE}"))?;
        if slot.replace(value).is_some() {
            return Err(format!("{flag} given twice; {USAGE}"));
        }
    }
    let lifetime = lifetime
        .map(|s| {
            s.parse::<u64>()
                .map_err(|_| format!("--lifetime must be a number of seconds, not {s:?}"))
        })
        .transpose()?;
    let missing = |name: &str| format!("{name} is required; {USAGE}");
    Ok(Some(Args {
        key: key.ok_or_else(|| missing("--key"))?,
        client_id: client_id.ok_or_else(|| missing("--client-id"))?,
        audience: audience.ok_or_else(|| missing("--audience"))?,
        alg,
        lifetime,
    }))
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

fn run(args: Args) -> Result<String, client_assertion::Error> {
    // The algorithm name is checked before the key is read, so that
    // `--alg none` or `--alg HS256` is refused whatever the key.
    let alg = args.alg.as_deref().map(Algorithm::from_name).transpose()?;
    let key = PrivateKey::from_file(&args.key)?;
    let mut builder = AssertionSigner::builder(Arc::new(key), args.client_id, args.audience);
    if let Some(alg) = alg {
        builder = builder.algorithm(alg);
    }
    if let Some(secs) = args.lifetime {
        builder = builder.lifetime(Duration::from_secs(secs));
    }
    Ok(builder.build()?.sign()?.into_string())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("sign: {message}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(token) => {
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sign: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}
