//! Command-line plumbing shared by the examples (std only): `--flag value`
//! parsing, one-line error messages, and opening a PKCS#11 key.
//!
//! Each example uses part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use client_assertion::{Error, KeySource};

/// Parsed `--flag value` pairs.
pub struct Flags {
    values: HashMap<&'static str, Vec<String>>,
    usage: &'static str,
}

/// Parses `args` as `--flag value` pairs. Flags in `once` may appear at most
/// once, flags in `repeated` any number of times; anything else is an error.
/// `Ok(None)` for `--help` / `-h`.
pub fn parse(
    mut args: impl Iterator<Item = String>,
    once: &[&'static str],
    repeated: &[&'static str],
    usage: &'static str,
) -> Result<Option<Flags>, String> {
    let mut values: HashMap<&'static str, Vec<String>> = HashMap::new();
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let Some(&name) = once.iter().chain(repeated).find(|f| **f == flag) else {
            return Err(format!("unknown argument {flag:?}; {usage}"));
        };
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value; {usage}"))?;
        let slot = values.entry(name).or_default();
        if !slot.is_empty() && once.contains(&name) {
            return Err(format!("{flag} given twice; {usage}"));
        }
        slot.push(value);
    }
    Ok(Some(Flags { values, usage }))
}

impl Flags {
    /// The value of a flag given at most once.
    pub fn take(&mut self, flag: &str) -> Option<String> {
        self.values.remove(flag).and_then(|mut v| v.pop())
    }

    /// Every value of a repeatable flag, in order.
    pub fn take_all(&mut self, flag: &str) -> Vec<String> {
        self.values.remove(flag).unwrap_or_default()
    }

    /// The value of a required flag.
    pub fn required(&mut self, flag: &str) -> Result<String, String> {
        self.take(flag)
            .ok_or_else(|| format!("{flag} is required; {}", self.usage))
    }

    /// A whole number of seconds, if the flag is given.
    pub fn seconds(&mut self, flag: &str) -> Result<Option<u64>, String> {
        self.take(flag)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("{flag} takes whole seconds, not {v:?}"))
            })
            .transpose()
    }

    /// The PKCS#11 key flags (`--pkcs11-module`, `--pkcs11-token`,
    /// `--pkcs11-key`, `--pin-env`): all or none; refused without the
    /// `pkcs11` feature.
    pub fn pkcs11(&mut self, example: &str) -> Result<Option<Pkcs11Flags>, String> {
        let [module, token, key, pin_env] = PKCS11_FLAGS.map(|f| self.take(f));
        if module.is_none() && token.is_none() && key.is_none() && pin_env.is_none() {
            return Ok(None);
        }
        if !cfg!(feature = "pkcs11") {
            return Err(format!(
                "the --pkcs11-* flags need the pkcs11 feature: \
                 cargo run --features pkcs11 --example {example} -- ..."
            ));
        }
        let usage = self.usage;
        let missing = |flag: &str| format!("{flag} is required with a PKCS#11 key; {usage}");
        Ok(Some(Pkcs11Flags {
            module: module.ok_or_else(|| missing("--pkcs11-module"))?,
            token: token.ok_or_else(|| missing("--pkcs11-token"))?,
            key: key.ok_or_else(|| missing("--pkcs11-key"))?,
            pin_env: pin_env.ok_or_else(|| missing("--pin-env"))?,
        }))
    }
}

/// The flags that select a PKCS#11 key.
pub const PKCS11_FLAGS: [&str; 4] = [
    "--pkcs11-module",
    "--pkcs11-token",
    "--pkcs11-key",
    "--pin-env",
];

/// A key on a PKCS#11 token.
pub struct Pkcs11Flags {
    pub module: String,
    pub token: String,
    pub key: String,
    pub pin_env: String,
}

impl Pkcs11Flags {
    /// Opens the key; the PIN comes from the environment variable.
    #[cfg(feature = "pkcs11")]
    pub fn open(&self) -> Result<Arc<dyn KeySource>, Error> {
        use client_assertion::keys::pkcs11::{Pin, Pkcs11Key};
        let key = Pkcs11Key::builder(&self.module)
            .token_label(&self.token)
            .pin(Pin::from_env(&self.pin_env)?)
            .key_label(&self.key)
            .open()?;
        Ok(Arc::new(key))
    }

    /// Unreachable: [`Flags::pkcs11`] refuses the flags without the feature.
    #[cfg(not(feature = "pkcs11"))]
    pub fn open(&self) -> Result<Arc<dyn KeySource>, Error> {
        Err(client_assertion::ErrorKind::InvalidConfig.into())
    }
}

/// The error's `Display`, followed by its cause (e.g. the I/O error), on one line.
pub fn one_line(e: &Error) -> String {
    let mut line = e.to_string();
    if let Some(source) = std::error::Error::source(e) {
        line.push_str(": ");
        line.push_str(&source.to_string());
    }
    line.replace(['\n', '\r'], " ")
}
