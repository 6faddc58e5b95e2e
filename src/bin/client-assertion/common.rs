//! What every subcommand shares: the failure type and its exit codes,
//! bounded reading of files and standard input (`-`), the PKCS#11 flags,
//! `--profile`, and escaping of untrusted text before it reaches a terminal.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use client_assertion::{Error, KeySource, Profile};

/// Why a subcommand stopped: a usage error (exit 2) or a failure (exit 1).
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line cannot be carried out as given (exit 2).
    Usage(String),
    /// The operation failed or was rejected (exit 1); the library code, if any.
    Failed {
        code: Option<&'static str>,
        message: String,
    },
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage(message.into())
    }

    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self::Failed {
            code: None,
            message: message.into(),
        }
    }

    /// A library error, with `context` (a file name, a flag) before it.
    pub(crate) fn error(context: &str, e: &Error) -> Self {
        let line = one_line(e);
        Self::Failed {
            code: Some(e.code()),
            message: if context.is_empty() {
                line
            } else {
                format!("{context}: {line}")
            },
        }
    }

    /// Reports the failure (stderr; with `--json` also a JSON object on
    /// stdout) and returns its exit code.
    pub(crate) fn report(&self, command: &str, json: bool) -> ExitCode {
        let (kind, code, message, exit) = match self {
            Self::Usage(m) => ("usage", None, m, 2),
            Self::Failed { code, message } => ("failed", *code, message, 1),
        };
        eprintln!("client-assertion {command}: {message}");
        if json {
            print_json(&serde_json::json!({
                "ok": false,
                "error": { "kind": kind, "code": code, "message": message },
            }));
        }
        ExitCode::from(exit)
    }
}

/// How a subcommand that ran to its end came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Exit 0.
    Ok,
    /// Something was rejected (a token, a lint verdict): exit 1, the
    /// report is already on stdout.
    Rejected,
}

/// The error's `Display` followed by its whole `source` chain, on one line.
pub(crate) fn one_line(e: &Error) -> String {
    let mut line = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line.replace(['\n', '\r'], " ")
}

/// The most bytes read from a key, JWK Set or certificate file.
pub(crate) const FILE_LIMIT: usize = 1 << 20;

/// Reads at most `limit` bytes of `path`, or of standard input for `-`: a
/// larger input is refused after reading `limit + 1` bytes.
pub(crate) fn read_input(path: &str, limit: usize, what: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    let read = if path == "-" {
        std::io::stdin()
            .lock()
            .take(limit as u64 + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(Path::new(path))
            .and_then(|f| f.take(limit as u64 + 1).read_to_end(&mut bytes))
    };
    let name = if path == "-" { "standard input" } else { path };
    read.map_err(|e| Failure::failed(format!("cannot read {what} {name}: {e}")))?;
    if bytes.len() > limit {
        return Err(Failure::failed(format!(
            "{what} {name} is larger than {limit} bytes"
        )));
    }
    Ok(bytes)
}

/// As [`read_input`], as UTF-8 text.
pub(crate) fn read_text(path: &str, limit: usize, what: &str) -> Result<String, Failure> {
    let bytes = read_input(path, limit, what)?;
    String::from_utf8(bytes).map_err(|_| Failure::failed(format!("{what} {path} is not UTF-8")))
}

/// Refuses a second `-` among the inputs: standard input can be read once.
pub(crate) fn one_stdin<'a>(inputs: impl IntoIterator<Item = &'a str>) -> Result<(), Failure> {
    if inputs.into_iter().filter(|p| *p == "-").count() > 1 {
        return Err(Failure::usage("standard input (-) can be read only once"));
    }
    Ok(())
}

/// The verifier-side and signer-side profile: `--profile` and the two
/// parameters two of the profiles need.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct ProfileArgs {
    /// The server profile: rfc7523bis, fapi2, entra-id (needs --tenant) or
    /// legacy (needs --token-endpoint).
    #[arg(long, value_enum, value_name = "NAME")]
    pub(crate) profile: Option<ProfileName>,
    /// The Entra ID tenant (id or domain), with --profile entra-id.
    #[arg(long, value_name = "TENANT")]
    pub(crate) tenant: Option<String>,
    /// The token endpoint URL, with --profile legacy.
    #[arg(long, value_name = "URL")]
    pub(crate) token_endpoint: Option<String>,
}

