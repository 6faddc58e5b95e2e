//! A certificate on a PKCS#11 key: the fixture keys of `tests/data/certs`
//! are imported into a throw-away SoftHSM2 token (`softhsm2-util --import`),
//! and the signer checks the certificate against the token key's public
//! half. Needs SoftHSM2 (`scripts/softhsm.sh`), like `tests/pkcs11.rs`.
#![cfg(feature = "pkcs11")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use client_assertion::keys::pkcs11::{Pin, Pkcs11Key};
use client_assertion::keys::{CertificateChain, CertificateHeaders};
use client_assertion::{jwk_set, AssertionSigner, ClientRegistry, ErrorKind, Verifier};
use common::*;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "client-assertion-certs";
const PIN: &str = "fedcba123456";
const AUD: &str = "https://as.example.com";

fn softhsm(conf: &Path, args: &[&str]) {
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", conf)
        .args(args)
        .output()
        .expect("softhsm2-util runs (scripts/softhsm.sh installs it)");
    assert!(
        out.status.success(),
        "softhsm2-util {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn cert(name: &str) -> CertificateChain {
    CertificateChain::from_file(data(&format!("certs/{name}"))).unwrap()
}

#[test]
fn certificates_on_pkcs11_keys() {
    assert!(Path::new(MODULE).exists(), "SoftHSM2 is missing");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("softhsm-certs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tokens")).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.join("tokens").display()
        ),
    )
    .unwrap();
    // Before the module is first initialised in this process.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    softhsm(
        &conf,
        &[
            "--init-token",
            "--free",
            "--label",
            TOKEN,
            "--so-pin",
            "abcdef654321",
            "--pin",
            PIN,
        ],
    );
    for (label, id) in [("ec", "01"), ("rsa", "02")] {
        let key = data(&format!("certs/{label}.key.pem"));
        softhsm(
            &conf,
            &[
                "--import",
                key.to_str().unwrap(),
                "--token",
                TOKEN,
                "--label",
                label,
                "--id",
                id,
                "--pin",
                PIN,
            ],
        );
    }
    let open = |label: &str| -> Arc<Pkcs11Key> {
        Arc::new(
            Pkcs11Key::builder(MODULE)
                .token_label(TOKEN)
                .pin(Pin::new(PIN))
                .key_label(label)
                .open()
                .unwrap_or_else(|e| panic!("{label}: {e}")),
        )
    };

    for name in ["ec", "rsa"] {
        let key = open(name);
        let chain = cert(&format!("{name}.chain.pem"));
        chain.check_key(&*key).unwrap();
        let token = AssertionSigner::builder(key.clone(), "app-id", AUD)
            .certificate(chain.clone())
            .certificate_headers(CertificateHeaders::X5T_S256 | CertificateHeaders::X5C)
            .build()
            .unwrap()
            .sign()
            .unwrap();
        let header = split(token.as_str()).header;
        assert_eq!(header["x5t#S256"], chain.thumbprint_sha256());
        assert_eq!(header["x5c"].as_array().unwrap().len(), 2);
        let registry = Arc::new(ClientRegistry::new());
        registry.register("app-id", &jwk_set([&*key])).unwrap();
        Verifier::builder(AUD, registry)
            .build()
            .unwrap()
            .verify(token.as_str())
            .unwrap();
    }
    // The token's EC key with the RSA certificate, and the other way round.
    for (label, other) in [("ec", "rsa.cert.pem"), ("rsa", "ec.cert.pem")] {
        let err = AssertionSigner::builder(open(label), "app-id", AUD)
            .certificate(cert(other))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::CertificateMismatch, "{label}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
