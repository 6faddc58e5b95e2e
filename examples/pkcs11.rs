//! Signs a client assertion with a key that lives on a PKCS#11 token (an
//! HSM, a smart card, or SoftHSM2 as here) and never leaves it; prints the
//! key's public JWK Set, the assertion and the token request body.
//!
//! ```text
//! cargo run --features pkcs11 --example pkcs11 -- \
//!     --module PATH --token LABEL --key LABEL (--pin-env VAR | --pin-file FILE) \
//!     --client-id ID --audience AUD [--generate KEYTYPE] [--alg ALG]
//! ```
//!
//! # The whole setup, with SoftHSM2
//!
//! ```text
//! # 1. SoftHSM2 (scripts/softhsm.sh does this step), and a token.
//! #    SoftHSM2 keeps its tokens where softhsm2.conf says (by default
//! #    /var/lib/softhsm/tokens/; point SOFTHSM2_CONF at your own file to
//! #    keep them elsewhere).
//! apt-get install softhsm2
//! softhsm2-util --init-token --free --label client-assertion --so-pin 5678 --pin 1234
//! softhsm2-util --show-slots
//!
//! # 2. The user PIN comes from the environment (or a file), never argv.
//! export PKCS11_PIN=1234
//!
//! # 3. Generate a non-extractable P-256 key on the token and sign with it.
//! cargo run --features pkcs11 --example pkcs11 -- \
//!     --module /usr/lib/softhsm/libsofthsm2.so --token client-assertion \
//!     --key client-key --pin-env PKCS11_PIN \
//!     --client-id my-client --audience https://as.example.com --generate p256
//!
//! # 4. Later runs sign with the key already on the token: drop --generate.
//! cargo run --features pkcs11 --example pkcs11 -- \
//!     --module /usr/lib/softhsm/libsofthsm2.so --token client-assertion \
//!     --key client-key --pin-env PKCS11_PIN \
//!     --client-id my-client --audience https://as.example.com
//! ```
//!
//! - `--module PATH`: the PKCS#11 module (`libsofthsm2.so`, your HSM
//!   vendor's library).
//! - `--token LABEL`: the token's label.
//! - `--key LABEL`: the key's `CKA_LABEL`.
//! - `--pin-env VAR` / `--pin-file FILE`: where the user PIN is read from.
//! - `--generate KEYTYPE`: first generate the key pair on the token:
//!   `p256`, `p384`, `ed25519`, `rsa` (2048 bits), `rsa3072` or `rsa4096`.
//!   The private key is created sensitive and not extractable.
//! - `--alg ALG`: sign with `ALG` (e.g. `PS256` for an RSA key) instead of
//!   the key's default.
//!
//! The assertion is also checked with the crate's own verifier against the
//! printed JWK Set before it is printed. On any failure (no such module,
//! token or key, a wrong PIN, a key that does not fit `--alg`) the program
//! prints a one-line reason on stderr and exits with a non-zero status.

use std::process::ExitCode;
use std::sync::Arc;

use client_assertion::keys::pkcs11::{Pin, Pkcs11Key};
use client_assertion::{jwk_set, Algorithm, AssertionSigner, ClientRegistry, KeyType, Verifier};

mod support;
use support::one_line;

const USAGE: &str = "usage: pkcs11 --module PATH --token LABEL --key LABEL \
(--pin-env VAR | --pin-file FILE) --client-id ID --audience AUD \
[--generate p256|p384|ed25519|rsa|rsa3072|rsa4096] [--alg ALG]";

/// Where the PIN comes from.
enum PinSource {
    Env(String),
    File(String),
}

/// What `--generate` asks for: a key type and, for RSA, its size.
type Generate = (KeyType, usize);

struct Args {
    module: String,
    token: String,
    key: String,
    pin: PinSource,
    client_id: String,
    audience: String,
    generate: Option<Generate>,
    alg: Option<String>,
}

