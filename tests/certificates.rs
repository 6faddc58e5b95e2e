//! X.509 certificates on the signer: loading (PEM, DER, chains), thumbprints
//! against openssl's own, `x5t#S256` / `x5t` / `x5c` headers, the key match
//! (refused for EC, RSA and Ed25519 mismatches, checked again after a key
//! reload), and that the crate's verifier accepts such headers without ever
//! using `x5c` for trust. Fixtures: `tests/data/certs` (made by `make.sh`).

mod common;

use std::borrow::Cow;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use client_assertion::keys::{CertificateChain, CertificateHeaders};
use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{
    jwk_set, Algorithm, AssertionSigner, ClientRegistry, Error, ErrorKind, FileKey, KeySource,
    KeyType, PrivateKey, PublicJwk, Verifier,
};
use common::*;

const CERTS: [&str; 6] = ["ec", "rsa", "ed25519", "intermediate", "root", "entra"];
const AUD: &str = "https://login.example.com/tenant/oauth2/v2.0/token";

fn cert_path(name: &str) -> String {
    data(&format!("certs/{name}")).to_str().unwrap().to_owned()
}

fn chain(name: &str) -> CertificateChain {
    CertificateChain::from_file(cert_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn key(name: &str) -> Arc<PrivateKey> {
    Arc::new(PrivateKey::from_file(cert_path(name)).unwrap())
}

/// openssl's `AB:CD:..` fingerprint as base64url, the JOSE form.
fn hex_to_b64url(hex: &str) -> String {
    let bytes: Vec<u8> = hex
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).expect("hex byte"))
        .collect();
    b64url_encode(&bytes)
}

/// The committed fingerprint (`fingerprints.txt`, written by openssl in make.sh).
fn expected(file: &str, hash: &str) -> String {
    let text = read_str("certs/fingerprints.txt");
    let hex = text
        .lines()
        .find_map(|l| {
            let mut parts = l.split_whitespace();
            (parts.next() == Some(file) && parts.next() == Some(hash))
                .then(|| parts.next().unwrap().to_owned())
        })
        .unwrap_or_else(|| panic!("no {hash} fingerprint for {file}"));
    hex_to_b64url(&hex)
}

/// The fingerprint openssl computes now, if openssl is on PATH.
fn openssl_fingerprint(file: &str, hash: &str) -> Option<String> {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", &format!("-{hash}"), "-in"])
        .arg(cert_path(file))
        .output()
        .ok()?;
    assert!(out.status.success(), "openssl x509 failed on {file}");
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.trim().rsplit('=').next().unwrap().to_owned();
    Some(hex_to_b64url(&hex))
}

fn verifier_for(keys: &[&dyn KeySource]) -> Verifier {
    let registry = Arc::new(ClientRegistry::new());
    registry
        .register("app-id", &jwk_set(keys.iter().copied()))
        .unwrap();
    Verifier::builder(AUD, registry).build().unwrap()
}

#[test]
fn thumbprints_equal_openssl_fingerprints() {
    let mut recomputed = 0;
    for name in CERTS {
        let file = format!("{name}.cert.pem");
        let c = chain(&file);
        assert_eq!(c.len(), 1);
        assert_eq!(c.thumbprint_sha256(), expected(&file, "sha256"), "{file}");
        assert_eq!(c.thumbprint_sha1(), expected(&file, "sha1"), "{file}");
        // Independently of the committed file, when openssl is here.
        if let Some(fp) = openssl_fingerprint(&file, "sha256") {
            assert_eq!(c.thumbprint_sha256(), fp, "{file}: openssl now");
            assert_eq!(
                c.thumbprint_sha1(),
                openssl_fingerprint(&file, "sha1").unwrap()
            );
            recomputed += 1;
        }
        // base64url without padding: 32 and 20 bytes.
        assert_eq!(c.thumbprint_sha256().len(), 43);
        assert_eq!(c.thumbprint_sha1().len(), 27);
    }
    eprintln!("thumbprints recomputed with openssl for {recomputed} certificates");
}

#[test]
fn pem_and_der_inputs_agree() {
    for name in ["ec", "rsa", "ed25519", "intermediate"] {
        let pem = CertificateChain::from_pem(&read_str(&format!("certs/{name}.cert.pem"))).unwrap();
        let der_bytes = read(&format!("certs/{name}.cert.der"));
        let der = CertificateChain::from_der(&der_bytes).unwrap();
        assert_eq!(pem, der, "{name}");
        assert_eq!(pem.leaf_der(), &der_bytes[..], "{name}: the DER as given");
        assert_eq!(
            chain(&format!("{name}.cert.der")),
            der,
            "from_file detects DER"
        );
        assert_eq!(
            pem_body_der(&read_str(&format!("certs/{name}.cert.pem"))),
            der_bytes
        );
    }
}

