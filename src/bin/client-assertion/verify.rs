//! `verify`: assertions read one per line (or one given on the command
//! line), checked as the `verify` example checks them: against the client's
//! JWK Set, under the strict default policy (or `--profile`), with one
//! replay cache for the whole run (memory, or `--redis URL`). One output
//! line per input line, `ok <jti>` or `rejected <code>`; with `--json` one
//! JSON object per line. Exit 0 when every assertion was accepted, 1 when
//! any was rejected.

use std::io::{self, Write};
use std::sync::Arc;

use serde_json::{json, Value};

use client_assertion::replay::AsyncReplayCache;
use client_assertion::{Usage, VerifiedAssertion, Verifier};

use crate::common::{printable_jti, terminal_json, unix, Failure, Outcome};
use crate::lines::read_line;
use crate::policy::{build, VerifierArgs};

const EXAMPLES: &str = "\
Examples:
  client-assertion verify --jwks jwks.json --client-id my-client --audience https://as.example.com < a.jwt
  cat a.jwt a.jwt | client-assertion verify --json --jwks jwks.json --client-id my-client \\
      --audience https://as.example.com
  client-assertion verify --jwks jwks.json --client-id my-client --audience https://as.example.com \\
      --redis redis://127.0.0.1:6379/0 < assertions.txt";

/// `verify` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    #[command(flatten)]
    verifier: VerifierArgs,
    /// Keep the replay cache in the Redis at URL (feature redis), shared by
    /// every verify process using it.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// One assertion; `-` (the default) reads one per line from stdin.
    #[arg(value_name = "TOKEN|-", default_value = "-")]
    token: String,
}

/// The most bytes of one input line kept: far above any token the policy
/// accepts, so a longer line is still `rejected too_large`.
const LINE_LIMIT: usize = 1 << 20;

pub(crate) fn run(args: Args, json: bool) -> Result<Outcome, Failure> {
    let (policy, _) = args.verifier.policy()?;
    let set = args.verifier.jwk_set()?;
    let mut builder = args.verifier.builder(&set, policy)?;
    if let Some(url) = &args.redis {
        builder = builder.async_replay_cache(redis_cache(url)?);
    }
    let check = Check::new(build(builder)?)?;
    let mut out = io::stdout().lock();
    let mut rejected = false;
    if args.token != "-" {
        rejected |= !report(&mut out, check.verify(args.token.trim()), json);
        return Ok(outcome(rejected));
    }
    if io::IsTerminal::is_terminal(&io::stdin()) {
        eprintln!("client-assertion verify: reading assertions, one per line, until end of input");
    }
    let mut input = io::stdin().lock();
    let mut line = Vec::new();
    loop {
        let more = read_line(&mut input, &mut line, LINE_LIMIT)
            .map_err(|e| Failure::failed(format!("cannot read standard input: {e}")))?;
        if !more {
            return Ok(outcome(rejected));
        }
        // A line that is not UTF-8 cannot be a JWS: it is rejected as
        // malformed like any other garbage.
        let text = String::from_utf8_lossy(&line);
        rejected |= !report(&mut out, check.verify(text.trim()), json);
    }
}

fn outcome(rejected: bool) -> Outcome {
    if rejected {
        Outcome::Rejected
    } else {
        Outcome::Ok
    }
}

/// Prints one result line; whether the assertion was accepted. A closed
/// stdout is ignored (the exit status still tells).
fn report(
    out: &mut impl Write,
    result: client_assertion::Result<VerifiedAssertion>,
    json: bool,
) -> bool {
    let (line, ok) = match (&result, json) {
        (Ok(v), false) => (
            Value::String(format!("ok {}", printable_jti(v.jti()))),
            true,
        ),
        (Err(e), false) => (Value::String(format!("rejected {}", e.code())), false),
        (Ok(v), true) => (
            json!({
                "ok": true, "client_id": v.client_id(), "jti": v.jti(), "kid": v.kid(),
                "alg": v.algorithm().name(), "aud": v.audience(), "exp": unix(v.expires_at()),
            }),
            true,
        ),
        (Err(e), true) => (
            json!({
                "ok": false, "code": e.code(), "description": e.description(),
                "oauth_error": e.oauth_error(Usage::ClientAuthentication),
            }),
            false,
        ),
    };
    let line = match line {
        Value::String(text) => text,
        value => terminal_json(&value.to_string()),
    };
    let _ = writeln!(out, "{line}");
    ok
}

/// The shared replay cache on Redis (connects on first use).
#[cfg(feature = "redis")]
fn redis_cache(url: &str) -> Result<Arc<dyn AsyncReplayCache>, Failure> {
    use client_assertion::replay::{RedisReplayCache, RedisReplayConfig};
    let cache = RedisReplayCache::new(url, RedisReplayConfig::new())
        .map_err(|e| Failure::error("--redis", &e))?;
    Ok(Arc::new(cache))
}

#[cfg(not(feature = "redis"))]
fn redis_cache(_url: &str) -> Result<Arc<dyn AsyncReplayCache>, Failure> {
    Err(Failure::usage(
        "--redis needs the redis feature (cargo install client-assertion --features cli,redis)",
    ))
}

/// Verifies one assertion: through the async path in a Tokio runtime when
/// the redis feature is on (a Redis cache answers only there), else the
/// sync one.
struct Check {
    verifier: Verifier,
    #[cfg(feature = "redis")]
    runtime: tokio::runtime::Runtime,
}

impl Check {
    fn new(verifier: Verifier) -> Result<Self, Failure> {
        Ok(Self {
            verifier,
            #[cfg(feature = "redis")]
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Failure::failed(format!("cannot start a Tokio runtime: {e}")))?,
        })
    }

    fn verify(&self, token: &str) -> client_assertion::Result<VerifiedAssertion> {
        #[cfg(feature = "redis")]
        return self.runtime.block_on(self.verifier.verify_async(token));
        #[cfg(not(feature = "redis"))]
        self.verifier.verify(token)
    }
}
