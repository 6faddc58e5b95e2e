//! Key loading failures: every malformed, foreign, weak, public-only or
//! unreadable input gives its specific `ErrorKind`, and nothing panics
//! (checked exhaustively for truncations here; the proptest properties for
//! arbitrary bytes and mutations are in `tests/suites/props_keys.rs`).

mod common;

use client_assertion::{ErrorKind, FileKey, JwkSet, PrivateKey, PublicJwk};
use common::*;
use serde_json::{json, Value};

fn kind_of(bytes: &[u8]) -> ErrorKind {
    match PrivateKey::from_bytes(bytes) {
        Ok(key) => panic!(
            "accepted as {:?}: {:?}",
            key.key_type(),
            String::from_utf8_lossy(bytes)
        ),
        Err(e) => e.kind(),
    }
}

fn file_kind(name: &str) -> ErrorKind {
    let kind = PrivateKey::from_file(data(name)).unwrap_err().kind();
    // Every loader agrees with the generic one.
    let bytes = read(name);
    assert_eq!(kind_of(&bytes), kind, "{name}: from_bytes");
    if let Ok(text) = std::str::from_utf8(&bytes) {
        let direct = if text.trim_start().starts_with('{') {
            PrivateKey::from_jwk(text)
        } else {
            PrivateKey::from_pem(text)
        };
        assert_eq!(
            direct.unwrap_err().kind(),
            kind,
            "{name}: from_pem/from_jwk"
        );
    } else {
        assert_eq!(
            PrivateKey::from_der(&bytes).unwrap_err().kind(),
            kind,
            "{name}: from_der"
        );
    }
    assert_eq!(
        FileKey::open(data(name)).unwrap_err().kind(),
        kind,
        "{name}: FileKey"
    );
    kind
}

