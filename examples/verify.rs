//! Verifies client assertions read from standard input, one per line, the
//! way an authorization server would: against a client's registered JWK
//! Set, with the strict default policy and one replay cache for the whole
//! run (so the same assertion on two lines is caught as a replay).
//!
//! ```text
//! cargo run --example verify -- --jwks FILE --client-id ID --audience AUD \
//!     [--leeway SECS] [--max-lifetime SECS] [--redis URL] [--quarantine on] < assertions.txt
//! cargo run --example verify -- --trust FILE --audience AUD \
//!     [--leeway SECS] [--redis URL] [--quarantine on] < platform-tokens.txt
//! ```
//!
//! - `--jwks FILE`: the client's public JWK Set (`{"keys":[...]}`), e.g. the
//!   output of `cargo run --example jwks`.
//! - `--client-id ID`: the client the keys are registered for; `iss` and
//!   `sub` must equal it.
//! - `--audience AUD`: the authorization server's issuer identifier, the
//!   only accepted `aud`.
//! - `--leeway SECS` (default 30, at most 300) and `--max-lifetime SECS`
//!   (default 3600): the policy's clock skew and longest `exp - iat`.
//! - `--redis URL` (needs `--features redis`): keep the replay cache in the
//!   Redis at `URL` (e.g. `redis://127.0.0.1:6379/0`) instead of memory, so
//!   that several `verify` processes sharing one Redis reject an assertion
//!   that another one already accepted. While Redis cannot be reached every
//!   line is `rejected replay_store_unavailable`.
//! - `--quarantine on`: apply the library's default quarantine after
//!   replay state loss (see the `replay` module docs): assertions issued
//!   before this process started (memory) or before the Redis epoch are
//!   `rejected replay_quarantine` for one acceptance window.
//!
//! Without `--quarantine on` this tool turns the quarantine off
//! (`danger_accept_replays_after_state_loss`), on purpose: it is a batch
//! checker whose input is assertions minted *before* it started, and its
//! documented replay protection is one run (memory) or one Redis keyspace
//! (`--redis`), which is what it had before quarantines existed. A server
//! keeps the default.
//!
//! - `--trust FILE` (instead of `--jwks` and `--client-id`): federated
//!   clients, a JSON trust file (schema in the README's "Workload identity
//!   federation"; key files relative to it). Each line is a platform token
//!   (Kubernetes, GitHub Actions, SPIFFE JWT-SVID, OIDC) verified against
//!   its trust rules; the output is `ok <client_id>` (the client of the one
//!   rule set that matched) or `rejected <code>` (`ambiguous_client` when
//!   rules of two clients match). `--max-lifetime` does not apply: each
//!   preset has its own.
//!
//! For each input line it prints exactly one line, `ok <jti>` or
//! `rejected <code>` (the stable reason code, e.g. `rejected replayed`),
//! and exits 0 at the end of input. The `jti` is printed with a backslash,
//! spaces, control characters and Unicode format characters (bidi overrides,
//! zero-width characters) escaped (`\\`, `\u{20}`, `\n`, `\u{202e}`), so
//! two different `jti`s never print as the same text. Bad arguments, an unreadable JWK
//! Set or one larger than 64 KiB exit non-zero with a one-line reason on
//! standard error.
//!
//! ```text
//! $ cargo run --example sign -- --key key.pem --client-id c1 --audience https://as.example.com > a.txt
//! $ cat a.txt a.txt | cargo run --example verify -- --jwks jwks.json --client-id c1 --audience https://as.example.com
//! ok 3bV2...
//! rejected replayed
//! ```

