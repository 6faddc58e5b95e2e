//! `keygen`: a fresh private key as PKCS#8 PEM, written to a file created
//! with mode 0600 and put in place atomically (a temporary file in the same
//! directory, then a link or rename), or to stdout; or, with the PKCS#11
//! flags, a non-extractable key pair generated on the token.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use client_assertion::{KeyType, PrivateKey};

use crate::common::{Failure, Outcome, Pkcs11Args};

const EXAMPLES: &str = "\
Examples:
  client-assertion keygen --type p256 --out key.pem
  client-assertion keygen --type rsa3072 > key.pem
  PKCS11_PIN=1234 client-assertion keygen --type p256 \\
      --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --pkcs11-token client-assertion \\
      --pkcs11-key client-key --pin-env PKCS11_PIN";

/// `keygen` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// The key type.
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    key_type: KeyKind,
    /// Write the PKCS#8 PEM to FILE (mode 0600, atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Replace FILE if it exists (by default an existing file is an error).
    #[arg(long, requires = "out")]
    force: bool,
    #[command(flatten)]
    pkcs11: Pkcs11Args,
}

/// The key types on the command line.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    P256,
    P384,
    Ed25519,
    Rsa2048,
    Rsa3072,
    Rsa4096,
}

impl KeyKind {
    fn split(self) -> (KeyType, usize) {
        match self {
            Self::P256 => (KeyType::P256, 0),
            Self::P384 => (KeyType::P384, 0),
            Self::Ed25519 => (KeyType::Ed25519, 0),
            Self::Rsa2048 => (KeyType::Rsa, 2048),
            Self::Rsa3072 => (KeyType::Rsa, 3072),
            Self::Rsa4096 => (KeyType::Rsa, 4096),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::P256 => "p256",
            Self::P384 => "p384",
            Self::Ed25519 => "ed25519",
            Self::Rsa2048 => "rsa2048",
            Self::Rsa3072 => "rsa3072",
            Self::Rsa4096 => "rsa4096",
        }
    }
}

pub(crate) fn run(args: Args, json: bool) -> Result<Outcome, Failure> {
    if let Some(pkcs11) = args.pkcs11.key()? {
        if args.out.is_some() {
            return Err(Failure::usage(
                "--out and the --pkcs11-* flags exclude each other (the key stays on the token)",
            ));
        }
        return on_token(&pkcs11, args.key_type, json);
    }
    if json && args.out.is_none() {
        return Err(Failure::usage(
            "--json needs --out (the private key is only ever written as PEM)",
        ));
    }
    let key = match args.key_type.split() {
        (KeyType::Rsa, bits) => PrivateKey::generate_rsa(bits),
        (key_type, _) => PrivateKey::generate(key_type),
    }
    .map_err(|e| Failure::error("key generation", &e))?;
    let pem = key
        .to_pkcs8_pem()
        .map_err(|e| Failure::error("encoding", &e))?;
    let Some(out) = &args.out else {
        print!("{}", pem.as_str());
        return Ok(Outcome::Ok);
    };
    write_secret_file(out, pem.as_bytes(), args.force)?;
    let alg = key.algorithms()[0].name();
    if json {
        let report = serde_json::json!({
            "ok": true, "type": args.key_type.name(), "kid": key.kid(), "alg": alg,
            "out": out.display().to_string(), "mode": "0600",
        });
        crate::common::print_json(&report);
    } else {
        println!(
            "wrote a {} private key to {} (mode 0600); kid {}",
            args.key_type.name(),
            out.display(),
            key.kid()
        );
    }
    Ok(Outcome::Ok)
}

/// Writes `bytes` to `path` as a new file readable by its owner only: into
/// a temporary file in the same directory (created exclusively, mode 0600,
/// flushed to disk), then linked into place (refused if `path` exists) or,
/// with `force`, renamed over it. A reader never sees a partial key.
fn write_secret_file(path: &Path, bytes: &[u8], force: bool) -> Result<(), Failure> {
    let name = path
        .file_name()
        .ok_or_else(|| Failure::usage(format!("--out {} is not a file name", path.display())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |what: &str, e: std::io::Error| {
        Failure::failed(format!("cannot {what} {}: {e}", path.display()))
    };
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&tmp)
        .map_err(|e| fail("create a file beside", e))?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    drop(file);
    let placed = written.and_then(|()| {
        if force {
            return std::fs::rename(&tmp, path);
        }
        match std::fs::hard_link(&tmp, path) {
            // A file system without hard links: rename, unless FILE exists.
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && !path.exists() => {
                std::fs::rename(&tmp, path)
            }
            other => other,
        }
    });
    // After a link (or a failure) the temporary name goes; after a rename it is gone.
    let _ = std::fs::remove_file(&tmp);
    match placed {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Failure::failed(format!(
                "{} exists; remove it or pass --force",
                path.display()
            )))
        }
        Err(e) => return Err(fail("write", e)),
    }
    // Make the new directory entry durable too (best effort).
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(feature = "pkcs11")]
fn on_token(
    pkcs11: &crate::common::Pkcs11Key,
    kind: KeyKind,
    json: bool,
) -> Result<Outcome, Failure> {
    use client_assertion::KeyMetadata;
    let builder = pkcs11.builder()?;
    let key = match kind.split() {
        (KeyType::Rsa, bits) => builder.generate_rsa(bits),
        (key_type, _) => builder.generate(key_type),
    }
    .map_err(|e| Failure::error(&format!("PKCS#11 key {:?}", pkcs11.key), &e))?;
    let id: String = key.id().iter().map(|b| format!("{b:02x}")).collect();
    if json {
        let report = serde_json::json!({
            "ok": true, "type": kind.name(), "kid": key.kid(), "alg": key.algorithms()[0].name(),
            "token": key.token_label(), "label": key.label(), "id": id,
        });
        crate::common::print_json(&report);
    } else {
        println!(
            "generated a {} key pair {:?} (CKA_ID {id}) on token {:?}; kid {}",
            kind.name(),
            key.label().unwrap_or_default(),
            key.token_label(),
            key.kid()
        );
    }
    Ok(Outcome::Ok)
}

#[cfg(not(feature = "pkcs11"))]
fn on_token(
    _pkcs11: &crate::common::Pkcs11Key,
    _kind: KeyKind,
    _json: bool,
) -> Result<Outcome, Failure> {
    Err(Failure::usage(
        "the --pkcs11-* flags need the pkcs11 feature",
    ))
}
