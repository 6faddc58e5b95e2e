//! Mints one client assertion (RFC 7523 `private_key_jwt`) with a key file
//! and prints the compact JWS, and nothing else, on stdout.
//!
//! ```text
//! cargo run --example sign -- --key FILE --client-id ID --audience AUD [--alg ALG] [--lifetime SECS] [--cert FILE [--x5c]]
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
//! - `--cert FILE`: the key's X.509 certificate (PEM, one or more
//!   `CERTIFICATE` blocks leaf first, or DER); adds the `x5t#S256` header
//!   (Microsoft Entra ID, ADFS). The certificate must certify the key.
//! - `--x5c`: with `--cert`, also writes the whole chain as `x5c`.
//!
//! The header's `kid` is the one `cargo run --example jwks -- --key FILE`
//! publishes for the same file. On any failure (a missing or unreadable
//! file, a public-only key, `--alg none`, an HMAC or unknown algorithm, an
//! algorithm that does not fit the key, a malformed certificate or one of
//! another key) the program prints a one-line
//! reason on stderr and exits with a non-zero status.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use client_assertion::keys::{CertificateChain, CertificateHeaders};
use client_assertion::{Algorithm, AssertionSigner, KeySource, PrivateKey};

mod support;
use support::{one_line, Pkcs11Flags, PKCS11_FLAGS};

const USAGE: &str = "usage: sign (--key FILE | --pkcs11-module PATH --pkcs11-token LABEL \
--pkcs11-key LABEL --pin-env VAR) --client-id ID --audience AUD [--alg ALG] [--lifetime SECS] \
[--cert FILE [--x5c]]";

/// Where the signing key is.
enum KeyLocation {
    File(String),
    /// A key on a PKCS#11 token (feature `pkcs11`).
    Pkcs11(Pkcs11Flags),
}

struct Args {
    key: KeyLocation,
    client_id: String,
    audience: String,
    alg: Option<String>,
    lifetime: Option<u64>,
    cert: Option<String>,
    x5c: bool,
}

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    // `--x5c` is the one flag without a value.
    let mut x5c = 0;
    let args = args.filter(|a| {
        let flag = a == "--x5c";
        x5c += usize::from(flag);
        !flag
    });
    let args: Vec<String> = args.collect();
    let once = [
        [
            "--key",
            "--client-id",
            "--audience",
            "--alg",
            "--lifetime",
            "--cert",
        ]
        .as_slice(),
        &PKCS11_FLAGS,
    ]
    .concat();
    let Some(mut flags) = support::parse(args.into_iter(), &once, &[], USAGE)? else {
        return Ok(None);
    };
    let file = flags.take("--key");
    let key = match (file, flags.pkcs11("sign")?) {
        (Some(file), None) => KeyLocation::File(file),
        (None, Some(pkcs11)) => KeyLocation::Pkcs11(pkcs11),
        (None, None) => return Err(format!("--key is required; {USAGE}")),
        (Some(_), Some(_)) => {
            return Err(format!(
                "--key and the --pkcs11-* flags exclude each other; {USAGE}"
            ))
        }
    };
    let cert = flags.take("--cert");
    if x5c > 1 {
        return Err(format!("--x5c given twice; {USAGE}"));
    }
    if x5c == 1 && cert.is_none() {
        return Err(format!("--x5c needs --cert; {USAGE}"));
    }
    Ok(Some(Args {
        cert,
        x5c: x5c == 1,
        key,
        client_id: flags.required("--client-id")?,
        audience: flags.required("--audience")?,
        alg: flags.take("--alg"),
        lifetime: flags.seconds("--lifetime")?,
    }))
}

fn open_key(location: &KeyLocation) -> Result<Arc<dyn KeySource>, client_assertion::Error> {
    match location {
        KeyLocation::File(path) => Ok(Arc::new(PrivateKey::from_file(path)?)),
        KeyLocation::Pkcs11(pkcs11) => pkcs11.open(),
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
    if let Some(path) = &args.cert {
        builder = builder.certificate(CertificateChain::from_file(path)?);
        if args.x5c {
            builder =
                builder.certificate_headers(CertificateHeaders::X5T_S256 | CertificateHeaders::X5C);
        }
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
