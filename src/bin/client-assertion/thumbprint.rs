//! `thumbprint`: the RFC 7638 SHA-256 thumbprint (the `kid` this crate
//! writes) of a private key, a public key or a JWK (each key of a JWK Set),
//! and the `x5t#S256` and `x5t` of a certificate. The input's kind is
//! detected from its content.

use serde_json::{json, Value};

use client_assertion::keys::CertificateChain;
use client_assertion::{JwkSet, KeyType, PrivateKey, PublicJwk};

use crate::common::{printable, read_input, unix, Failure, Outcome, FILE_LIMIT};

const EXAMPLES: &str = "\
Examples:
  client-assertion thumbprint key.pem
  client-assertion thumbprint jwks.json
  client-assertion thumbprint --json cert.pem
  client-assertion thumbprint - < public.jwk.json";

/// `thumbprint` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// A private or public key (PEM, DER), a JWK or JWK Set, or an X.509
    /// certificate (PEM or DER); `-` for stdin.
    #[arg(value_name = "FILE|-")]
    input: String,
}

pub(crate) fn run(args: Args, json: bool) -> Result<Outcome, Failure> {
    let bytes = zeroize::Zeroizing::new(read_input(&args.input, FILE_LIMIT, "input")?);
    let report = describe(&bytes).map_err(|e| Failure::error(&args.input, &e))?;
    if json {
        crate::common::print_json(&json!({ "ok": true, "input": report }));
    } else {
        print_text(&report);
    }
    Ok(Outcome::Ok)
}

/// What the input is, with its thumbprints, as JSON.
fn describe(bytes: &[u8]) -> Result<Value, client_assertion::Error> {
    let text = std::str::from_utf8(bytes).ok();
    let trimmed = text.map(str::trim_start).unwrap_or_default();
    if text.is_some_and(|t| t.contains("-----BEGIN CERTIFICATE-----")) {
        return Ok(certificate(&CertificateChain::from_bytes(bytes)?));
    }
    if trimmed.starts_with('{') {
        let value: Value = serde_json::from_str(trimmed)
            .map_err(|_| client_assertion::Error::new(client_assertion::ErrorKind::InvalidKey))?;
        if value.get("keys").is_some() {
            let set = JwkSet::from_json(trimmed)?;
            let keys: Vec<Value> = set.keys().iter().map(key).collect();
            return Ok(json!({ "kind": "jwk_set", "keys": keys }));
        }
        if value.get("d").is_some() {
            return Ok(key(&PrivateKey::from_jwk(trimmed)?.public_jwk()));
        }
        return Ok(key(&PublicJwk::from_json(trimmed)?));
    }
    if text.is_some_and(|t| t.contains("-----BEGIN PUBLIC KEY-----")) {
        return Ok(key(&PublicJwk::from_pem(text.unwrap_or_default())?));
    }
    match PrivateKey::from_bytes(bytes) {
        Ok(private) => Ok(key(&private.public_jwk())),
        Err(e) => match CertificateChain::from_der(bytes) {
            Ok(chain) => Ok(certificate(&chain)),
            Err(_) => match PublicJwk::from_spki_der(bytes) {
                Ok(public) => Ok(key(&public)),
                Err(_) => Err(e),
            },
        },
    }
}

fn key_type_name(t: KeyType) -> &'static str {
    match t {
        KeyType::P256 => "p256",
        KeyType::P384 => "p384",
        KeyType::Ed25519 => "ed25519",
        KeyType::Rsa => "rsa",
        _ => "other",
    }
}

fn key(jwk: &PublicJwk) -> Value {
    json!({
        "kind": "key",
        "key_type": key_type_name(jwk.key_type()),
        "thumbprint": jwk.thumbprint(),
        "kid": jwk.kid(),
        "alg": jwk.algorithm().map(|a| a.name()),
    })
}

fn certificate(chain: &CertificateChain) -> Value {
    json!({
        "kind": "certificate",
        "x5t#S256": chain.thumbprint_sha256(),
        "x5t": chain.thumbprint_sha1(),
        "not_before": unix(chain.not_before()),
        "not_after": unix(chain.not_after()),
        "chain_length": chain.len(),
    })
}

fn print_text(report: &Value) {
    let field = |v: &Value, name: &str| v[name].as_str().map(printable).unwrap_or_default();
    let print_key = |v: &Value| {
        println!("key type:   {}", field(v, "key_type"));
        println!("thumbprint: {} (RFC 7638, SHA-256)", field(v, "thumbprint"));
        if v["kid"] != v["thumbprint"] {
            println!("kid:        {} (the JWK's own kid)", field(v, "kid"));
        }
    };
    match report["kind"].as_str() {
        Some("certificate") => {
            println!("x5t#S256:   {}", field(report, "x5t#S256"));
            println!("x5t:        {} (SHA-1, legacy)", field(report, "x5t"));
            println!(
                "validity:   {} to {} (Unix seconds)",
                report["not_before"], report["not_after"]
            );
        }
        Some("jwk_set") => {
            for (i, k) in report["keys"].as_array().into_iter().flatten().enumerate() {
                if i > 0 {
                    println!();
                }
                print_key(k);
            }
        }
        _ => print_key(report),
    }
}
