//! `inspect`: decode a token's header and claims without verifying
//! anything, then lint them against each profile (the default verifier,
//! rfc7523bis, FAPI 2.0, Entra ID, legacy token endpoint) rule by rule,
//! saying what a strict server would answer. The signature is never shown
//! (only its length) and never checked.
//!
//! Exit 0 when the token decodes and at least one linted profile passes;
//! 1 when it does not decode or every linted profile rejects it.

use serde_json::{json, Value};

use client_assertion::Profile;

use crate::common::{print_json, terminal_json, Failure, Outcome, ProfileArgs};
use crate::lint::{lint, Finding, Level, Rules};
use crate::token::{decode, read_token, Decoded};

const EXAMPLES: &str = "\
Examples:
  client-assertion inspect - < a.jwt
  client-assertion inspect --profile fapi2 --audience https://as.example.com - < a.jwt
  client-assertion inspect --json eyJhbGciOi...";

/// `inspect` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// The assertion (compact JWS), or `-` to read it from stdin.
    #[arg(value_name = "TOKEN|-")]
    token: String,
    /// Lint against this profile only (default: every profile).
    #[command(flatten)]
    profile: ProfileArgs,
    /// The server's accepted audience, to compare aud exactly.
    #[arg(long, value_name = "AUD")]
    audience: Option<String>,
    /// The client's JWK Set, to check kid and alg against the registered keys
    /// (the signature is still not checked).
    #[arg(long, value_name = "FILE")]
    jwks: Option<String>,
}

pub(crate) fn run(args: Args, json: bool) -> Result<Outcome, Failure> {
    let rules = profiles(&args)?;
    let token = read_token(&args.token)?;
    let decoded = match decode(&token) {
        Ok(d) => d,
        Err(reason) => {
            return Err(Failure::Failed {
                code: Some("malformed"),
                message: format!("not a compact JWS: {reason}"),
            })
        }
    };
    let reports: Vec<(Rules, Vec<Finding>)> = rules
        .into_iter()
        .map(|r| {
            let findings = lint(&decoded, &r);
            (r, findings)
        })
        .collect();
    let passes = reports
        .iter()
        .any(|(_, f)| f.iter().all(|f| f.level != Level::Fail));
    if json {
        print_json(&to_json(&decoded, &reports));
    } else {
        print_text(&decoded, &reports);
    }
    Ok(if passes {
        Outcome::Ok
    } else {
        Outcome::Rejected
    })
}

/// The rule sets to lint against.
fn profiles(args: &Args) -> Result<Vec<Rules>, Failure> {
    let chosen = args.profile.profile()?;
    let jwks = match &args.jwks {
        Some(path) => {
            let text = crate::common::read_text(path, crate::common::FILE_LIMIT, "JWK Set")?;
            Some(
                client_assertion::JwkSet::from_json(&text)
                    .map_err(|e| Failure::error(&format!("JWK Set {path}"), &e))?,
            )
        }
        None => None,
    };
    let all = match chosen {
        Some(p) => vec![Some(p)],
        None => vec![
            None,
            Some(Profile::Rfc7523bis),
            Some(Profile::Fapi2),
            Some(Profile::entra_id("")),
            Some(Profile::legacy_token_endpoint("")),
        ],
    };
    Ok(all
        .into_iter()
        .map(|p| {
            let mut rules = Rules::new(p.clone());
            rules.jwks = jwks.clone();
            rules.audiences = match (p.as_ref().and_then(Profile::audience), &args.audience) {
                // The profile fixes the audience (a tenant or token endpoint was given).
                (Some(fixed), _)
                    if !fixed.ends_with("//oauth2/v2.0/token") && !fixed.is_empty() =>
                {
                    Some(vec![fixed])
                }
                (_, Some(aud)) => Some(vec![aud.clone()]),
                _ => None,
            };
            rules
        })
        .collect())
}

fn verdict(findings: &[Finding]) -> (bool, Vec<&'static str>) {
    let codes: Vec<&'static str> = findings
        .iter()
        .filter(|f| f.level == Level::Fail)
        .filter_map(|f| f.code)
        .collect();
    (codes.is_empty(), codes)
}

fn to_json(token: &Decoded, reports: &[(Rules, Vec<Finding>)]) -> Value {
    let profiles: Vec<Value> = reports
        .iter()
        .map(|(rules, findings)| {
            let (passes, codes) = verdict(findings);
            json!({
                "profile": rules.name(),
                "verdict": if passes { "passes" } else { "rejected" },
                "codes": codes,
                "rules": findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "ok": true,
        "verified": false,
        "size": token.size,
        "header": token.header.to_value(),
        "claims": token.claims.to_value(),
        "signature_bytes": token.signature_len,
        "profiles": profiles,
    })
}

fn pretty(v: &Value) -> String {
    terminal_json(&serde_json::to_string_pretty(v).unwrap_or_default())
}

fn print_text(token: &Decoded, reports: &[(Rules, Vec<Finding>)]) {
    println!(
        "NOT VERIFIED: decoded only; the signature ({} bytes) is not checked.",
        token.signature_len
    );
    println!("header: {}", pretty(&token.header.to_value()));
    println!("claims: {}", pretty(&token.claims.to_value()));
    for (rules, findings) in reports {
        let (passes, codes) = verdict(findings);
        println!();
        if passes {
            println!("{}: passes the header and claim rules", rules.label());
        } else {
            println!("{}: rejected ({})", rules.label(), codes.join(", "));
        }
        for f in findings {
            print_finding(f);
        }
    }
}

fn print_finding(f: &Finding) {
    let code = f.code.map(|c| format!(" [{c}]")).unwrap_or_default();
    println!(
        "  {:<4} {:<8} found {}; expected {}{code}",
        f.level.name(),
        f.rule,
        f.found,
        f.expected
    );
    if let Some(fix) = &f.fix {
        if f.level == Level::Fail || f.level == Level::Warn {
            println!("                fix: {fix}");
        }
    }
}
