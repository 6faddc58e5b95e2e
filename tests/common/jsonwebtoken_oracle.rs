//! One round trip through jsonwebtoken (its own signing and verification,
//! so its crypto backend selection) next to our `jsonwebtoken::jwk`
//! conversions, in the same binary. Included by tests/jsonwebtoken_backend.rs
//! (oracle on jsonwebtoken's `rust_crypto` backend) and by
//! tests/suites/jsonwebtoken_aws_lc_rs.rs (on `aws_lc_rs`): each would panic
//! if our normal dependency enabled the other backend.

/// jsonwebtoken's own round trip (its backend selection) in the same
/// binary as our conversions.
pub fn jsonwebtoken_signs_and_verifies_next_to_our_conversions() {
    use std::sync::Arc;

    use super::common::*;
    use client_assertion::{jwk_set, AssertionSigner, JwkSet, KeyMetadata, PrivateKey, PublicJwk};
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
    use serde_json::{json, Value};

    // jsonwebtoken alone: ES256 with the fixture key.
    let enc = EncodingKey::from_ec_pem(&read("p256.pkcs8.pem")).unwrap();
    let dec = DecodingKey::from_ec_pem(&read("p256.spki.pem")).unwrap();
    let claims = json!({"sub": "x", "exp": 4_000_000_000u64});
    let token = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &enc).unwrap();
    let data =
        jsonwebtoken::decode::<Value>(&token, &dec, &Validation::new(Algorithm::ES256)).unwrap();
    assert_eq!(data.claims, claims);

    // Our PublicJwk as jsonwebtoken's Jwk verifies our assertions, and
    // jsonwebtoken's thumbprint of it is our kid.
    for (name, key_type, _) in KEYS {
        let key = Arc::new(PrivateKey::from_file(data_path(name)).unwrap());
        let jwk = key.public_jwk().to_jsonwebtoken();
        assert_eq!(jwk.common.key_id.as_deref(), Some(PrivateKey::kid(&key)));
        assert_eq!(
            jwk.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
                .unwrap(),
            key.kid()
        );
        let a = AssertionSigner::builder(key.clone(), "c", "https://as.example")
            .build()
            .unwrap()
            .sign()
            .unwrap();
        let dk = DecodingKey::from_jwk(&jwk).unwrap();
        jwt_verify(a.as_str(), &dk, key_type.algorithms()[0]).unwrap();
        // And back.
        assert_eq!(
            PublicJwk::from_jsonwebtoken(&jwk).unwrap(),
            key.public_jwk()
        );
    }

    // JWK Sets both ways.
    let keys: Vec<PrivateKey> = KEYS
        .iter()
        .map(|(name, _, _)| PrivateKey::from_file(data_path(name)).unwrap())
        .collect();
    let set = jwk_set(keys.iter());
    let theirs = set.to_jsonwebtoken();
    assert_eq!(theirs.keys.len(), 4);
    for key in &keys {
        assert!(theirs.find(key.kid()).is_some());
    }
    assert_eq!(JwkSet::from_jsonwebtoken(&theirs).unwrap(), set);
    // jsonwebtoken reads our JSON directly, too.
    let parsed: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&set.to_json()).unwrap();
    assert_eq!(parsed, theirs);
}

fn data_path(name: &str) -> std::path::PathBuf {
    super::common::data(&format!("{name}.pkcs8.pem"))
}
