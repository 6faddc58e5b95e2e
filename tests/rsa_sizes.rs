//! RSA key sizes: verification accepts moduli from 2048 up to 8192 bits
//! on both backends (JWK, SPKI and PKCS#1 encodings of the public key), a
//! longer modulus is `unsupported_key` and a shorter one `weak_key`.

mod common;

use std::sync::Arc;

use client_assertion::{
    Algorithm, AssertionSigner, ErrorKind, JwkSet, KeyMetadata, PrivateKey, PublicJwk, Verifier,
};
use common::*;
use serde_json::json;

const AS: &str = "https://as.example.com";
const CLIENT: &str = "rsa-client";

/// An RS256 and a PS256 assertion of the 8192-bit test key verify when the
/// public key is registered as a JWK, an SPKI PEM and a PKCS#1 PEM.
#[test]
fn an_8192_bit_key_signs_and_verifies_in_every_public_encoding() {
    let key = Arc::new(on_backend(
        PrivateKey::from_pem(&read_str("rsa8192.pkcs8.pem")).unwrap(),
    ));
    assert_eq!(
        key.public_jwk().to_json(),
        PublicJwk::from_pem(&read_str("rsa8192.spki.pem"))
            .unwrap()
            .with_kid(key.kid())
            .to_json()
    );
    for encoding in ["jwk", "rsa8192.spki.pem", "rsa8192.pkcs1-public.pem"] {
        let registry = Arc::new(registry());
        match encoding {
            "jwk" => registry.register(CLIENT, &JwkSet::from_keys([key.public_jwk()])),
            pem => registry.register_pems(CLIENT, [read_str(pem).as_str()]),
        }
        .unwrap_or_else(|e| panic!("{encoding}: {e:?}"));
        let verifier = Verifier::builder(AS, registry).build().unwrap();
        for alg in [Algorithm::Rs256, Algorithm::Ps256] {
            let signer = AssertionSigner::builder(key.clone(), CLIENT, AS)
                .algorithm(alg)
                .build()
                .unwrap();
            let token = signer.sign().unwrap();
            verifier
                .verify(token.as_str())
                .unwrap_or_else(|e| panic!("{encoding} {alg:?}: {e:?}"));
        }
    }
}

/// A JWK whose modulus has `bits` bits (odd, top bit set; not a real key:
/// the size rule is checked before anything else).
fn modulus_jwk(bits: usize) -> String {
    let mut n = vec![0xa5u8; bits.div_ceil(8)];
    let top = bits % 8;
    n[0] = if top == 0 { 0xff } else { (1u8 << top) - 1 };
    *n.last_mut().unwrap() |= 1;
    json!({"kty": "RSA", "kid": "k", "n": b64url_encode(&n), "e": "AQAB"}).to_string()
}

#[test]
fn longer_than_8192_bits_is_unsupported_and_shorter_than_2048_weak() {
    let kind = |bits| PublicJwk::from_json(&modulus_jwk(bits)).unwrap_err().kind();
    assert_eq!(kind(8193), ErrorKind::UnsupportedKey);
    assert_eq!(kind(16384), ErrorKind::UnsupportedKey);
    assert_eq!(kind(2047), ErrorKind::WeakKey);
    // The bounds themselves parse (the size rule, not the key, is tested).
    for bits in [2048, 4096, 4097, 8192] {
        let jwk =
            PublicJwk::from_json(&modulus_jwk(bits)).unwrap_or_else(|e| panic!("{bits}: {e:?}"));
        registry()
            .register(CLIENT, &JwkSet::from_keys([jwk]))
            .unwrap_or_else(|e| panic!("{bits}: {e:?}"));
    }
}
