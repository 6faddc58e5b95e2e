//! The `sign` example's certificate flags as a command-line program:
//! `--cert FILE` adds `x5t#S256`, `--x5c` adds the chain, and mistakes (a
//! certificate of another key, garbage, `--x5c` alone) are one-line errors.

mod common;
#[path = "common/examples.rs"]
mod examples;

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use client_assertion::keys::CertificateChain;
use client_assertion::{jwk_set, ClientRegistry, PrivateKey, Verifier};
use common::*;

fn cert_path(name: &str) -> String {
    data(&format!("certs/{name}")).to_str().unwrap().to_owned()
}

fn run(bin: &PathBuf, key: &str, extra: &[&str]) -> Output {
    Command::new(bin)
        .args([
            "--key",
            &cert_path(key),
            "--client-id",
            "app-id",
            "--audience",
            "https://as.example.com",
        ])
        .args(extra)
        .output()
        .expect("the example runs")
}

fn ok(bin: &PathBuf, key: &str, extra: &[&str]) -> String {
    let out = run(bin, key, extra);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{extra:?}: {err}");
    assert_eq!(err, "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    text.trim_end().to_owned()
}

fn fails(bin: &PathBuf, key: &str, extra: &[&str], reason: &str) {
    let out = run(bin, key, extra);
    assert!(!out.status.success(), "{extra:?} succeeded");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.contains(reason), "{err:?} should mention {reason}");
}

#[test]
fn sign_example_certificate_flags() {
    let sign = examples::example("sign");
    let registry = std::sync::Arc::new(ClientRegistry::new());
    let keys: Vec<PrivateKey> = ["ec", "rsa", "ed25519"]
        .iter()
        .map(|k| PrivateKey::from_file(cert_path(&format!("{k}.key.pem"))).unwrap())
        .collect();
    registry.register("app-id", &jwk_set(keys.iter())).unwrap();
    let verifier = Verifier::builder("https://as.example.com", registry)
        .build()
        .unwrap();

    for name in ["ec", "rsa", "ed25519"] {
        let key = format!("{name}.key.pem");
        let chain = CertificateChain::from_file(cert_path(&format!("{name}.chain.pem"))).unwrap();

        // Without --cert: no certificate member.
        let header = split(&ok(&sign, &key, &[])).header;
        assert!(header.get("x5t#S256").is_none() && header.get("x5c").is_none());

        // --cert (PEM chain, PEM leaf or DER leaf): x5t#S256 of the leaf only.
        for cert in [
            format!("{name}.chain.pem"),
            format!("{name}.cert.pem"),
            format!("{name}.cert.der"),
        ] {
            let token = ok(&sign, &key, &["--cert", &cert_path(&cert)]);
            let header = split(&token).header;
            assert_eq!(header["x5t#S256"], chain.thumbprint_sha256(), "{cert}");
            assert!(header.get("x5c").is_none() && header.get("x5t").is_none());
            verifier.verify(&token).unwrap();
        }

        // --x5c: also the chain, standard base64 DER, leaf first.
        let token = ok(
            &sign,
            &key,
            &["--cert", &cert_path(&format!("{name}.chain.pem")), "--x5c"],
        );
        let header = split(&token).header;
        assert_eq!(header["x5t#S256"], chain.thumbprint_sha256());
        let x5c: Vec<Vec<u8>> = header["x5c"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| STANDARD.decode(c.as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(
            x5c,
            [
                read(&format!("certs/{name}.cert.der")),
                read("certs/intermediate.cert.der")
            ]
        );
        verifier.verify(&token).unwrap();
    }

    fails(
        &sign,
        "ec.key.pem",
        &["--cert", &cert_path("rsa.cert.pem")],
        "certificate_mismatch",
    );
    fails(
        &sign,
        "rsa.key.pem",
        &["--cert", &cert_path("entra.cert.pem")],
        "certificate_mismatch",
    );
    fails(
        &sign,
        "ec.key.pem",
        &["--cert", &cert_path("ec.key.pem")],
        "invalid_certificate",
    );
    fails(
        &sign,
        "ec.key.pem",
        &["--cert", &cert_path("no-such.pem")],
        "io",
    );
    fails(&sign, "ec.key.pem", &["--x5c"], "--x5c needs --cert");
    fails(
        &sign,
        "ec.key.pem",
        &["--cert", &cert_path("ec.cert.pem"), "--x5c", "--x5c"],
        "--x5c given twice",
    );
    fails(&sign, "ec.key.pem", &["--cert"], "--cert needs a value");
}
