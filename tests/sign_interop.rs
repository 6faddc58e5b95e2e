//! Signing interoperability: every algorithm with every key encoding,
//! verified by an independent implementation (jsonwebtoken on aws-lc-rs),
//! with the exact header and claims checked by hand.

mod common;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use client_assertion::client::TokenType;
use client_assertion::keys::{AsyncKeySource, SignFuture, SignerKey};
use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{
    Algorithm, AssertionSigner, ClientAssertion, ErrorKind, FormParams, KeySource, KeyType,
    PrivateKey, PublicJwk,
};
use common::*;
use serde_json::{json, Value};

const NOW: u64 = 1_700_000_000;
const CLIENT: &str = "s6BhdRkqt3";
const AUDIENCE: &str = "https://as.example.com";

/// Loads a fixture through the constructor made for its encoding, and
/// checks that the generic loaders agree; the key signs with the backend
/// under test.
fn load(name: &str, format: &str) -> PrivateKey {
    let file = format!("{name}.{format}");
    let key = if format.ends_with(".pem") {
        PrivateKey::from_pem(&read_str(&file))
    } else if format.ends_with(".der") {
        PrivateKey::from_der(&read(&file))
    } else {
        PrivateKey::from_jwk(&read_str(&file))
    }
    .unwrap_or_else(|e| panic!("{file}: {e}"));
    for other in [
        PrivateKey::from_bytes(&read(&file)).unwrap(),
        PrivateKey::from_file(data(&file)).unwrap(),
    ] {
        assert_eq!(other.kid(), key.kid(), "{file}");
        assert_eq!(other.public_jwk(), key.public_jwk(), "{file}");
    }
    on_backend(key)
}

/// Every (encoding, key, has an SPKI fixture) of one key type: each
/// encoding of the fixture key, plus a freshly generated key.
fn keys_of(name: &str, key_type: KeyType, formats: &[&str]) -> Vec<(String, PrivateKey, bool)> {
    let mut keys: Vec<_> = formats
        .iter()
        .map(|f| (f.to_string(), load(name, f), true))
        .collect();
    let generated = on_backend(PrivateKey::generate(key_type).unwrap());
    assert_eq!(generated.key_type(), key_type);
    keys.push(("generated".to_owned(), generated, false));
    keys
}

