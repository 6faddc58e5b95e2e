//! Positive interop: assertions shaped exactly like those of real client
//! libraries (header members, claim set, lifetime, `typ`), built by hand,
//! are accepted when presented promptly; our own `AssertionSigner` output
//! verifies for all five algorithms; and every registration path (JWK Set
//! JSON, SPKI PEM, `jsonwebtoken`'s JWK Set type) yields working keys.

mod verify_common;

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use client_assertion::client::TokenType;
use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{
    jwk_set, Algorithm, AssertionSigner, ClientRegistry, KeyType, Policy, PrivateKey, Verifier,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use verify_common::*;

fn rsa_fixture() -> Arc<PrivateKey> {
    Arc::new(on_backend(
        PrivateKey::from_pem(include_str!("data/rsa2048.pkcs8.pem")).unwrap(),
    ))
}

/// 32 random bytes, base64url: the `jti` of oauth4webapi / openid-client.
fn random_jti() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    b64(&bytes)
}

/// A UUID v4 string, as MSAL writes its `jti`.
fn uuid4() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// openid-client v6 (oauth4webapi `PrivateKeyJwt`): header `{alg, kid}`
/// with the RFC 9864 name `Ed25519`, claims `{jti, aud: issuer, exp: now +
/// 60, iat: now, nbf: now, iss, sub}`; no `typ`, or, in newer releases,
/// `client-authentication+jwt`.
#[test]
fn openid_client_v6_ed25519() {
    let f = Fixture::new(KeyType::Ed25519);
    for typ in [None, Some("client-authentication+jwt")] {
        for clock_skew in [0i64, -5, 10] {
            let now = (NOW as i64 + clock_skew) as u64;
            let mut header = json!({"alg": "Ed25519", "kid": f.key.kid()});
            if let Some(typ) = typ {
                header["typ"] = json!(typ);
            }
            // Member order as oauth4webapi writes it.
            let jti = random_jti();
            let claims = format!(
                r#"{{"jti":"{jti}","aud":"{ISSUER}","exp":{},"iat":{now},"nbf":{now},"iss":"{CLIENT}","sub":"{CLIENT}"}}"#,
                now + 60
            );
            let token = sign_raw(&*f.key, Algorithm::EdDsa, &header.to_string(), &claims);
            let v = f.verify(&token).expect("openid-client assertion");
            assert_eq!(v.client_id(), CLIENT);
            assert_eq!(v.jti(), jti);
            assert_eq!(v.algorithm(), Algorithm::EdDsa);
            assert_eq!(v.audience(), ISSUER);
            assert_eq!(v.expires_at(), UNIX_EPOCH + Duration::from_secs(now + 60));
            assert_eq!(v.issued_at(), Some(UNIX_EPOCH + Duration::from_secs(now)));
        }
    }
    // The RFC 8037 name works the same.
    let header = json!({"alg": "EdDSA", "kid": f.key.kid()});
    f.verify(&f.token(&header, &f.claims())).expect("EdDSA");
    // Presented 50 s later (still inside exp + leeway): accepted.
    let token = f.token(&json!({"alg": "Ed25519", "kid": f.key.kid()}), &f.claims());
    f.clock.advance(Duration::from_secs(50));
    f.verify(&token).expect("presented promptly");
}

/// authlib (`PrivateKeyJWT` / `private_key_jwt_sign`): header `{alg: RS256,
/// typ: JWT}` (plus `kid` when the JWK has one), claims `{iss, sub, aud:
/// token endpoint, jti: 36 characters, iat, exp: iat + 3600}`, no `nbf`.
#[test]
fn authlib_rs256_token_endpoint_audience() {
    let authlib_claims = |now: u64| {
        let jti: String = random_jti()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(36)
            .collect();
        json!({
            "iss": CLIENT, "sub": CLIENT, "aud": TOKEN_ENDPOINT,
            "jti": jti, "iat": now, "exp": now + 3600,
        })
    };
    // Strict default: the token endpoint is not the issuer identifier.
    let strict = Fixture::with_key(rsa_fixture(), Policy::new(ISSUER));
    let token = strict.token(&json!({"alg": "RS256", "typ": "JWT"}), &authlib_claims(NOW));
    assert_rejected(
        strict.verify(&token),
        client_assertion::ErrorKind::AudienceMismatch,
        &token,
    );

    let f = Fixture::with_key(
        rsa_fixture(),
        Policy::new(ISSUER).also_accept_audience(TOKEN_ENDPOINT),
    );
    for header in [
        json!({"alg": "RS256", "typ": "JWT"}),
        json!({"typ": "JWT", "alg": "RS256", "kid": f.key.kid()}),
    ] {
        let token = f.token(&header, &authlib_claims(NOW));
        let v = f.verify(&token).expect("authlib assertion");
        assert_eq!(v.audience(), TOKEN_ENDPOINT);
        assert_eq!(v.algorithm(), Algorithm::Rs256);
        assert_eq!(v.kid(), f.key.kid());
    }
    // Presented within the age limit (5 min + leeway): accepted; later it is
    // too old even though exp is far away.
    let token = f.token(
        &json!({"alg": "RS256", "typ": "JWT"}),
        &authlib_claims(NOW - 200),
    );
    f.verify(&token).expect("200 s old");
    let token = f.token(
        &json!({"alg": "RS256", "typ": "JWT"}),
        &authlib_claims(NOW - 400),
    );
    assert_rejected(
        f.verify(&token),
        client_assertion::ErrorKind::LifetimeTooLong,
        &token,
    );
    // The issuer is still accepted alongside the extra audience.
    let claims = with(authlib_claims(NOW), "aud", json!(ISSUER));
    f.verify(&f.token(&json!({"alg": "RS256", "typ": "JWT"}), &claims))
        .expect("issuer audience");
}