#[test]
fn chain_x5c_is_each_der_in_order() {
    for name in ["ec", "rsa", "ed25519"] {
        let c = chain(&format!("{name}.chain.pem"));
        let leaf = read(&format!("certs/{name}.cert.der"));
        let intermediate = read("certs/intermediate.cert.der");
        assert_eq!(c.len(), 2);
        assert_eq!(c.leaf_der(), &leaf[..]);
        let ders: Vec<&[u8]> = c.ders().collect();
        assert_eq!(ders, [&leaf[..], &intermediate[..]]);
        let x5c = c.x5c();
        assert_eq!(x5c.len(), 2);
        for (encoded, der) in x5c.iter().zip([&leaf, &intermediate]) {
            // Standard base64 with padding (RFC 7515 §4.1.6), not base64url.
            assert_eq!(&STANDARD.decode(encoded).unwrap(), der);
            assert_eq!(encoded, &STANDARD.encode(der));
            assert!(!encoded.contains('-') && !encoded.contains('_'));
        }
        // Thumbprints are the leaf's.
        let file = format!("{name}.cert.pem");
        assert_eq!(c.thumbprint_sha256(), expected(&file, "sha256"));

        // The same chain as concatenated DER.
        let mut concatenated = leaf.clone();
        concatenated.extend_from_slice(&intermediate);
        assert_eq!(CertificateChain::from_der(&concatenated).unwrap(), c);
    }
    // Text around the blocks and a private key in the same file are ignored.
    let mixed = format!(
        "subject=CN = client\n{}{}",
        read_str("certs/ec.key.pem"),
        read_str("certs/ec.chain.pem")
    );
    assert_eq!(
        CertificateChain::from_pem(&mixed).unwrap(),
        chain("ec.chain.pem")
    );
}

#[test]
fn malformed_certificates_are_typed_errors() {
    let invalid = |r: Result<CertificateChain, Error>| {
        assert_eq!(r.unwrap_err().kind(), ErrorKind::InvalidCertificate)
    };
    invalid(CertificateChain::from_pem(""));
    invalid(CertificateChain::from_pem(&read_str("certs/ec.key.pem")));
    invalid(CertificateChain::from_der(&[]));
    invalid(CertificateChain::from_bytes(&read("p256.pkcs8.der")));
    let der = read("certs/rsa.cert.der");
    // Every proper prefix, and trailing garbage.
    for len in 0..der.len() {
        invalid(CertificateChain::from_der(&der[..len]));
    }
    let mut trailing = der.clone();
    trailing.push(0);
    invalid(CertificateChain::from_der(&trailing));
    // A PEM block whose body is cut.
    let pem = read_str("certs/ec.cert.pem");
    let cut = pem.replacen("\n", "\n!", 3);
    invalid(CertificateChain::from_pem(&cut));
    let unterminated = pem.replace("-----END CERTIFICATE-----", "");
    invalid(CertificateChain::from_pem(&unterminated));
    // More than MAX_CHAIN_LENGTH certificates.
    let long = pem.repeat(client_assertion::keys::CertificateChain::MAX_LENGTH + 1);
    invalid(CertificateChain::from_pem(&long));
    assert!(CertificateChain::from_pem(
        &pem.repeat(client_assertion::keys::CertificateChain::MAX_LENGTH)
    )
    .is_ok());
    assert_eq!(
        CertificateChain::from_file(cert_path("missing.pem"))
            .unwrap_err()
            .kind(),
        ErrorKind::Io
    );
}

