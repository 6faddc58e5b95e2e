//! `jwks`: the public JWK Set of key files and, with the PKCS#11 flags, of
//! a key on a token, as the `jwks` example prints it (pretty JSON; with
//! `--json` on one line). No private member is ever printed.

use std::sync::Arc;

use client_assertion::{jwk_set, KeySource, PrivateKey};

use crate::common::{one_stdin, read_input, Failure, Outcome, Pkcs11Args, FILE_LIMIT};

const EXAMPLES: &str = "\
Examples:
  client-assertion jwks --key key.pem > jwks.json
  client-assertion jwks --key current.pem --key next.jwk.json
  client-assertion jwks --key - < key.pem";

/// `jwks` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// A private key file (PKCS#8, SEC1 or PKCS#1 PEM, DER, or a private JWK); `-` for stdin.
    #[arg(long, value_name = "FILE")]
    key: Vec<String>,
    #[command(flatten)]
    pkcs11: Pkcs11Args,
}

pub(crate) fn run(args: Args, json: bool) -> Result<Outcome, Failure> {
    let pkcs11 = args.pkcs11.key()?;
    if args.key.is_empty() && pkcs11.is_none() {
        return Err(Failure::usage(
            "at least one --key FILE (or a PKCS#11 key) is required",
        ));
    }
    one_stdin(args.key.iter().map(String::as_str))?;
    let mut keys: Vec<Arc<dyn KeySource>> = Vec::with_capacity(args.key.len() + 1);
    for path in &args.key {
        keys.push(Arc::new(load_key(path)?));
    }
    if let Some(pkcs11) = &pkcs11 {
        keys.push(pkcs11.open()?);
    }
    let set = jwk_set(keys.iter().map(|k| &**k as &dyn KeySource));
    if json {
        println!("{}", set.to_json());
    } else {
        println!("{}", set.to_json_pretty());
    }
    Ok(Outcome::Ok)
}

/// A private key file (or stdin for `-`) in any supported encoding.
pub(crate) fn load_key(path: &str) -> Result<PrivateKey, Failure> {
    let bytes = zeroize::Zeroizing::new(read_input(path, FILE_LIMIT, "key")?);
    PrivateKey::from_bytes(&bytes).map_err(|e| Failure::error(path, &e))
}