/// MSAL (Python `JwtAssertionCreator`, .NET `ClientAssertionCertificate`):
/// header `{alg: RS256 | PS256, typ: JWT, x5t}` (.NET also `kid` = the
/// certificate thumbprint; PS256 uses `x5t#S256`), claims `{aud: token
/// endpoint, iss, sub, jti: UUID, exp: now + 600, iat, nbf}`.
#[test]
fn msal_rs256_and_ps256_with_x5t() {
    let key = rsa_fixture();
    // A stand-in for the certificate thumbprints (never checked).
    let digest = Sha256::digest(include_bytes!("data/rsa2048.spki.pem"));
    let x5t = b64(&digest[..20]);
    let x5t_s256 = b64(&digest);
    let msal_claims = |now: u64| {
        json!({
            "aud": TOKEN_ENDPOINT, "iss": CLIENT, "sub": CLIENT, "jti": uuid4(),
            "exp": now + 600, "iat": now, "nbf": now,
        })
    };
    let policy = Policy::new(ISSUER).also_accept_audience(TOKEN_ENDPOINT);

    // Python: no kid, so the client's keys are tried.
    let f = Fixture::with_key(key.clone(), policy.clone());
    for (alg, header) in [
        (
            Algorithm::Rs256,
            json!({"alg": "RS256", "typ": "JWT", "x5t": x5t}),
        ),
        (
            Algorithm::Ps256,
            json!({"alg": "PS256", "typ": "JWT", "x5t#S256": x5t_s256}),
        ),
    ] {
        let token = sign_raw(
            &*key,
            alg,
            &header.to_string(),
            &msal_claims(NOW).to_string(),
        );
        let v = f.verify(&token).expect("MSAL Python assertion");
        assert_eq!(v.algorithm(), alg);
        assert_eq!(v.audience(), TOKEN_ENDPOINT);
    }

    // .NET: kid = the thumbprint, so the JWK is registered under that kid.
    let f = Fixture::with_key(Arc::new(key.clone_key().with_kid(x5t.clone())), policy);
    for alg in [Algorithm::Rs256, Algorithm::Ps256] {
        let header = json!({"alg": alg.name(), "kid": x5t, "typ": "JWT", "x5t": x5t});
        let token = sign_raw(
            &*key,
            alg,
            &header.to_string(),
            &msal_claims(NOW - 20).to_string(),
        );
        let v = f.verify(&token).expect("MSAL.NET assertion");
        assert_eq!(v.kid(), x5t);
        assert_eq!(v.algorithm(), alg);
    }
    // Presented after 9 minutes: too old for the default max_age (5 min).
    let token = sign_raw(
        &*key,
        Algorithm::Rs256,
        &json!({"alg": "RS256", "kid": x5t, "typ": "JWT", "x5t": x5t}).to_string(),
        &msal_claims(NOW).to_string(),
    );
    f.clock.advance(Duration::from_secs(9 * 60));
    assert_rejected(
        f.verify(&token),
        client_assertion::ErrorKind::LifetimeTooLong,
        &token,
    );
}