#[test]
fn headers_in_the_token_and_accepted_by_the_verifier() {
    for (name, key_type) in [
        ("ec", KeyType::P256),
        ("rsa", KeyType::Rsa),
        ("ed25519", KeyType::Ed25519),
    ] {
        let key = key(&format!("{name}.key.pem"));
        let c = chain(&format!("{name}.chain.pem"));
        let file = format!("{name}.cert.pem");
        let verifier = verifier_for(&[&*key]);

        // Default: x5t#S256 only.
        let token = AssertionSigner::builder(key.clone(), "app-id", AUD)
            .certificate(c.clone())
            .build()
            .unwrap()
            .sign()
            .unwrap();
        let jws = split(token.as_str());
        assert_eq!(jws.header["x5t#S256"], expected(&file, "sha256"), "{name}");
        assert!(jws.header.get("x5t").is_none());
        assert!(jws.header.get("x5c").is_none());
        assert_eq!(jws.header["alg"], key_type.algorithms()[0].name());
        assert_eq!(jws.header["kid"], key.kid().as_ref());
        verifier.verify(token.as_str()).unwrap();
        jwt_verify(
            token.as_str(),
            &decoding_key_from_jwk(&key.public_jwk()),
            key_type.algorithms()[0],
        )
        .unwrap();

        // All three.
        let all = CertificateHeaders::X5T_S256 | CertificateHeaders::X5T | CertificateHeaders::X5C;
        let token = AssertionSigner::builder(key.clone(), "app-id", AUD)
            .certificate(c.clone())
            .certificate_headers(all)
            .build()
            .unwrap()
            .sign()
            .unwrap();
        let jws = split(token.as_str());
        assert_eq!(jws.header["x5t#S256"], expected(&file, "sha256"));
        assert_eq!(jws.header["x5t"], expected(&file, "sha1"));
        let x5c: Vec<Vec<u8>> = jws.header["x5c"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| STANDARD.decode(v.as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(
            x5c,
            [
                read(&format!("certs/{name}.cert.der")),
                read("certs/intermediate.cert.der")
            ]
        );
        verifier.verify(token.as_str()).unwrap();

        // Only x5t (an ADFS that knows SHA-1 thumbprints).
        let token = AssertionSigner::builder(key.clone(), "app-id", AUD)
            .certificate(c.clone())
            .certificate_headers(CertificateHeaders::X5T)
            .build()
            .unwrap()
            .sign()
            .unwrap();
        let jws = split(token.as_str());
        assert_eq!(jws.header["x5t"], expected(&file, "sha1"));
        assert!(jws.header.get("x5t#S256").is_none());
        verifier.verify(token.as_str()).unwrap();
    }
}

#[test]
fn a_certificate_of_another_key_is_refused() {
    // Same key type, another key: the meaningful mistake.
    for (cert, other) in [
        ("ec.cert.pem", "p256.pkcs8.pem"),
        ("rsa.cert.pem", "rsa2048.pkcs8.pem"),
        ("ed25519.cert.pem", "ed25519.pkcs8.pem"),
        ("entra.cert.pem", "rsa2048.pkcs1.der"),
        // Other key types.
        ("ec.cert.pem", "rsa2048.pkcs8.pem"),
        ("rsa.cert.pem", "ed25519.pkcs8.pem"),
        ("ed25519.cert.pem", "p384.pkcs8.pem"),
    ] {
        let key = Arc::new(PrivateKey::from_file(data(other)).unwrap());
        let err = AssertionSigner::builder(key.clone(), "app-id", AUD)
            .certificate(chain(cert))
            .build()
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::CertificateMismatch,
            "{cert} / {other}"
        );
        assert_eq!(err.code(), "certificate_mismatch");
        assert!(!err.kind().is_rejection());
        assert_eq!(
            chain(cert).check_key(&*key).unwrap_err().kind(),
            ErrorKind::CertificateMismatch
        );
    }
    // The intermediate's key is not the leaf's: a chain given root-first
    // (or intermediate-first) is caught the same way.
    let mut wrong_order = read_str("certs/intermediate.cert.pem");
    wrong_order.push_str(&read_str("certs/ec.cert.pem"));
    let err = AssertionSigner::builder(key("ec.key.pem"), "app-id", AUD)
        .certificate(CertificateChain::from_pem(&wrong_order).unwrap())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CertificateMismatch);
    // The matching pairs are accepted.
    for name in ["ec", "rsa", "ed25519", "entra"] {
        chain(&format!("{name}.cert.pem"))
            .check_key(&*key(&format!("{name}.key.pem")))
            .unwrap();
    }
}

#[test]
fn header_options_need_a_certificate() {
    let key = key("ec.key.pem");
    let err = AssertionSigner::builder(key.clone(), "app-id", AUD)
        .certificate_headers(CertificateHeaders::X5C)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    let err = AssertionSigner::builder(key.clone(), "app-id", AUD)
        .certificate(chain("ec.cert.pem"))
        .certificate_headers(CertificateHeaders::NONE)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    // Without a certificate nothing changes: no x5* member.
    let token = AssertionSigner::builder(key, "app-id", AUD)
        .build()
        .unwrap()
        .sign()
        .unwrap();
    let header = split(token.as_str()).header;
    assert_eq!(
        header.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["alg", "kid", "typ"]
    );
}

/// A key source known only through the trait (as a KMS or PKCS#11 key is):
/// the match goes through `public_jwk`.
#[derive(Debug)]
struct Opaque(PrivateKey);

impl KeyMetadata for Opaque {
    fn algorithms(&self) -> &'static [Algorithm] {
        self.0.algorithms()
    }

    fn kid(&self) -> Cow<'_, str> {
        Cow::Borrowed("opaque-kid")
    }

    fn public_jwk(&self) -> PublicJwk {
        self.0.public_jwk().with_kid("opaque-kid")
    }
}