use std::io::{self, Read, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use client_assertion::federation::{FederatedVerifier, TrustFile};
use client_assertion::replay::AsyncReplayCache;
use client_assertion::{ClientRegistry, Policy, Verifier};

#[path = "support/lines.rs"]
mod lines;
mod support;

use lines::read_line;

/// The largest `--jwks` file read (the library's own JWK Set bound).
const JWKS_LIMIT: usize = 64 * 1024;

const USAGE: &str = "usage: verify --jwks FILE --client-id ID --audience AUD \
                     [--leeway SECS] [--max-lifetime SECS] [--redis URL] [--quarantine on] < assertions \
                     | verify --trust FILE --audience AUD [--leeway SECS] [--redis URL] [--quarantine on] < tokens";

/// The keys to verify with: one client's JWK Set, or a trust file.
enum Keys {
    Client { jwks: String, client_id: String },
    Trust(String),
}

struct Args {
    keys: Keys,
    audience: String,
    leeway: Option<Duration>,
    max_lifetime: Option<Duration>,
    redis: Option<String>,
    quarantine: bool,
}

/// Parses the command line; `Ok(None)` for `--help`.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let once = [
        "--jwks",
        "--client-id",
        "--audience",
        "--leeway",
        "--max-lifetime",
        "--redis",
        "--quarantine",
        "--trust",
    ];
    let Some(mut flags) = support::parse(args, &once, &[], USAGE)? else {
        return Ok(None);
    };
    let keys = match flags.take("--trust") {
        Some(file) => {
            if flags.take("--jwks").is_some() || flags.take("--client-id").is_some() {
                return Err(format!("--trust replaces --jwks and --client-id; {USAGE}"));
            }
            if flags.take("--max-lifetime").is_some() {
                return Err(format!("--max-lifetime does not apply to --trust; {USAGE}"));
            }
            Keys::Trust(file)
        }
        None => Keys::Client {
            jwks: flags.required("--jwks")?,
            client_id: flags.required("--client-id")?,
        },
    };
    Ok(Some(Args {
        keys,
        audience: flags.required("--audience")?,
        leeway: flags.seconds("--leeway")?.map(Duration::from_secs),
        max_lifetime: flags.seconds("--max-lifetime")?.map(Duration::from_secs),
        redis: flags.take("--redis"),
        quarantine: match flags.take("--quarantine").as_deref() {
            None | Some("off") => false,
            Some("on") => true,
            Some(other) => return Err(format!("--quarantine {other:?}: on or off; {USAGE}")),
        },
    }))
}

/// The verifier the arguments name.
enum Mode {
    Client(Verifier),
    Federated(FederatedVerifier),
}

fn verifier(args: &Args) -> Result<Mode, String> {
    match &args.keys {
        Keys::Client { jwks, client_id } => {
            client_verifier(args, jwks, client_id).map(Mode::Client)
        }
        Keys::Trust(file) => federated_verifier(args, file).map(Mode::Federated),
    }
}

fn federated_verifier(args: &Args, file: &str) -> Result<FederatedVerifier, String> {
    let trust = TrustFile::load(file).map_err(|e| format!("cannot use trust file {file}: {e}"))?;
    let mut builder = FederatedVerifier::builder(args.audience.as_str()).rules(trust.into_rules());
    if let Some(leeway) = args.leeway {
        builder = builder.leeway(leeway);
    }
    if let Some(url) = &args.redis {
        builder = builder.async_replay_cache(redis_cache(url)?);
    }
    if !args.quarantine {
        // As for one client (see the module docs).
        builder = builder.danger_accept_replays_after_state_loss();
    }
    builder
        .build()
        .map_err(|e| format!("cannot use trust file {file}: {e}"))
}

fn client_verifier(args: &Args, jwks: &str, client_id: &str) -> Result<Verifier, String> {
    let json = read_bounded(jwks, JWKS_LIMIT)?;
    let registry = Arc::new(ClientRegistry::new());
    registry
        .register_jwks_json(client_id, &json)
        .map_err(|e| format!("cannot use JWK Set {jwks}: {e}"))?;
    let mut policy = Policy::new(args.audience.as_str());
    if let Some(leeway) = args.leeway {
        policy = policy.leeway(leeway);
    }
    if let Some(max) = args.max_lifetime {
        policy = policy.max_lifetime(max);
    }
    let mut builder = Verifier::builder(args.audience.as_str(), registry).policy(policy);
    if let Some(url) = &args.redis {
        builder = builder.async_replay_cache(redis_cache(url)?);
    }
    if !args.quarantine {
        // A batch checker of assertions minted before it started; see the
        // module docs.
        builder = builder.danger_accept_replays_after_state_loss();
    }
    builder.build().map_err(|e| format!("invalid policy: {e}"))
}

/// The shared replay cache on Redis (connects on first use).
#[cfg(feature = "redis")]
fn redis_cache(url: &str) -> Result<Arc<dyn AsyncReplayCache>, String> {
    use client_assertion::replay::{RedisReplayCache, RedisReplayConfig};
    let cache = RedisReplayCache::new(url, RedisReplayConfig::new())
        .map_err(|e| format!("--redis: {e}"))?;
    Ok(Arc::new(cache))
}