fn jwk_kind(jwk: &Value) -> ErrorKind {
    let text = jwk.to_string();
    let kind = PrivateKey::from_jwk(&text).unwrap_err().kind();
    assert_eq!(kind_of(text.as_bytes()), kind, "{jwk}");
    kind
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn garbage_is_an_invalid_key() {
    for bytes in [
        &b"garbage"[..],
        b"\x00\x01\x02\x03\xff\xfe",
        b"\x30\x03\x02\x01\x00",
        b"\x30\x82\xff\xff",
        b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
        b"-----BEGIN ",
        b"-----BEGIN PRIVATE KEY",
        b"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n",
        b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n",
        b"-----BEGIN PRIVATE KEY-----\nMIGH\n-----END RSA PRIVATE KEY-----\n",
        b"-----BEGIN PRIVATE KEY-----\n\xff\xfe\n-----END PRIVATE KEY-----\n",
        b"{",
        b"{}",
        b"[]",
        b"{\"kty\":\"EC\",\"crv\":\"P-256\"}",
        b"{\"kty\":\"RSA\",\"n\":\"AQAB\"}",
        b"{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":1,\"y\":2,\"d\":3}",
        b"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\",\"d\":\"AA\"}",
        b"{\xff}",
        b"null",
    ] {
        assert_eq!(
            kind_of(bytes),
            ErrorKind::InvalidKey,
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn empty_input_and_empty_file_are_invalid_keys() {
    for bytes in [&b""[..], b" ", b"\n\n\t "] {
        assert_eq!(kind_of(bytes), ErrorKind::InvalidKey);
    }
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(
        PrivateKey::from_file(&empty).unwrap_err().kind(),
        ErrorKind::InvalidKey
    );
    assert_eq!(
        FileKey::open(&empty).unwrap_err().kind(),
        ErrorKind::InvalidKey
    );
}

#[test]
fn missing_file_is_io() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-key.pem");
    let e = PrivateKey::from_file(&missing).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
    let source = std::error::Error::source(&e).expect("the I/O error is the source");
    let io = source
        .downcast_ref::<std::io::Error>()
        .expect("an io::Error");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(FileKey::open(&missing).unwrap_err().kind(), ErrorKind::Io);
    // A directory is not a key file either.
    assert_eq!(
        PrivateKey::from_file(dir.path()).unwrap_err().kind(),
        ErrorKind::Io
    );
}

/// Every prefix of every valid key file is refused with `InvalidKey`
/// (nothing panics, nothing is accepted early).
#[test]
fn truncated_key_files_are_invalid_keys() {
    let dir = tempfile::tempdir().unwrap();
    for (name, _, formats) in KEYS {
        for format in formats {
            let file = format!("{name}.{format}");
            let bytes = read(&file);
            PrivateKey::from_bytes(&bytes).unwrap();
            // Every cut for small files; for RSA every 7th cut plus the ends.
            let step = if bytes.len() > 400 { 7 } else { 1 };
            let cuts = (0..bytes.len())
                .step_by(step)
                .chain(bytes.len().saturating_sub(40)..bytes.len());
            for cut in cuts {
                let prefix = &bytes[..cut];
                // A JWK cut just before its last closing brace is still
                // missing that brace; a PEM cut inside the trailing newline
                // is complete and must load.
                let complete = String::from_utf8_lossy(prefix).trim_end()
                    == String::from_utf8_lossy(&bytes).trim_end();
                if complete {
                    PrivateKey::from_bytes(prefix).unwrap();
                    continue;
                }
                assert_eq!(
                    kind_of(prefix),
                    ErrorKind::InvalidKey,
                    "{file} cut at {cut} of {}",
                    bytes.len()
                );
            }
            // A truncated file on disk, too.
            let path = dir.path().join(&file);
            std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
            assert_eq!(
                PrivateKey::from_file(&path).unwrap_err().kind(),
                ErrorKind::InvalidKey
            );
            assert_eq!(
                FileKey::open(&path).unwrap_err().kind(),
                ErrorKind::InvalidKey
            );
        }
    }
}

#[test]
fn pem_with_a_truncated_or_damaged_body_is_an_invalid_key() {
    for name in [
        "p256.pkcs8.pem",
        "p384.sec1.pem",
        "rsa2048.pkcs1.pem",
        "ed25519.pkcs8.pem",
    ] {
        let text = read_str(name);
        let lines: Vec<&str> = text.lines().collect();
        let (begin, body, end) = (lines[0], &lines[1..lines.len() - 1], lines[lines.len() - 1]);
        // Body lines dropped, END line kept.
        for keep in [0, 1, body.len() - 1]
            .into_iter()
            .filter(|&k| k < body.len())
        {
            let cut = format!("{begin}\n{}\n{end}\n", body[..keep].join("\n"));
            assert_eq!(
                kind_of(cut.as_bytes()),
                ErrorKind::InvalidKey,
                "{name} keeping {keep} lines"
            );
        }
        // Characters outside base64, and base64url instead of base64.
        let damaged = text.replacen(&body[0][..4], "!@#$", 1);
        assert_eq!(kind_of(damaged.as_bytes()), ErrorKind::InvalidKey, "{name}");
        let der = pem_body_der(&text);
        let label = &begin[11..begin.len() - 5];
        let url_safe = pem(label, &der).replace('+', "-").replace('/', "_");
        if url_safe != pem(label, &der) {
            assert_eq!(
                kind_of(url_safe.as_bytes()),
                ErrorKind::InvalidKey,
                "{name}"
            );
        }
        // Re-encoding the same DER is accepted (the helper is right).
        PrivateKey::from_pem(&pem(label, &der)).unwrap();
        // DER with trailing garbage.
        let mut trailing = der.clone();
        trailing.extend_from_slice(&[0, 0]);
        assert_eq!(
            kind_of(&trailing),
            ErrorKind::InvalidKey,
            "{name} DER + trailing bytes"
        );
    }
}

#[test]
fn jwk_with_bad_base64_is_an_invalid_key() {
    for (name, _, _) in KEYS {
        let jwk = read_json(&format!("{name}.jwk.json"));
        for member in ["d", "x", "n"] {
            let Some(value) = jwk[member].as_str() else {
                continue;
            };
            for bad in [
                format!("{value}="),
                format!("{value}=="),
                value.replace(['-', '_'], "+"),
                format!("{}*", &value[1..]),
                format!("{value} "),
                value[..value.len() - 1].to_owned() + "!",
            ] {
                if bad == value {
                    continue;
                }
                let mut broken = jwk.clone();
                broken[member] = json!(bad);
                assert_eq!(
                    jwk_kind(&broken),
                    ErrorKind::InvalidKey,
                    "{name}.{member} = {bad}"
                );
            }
            let mut wrong_type = jwk.clone();
            wrong_type[member] = json!(42);
            assert_eq!(
                jwk_kind(&wrong_type),
                ErrorKind::InvalidKey,
                "{name}.{member} = 42"
            );
        }
    }
}

#[test]
fn jwk_whose_private_part_does_not_match_is_an_invalid_key() {
    // P-256 public members with another d (one bit off), or with the
    // x of another curve, or a short x.
    let mut jwk = read_json("p256.jwk.json");
    let mut d = b64url(jwk["d"].as_str().unwrap());
    d[31] ^= 1;
    jwk["d"] = json!(b64url_encode(&d));
    assert_eq!(
        jwk_kind(&jwk),
        ErrorKind::InvalidKey,
        "P-256 d off by one bit"
    );
    let mut jwk = read_json("p256.jwk.json");
    jwk["x"] = read_json("p384.jwk.json")["x"].clone();
    assert_eq!(
        jwk_kind(&jwk),
        ErrorKind::InvalidKey,
        "P-384 x in a P-256 JWK"
    );
    let mut jwk = read_json("p256.jwk.json");
    jwk["x"] = json!("AAAA");
    assert_eq!(jwk_kind(&jwk), ErrorKind::InvalidKey, "short x");

    // d of the wrong size for the curve.
    let mut jwk = read_json("p256.jwk.json");
    jwk["d"] = read_json("p384.jwk.json")["d"].clone();
    assert_eq!(
        jwk_kind(&jwk),
        ErrorKind::InvalidKey,
        "P-384 d in a P-256 JWK"
    );
    let mut jwk = read_json("p384.jwk.json");
    jwk["d"] = json!(b64url_encode(&[0u8; 48]));
    assert_eq!(jwk_kind(&jwk), ErrorKind::InvalidKey, "zero d");

    // Ed25519 with another seed, and with a 31-byte seed.
    let mut jwk = read_json("ed25519.jwk.json");
    jwk["d"] = json!(b64url_encode(&[7u8; 32]));
    assert_eq!(jwk_kind(&jwk), ErrorKind::InvalidKey, "Ed25519 other seed");
    jwk["d"] = json!(b64url_encode(&[7u8; 31]));
    assert_eq!(jwk_kind(&jwk), ErrorKind::InvalidKey, "Ed25519 short seed");

    // RSA: a damaged d, p or q; and a d without the primes.
    let rsa = read_json("rsa2048.jwk.json");
    for member in ["d", "p", "q"] {
        let mut jwk = rsa.clone();
        let mut v = b64url(jwk[member].as_str().unwrap());
        let last = v.len() - 1;
        v[last] ^= 2;
        jwk[member] = json!(b64url_encode(&v));
        assert_eq!(
            jwk_kind(&jwk),
            ErrorKind::InvalidKey,
            "RSA {member} damaged"
        );
    }
    let mut only_p = rsa.clone();
    only_p.as_object_mut().unwrap().remove("q");
    assert_eq!(jwk_kind(&only_p), ErrorKind::InvalidKey, "RSA p without q");
    let mut bad_d = rsa.clone();
    for m in ["p", "q", "dp", "dq", "qi"] {
        bad_d.as_object_mut().unwrap().remove(m);
    }
    // d = 0 used to panic inside the rsa crate's prime recovery.
    for d in [
        vec![0u8],
        vec![0u8, 0],
        vec![1u8],
        vec![2u8],
        vec![0xffu8; 256],
        b64url(rsa["n"].as_str().unwrap()),
    ] {
        bad_d["d"] = json!(b64url_encode(&d));
        assert_eq!(
            jwk_kind(&bad_d),
            ErrorKind::InvalidKey,
            "RSA d {:?}",
            &d[..1]
        );
    }
}

#[test]
fn rsa_jwk_without_primes_is_accepted() {
    // n, e, d only: the primes are recovered.
    let mut jwk = read_json("rsa2048.jwk.json");
    for m in ["p", "q", "dp", "dq", "qi"] {
        jwk.as_object_mut().unwrap().remove(m);
    }
    let key = PrivateKey::from_jwk(&jwk.to_string()).unwrap();
    assert_eq!(key.kid(), expected_thumbprint("rsa2048"));
}

#[test]
fn symmetric_jwk_is_refused() {
    for jwk in [
        json!({"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ"}),
        json!({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}),
        json!({"kty": "EC", "crv": "P-256", "k": "c2VjcmV0"}),
    ] {
        assert_eq!(jwk_kind(&jwk), ErrorKind::AlgorithmNotAllowed, "{jwk}");
        assert_eq!(
            PublicJwk::from_json(&jwk.to_string()).unwrap_err().kind(),
            if jwk["kty"] == "oct" {
                ErrorKind::AlgorithmNotAllowed
            } else {
                ErrorKind::InvalidKey
            },
            "{jwk}"
        );
    }
    // In a published JWK Set, `k` is the symmetric key itself: a leak.
    let set = json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]});
    assert_eq!(
        JwkSet::from_json(&set.to_string()).unwrap_err().kind(),
        ErrorKind::PrivateKeyPublished
    );
    let set = json!({"keys": [{"kty": "oct", "alg": "HS256"}]});
    assert_eq!(
        JwkSet::from_json(&set.to_string()).unwrap_err().kind(),
        ErrorKind::AlgorithmNotAllowed
    );
}