/// Checks one assertion: the signature with jsonwebtoken (from our JWK,
/// and from the SPKI fixture where there is one), the exact header, the
/// exact claims, and the `ClientAssertion` accessors.
#[allow(clippy::too_many_arguments)]
fn check_assertion(
    a: &ClientAssertion,
    key: &PrivateKey,
    spki: Option<(&str, KeyType)>,
    alg: Algorithm,
    typ: Option<&str>,
    iss: &str,
    sub: &str,
    now: u64,
    lifetime: u64,
    extra: &Value,
) {
    let token = a.as_str();
    let jws = split(token);

    let from_jwk = jwt_verify(token, &decoding_key_from_jwk(&key.public_jwk()), alg)
        .unwrap_or_else(|e| panic!("jsonwebtoken rejects {alg} from our JWK: {e}"));
    assert_eq!(from_jwk.claims, jws.claims);
    if let Some((name, key_type)) = spki {
        jwt_verify(token, &decoding_key_from_spki(name, key_type), alg)
            .unwrap_or_else(|e| panic!("jsonwebtoken rejects {alg} from {name}.spki.pem: {e}"));
    }
    // The oracle is no rubber stamp: a flipped signature bit is refused.
    let mut forged_sig = jws.signature.clone();
    forged_sig[0] ^= 1;
    let (signing_input, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{signing_input}.{}", b64url_encode(&forged_sig));
    assert!(jwt_verify(&forged, &decoding_key_from_jwk(&key.public_jwk()), alg).is_err());

    let mut header = json!({"alg": alg.name(), "kid": key.kid()});
    if let Some(typ) = typ {
        header["typ"] = json!(typ);
    }
    assert_eq!(jws.header, header, "exact header");

    let jti = jws.claims["jti"]
        .as_str()
        .expect("jti is a string")
        .to_owned();
    assert_eq!(jti.len(), 43);
    assert_eq!(b64url(&jti).len(), 32);
    let mut claims = json!({
        "iss": iss,
        "sub": sub,
        "aud": AUDIENCE,
        "jti": jti,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
    });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    assert_eq!(jws.claims, claims, "exact claims");
    assert!(jws.claims["aud"].is_string(), "aud is a single string");

    let sig_len = match alg {
        Algorithm::Es256 | Algorithm::EdDsa => 64,
        Algorithm::Es384 => 96,
        _ => 256,
    };
    assert_eq!(jws.signature.len(), sig_len, "raw JWS signature size");

    assert_eq!(a.jti(), jti);
    assert_eq!(a.kid(), key.kid());
    assert_eq!(a.algorithm(), alg);
    assert_eq!(a.issued_at(), UNIX_EPOCH + Duration::from_secs(now));
    assert_eq!(
        a.expires_at(),
        UNIX_EPOCH + Duration::from_secs(now + lifetime)
    );
}

#[test]
fn every_algorithm_with_every_key_encoding_verifies_with_jsonwebtoken() {
    let clock = ManualClock::at_unix(NOW);
    let extra = json!({"scope": "read write", "nested": {"n": [1, 2, 3], "ü": null}});
    let mut combinations = BTreeSet::new();
    for (name, key_type, formats) in KEYS {
        for (label, key, has_spki) in keys_of(name, key_type, formats) {
            let key = Arc::new(key);
            assert_eq!(key.algorithms(), key_type.algorithms(), "{name} {label}");
            for &alg in key_type.algorithms() {
                let mut b = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
                    .algorithm(alg)
                    .lifetime(Duration::from_secs(90))
                    .clock(Arc::new(clock.clone()));
                for (k, v) in extra.as_object().unwrap() {
                    b = b.claim(k.clone(), v.clone());
                }
                let signer = b
                    .build()
                    .unwrap_or_else(|e| panic!("{name} {label} {alg}: {e}"));
                let a = signer
                    .sign()
                    .unwrap_or_else(|e| panic!("{name} {label} {alg}: {e}"));
                let spki = has_spki.then_some((name, key_type));
                check_assertion(
                    &a,
                    &key,
                    spki,
                    alg,
                    Some("client-authentication+jwt"),
                    CLIENT,
                    CLIENT,
                    NOW,
                    90,
                    &extra,
                );
                combinations.insert((alg.name(), label.clone()));
            }
        }
    }
    // ES256 and ES384 with 5 encodings + generated, EdDSA with 3 + generated,
    // RS256 and PS256 with 5 + generated.
    assert_eq!(combinations.len(), 6 + 6 + 4 + 6 + 6, "{combinations:?}");
}

#[test]
fn default_algorithm_follows_the_key_and_default_settings() {
    let clock = ManualClock::at_unix(NOW);
    for (name, key_type, _) in KEYS {
        let key = Arc::new(load(name, "pkcs8.pem"));
        let signer = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap();
        let a = signer.sign().unwrap();
        let alg = key_type.algorithms()[0];
        // Default lifetime is 60 s; RSA defaults to RS256.
        check_assertion(
            &a,
            &key,
            Some((name, key_type)),
            alg,
            Some("client-authentication+jwt"),
            CLIENT,
            CLIENT,
            NOW,
            60,
            &json!({}),
        );
        if key_type == KeyType::Rsa {
            assert_eq!(a.algorithm(), Algorithm::Rs256);
        }
        assert_eq!(signer.client_id(), CLIENT);
        assert_eq!(signer.audience(), AUDIENCE);
        let form = a.form_params();
        assert_eq!(
            form.get("client_assertion_type"),
            Some(FormParams::CLIENT_ASSERTION_TYPE_JWT_BEARER)
        );
        assert_eq!(form.get("client_assertion"), Some(a.as_str()));
    }
}

#[test]
fn full_jsonwebtoken_validation_with_the_system_clock() {
    let key = Arc::new(load("p256", "pkcs8.pem"));
    let signer = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
        .build()
        .unwrap();
    let token = signer.sign().unwrap().into_string();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.leeway = 0;
    v.validate_nbf = true;
    v.set_audience(&[AUDIENCE]);
    v.set_issuer(&[CLIENT]);
    v.sub = Some(CLIENT.to_owned());
    v.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    let dk = decoding_key_from_spki("p256", KeyType::P256);
    jsonwebtoken::decode::<Value>(&token, &dk, &v).expect("valid now");
    v.set_audience(&["https://other.example.com"]);
    assert!(jsonwebtoken::decode::<Value>(&token, &dk, &v).is_err());
}

#[test]
fn token_types_and_the_grant_builder() {
    let clock = ManualClock::at_unix(NOW);
    let key = Arc::new(load("ed25519", "pkcs8.pem"));
    for (typ, header) in [
        (
            TokenType::ClientAuthentication,
            Some("client-authentication+jwt"),
        ),
        (TokenType::Jwt, Some("JWT")),
        (TokenType::Omitted, None),
    ] {
        assert_eq!(typ.header_value(), header);
        let a = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
            .token_type(typ)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap()
            .sign()
            .unwrap();
        check_assertion(
            &a,
            &key,
            Some(("ed25519", KeyType::Ed25519)),
            Algorithm::EdDsa,
            header,
            CLIENT,
            CLIENT,
            NOW,
            60,
            &json!({}),
        );
    }

    // Grant: iss != sub, typ JWT by default, grant form parameters.
    let grant =
        AssertionSigner::grant_builder(key.clone(), "https://idp.example", "alice", AUDIENCE)
            .clock(Arc::new(clock.clone()))
            .claim("scope", json!("openid"))
            .build()
            .unwrap();
    let a = grant.sign().unwrap();
    check_assertion(
        &a,
        &key,
        Some(("ed25519", KeyType::Ed25519)),
        Algorithm::EdDsa,
        Some("JWT"),
        "https://idp.example",
        "alice",
        NOW,
        60,
        &json!({"scope": "openid"}),
    );
    assert_eq!(a.usage(), client_assertion::Usage::AuthorizationGrant);
    let form = a.form_params().with_scope("openid");
    assert_eq!(
        form.get("grant_type"),
        Some(FormParams::GRANT_TYPE_JWT_BEARER)
    );
    assert_eq!(form.get("assertion"), Some(a.as_str()));
    assert_eq!(form.get("client_assertion"), None);
    assert_eq!(form.get("scope"), Some("openid"));
}

#[test]
fn strings_that_need_json_escaping_round_trip() {
    let clock = ManualClock::at_unix(NOW);
    let kid = "kid \"with\" \\ quotes\n and ü";
    let key = Arc::new(load("p256", "pkcs8.pem").with_kid(kid));
    let client = "client \"x\"\t\u{1}é";
    let a = AssertionSigner::builder(key.clone(), client, AUDIENCE)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
        .sign()
        .unwrap();
    check_assertion(
        &a,
        &key,
        Some(("p256", KeyType::P256)),
        Algorithm::Es256,
        Some("client-authentication+jwt"),
        client,
        client,
        NOW,
        60,
        &json!({}),
    );
    assert_eq!(split(a.as_str()).header["kid"], json!(kid));
}

#[test]
fn sign_async_with_in_memory_keys() {
    let clock = ManualClock::at_unix(NOW);
    for (name, key_type, _) in KEYS {
        let key = Arc::new(load(name, "pkcs8.der"));
        let signer = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap();
        let a = block_on(signer.sign_async()).unwrap();
        check_assertion(
            &a,
            &key,
            Some((name, key_type)),
            key_type.algorithms()[0],
            Some("client-authentication+jwt"),
            CLIENT,
            CLIENT,
            NOW,
            60,
            &json!({}),
        );
    }
}

/// A remote-style key source: it implements only `AsyncKeySource`.
#[derive(Debug)]
struct AsyncOnly {
    key: PrivateKey,
}

impl KeyMetadata for AsyncOnly {
    fn algorithms(&self) -> &'static [Algorithm] {
        self.key.algorithms()
    }

    fn kid(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.key.kid())
    }

    fn public_jwk(&self) -> PublicJwk {
        self.key.public_jwk()
    }
}