#[cfg(not(feature = "redis"))]
fn redis_cache(_url: &str) -> Result<Arc<dyn AsyncReplayCache>, String> {
    Err("--redis needs the redis feature (cargo run --features redis --example verify)".into())
}

/// Verifies one assertion: through the async path in a Tokio runtime when
/// the redis feature is on (a Redis cache answers only there), else the
/// sync one.
struct Check {
    verifier: Mode,
    #[cfg(feature = "redis")]
    runtime: tokio::runtime::Runtime,
}

impl Check {
    fn new(verifier: Mode) -> Result<Self, String> {
        Ok(Self {
            verifier,
            #[cfg(feature = "redis")]
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start a Tokio runtime: {e}"))?,
        })
    }

    /// The output line's word after `ok`: the `jti`, or with `--trust`
    /// the client id.
    fn verify(&self, token: &str) -> client_assertion::Result<String> {
        match &self.verifier {
            Mode::Client(v) => {
                #[cfg(feature = "redis")]
                let result = self.runtime.block_on(v.verify_async(token));
                #[cfg(not(feature = "redis"))]
                let result = v.verify(token);
                result.map(|a| a.jti().to_owned())
            }
            Mode::Federated(v) => {
                #[cfg(feature = "redis")]
                let result = self.runtime.block_on(v.verify_async(token));
                #[cfg(not(feature = "redis"))]
                let result = v.verify(token);
                result.map(|c| c.client_id().to_owned())
            }
        }
    }
}

/// The `jti` as one unambiguous printable line (it is client-chosen text):
/// a backslash, a space, control characters and Unicode format characters
/// (bidi overrides, zero-width and invisible characters) are escaped, so
/// that no byte sequence is hidden and no two `jti`s print as the same
/// escaped text (look-alike characters such as homoglyphs still look alike).
fn printable(jti: &str) -> String {
    let mut out = String::with_capacity(jti.len());
    for c in jti.chars() {
        if c == '\\' || c.is_control() {
            out.extend(c.escape_default());
        } else if c.is_whitespace() || is_format(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Unicode general category Cf (format), plus the invisible fillers and
/// joiners a terminal renders as nothing.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{600}'..='\u{605}'
            | '\u{61c}'
            | '\u{6dd}'
            | '\u{70f}'
            | '\u{890}'..='\u{891}'
            | '\u{8e2}'
            | '\u{115f}'..='\u{1160}'
            | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}'
            | '\u{3164}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{110bd}'
            | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}'
            | '\u{1bca0}'..='\u{1bca3}'
            | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}'
    )
}

/// Reads at most `limit` bytes of `path`: a larger file (or `/dev/zero`) is
/// refused without reading more than `limit + 1` bytes.
fn read_bounded(path: &str, limit: usize) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read JWK Set {path}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read JWK Set {path}: {e}"))?;
    if bytes.len() > limit {
        return Err(format!("JWK Set {path} is larger than {limit} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| format!("JWK Set {path} is not UTF-8"))
}

/// The most bytes of one input line kept: far above any token the policy
/// accepts, so a longer line is still `rejected too_large`.
const LINE_LIMIT: usize = 1 << 20;

fn main() -> ExitCode {
    let args = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned());
    let verifier = match parse_args(args) {
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Some(args)) => verifier(&args).and_then(Check::new),
        Err(reason) => Err(reason),
    };
    let verifier = match verifier {
        Ok(v) => v,
        Err(reason) => {
            eprintln!("verify: {reason}");
            return ExitCode::from(2);
        }
    };
    let mut input = io::stdin().lock();
    let mut out = io::stdout().lock();
    let mut line = Vec::new();
    loop {
        match read_line(&mut input, &mut line, LINE_LIMIT) {
            Ok(false) => return ExitCode::SUCCESS,
            Ok(true) => {}
            Err(e) => {
                eprintln!("verify: cannot read standard input: {e}");
                return ExitCode::FAILURE;
            }
        }
        // A line that is not UTF-8 cannot be a JWS: it is rejected as
        // malformed like any other garbage.
        let text = String::from_utf8_lossy(&line);
        let written = match verifier.verify(text.trim()) {
            Ok(word) => writeln!(out, "ok {}", printable(&word)),
            Err(e) => writeln!(out, "rejected {}", e.code()),
        };
        if written.is_err() {
            // Standard output is gone (e.g. a closed pipe): stop quietly.
            return ExitCode::SUCCESS;
        }
    }
}
