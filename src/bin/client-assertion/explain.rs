//! `explain`: verify one assertion with the library's verifier, exactly as
//! `verify` would (a fresh in-memory replay cache), and on rejection print
//! the operator-facing reason in full, which a client never receives: the
//! reason code and the OAuth error the client sees, the error's detail and
//! cause chain, then, from the decoded token and the verifier's flags,
//! what was expected, what was found and the nearest fix.
//!
//! Exit 0 when the assertion is accepted, 1 when it is rejected.

use serde_json::{json, Value};

use client_assertion::{Error, JwkSet, Usage};

use crate::common::{one_line, print_json, printable, short, unix, Failure, Outcome};
use crate::lint::{lint, Finding, Level, Rules};
use crate::policy::{build, VerifierArgs};
use crate::token::{decode, read_token};

const EXAMPLES: &str = "\
Examples:
  client-assertion explain --jwks jwks.json --client-id my-client \\
      --audience https://as.example.com - < a.jwt
  client-assertion explain --json --profile fapi2 --jwks jwks.json --client-id my-client \\
      --audience https://as.example.com eyJhbGciOi...";

/// `explain` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    #[command(flatten)]
    verifier: VerifierArgs,
    /// The assertion (compact JWS), or `-` to read it from stdin.
    #[arg(value_name = "TOKEN|-")]
    token: String,
}

pub(crate) fn run(args: Args, json: bool) -> Result<Outcome, Failure> {
    let (policy, mut rules) = args.verifier.policy()?;
    let set = args.verifier.jwk_set()?;
    let verifier = build(args.verifier.builder(&set, policy)?)?;
    let token = read_token(&args.token)?;
    let error = match verifier.verify(&token) {
        Ok(v) => {
            if json {
                let out = json!({
                    "ok": true, "result": "accepted", "client_id": v.client_id(), "jti": v.jti(),
                    "kid": v.kid(), "alg": v.algorithm().name(), "exp": unix(v.expires_at()),
                });
                print_json(&out);
            } else {
                println!(
                    "accepted: client {}, key {} ({}), jti {}",
                    printable(v.client_id()),
                    printable(v.kid()),
                    v.algorithm(),
                    printable(v.jti())
                );
            }
            return Ok(Outcome::Ok);
        }
        Err(e) => e,
    };
    rules.jwks = Some(set.clone());
    let findings = diagnose(&token, &error, &rules, &set);
    if json {
        print_json(&to_json(&error, &findings));
    } else {
        print_text(&error, &findings);
    }
    Ok(Outcome::Rejected)
}

/// The rules that name the error's code; else what the rules cannot see
/// (the client lookup, the signature, the replay cache).
fn diagnose(token: &str, error: &Error, rules: &Rules, set: &JwkSet) -> Vec<Finding> {
    let decoded = match decode(token) {
        Ok(d) => d,
        Err(reason) => {
            return vec![beyond(
                "shape",
                reason,
                "a compact JWS: three base64url segments of JSON objects",
                "send the assertion exactly as signed, with nothing added or cut",
            )]
        }
    };
    let matching: Vec<Finding> = lint(&decoded, rules)
        .into_iter()
        .filter(|f| f.level == Level::Fail && f.code == Some(error.code()))
        .collect();
    if !matching.is_empty() {
        return matching;
    }
    let kid = decoded
        .header
        .get("kid")
        .map(|k| short(&k.to_string()))
        .unwrap_or_else(|| "(no kid)".into());
    let fix = match error.code() {
        "bad_signature" => format!(
            "the key registered as {kid} did not make this signature: publish the signing key's \
             current JWK Set (client-assertion jwks --key KEY), or sign with the registered key"
        ),
        "unknown_key" => format!(
            "no registered key fits kid {kid} and the alg (registered: {} key(s)); \
             register the signing key's JWK Set",
            set.keys().len()
        ),
        "replayed" => "mint a fresh assertion (new jti) for every request".into(),
        "replay_store_unavailable" | "replay_cache_full" => {
            "retry later; the server fails closed while it cannot record the jti".into()
        }
        _ => "see the detail above".into(),
    };
    vec![beyond(
        "verify",
        format!("{} (kid {kid})", error.description()),
        "a token the registered keys and the policy accept",
        &fix,
    )]
}

fn beyond(rule: &'static str, found: String, expected: &str, fix: &str) -> Finding {
    Finding {
        rule,
        level: Level::Fail,
        code: None,
        found,
        expected: expected.into(),
        fix: Some(fix.into()),
    }
}

/// The detail and the `source` chain, each as its own line.
fn causes(error: &Error) -> Vec<String> {
    let mut out = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        out.push(short(&cause.to_string()));
        source = cause.source();
    }
    out
}

fn to_json(error: &Error, findings: &[Finding]) -> Value {
    json!({
        "ok": false,
        "result": "rejected",
        "code": error.code(),
        "oauth_error": error.oauth_error(Usage::ClientAuthentication),
        "description": error.description(),
        "detail": one_line(error),
        "causes": causes(error),
        "near_miss": error.near_miss().map(|n| short(&n.to_string())),
        "findings": findings.iter().map(Finding::to_json).collect::<Vec<_>>(),
    })
}

fn print_text(error: &Error, findings: &[Finding]) {
    println!("rejected: {}", error.code());
    println!(
        "  the client sees: {} ({})",
        error.oauth_error(Usage::ClientAuthentication),
        error.description()
    );
    println!("  operator detail: {}", one_line(error));
    for cause in causes(error) {
        println!("  caused by: {cause}");
    }
    if let Some(near_miss) = error.near_miss() {
        println!("  near miss: {}", short(&near_miss.to_string()));
    }
    for f in findings {
        println!("  rule:     {}", f.rule);
        println!("  expected: {}", f.expected);
        println!("  found:    {}", f.found);
        if let Some(fix) = &f.fix {
            println!("  fix:      {fix}");
        }
    }
}