impl KeySource for Opaque {
    fn sign(&self, alg: Algorithm, input: &[u8]) -> Result<Vec<u8>, Error> {
        self.0.sign(alg, input)
    }
}

#[test]
fn any_key_source_is_matched_by_its_public_key() {
    let rsa = Arc::new(Opaque(
        PrivateKey::from_file(cert_path("rsa.key.pem")).unwrap(),
    ));
    let signer = AssertionSigner::builder(rsa.clone(), "app-id", AUD)
        .certificate(chain("rsa.chain.pem"))
        .algorithm(Algorithm::Ps256)
        .build()
        .unwrap();
    let token = signer.sign().unwrap();
    let jws = split(token.as_str());
    assert_eq!(jws.header["kid"], "opaque-kid");
    assert_eq!(jws.header["x5t#S256"], expected("rsa.cert.pem", "sha256"));
    verifier_for(&[&*rsa]).verify(token.as_str()).unwrap();

    let other = Arc::new(Opaque(PrivateKey::generate(KeyType::Rsa).unwrap()));
    let err = AssertionSigner::builder(other, "app-id", AUD)
        .certificate(chain("rsa.chain.pem"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CertificateMismatch);
}

#[test]
fn a_reloaded_key_is_checked_against_the_certificate_at_every_signature() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.key.pem");
    std::fs::copy(cert_path("ec.key.pem"), &path).unwrap();
    let clock = Arc::new(ManualClock::now_from_system());
    let key = Arc::new(
        FileKey::open(&path)
            .unwrap()
            .with_check_interval(Duration::from_secs(1))
            .with_clock(clock.clone()),
    );
    let signer = AssertionSigner::builder(key.clone(), "app-id", AUD)
        .certificate(chain("ec.cert.pem"))
        .build()
        .unwrap();
    signer.sign().unwrap();

    // The file is replaced by another key, the certificate is not.
    std::fs::copy(data("p256.pkcs8.pem"), &path).unwrap();
    clock.advance(Duration::from_secs(5));
    let err = signer.sign().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CertificateMismatch);
    assert_eq!(
        block_on(signer.sign_async()).unwrap_err().kind(),
        ErrorKind::CertificateMismatch
    );
    // A new signer with the new key's certificate is the way to rotate;
    // one built with the old certificate is refused up front.
    let err = AssertionSigner::builder(key, "app-id", AUD)
        .certificate(chain("ec.cert.pem"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CertificateMismatch);
}

#[test]
fn x5c_is_never_used_for_trust() {
    // The client registered RSA key A. An attacker holds RSA key B and its
    // certificate, and presents a token signed by B that carries B's chain
    // in x5c, B's thumbprints, and A's kid (or no kid at all). A verifier
    // that took the key from x5c would accept it.
    let registered = key("rsa.key.pem");
    let attacker = key("entra.key.pem");
    let verifier = verifier_for(&[&*registered]);
    let attacker_chain = chain("entra.cert.pem");
    for kid in [Some(registered.kid().into_owned()), None] {
        let mut header = serde_json::json!({
            "alg": "RS256",
            "typ": "client-authentication+jwt",
            "x5t#S256": attacker_chain.thumbprint_sha256(),
            "x5t": attacker_chain.thumbprint_sha1(),
            "x5c": attacker_chain.x5c(),
        });
        if let Some(kid) = &kid {
            header["kid"] = kid.as_str().into();
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims = serde_json::json!({
            "iss": "app-id", "sub": "app-id", "aud": AUD, "jti": format!("forged-{kid:?}"),
            "iat": now, "exp": now + 60,
        });
        let input = format!(
            "{}.{}",
            b64url_encode(header.to_string().as_bytes()),
            b64url_encode(claims.to_string().as_bytes())
        );
        let signature = attacker.sign(Algorithm::Rs256, input.as_bytes()).unwrap();
        let forged = format!("{input}.{}", b64url_encode(&signature));
        assert_eq!(
            verifier.verify(&forged).unwrap_err().kind(),
            ErrorKind::BadSignature,
            "kid {kid:?}"
        );
    }
    // With the attacker's own kid: not a registered key.
    let forged = AssertionSigner::builder(attacker, "app-id", AUD)
        .certificate(attacker_chain)
        .certificate_headers(CertificateHeaders::X5T_S256 | CertificateHeaders::X5C)
        .build()
        .unwrap()
        .sign()
        .unwrap();
    assert_eq!(
        verifier.verify(forged.as_str()).unwrap_err().kind(),
        ErrorKind::UnknownKey
    );
}