/// The profile names on the command line.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProfileName {
    /// draft-ietf-oauth-rfc7523bis
    Rfc7523bis,
    /// FAPI 2.0 Security Profile
    Fapi2,
    /// Microsoft Entra ID certificate credentials
    #[value(alias = "entra_id")]
    EntraId,
    /// a server that wants the token endpoint as audience
    #[value(alias = "legacy_token_endpoint")]
    Legacy,
}

impl ProfileArgs {
    /// The profile asked for, if any.
    pub(crate) fn profile(&self) -> Result<Option<Profile>, Failure> {
        let stray = |flag: &str, name: &str| {
            Failure::usage(format!("{flag} is only used with --profile {name}"))
        };
        if self.tenant.is_some() && self.profile != Some(ProfileName::EntraId) {
            return Err(stray("--tenant", "entra-id"));
        }
        if self.token_endpoint.is_some() && self.profile != Some(ProfileName::Legacy) {
            return Err(stray("--token-endpoint", "legacy"));
        }
        Ok(match self.profile {
            None => None,
            Some(ProfileName::Rfc7523bis) => Some(Profile::Rfc7523bis),
            Some(ProfileName::Fapi2) => Some(Profile::Fapi2),
            Some(ProfileName::EntraId) => {
                let tenant = self
                    .tenant
                    .clone()
                    .ok_or_else(|| Failure::usage("--profile entra-id needs --tenant TENANT"))?;
                Some(Profile::entra_id(tenant))
            }
            Some(ProfileName::Legacy) => {
                let url = self
                    .token_endpoint
                    .clone()
                    .ok_or_else(|| Failure::usage("--profile legacy needs --token-endpoint URL"))?;
                Some(Profile::legacy_token_endpoint(url))
            }
        })
    }
}

/// A key on a PKCS#11 token (feature `pkcs11`). The PIN is read from an
/// environment variable or a file, never from the command line.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct Pkcs11Args {
    /// The PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so (feature pkcs11).
    #[arg(long, value_name = "PATH")]
    pub(crate) pkcs11_module: Option<String>,
    /// The token's label.
    #[arg(long, value_name = "LABEL")]
    pub(crate) pkcs11_token: Option<String>,
    /// The key's CKA_LABEL.
    #[arg(long, value_name = "LABEL")]
    pub(crate) pkcs11_key: Option<String>,
    /// The environment variable holding the user PIN.
    #[arg(long, value_name = "VAR", conflicts_with = "pin_file")]
    pub(crate) pin_env: Option<String>,
    /// A file whose first line is the user PIN.
    #[arg(long, value_name = "FILE")]
    pub(crate) pin_file: Option<String>,
}

/// The PKCS#11 flags, complete.
pub(crate) struct Pkcs11Key {
    pub(crate) module: String,
    pub(crate) token: String,
    pub(crate) key: String,
    pin_env: Option<String>,
    pin_file: Option<String>,
}

