//! Mints one client assertion (RFC 7523 `private_key_jwt`) with a key file
//! and prints the compact JWS, and nothing else, on stdout.
//!
//! ```text
//! cargo run --example sign -- --key FILE --client-id ID --audience AUD [--alg ALG] [--lifetime SECS]
//! cargo run --features pkcs11 --example sign -- \
//!     --pkcs11-module PATH --pkcs11-token LABEL --pkcs11-key LABEL --pin-env VAR \
//!     --client-id ID --audience AUD [--alg ALG] [--lifetime SECS]
//! ```
//!
//! - `--key FILE`: the private key: PKCS#8, SEC1 or PKCS#1 PEM, DER, or a
//!   private JWK (detected from the content).
//! - instead of `--key`, a key on a PKCS#11 token (feature `pkcs11`; see
//!   `examples/pkcs11.rs` for setting one up with SoftHSM2):
//!   `--pkcs11-module PATH` (the module, e.g.
//!   `/usr/lib/softhsm/libsofthsm2.so`), `--pkcs11-token LABEL` (the
//!   token), `--pkcs11-key LABEL` (the key's `CKA_LABEL`) and
//!   `--pin-env VAR` (the environment variable holding the user PIN; the
//!   PIN is never taken from the command line). Built without the feature,
//!   these flags are refused with a one-line error.
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

use client_assertion::{Algorithm, AssertionSigner, KeySource, PrivateKey};

const USAGE: &str = "usage: sign (--key FILE | --pkcs11-module PATH --pkcs11-token LABEL \
--pkcs11-key LABEL --pin-env VAR) --client-id ID --audience AUD [--alg ALG] [--lifetime SECS]";

/// Where the signing key is.
enum KeyLocation {
    File(String),
    /// A key on a PKCS#11 token (feature `pkcs11`).
    #[cfg_attr(not(feature = "pkcs11"), allow(dead_code))]
    Pkcs11 {
        module: String,
        token: String,
        key: String,
        pin_env: String,
    },
}

struct Args {
    key: KeyLocation,
    client_id: String,
    audience: String,
    alg: Option<String>,
    lifetime: Option<u64>,
}

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let (mut key, mut client_id, mut audience, mut alg, mut lifetime) =
        (None, None, None, None, None);
    let (mut module, mut token, mut pkcs11_key, mut pin_env) = (None, None, None, None);
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
            "--pkcs11-module" => &mut module,
            "--pkcs11-token" => &mut token,
            "--pkcs11-key" => &mut pkcs11_key,
            "--pin-env" => &mut pin_env,
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
    let key = match (key, module, token, pkcs11_key, pin_env) {
        (Some(file), None, None, None, None) => KeyLocation::File(file),
        (None, None, None, None, None) => return Err(missing("--key")),
        (Some(_), ..) => {
            return Err(format!(
                "--key and the --pkcs11-* flags exclude each other; {USAGE}"
            ))
        }
        _ if !cfg!(feature = "pkcs11") => {
            return Err("the --pkcs11-* flags need the pkcs11 feature: \
                        cargo run --features pkcs11 --example sign -- ..."
                .into())
        }
        (None, module, token, key, pin_env) => KeyLocation::Pkcs11 {
            module: module.ok_or_else(|| missing("--pkcs11-module"))?,
            token: token.ok_or_else(|| missing("--pkcs11-token"))?,
            key: key.ok_or_else(|| missing("--pkcs11-key"))?,
            pin_env: pin_env.ok_or_else(|| missing("--pin-env"))?,
        },
    };
    Ok(Some(Args {
        key,
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

fn open_key(location: &KeyLocation) -> Result<Arc<dyn KeySource>, client_assertion::Error> {
    match location {
        KeyLocation::File(path) => Ok(Arc::new(PrivateKey::from_file(path)?)),
        #[cfg(feature = "pkcs11")]
        KeyLocation::Pkcs11 {
            module,
            token,
            key,
            pin_env,
        } => {
            use client_assertion::pkcs11::{Pin, Pkcs11Key};
            let key = Pkcs11Key::builder(module)
                .token_label(token)
                .pin(Pin::from_env(pin_env)?)
                .key_label(key)
                .open()?;
            Ok(Arc::new(key))
        }
        // parse_args refuses the --pkcs11-* flags without the feature.
        #[cfg(not(feature = "pkcs11"))]
        KeyLocation::Pkcs11 { .. } => Err(client_assertion::ErrorKind::InvalidConfig.into()),
    }
}

fn run(args: Args) -> Result<String, client_assertion::Error> {
    // The algorithm name is checked before the key is read, so that
    // `--alg none` or `--alg HS256` is refused whatever the key.
    let alg = args.alg.as_deref().map(Algorithm::from_name).transpose()?;
    let key = open_key(&args.key)?;
    let mut builder = AssertionSigner::builder(key, args.client_id, args.audience);
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
