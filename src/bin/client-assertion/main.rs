//! `client-assertion`: the operator command line of the crate (feature
//! `cli`; `cargo install client-assertion --features cli`).
//!
//! One module per subcommand (`keygen`, `jwks`, `thumbprint`, `sign`,
//! `verify`, `inspect`, `explain`); `common` holds what they share
//! (failures and exit codes, bounded input, the PKCS#11 and profile flags,
//! escaping), `token` the unverified decoding that `inspect` and `explain`
//! read, `lint` the profile rules `inspect` shows and `explain` cites, and
//! `policy` the verifier flags `verify` and `explain` share.
//!
//! Conventions: exit 0 when everything went through, 1 when something was
//! rejected or failed, 2 for a usage error; `-` reads standard input;
//! `--json` prints JSON on stdout (one object, or one per line for
//! `verify`); no secret is ever taken from the command line (PINs come from
//! `--pin-env` or `--pin-file`); no colour and no progress output.
#![forbid(unsafe_code)]

mod common;
mod explain;
mod inspect;
mod jwks;
mod keygen;
// The bounded line reader of the `verify` example, shared with it.
#[path = "../../../examples/support/lines.rs"]
mod lines;
mod lint;
mod policy;
mod sign;
mod thumbprint;
mod token;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use common::{Failure, Outcome};

const EXAMPLES: &str = "\
Examples:
  client-assertion keygen --type p256 --out key.pem
  client-assertion jwks --key key.pem > jwks.json
  client-assertion sign --key key.pem --client-id my-client --audience https://as.example.com > a.jwt
  client-assertion inspect - < a.jwt
  client-assertion verify --jwks jwks.json --client-id my-client --audience https://as.example.com < a.jwt
  client-assertion explain --jwks jwks.json --client-id my-client --audience https://as.example.com - < a.jwt

Exit status: 0 ok, 1 rejected or failed, 2 usage error.";

/// Keys, JWK Sets, thumbprints, signing, verifying and explaining RFC 7523
/// client assertions (private_key_jwt).
#[derive(Parser, Debug)]
#[command(name = "client-assertion", version, after_help = EXAMPLES)]
struct Cli {
    /// Print machine-readable JSON on stdout (errors too, as {"ok":false,...}).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a private key (to a 0600 file, or stdout), or a key pair on a PKCS#11 token.
    Keygen(keygen::Args),
    /// Print the public JWK Set of one or more keys (what a client registers).
    Jwks(jwks::Args),
    /// Print the RFC 7638 thumbprint (kid) of a key or JWK, or x5t#S256 and x5t of a certificate.
    Thumbprint(thumbprint::Args),
    /// Mint one client assertion (or a JWT bearer grant) and print it.
    Sign(sign::Args),
    /// Verify assertions, one per line, as an authorization server would.
    Verify(verify::Args),
    /// Decode an assertion without verifying it and lint it against each profile.
    Inspect(inspect::Args),
    /// Verify one assertion and explain a rejection in full: expected, found, fix.
    Explain(explain::Args),
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Self::Keygen(_) => "keygen",
            Self::Jwks(_) => "jwks",
            Self::Thumbprint(_) => "thumbprint",
            Self::Sign(_) => "sign",
            Self::Verify(_) => "verify",
            Self::Inspect(_) => "inspect",
            Self::Explain(_) => "explain",
        }
    }

    fn run(self, json: bool) -> Result<Outcome, Failure> {
        match self {
            Self::Keygen(args) => keygen::run(args, json),
            Self::Jwks(args) => jwks::run(args, json),
            Self::Thumbprint(args) => thumbprint::run(args, json),
            Self::Sign(args) => sign::run(args, json),
            Self::Verify(args) => verify::run(args, json),
            Self::Inspect(args) => inspect::run(args, json),
            Self::Explain(args) => explain::run(args, json),
        }
    }
}

fn main() -> ExitCode {
    // clap prints help and version with exit 0 and usage errors with exit 2.
    let cli = Cli::try_parse().unwrap_or_else(|e| e.exit());
    let name = cli.command.name();
    match cli.command.run(cli.json) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Rejected) => ExitCode::FAILURE,
        Err(failure) => failure.report(name, cli.json),
    }
}