fn key_type(name: &str) -> Result<Generate, String> {
    Ok(match name {
        "p256" => (KeyType::P256, 0),
        "p384" => (KeyType::P384, 0),
        "ed25519" => (KeyType::Ed25519, 0),
        "rsa" => (KeyType::Rsa, 2048),
        "rsa3072" => (KeyType::Rsa, 3072),
        "rsa4096" => (KeyType::Rsa, 4096),
        other => {
            return Err(format!(
                "--generate takes p256, p384, ed25519, rsa, rsa3072 or rsa4096, not {other:?}"
            ))
        }
    })
}

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let args: Vec<String> = args.collect();
    if args.iter().any(|a| a == "--pin") {
        return Err(
            "the PIN is never taken from the command line; use --pin-env or --pin-file".into(),
        );
    }
    let once = [
        "--module",
        "--token",
        "--key",
        "--pin-env",
        "--pin-file",
        "--client-id",
        "--audience",
        "--generate",
        "--alg",
    ];
    let Some(mut flags) = support::parse(args.into_iter(), &once, &[], USAGE)? else {
        return Ok(None);
    };
    let pin = match (flags.take("--pin-env"), flags.take("--pin-file")) {
        (Some(var), None) => PinSource::Env(var),
        (None, Some(file)) => PinSource::File(file),
        _ => {
            return Err(format!(
                "give exactly one of --pin-env and --pin-file; {USAGE}"
            ))
        }
    };
    Ok(Some(Args {
        module: flags.required("--module")?,
        token: flags.required("--token")?,
        key: flags.required("--key")?,
        pin,
        client_id: flags.required("--client-id")?,
        audience: flags.required("--audience")?,
        generate: flags
            .take("--generate")
            .as_deref()
            .map(key_type)
            .transpose()?,
        alg: flags.take("--alg"),
    }))
}

fn run(args: Args) -> Result<(), client_assertion::Error> {
    let alg = args.alg.as_deref().map(Algorithm::from_name).transpose()?;
    let pin = match &args.pin {
        PinSource::Env(var) => Pin::from_env(var)?,
        PinSource::File(file) => Pin::from_file(file)?,
    };
    let mut builder = Pkcs11Key::builder(&args.module)
        .token_label(&args.token)
        .pin(pin)
        .key_label(&args.key);
    if let Some(alg) = alg {
        builder = builder.algorithm(alg);
    }
    let key = match args.generate {
        None => builder.open()?,
        Some((KeyType::Rsa, bits)) => builder.generate_rsa(bits)?,
        Some((key_type, _)) => builder.generate(key_type)?,
    };
    eprintln!(
        "pkcs11: {:?} key {:?} (CKA_ID {}) on token {:?}, kid {}",
        key.key_type(),
        key.label().unwrap_or_default(),
        key.id()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        key.token_label(),
        key.kid()
    );
    let key = Arc::new(key);
    let jwks = jwk_set([&*key]);
    println!("# public JWK Set (register it, or serve it at your jwks_uri)");
    println!("{}", jwks.to_json_pretty());

    let mut signer = AssertionSigner::builder(key, &args.client_id, &args.audience);
    if let Some(alg) = alg {
        signer = signer.algorithm(alg);
    }
    let assertion = signer.build()?.sign()?;

    // The server's view: the same checks an authorization server makes.
    let registry = Arc::new(ClientRegistry::new());
    registry.register(&args.client_id, &jwks)?;
    Verifier::builder(&args.audience, registry)
        .build()?
        .verify(assertion.as_str())?;

    println!(
        "# client assertion ({}, jti {})",
        assertion.algorithm(),
        assertion.jti()
    );
    println!("{}", assertion.as_str());
    println!("# token request body (POST it to the token endpoint with your HTTP client)");
    println!(
        "{}",
        assertion
            .form_params()
            .with_client_id(&args.client_id)
            .to_urlencoded()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("pkcs11: {message}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pkcs11: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}