impl Pkcs11Args {
    /// `Ok(None)` when no PKCS#11 flag is given; all of module, token, key
    /// and one PIN source otherwise.
    pub(crate) fn key(&self) -> Result<Option<Pkcs11Key>, Failure> {
        let any = self.pkcs11_module.is_some()
            || self.pkcs11_token.is_some()
            || self.pkcs11_key.is_some()
            || self.pin_env.is_some()
            || self.pin_file.is_some();
        if !any {
            return Ok(None);
        }
        if !cfg!(feature = "pkcs11") {
            return Err(Failure::usage(
                "the --pkcs11-* flags need the pkcs11 feature \
                 (cargo install client-assertion --features cli,pkcs11)",
            ));
        }
        let missing = |flag: &str| Failure::usage(format!("{flag} is required with a PKCS#11 key"));
        if self.pin_env.is_none() && self.pin_file.is_none() {
            return Err(Failure::usage(
                "a PKCS#11 key needs --pin-env VAR or --pin-file FILE (never the PIN itself)",
            ));
        }
        Ok(Some(Pkcs11Key {
            module: self
                .pkcs11_module
                .clone()
                .ok_or_else(|| missing("--pkcs11-module"))?,
            token: self
                .pkcs11_token
                .clone()
                .ok_or_else(|| missing("--pkcs11-token"))?,
            key: self
                .pkcs11_key
                .clone()
                .ok_or_else(|| missing("--pkcs11-key"))?,
            pin_env: self.pin_env.clone(),
            pin_file: self.pin_file.clone(),
        }))
    }
}

impl Pkcs11Key {
    /// The key's builder with its token, PIN and label set.
    #[cfg(feature = "pkcs11")]
    pub(crate) fn builder(
        &self,
    ) -> Result<client_assertion::keys::pkcs11::Pkcs11KeyBuilder, Failure> {
        use client_assertion::keys::pkcs11::{Pin, Pkcs11Key};
        let pin = match (&self.pin_env, &self.pin_file) {
            (Some(var), _) => Pin::from_env(var),
            (None, Some(file)) => Pin::from_file(file),
            (None, None) => return Err(Failure::usage("no PIN source")),
        }
        .map_err(|e| Failure::error("PIN", &e))?;
        Ok(Pkcs11Key::builder(&self.module)
            .token_label(&self.token)
            .pin(pin)
            .key_label(&self.key))
    }

    /// Opens the key on the token.
    #[cfg(feature = "pkcs11")]
    pub(crate) fn open(&self) -> Result<Arc<dyn KeySource>, Failure> {
        let key = self
            .builder()?
            .open()
            .map_err(|e| Failure::error(&format!("PKCS#11 key {:?}", self.key), &e))?;
        Ok(Arc::new(key))
    }

    /// Unreachable: [`Pkcs11Args::key`] refuses the flags without the feature.
    #[cfg(not(feature = "pkcs11"))]
    pub(crate) fn open(&self) -> Result<Arc<dyn KeySource>, Failure> {
        let _ = (
            &self.module,
            &self.token,
            &self.key,
            &self.pin_env,
            &self.pin_file,
        );
        Err(Failure::usage(
            "the --pkcs11-* flags need the pkcs11 feature",
        ))
    }
}

/// Untrusted text (a claim, a `kid`) as one unambiguous printable line:
/// a backslash, control characters, whitespace other than a plain space and
/// Unicode format characters (bidi overrides, zero-width characters) are
/// escaped, so nothing is hidden from, or sent to, the terminal.
pub(crate) fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' || c.is_control() {
            out.extend(c.escape_default());
        } else if (c.is_whitespace() && c != ' ') || is_format(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// As [`printable`], cut after 120 characters (an error message may quote
/// a whole hostile value).
pub(crate) fn short(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}...", printable(&text[..cut])),
        None => printable(text),
    }
}

/// The `jti` as the `verify` example prints it: as [`printable`], and a
/// space escaped too, so that the line splits on its one space.
pub(crate) fn printable_jti(jti: &str) -> String {
    printable(jti).replace(' ', "\\u{20}")
}

/// JSON text safe for a terminal: serde_json escapes control characters;
/// this also escapes the format characters (as `\uXXXX`, surrogate pairs
/// above the BMP), which can only occur inside strings.
pub(crate) fn terminal_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if is_format(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Prints `value` as one line of JSON, safe for a terminal ([`terminal_json`]).
pub(crate) fn print_json(value: &serde_json::Value) {
    println!("{}", terminal_json(&value.to_string()));
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
            | '\u{2028}'..='\u{202e}'
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

/// Seconds since the Unix epoch, now.
pub(crate) fn now_unix() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// A `SystemTime` as whole seconds since the Unix epoch.
pub(crate) fn unix(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