/// Our own signer, every algorithm: accepted, and the verified fields are
/// those of the minted assertion.
#[test]
fn own_signer_all_algorithms() {
    let cases: Vec<(Arc<PrivateKey>, Option<Algorithm>)> = vec![
        (
            Arc::new(on_backend(PrivateKey::generate(KeyType::P256).unwrap())),
            None,
        ),
        (
            Arc::new(on_backend(PrivateKey::generate(KeyType::P384).unwrap())),
            None,
        ),
        (
            Arc::new(on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap())),
            None,
        ),
        (rsa_fixture(), Some(Algorithm::Rs256)),
        (rsa_fixture(), Some(Algorithm::Ps256)),
    ];
    let mut seen = Vec::new();
    for (key, alg) in cases {
        let f = Fixture::with_key(key.clone(), Policy::new(ISSUER));
        let mut builder =
            AssertionSigner::builder(key.clone(), CLIENT, ISSUER).clock(Arc::new(f.clock.clone()));
        if let Some(alg) = alg {
            builder = builder.algorithm(alg);
        }
        for typ in [
            TokenType::ClientAuthentication,
            TokenType::Jwt,
            TokenType::Omitted,
        ] {
            let signer = AssertionSigner::builder(key.clone(), CLIENT, ISSUER)
                .clock(Arc::new(f.clock.clone()))
                .token_type(typ)
                .algorithm(alg.unwrap_or(key.algorithms()[0]))
                .build()
                .unwrap();
            let a = signer.sign().unwrap();
            let v = f.verify(a.as_str()).expect("own assertion");
            assert_eq!(v.client_id(), CLIENT);
            assert_eq!(v.jti(), a.jti());
            assert_eq!(v.kid(), a.kid());
            assert_eq!(v.kid(), key.kid());
            assert_eq!(v.algorithm(), a.algorithm());
            assert_eq!(v.expires_at(), a.expires_at());
            assert_eq!(v.issued_at(), Some(a.issued_at()));
            assert_eq!(v.audience(), ISSUER);
            assert_rejected(
                f.verify(a.as_str()),
                client_assertion::ErrorKind::Replayed,
                a.as_str(),
            );
        }
        let signer = builder.lifetime(Duration::from_secs(3600)).build().unwrap();
        let a = signer.sign().unwrap();
        let v = f.verify(a.as_str()).expect("one-hour assertion");
        assert_eq!(
            v.expires_at()
                .duration_since(v.issued_at().unwrap())
                .unwrap(),
            Duration::from_secs(3600)
        );
        // The signer's async path yields the same kind of token.
        let a = block_on(signer.sign_async()).unwrap();
        f.verify(a.as_str()).expect("sign_async output");
        seen.push(v.algorithm());
    }
    assert_eq!(seen, Algorithm::ALL.to_vec());
}

/// Drives an in-memory signer's future (which completes immediately).
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut fut = std::pin::pin!(fut);
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// A registry and verifier with the given client registered by `register`.
fn verifier_for(register: impl FnOnce(&ClientRegistry)) -> (Verifier, ManualClock) {
    let registry = Arc::new(registry());
    register(&registry);
    let clock = ManualClock::at_unix(NOW);
    let verifier = Verifier::builder(ISSUER, registry)
        .clock(Arc::new(clock.clone()))
        .replay_cache(running_cache())
        .build()
        .unwrap();
    (verifier, clock)
}

/// The fixture private keys (PEM) and their public forms.
fn fixture_keys() -> Vec<(PrivateKey, &'static str, &'static str)> {
    vec![
        (
            on_backend(PrivateKey::from_pem(include_str!("data/p256.pkcs8.pem")).unwrap()),
            include_str!("data/p256.spki.pem"),
            include_str!("data/p256.public.jwk.json"),
        ),
        (
            on_backend(PrivateKey::from_pem(include_str!("data/p384.pkcs8.pem")).unwrap()),
            include_str!("data/p384.spki.pem"),
            include_str!("data/p384.public.jwk.json"),
        ),
        (
            on_backend(PrivateKey::from_pem(include_str!("data/ed25519.pkcs8.pem")).unwrap()),
            include_str!("data/ed25519.spki.pem"),
            include_str!("data/ed25519.public.jwk.json"),
        ),
        (
            on_backend(PrivateKey::from_pem(include_str!("data/rsa2048.pkcs8.pem")).unwrap()),
            include_str!("data/rsa2048.spki.pem"),
            include_str!("data/rsa2048.public.jwk.json"),
        ),
    ]
}

fn check_every_key_verifies(verifier: &Verifier, keys: &[(PrivateKey, &str, &str)]) {
    for (i, (key, _, _)) in keys.iter().enumerate() {
        for alg in key.algorithms() {
            // With the thumbprint kid, and without kid.
            for header in [
                json!({"alg": alg.name(), "kid": key.kid()}),
                json!({"alg": alg.name()}),
            ] {
                let claims = claims_for(CLIENT, &format!("{i}-{alg}-{}", random_jti()), NOW);
                let token = sign_json(key, &header, &claims);
                let v = verifier
                    .verify(&token)
                    .unwrap_or_else(|e| panic!("{alg} with {header}: {e}"));
                assert_eq!(v.kid(), key.kid());
                assert_eq!(v.algorithm(), *alg);
            }
        }
    }
}