#[test]
fn unsupported_curves_and_key_types() {
    for name in [
        "secp256k1.pkcs8.pem",
        "secp256k1.sec1.pem",
        "secp256k1.jwk.json",
        "p521.pkcs8.pem",
        "x25519.pkcs8.pem",
        "ed448.pkcs8.pem",
    ] {
        assert_eq!(file_kind(name), ErrorKind::UnsupportedKey, "{name}");
    }
    for name in [
        "secp256k1.pkcs8.pem",
        "p521.pkcs8.pem",
        "x25519.pkcs8.pem",
        "ed448.pkcs8.pem",
    ] {
        let der = pem_body_der(&read_str(name));
        assert_eq!(kind_of(&der), ErrorKind::UnsupportedKey, "{name} as DER");
    }
    // Their public keys are refused the same way.
    for name in ["secp256k1", "p521", "x25519", "ed448"] {
        let spki = read_str(&format!("{name}.spki.pem"));
        assert_eq!(
            PublicJwk::from_pem(&spki).unwrap_err().kind(),
            ErrorKind::UnsupportedKey,
            "{name}"
        );
        assert_eq!(
            PublicJwk::from_spki_der(&pem_body_der(&spki))
                .unwrap_err()
                .kind(),
            ErrorKind::UnsupportedKey,
            "{name}"
        );
    }
    assert_eq!(
        PublicJwk::from_json(&read_str("secp256k1.public.jwk.json"))
            .unwrap_err()
            .kind(),
        ErrorKind::UnsupportedKey
    );
    for jwk in [
        json!({"kty": "OKP", "crv": "X25519", "x": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "d": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
        json!({"kty": "OKP", "crv": "Ed448", "x": "AA", "d": "AA"}),
        json!({"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA", "d": "AA"}),
        json!({"kty": "XYZ"}),
        // No crv: not a curve this crate knows.
        json!({"kty": "EC", "x": "AA", "y": "AA", "d": "AA"}),
        json!({"kty": "OKP", "x": "AA", "d": "AA"}),
    ] {
        assert_eq!(jwk_kind(&jwk), ErrorKind::UnsupportedKey, "{jwk}");
    }
    // An encryption key is not a signing key.
    let mut enc = read_json("p256.jwk.json");
    enc["use"] = json!("enc");
    assert_eq!(jwk_kind(&enc), ErrorKind::UnsupportedKey);
}

#[test]
fn rsa_below_2048_bits_is_a_weak_key() {
    assert_eq!(file_kind("rsa1024.pkcs8.pem"), ErrorKind::WeakKey);
    assert_eq!(file_kind("rsa1024.jwk.json"), ErrorKind::WeakKey);
    assert_eq!(
        kind_of(&pem_body_der(&read_str("rsa1024.pkcs8.pem"))),
        ErrorKind::WeakKey
    );
    let spki = read_str("rsa1024.spki.pem");
    assert_eq!(
        PublicJwk::from_pem(&spki).unwrap_err().kind(),
        ErrorKind::WeakKey
    );
    assert_eq!(
        PublicJwk::from_json(&read_str("rsa1024.public.jwk.json"))
            .unwrap_err()
            .kind(),
        ErrorKind::WeakKey
    );
    assert_eq!(
        PrivateKey::generate_rsa(1024).unwrap_err().kind(),
        ErrorKind::WeakKey
    );
    assert_eq!(
        PrivateKey::generate_rsa(8192).unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
}

#[test]
fn public_only_input_is_refused() {
    for name in [
        "p256.spki.pem",
        "p384.spki.pem",
        "ed25519.spki.pem",
        "rsa2048.spki.pem",
        "p256.cert.pem",
        "p256.public.jwk.json",
        "p384.public.jwk.json",
        "ed25519.public.jwk.json",
        "rsa2048.public.jwk.json",
    ] {
        assert_eq!(file_kind(name), ErrorKind::PublicKeyOnly, "{name}");
    }
    // SPKI as DER, and a PKCS#1 RSA public key.
    for name in ["p256.spki.pem", "rsa2048.spki.pem", "ed25519.spki.pem"] {
        let der = pem_body_der(&read_str(name));
        assert_eq!(kind_of(&der), ErrorKind::PublicKeyOnly, "{name} as DER");
    }
    let rsa_public = pem(
        "RSA PUBLIC KEY",
        &spki_subject_public_key(&read_str("rsa2048.spki.pem")),
    );
    assert_eq!(kind_of(rsa_public.as_bytes()), ErrorKind::PublicKeyOnly);
    assert_eq!(
        PublicJwk::from_pem(&rsa_public).unwrap().kid(),
        expected_thumbprint("rsa2048")
    );
}

/// The BIT STRING content of an RSA SPKI: the PKCS#1 `RSAPublicKey`.
fn spki_subject_public_key(spki_pem: &str) -> Vec<u8> {
    let der = pem_body_der(spki_pem);
    // SEQUENCE { SEQUENCE { rsaEncryption, NULL } (15 bytes), BIT STRING }
    // For a 2048-bit key: 30 82 01 22 | 30 0d ... | 03 82 01 0f 00 | RSAPublicKey
    assert_eq!(&der[..2], &[0x30, 0x82]);
    let bit_string = 4 + 15;
    assert_eq!(&der[bit_string..bit_string + 2], &[0x03, 0x82]);
    der[bit_string + 5..].to_vec()
}

#[test]
fn encrypted_pkcs8_is_unsupported() {
    assert_eq!(file_kind("p256.encrypted.pem"), ErrorKind::UnsupportedKey);
}

#[test]
fn public_jwk_and_jwk_set_errors() {
    assert_eq!(
        PublicJwk::from_json("").unwrap_err().kind(),
        ErrorKind::InvalidKey
    );
    assert_eq!(
        PublicJwk::from_json("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidKey
    );
    // A point that is not on the curve.
    let mut off_curve = read_json("p256.public.jwk.json");
    let mut y = b64url(off_curve["y"].as_str().unwrap());
    y[31] ^= 1;
    off_curve["y"] = json!(b64url_encode(&y));
    assert_eq!(
        PublicJwk::from_json(&off_curve.to_string())
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidKey
    );
    // Ed25519 small-order point.
    let mut small = json!({"kty": "OKP", "crv": "Ed25519"});
    small["x"] = json!(b64url_encode(
        &[1u8]
            .iter()
            .chain([0u8; 31].iter())
            .copied()
            .collect::<Vec<_>>()
    ));
    assert_eq!(
        PublicJwk::from_json(&small.to_string()).unwrap_err().kind(),
        ErrorKind::InvalidKey
    );
    for bad in [
        "",
        "{}",
        "[]",
        "{\"keys\":{}}",
        "{\"keys\":[1]}",
        "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\"}]}",
    ] {
        assert_eq!(
            JwkSet::from_json(bad).unwrap_err().kind(),
            ErrorKind::InvalidKey,
            "{bad}"
        );
    }
    let with_weak = format!(
        r#"{{"keys":[{},{}]}}"#,
        read_str("p256.public.jwk.json"),
        read_str("rsa1024.public.jwk.json")
    );
    assert_eq!(
        JwkSet::from_json(&with_weak).unwrap_err().kind(),
        ErrorKind::WeakKey
    );
    assert!(JwkSet::from_json(r#"{"keys":[]}"#)
        .unwrap()
        .keys()
        .is_empty());
}

/// A PKCS#8 P-256 key (scalar 7...7) whose inner `ECPrivateKey` names the
/// curve `inner_curve` (DER OID body) in its optional parameters.
fn pkcs8_p256_with_inner_curve(inner_curve: &[u8]) -> Vec<u8> {
    let mut ec_private_key = vec![0x02, 0x01, 0x01, 0x04, 0x20];
    ec_private_key.extend_from_slice(&[7u8; 32]);
    ec_private_key.extend_from_slice(&[0xa0, inner_curve.len() as u8 + 2, 0x06]);
    ec_private_key.push(inner_curve.len() as u8);
    ec_private_key.extend_from_slice(inner_curve);
    let mut inner = vec![0x30, ec_private_key.len() as u8];
    inner.extend_from_slice(&ec_private_key);
    // version 0, AlgorithmIdentifier { id-ecPublicKey, prime256v1 }
    let mut body = vec![
        0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
        0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04,
    ];
    body.push(inner.len() as u8);
    body.extend_from_slice(&inner);
    let mut der = vec![0x30, body.len() as u8];
    der.extend_from_slice(&body);
    der
}

#[test]
fn pkcs8_ec_key_whose_inner_curve_contradicts_the_outer_one_is_refused() {
    const PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const SECP384R1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    let consistent = PrivateKey::from_der(&pkcs8_p256_with_inner_curve(PRIME256V1)).unwrap();
    assert_eq!(consistent.key_type(), client_assertion::KeyType::P256);
    assert_eq!(
        kind_of(&pkcs8_p256_with_inner_curve(SECP384R1)),
        ErrorKind::InvalidKey
    );
}