impl AsyncKeySource for AsyncOnly {
    fn sign_async<'a>(&'a self, alg: Algorithm, input: &'a [u8]) -> SignFuture<'a> {
        Box::pin(async move { self.key.sign(alg, input) })
    }
}

#[test]
fn async_only_key_source_requires_sign_async() {
    let clock = ManualClock::at_unix(NOW);
    let source = Arc::new(AsyncOnly {
        key: load("p384", "sec1.pem"),
    });
    let signer =
        AssertionSigner::builder(SignerKey::asynchronous(source.clone()), CLIENT, AUDIENCE)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap();
    let e = signer.sign().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RequiresAsync);
    // `AsyncOnly` has no synchronous `sign` at all: it implements
    // `AsyncKeySource` only, so a source that signs in neither way cannot
    // compile (the old default `sign` returned `RequiresAsync` at run time).

    let a = block_on(signer.sign_async()).unwrap();
    check_assertion(
        &a,
        &source.key,
        Some(("p384", KeyType::P384)),
        Algorithm::Es384,
        Some("client-authentication+jwt"),
        CLIENT,
        CLIENT,
        NOW,
        60,
        &json!({}),
    );
}

#[test]
fn builder_refuses_bad_configuration() {
    let key: Arc<dyn KeySource> = Arc::new(load("p256", "pkcs8.pem"));
    let kind = |b: client_assertion::client::AssertionSignerBuilder| b.build().unwrap_err().kind();
    let b = || AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE);

    assert_eq!(AssertionSigner::MAX_LIFETIME, Duration::from_secs(3600));
    assert_eq!(
        kind(b().lifetime(Duration::from_secs(3601))),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        kind(b().lifetime(Duration::from_millis(3_600_001))),
        ErrorKind::InvalidConfig
    );
    assert_eq!(kind(b().lifetime(Duration::ZERO)), ErrorKind::InvalidConfig);
    b().lifetime(Duration::from_secs(3600)).build().unwrap();
    b().lifetime(Duration::from_secs(1)).build().unwrap();

    for registered in ["exp", "iss", "sub", "aud", "jti", "iat", "nbf"] {
        assert_eq!(
            kind(b().claim(registered, json!(1))),
            ErrorKind::InvalidConfig,
            "{registered}"
        );
    }
    assert_eq!(
        kind(AssertionSigner::builder(key.clone(), "", AUDIENCE)),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        kind(AssertionSigner::builder(key.clone(), CLIENT, "")),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        kind(AssertionSigner::grant_builder(
            key.clone(),
            CLIENT,
            "",
            AUDIENCE
        )),
        ErrorKind::InvalidConfig
    );

    for alg in [
        Algorithm::Es384,
        Algorithm::EdDsa,
        Algorithm::Rs256,
        Algorithm::Ps256,
    ] {
        assert_eq!(
            kind(b().algorithm(alg)),
            ErrorKind::AlgorithmNotAllowed,
            "{alg}"
        );
    }
}