#[test]
fn register_jwks_json_fixture_set() {
    let keys = fixture_keys();
    // Public JWKs written by another tool, without kid: the registry's kid
    // is the RFC 7638 thumbprint, as is the signing key's.
    let members: Vec<&str> = keys.iter().map(|(_, _, jwk)| jwk.trim()).collect();
    let set = format!(r#"{{"keys":[{}]}}"#, members.join(","));
    let (verifier, _) = verifier_for(|r| {
        r.register_jwks_json(CLIENT, &set).unwrap();
    });
    check_every_key_verifies(&verifier, &keys);
    // Our own JWK Set JSON round-trips the same way.
    let ours = jwk_set(keys.iter().map(|(k, _, _)| k)).to_json();
    let (verifier, _) = verifier_for(|r| {
        r.register_jwks_json(CLIENT, &ours).unwrap();
    });
    check_every_key_verifies(&verifier, &keys);
}

#[test]
fn register_jwks_json_with_alg_and_extra_members() {
    // A JWK Set as a client's jwks_uri might serve it: alg, use, key_ops,
    // x5t, an explicit kid.
    let key = on_backend(
        PrivateKey::from_pem(include_str!("data/p256.pkcs8.pem"))
            .unwrap()
            .with_kid("2024-rotation-a"),
    );
    let mut jwk: Value = serde_json::from_str(&key.public_jwk().to_json()).unwrap();
    jwk["alg"] = json!("ES256");
    jwk["key_ops"] = json!(["verify"]);
    jwk["x5t"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let set = json!({"keys": [jwk]}).to_string();
    let (verifier, _) = verifier_for(|r| {
        r.register_jwks_json(CLIENT, &set).unwrap();
    });
    let token = sign_json(&key, &header_of(&key), &claims_for(CLIENT, "x-1", NOW));
    assert_eq!(verifier.verify(&token).unwrap().kid(), "2024-rotation-a");
}

#[test]
fn register_spki_pems() {
    let keys = fixture_keys();
    let (verifier, _) = verifier_for(|r| {
        r.register_pems(CLIENT, keys.iter().map(|(_, pem, _)| *pem))
            .unwrap();
    });
    check_every_key_verifies(&verifier, &keys);
}

#[test]
fn re_registration_replaces_keys() {
    let old = on_backend(PrivateKey::generate(KeyType::P256).unwrap());
    let new = on_backend(PrivateKey::generate(KeyType::P256).unwrap());
    let registry = Arc::new(registry());
    registry.register(CLIENT, &jwk_set([&old])).unwrap();
    let verifier = Verifier::builder(ISSUER, registry.clone())
        .clock(Arc::new(ManualClock::at_unix(NOW)))
        .build()
        .unwrap();
    let old_token = sign_json(&old, &header_of(&old), &claims_for(CLIENT, "r-1", NOW));
    let new_token = sign_json(&new, &header_of(&new), &claims_for(CLIENT, "r-2", NOW));
    registry.register(CLIENT, &jwk_set([&new])).unwrap();
    assert_rejected(
        verifier.verify(&old_token),
        client_assertion::ErrorKind::UnknownKey,
        &old_token,
    );
    verifier.verify(&new_token).expect("the new key");
}

#[cfg(feature = "jsonwebtoken")]
#[test]
fn register_jsonwebtoken_jwk_set() {
    // jsonwebtoken's JWK Set type is only a data type here (no crypto).
    let keys = fixture_keys();
    let ours = jwk_set(keys.iter().map(|(k, _, _)| k)).to_json();
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&ours).unwrap();
    let (verifier, _) = verifier_for(|r| {
        r.register_jsonwebtoken(CLIENT, &set).unwrap();
    });
    check_every_key_verifies(&verifier, &keys);
    // A set parsed by jsonwebtoken from third-party JWKs (no kid there: the
    // thumbprint is used).
    let members: Vec<&str> = keys.iter().map(|(_, _, jwk)| jwk.trim()).collect();
    let set: jsonwebtoken::jwk::JwkSet =
        serde_json::from_str(&format!(r#"{{"keys":[{}]}}"#, members.join(","))).unwrap();
    let (verifier, _) = verifier_for(|r| {
        r.register_jsonwebtoken(CLIENT, &set).unwrap();
    });
    check_every_key_verifies(&verifier, &keys);
}