#[test]
fn rsa_algorithm_choice_and_with_algorithm() {
    let clock = ManualClock::at_unix(NOW);
    let rsa = Arc::new(load("rsa2048", "pkcs1.pem"));
    assert_eq!(rsa.algorithms(), &[Algorithm::Rs256, Algorithm::Ps256]);
    assert_eq!(rsa.public_jwk().algorithm(), None);
    let sign_with = |key: Arc<PrivateKey>, alg: Option<Algorithm>| {
        let mut b = AssertionSigner::builder(key, CLIENT, AUDIENCE).clock(Arc::new(clock.clone()));
        if let Some(alg) = alg {
            b = b.algorithm(alg);
        }
        b.build().map(|s| s.sign().unwrap())
    };
    assert_eq!(
        sign_with(rsa.clone(), None).unwrap().algorithm(),
        Algorithm::Rs256
    );
    let ps = sign_with(rsa.clone(), Some(Algorithm::Ps256)).unwrap();
    assert_eq!(split(ps.as_str()).header["alg"], "PS256");
    jwt_verify(
        ps.as_str(),
        &decoding_key_from_spki("rsa2048", KeyType::Rsa),
        Algorithm::Ps256,
    )
    .unwrap();

    // Restricting the key: the algorithm list, the published alg and the
    // signer default follow; the other RSA algorithm is refused.
    let only_ps = Arc::new(
        load("rsa2048", "pkcs8.pem")
            .with_algorithm(Algorithm::Ps256)
            .unwrap(),
    );
    assert_eq!(only_ps.algorithms(), &[Algorithm::Ps256]);
    assert_eq!(only_ps.public_jwk().algorithm(), Some(Algorithm::Ps256));
    assert!(only_ps.public_jwk().to_json().contains(r#""alg":"PS256""#));
    assert_eq!(
        only_ps.kid(),
        rsa.kid(),
        "restricting does not change the kid"
    );
    let a = sign_with(only_ps.clone(), None).unwrap();
    assert_eq!(a.algorithm(), Algorithm::Ps256);
    jwt_verify(
        a.as_str(),
        &decoding_key_from_jwk(&only_ps.public_jwk()),
        Algorithm::Ps256,
    )
    .unwrap();
    assert_eq!(
        sign_with(only_ps.clone(), Some(Algorithm::Rs256))
            .unwrap_err()
            .kind(),
        ErrorKind::AlgorithmNotAllowed
    );
    assert_eq!(
        only_ps.sign(Algorithm::Rs256, b"input").unwrap_err().kind(),
        ErrorKind::AlgorithmNotAllowed
    );

    for (name, key_type, _) in KEYS {
        for alg in Algorithm::ALL {
            let result = load(name, "pkcs8.pem").with_algorithm(alg);
            if alg.key_type() == key_type {
                assert_eq!(result.unwrap().algorithms(), &[alg]);
            } else {
                assert_eq!(result.unwrap_err().kind(), ErrorKind::AlgorithmNotAllowed);
                assert_eq!(
                    load(name, "pkcs8.pem")
                        .sign(alg, b"input")
                        .unwrap_err()
                        .kind(),
                    ErrorKind::AlgorithmNotAllowed
                );
            }
        }
    }
}

#[test]
fn a_jwk_with_its_own_alg_restricts_the_key() {
    let key = PrivateKey::from_file(data("p256.kid.jwk.json")).unwrap();
    assert_eq!(key.algorithms(), &[Algorithm::Es256]);
    assert_eq!(key.kid(), "fixture-p256-2024");
    let mut jwk = read_json("p256.jwk.json");
    jwk["alg"] = json!("ES384");
    assert_eq!(
        PrivateKey::from_jwk(&jwk.to_string()).unwrap_err().kind(),
        ErrorKind::AlgorithmNotAllowed
    );
    jwk["alg"] = json!("HS256");
    assert_eq!(
        PrivateKey::from_jwk(&jwk.to_string()).unwrap_err().kind(),
        ErrorKind::AlgorithmNotAllowed
    );
}

#[test]
fn each_assertion_is_fresh() {
    let clock = ManualClock::at_unix(NOW);
    let key = Arc::new(load("ed25519", "jwk.json"));
    let signer = AssertionSigner::builder(key, CLIENT, AUDIENCE)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let a = signer.sign().unwrap();
    clock.advance(Duration::from_secs(5));
    let b = signer.sign().unwrap();
    assert_ne!(a.jti(), b.jti());
    assert_ne!(a.as_str(), b.as_str());
    assert_eq!(split(b.as_str()).claims["iat"], json!(NOW + 5));
    assert_eq!(split(b.as_str()).claims["exp"], json!(NOW + 65));
}
