//! Profiles on both sides: each preset's signer writes what the profile
//! says and refuses what it forbids; each preset's verifier accepts what it
//! must and rejects what it must, with the right code; and a signer and a
//! verifier of the same profile always agree (round trips).

mod common;

use std::sync::Arc;
use std::time::Duration;

use client_assertion::client::TokenType;
use client_assertion::keys::{CertificateChain, CertificateHeaders};
use client_assertion::time::ManualClock;
use client_assertion::{
    jwk_set, Algorithm, AssertionSigner, ClientRegistry, ErrorKind, KeySource, KeyType, Policy,
    PrivateKey, Profile, Verifier,
};
use common::*;
use serde_json::{json, Value};

const ISSUER: &str = "https://as.example.com";
const TOKEN_ENDPOINT: &str = "https://as.example.com/oauth2/token";
const TENANT: &str = "contoso.onmicrosoft.com";
const ENTRA_ENDPOINT: &str =
    "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
const ENTRA_ISSUER: &str = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0";

struct Keys {
    p256: Arc<PrivateKey>,
    p384: Arc<PrivateKey>,
    ed25519: Arc<PrivateKey>,
    rsa: Arc<PrivateKey>,
}

fn keys() -> Keys {
    let load = |f: &str| Arc::new(PrivateKey::from_file(data(f)).unwrap());
    Keys {
        p256: load("certs/ec.key.pem"),
        p384: load("p384.pkcs8.pem"),
        ed25519: load("certs/ed25519.key.pem"),
        rsa: load("certs/rsa.key.pem"),
    }
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at_unix(1_800_000_000))
}

/// A verifier for `issuer` with every fixture key registered for `app-id`,
/// whose replay cache has run since long before the clock's time (so that
/// the time rules alone judge assertions issued before it, without the
/// quarantine that follows a start).
fn verifier(issuer: &str, profile: Option<Profile>, clock: &Arc<ManualClock>) -> Verifier {
    let k = keys();
    let registry = Arc::new(ClientRegistry::new());
    registry
        .register(
            "app-id",
            &jwk_set([&*k.p256 as &dyn KeySource, &*k.p384, &*k.ed25519, &*k.rsa]),
        )
        .unwrap();
    let cache = Arc::new(client_assertion::MemoryReplayCache::default());
    client_assertion::ReplayCache::epoch(&*cache, std::time::UNIX_EPOCH);
    let mut b = Verifier::builder(issuer, registry)
        .clock(clock.clone())
        .replay_cache(cache);
    if let Some(p) = profile {
        b = b.profile(p);
    }
    b.build().unwrap()
}

/// A token with exactly this header and these claims, signed by `key`.
fn forge(key: &PrivateKey, alg: Algorithm, header: Value, claims: Value) -> String {
    let input = format!(
        "{}.{}",
        b64url_encode(header.to_string().as_bytes()),
        b64url_encode(claims.to_string().as_bytes())
    );
    let sig = key.sign(alg, input.as_bytes()).unwrap();
    format!("{input}.{}", b64url_encode(&sig))
}

fn claims(aud: Value, now: u64, jti: &str) -> Value {
    json!({"iss": "app-id", "sub": "app-id", "aud": aud, "jti": jti, "iat": now, "exp": now + 60})
}

fn rejected(v: &Verifier, token: &str) -> ErrorKind {
    v.verify(token).unwrap_err().kind()
}

fn signer(
    key: Arc<PrivateKey>,
    aud: &str,
    profile: Profile,
    clock: &Arc<ManualClock>,
) -> AssertionSigner {
    AssertionSigner::builder(key, "app-id", aud)
        .profile(profile)
        .clock(clock.clone())
        .build()
        .unwrap()
}

#[test]
fn rfc7523bis_is_the_signer_default_and_strict_on_the_server() {
    let k = keys();
    let clock = clock();
    let v = verifier(ISSUER, Some(Profile::Rfc7523bis), &clock);

    // Client: the profile changes nothing about the default signer.
    for key in [&k.p256, &k.p384, &k.ed25519, &k.rsa] {
        let plain = AssertionSigner::builder(key.clone(), "app-id", ISSUER)
            .clock(clock.clone())
            .build()
            .unwrap()
            .sign()
            .unwrap();
        let profiled = signer(key.clone(), ISSUER, Profile::Rfc7523bis, &clock)
            .sign()
            .unwrap();
        let (a, b) = (split(plain.as_str()), split(profiled.as_str()));
        assert_eq!(a.header, b.header);
        assert_eq!(b.header["typ"], "client-authentication+jwt");
        assert_eq!(b.claims["aud"], ISSUER, "a single string");
        assert_eq!(profiled.algorithm(), key.algorithms()[0], "the key decides");
        v.verify(profiled.as_str()).unwrap();
        v.verify(plain.as_str()).unwrap();
    }

    // Server: the explicit type is mandatory, the audience is the issuer.
    let now = 1_800_000_000;
    let c = claims(json!(ISSUER), now, "j1");
    for (typ, ok) in [
        (Some("client-authentication+jwt"), true),
        (Some("application/client-authentication+jwt"), true),
        (Some("JWT"), false),
        (None, false),
        (Some("at+jwt"), false),
    ] {
        let mut header = json!({"alg": "ES256", "kid": k.p256.kid()});
        if let Some(t) = typ {
            header["typ"] = t.into();
        }
        let mut c = c.clone();
        c["jti"] = format!("typ-{typ:?}").into();
        let token = forge(&k.p256, Algorithm::Es256, header, c);
        match ok {
            true => {
                v.verify(&token).unwrap();
            }
            false => assert_eq!(rejected(&v, &token), ErrorKind::TypeNotAllowed, "{typ:?}"),
        }
    }
    let header = json!({"alg": "ES256", "kid": k.p256.kid(), "typ": "client-authentication+jwt"});
    for (i, aud) in [json!(TOKEN_ENDPOINT), json!([ISSUER]), json!([ISSUER, "x"])]
        .into_iter()
        .enumerate()
    {
        let token = forge(
            &k.p256,
            Algorithm::Es256,
            header.clone(),
            claims(aud, now, &format!("aud{i}")),
        );
        assert_eq!(rejected(&v, &token), ErrorKind::AudienceMismatch);
    }

    // The signer refuses a typ the profile does not accept, and grants.
    let err = AssertionSigner::builder(k.p256.clone(), "app-id", ISSUER)
        .profile(Profile::Rfc7523bis)
        .token_type(TokenType::Jwt)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    let err = AssertionSigner::grant_builder(k.p256.clone(), "iss", "user", ISSUER)
        .profile(Profile::Rfc7523bis)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
}

#[test]
fn without_a_profile_the_verifier_is_as_before() {
    let k = keys();
    let clock = clock();
    let v = verifier(ISSUER, None, &clock);
    let policy = v.policy();
    assert!(policy.profile_in_force().is_none());
    assert_eq!(policy.allowed_algorithms(), Algorithm::ALL);
    assert_eq!(policy.leeway_value(), Duration::from_secs(30));
    let now = 1_800_000_000;
    for (i, typ) in [Some("JWT"), None, Some("client-authentication+jwt")]
        .into_iter()
        .enumerate()
    {
        let mut header = json!({"alg": "RS256", "kid": k.rsa.kid()});
        if let Some(t) = typ {
            header["typ"] = t.into();
        }
        let token = forge(
            &k.rsa,
            Algorithm::Rs256,
            header,
            claims(json!(ISSUER), now, &format!("d{i}")),
        );
        v.verify(&token).unwrap();
    }
    // iat 25 s ahead passes the 30 s leeway.
    let ahead = AssertionSigner::builder(k.p384.clone(), "app-id", ISSUER)
        .clock(Arc::new(ManualClock::at_unix(now + 25)))
        .build()
        .unwrap()
        .sign()
        .unwrap();
    v.verify(ahead.as_str()).unwrap();
}

#[test]
fn fapi2_signer_picks_and_refuses_algorithms() {
    let k = keys();
    let clock = clock();
    let v = verifier(ISSUER, Some(Profile::Fapi2), &clock);
    for (key, alg) in [
        (&k.rsa, Algorithm::Ps256),
        (&k.p256, Algorithm::Es256),
        (&k.ed25519, Algorithm::EdDsa),
    ] {
        let s = signer(key.clone(), ISSUER, Profile::Fapi2, &clock);
        let a = s.sign().unwrap();
        assert_eq!(a.algorithm(), alg);
        let jws = split(a.as_str());
        assert_eq!(jws.header["alg"], alg.name());
        assert_eq!(jws.header["typ"], "client-authentication+jwt");
        assert_eq!(jws.claims["aud"], ISSUER);
        let verified = v.verify(a.as_str()).unwrap();
        assert_eq!(verified.algorithm(), alg);
    }
    // RS256 (explicitly) and a P-384 key (ES384) are not FAPI 2.0.
    let err = AssertionSigner::builder(k.rsa.clone(), "app-id", ISSUER)
        .profile(Profile::Fapi2)
        .algorithm(Algorithm::Rs256)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed);
    assert_eq!(err.code(), "algorithm_not_allowed");
    let err = AssertionSigner::builder(k.p384.clone(), "app-id", ISSUER)
        .profile(Profile::Fapi2)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed);
    // RSA below 2048 bits cannot even be loaded or registered.
    assert_eq!(
        PrivateKey::from_file(data("rsa1024.pkcs8.pem"))
            .unwrap_err()
            .kind(),
        ErrorKind::WeakKey
    );
    let registry = ClientRegistry::new();
    assert_eq!(
        registry
            .register_jwks_json(
                "weak",
                &format!(r#"{{"keys":[{}]}}"#, read_str("rsa1024.public.jwk.json"))
            )
            .unwrap_err()
            .kind(),
        ErrorKind::WeakKey
    );
}

#[test]
fn fapi2_verifier_rules() {
    let k = keys();
    let clock = clock();
    let v = verifier(ISSUER, Some(Profile::Fapi2), &clock);
    let now = 1_800_000_000;

    // Algorithms outside FAPI 2.0 are rejected even with registered keys.
    for (key, alg) in [(&k.rsa, Algorithm::Rs256), (&k.p384, Algorithm::Es384)] {
        let token = AssertionSigner::builder(key.clone(), "app-id", ISSUER)
            .algorithm(alg)
            .clock(clock.clone())
            .build()
            .unwrap()
            .sign()
            .unwrap();
        assert_eq!(rejected(&v, token.as_str()), ErrorKind::AlgorithmNotAllowed);
    }
    // aud: the issuer as a string only.
    let header = json!({"alg": "ES256", "kid": k.p256.kid()});
    for (i, aud) in [json!(TOKEN_ENDPOINT), json!([ISSUER])]
        .into_iter()
        .enumerate()
    {
        let token = forge(
            &k.p256,
            Algorithm::Es256,
            header.clone(),
            claims(aud, now, &format!("a{i}")),
        );
        assert_eq!(rejected(&v, &token), ErrorKind::AudienceMismatch);
    }

    // Future-dated iat/nbf: accepted up to 10 s, rejected at and beyond 60 s
    // (and, with the 10 s leeway, anything beyond 10 s).
    for (ahead, ok) in [
        (0, true),
        (5, true),
        (10, true),
        (11, false),
        (30, false),
        (60, false),
        (61, false),
        (3600, false),
    ] {
        // A client whose clock runs `ahead` seconds fast: iat = nbf = now + ahead.
        let token = signer(
            k.p256.clone(),
            ISSUER,
            Profile::Fapi2,
            &Arc::new(ManualClock::at_unix(now + ahead)),
        )
        .sign()
        .unwrap();
        let r = v.verify(token.as_str());
        match ok {
            true => assert!(r.is_ok(), "iat {ahead} s ahead: {r:?}"),
            false => assert_eq!(r.unwrap_err().kind(), ErrorKind::NotYetValid, "{ahead} s"),
        }
        // nbf alone (no iat) follows the same rule.
        let mut c = claims(json!(ISSUER), now, &format!("nbf{ahead}"));
        c.as_object_mut().unwrap().remove("iat");
        c["nbf"] = (now + ahead).into();
        c["exp"] = (now + ahead + 60).into();
        let token = forge(&k.p256, Algorithm::Es256, header.clone(), c);
        assert_eq!(v.verify(&token).is_ok(), ok, "nbf {ahead} s ahead");
    }

    // The policy refuses settings that break the profile.
    let build = |p: Policy| {
        Verifier::builder(ISSUER, Arc::new(ClientRegistry::new()))
            .policy(p)
            .build()
            .map(|_| ())
            .map_err(|e| e.kind())
    };
    let fapi = || Policy::for_profile(ISSUER, Profile::Fapi2);
    assert_eq!(build(fapi()), Ok(()));
    assert_eq!(build(fapi().leeway(Duration::from_secs(59))), Ok(()));
    for bad in [
        fapi().leeway(Duration::from_secs(60)),
        fapi().leeway(Duration::from_secs(5)),
        fapi().algorithms(&[Algorithm::Rs256]),
        fapi().algorithms(&[Algorithm::Ps256, Algorithm::Es384]),
        fapi().also_accept_audience(TOKEN_ENDPOINT),
        fapi().accept_single_element_audience_array(),
        Policy::for_profile(ISSUER, Profile::Rfc7523bis).also_accept_audience(TOKEN_ENDPOINT),
        Policy::for_profile(ISSUER, Profile::Rfc7523bis).token_types(&[]),
        Policy::for_profile(ISSUER, Profile::entra_id("a/b")),
        Policy::for_profile(ISSUER, Profile::legacy_token_endpoint("")),
    ] {
        assert_eq!(build(bad), Err(ErrorKind::InvalidConfig));
    }
    assert_eq!(
        build(fapi().algorithms(&[Algorithm::Es256])),
        Ok(()),
        "narrowing further is fine"
    );
}

fn entra_chain() -> CertificateChain {
    CertificateChain::from_file(data("certs/entra.cert.pem")).unwrap()
}

#[test]
fn entra_id_signer() {
    let clock = clock();
    let key = Arc::new(PrivateKey::from_file(data("certs/entra.key.pem")).unwrap());
    let entra = || Profile::entra_id(TENANT);
    let base = |aud: &str| {
        AssertionSigner::builder(key.clone(), "app-id", aud)
            .profile(entra())
            .clock(clock.clone())
    };

    // The assertion format Microsoft documents.
    for aud in ["", ENTRA_ENDPOINT] {
        let a = base(aud)
            .certificate(entra_chain())
            .build()
            .unwrap()
            .sign()
            .unwrap();
        let jws = split(a.as_str());
        assert_eq!(jws.header["alg"], "PS256");
        assert_eq!(jws.header["typ"], "JWT");
        assert_eq!(jws.header["x5t#S256"], entra_chain().thumbprint_sha256());
        assert_eq!(jws.claims["aud"], ENTRA_ENDPOINT);
        assert_eq!(jws.claims["iss"], "app-id");
        assert_eq!(jws.claims["sub"], "app-id");
    }
    // RS256 is allowed when asked for, with x5t as well for older tenants.
    let a = base("")
        .certificate(entra_chain())
        .certificate_headers(CertificateHeaders::X5T_S256 | CertificateHeaders::X5T)
        .algorithm(Algorithm::Rs256)
        .build()
        .unwrap()
        .sign()
        .unwrap();
    let jws = split(a.as_str());
    assert_eq!(jws.header["alg"], "RS256");
    assert_eq!(jws.header["x5t"], entra_chain().thumbprint_sha1());

    // Refusals.
    let kind = |b: client_assertion::client::AssertionSignerBuilder| b.build().unwrap_err().kind();
    assert_eq!(kind(base("")), ErrorKind::InvalidConfig, "no certificate");
    assert_eq!(
        kind(
            base("")
                .certificate(entra_chain())
                .certificate_headers(CertificateHeaders::X5T)
        ),
        ErrorKind::InvalidConfig,
        "x5t#S256 left out"
    );
    assert_eq!(
        kind(base(ISSUER).certificate(entra_chain())),
        ErrorKind::InvalidConfig,
        "another audience"
    );
    assert_eq!(
        kind(
            base("")
                .certificate(entra_chain())
                .algorithm(Algorithm::Ps256)
                .token_type(TokenType::ClientAuthentication)
        ),
        ErrorKind::InvalidConfig,
        "a typ Entra ID does not accept"
    );
    let ec = Arc::new(PrivateKey::from_file(data("certs/ec.key.pem")).unwrap());
    let err = AssertionSigner::builder(ec, "app-id", "")
        .profile(entra())
        .certificate(CertificateChain::from_file(data("certs/ec.cert.pem")).unwrap())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed, "an EC key");
    let err = AssertionSigner::builder(key.clone(), "app-id", "")
        .profile(Profile::entra_id("../evil"))
        .certificate(entra_chain())
        .build()
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::InvalidConfig,
        "a tenant that is no tenant"
    );
    // A certificate of another key.
    let err = AssertionSigner::builder(keys().rsa, "app-id", "")
        .profile(entra())
        .certificate(entra_chain())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CertificateMismatch);
}

#[test]
fn entra_id_round_trip_and_verifier_rules() {
    let clock = clock();
    let key = Arc::new(PrivateKey::from_file(data("certs/entra.key.pem")).unwrap());
    let k = keys();
    let registry = Arc::new(ClientRegistry::new());
    registry
        .register("app-id", &jwk_set([&*key as &dyn KeySource, &*k.p256]))
        .unwrap();
    let v = Verifier::builder(ENTRA_ISSUER, registry)
        .profile(Profile::entra_id(TENANT))
        .clock(clock.clone())
        .build()
        .unwrap();
    let signer = AssertionSigner::builder(key.clone(), "app-id", "")
        .profile(Profile::entra_id(TENANT))
        .certificate(entra_chain())
        .clock(clock.clone())
        .build()
        .unwrap();
    let verified = v.verify(signer.sign().unwrap().as_str()).unwrap();
    assert_eq!(verified.audience(), ENTRA_ENDPOINT);
    assert_eq!(verified.algorithm(), Algorithm::Ps256);

    let now = 1_800_000_000;
    let header = |alg: &str, typ: Option<&str>, kid: &str| {
        let mut h = json!({"alg": alg, "kid": kid});
        if let Some(t) = typ {
            h["typ"] = t.into();
        }
        h
    };
    let kid = key.kid().to_owned();
    // Accepted: RS256, typ JWT or none.
    for (i, (alg, typ)) in [(Algorithm::Rs256, Some("JWT")), (Algorithm::Ps256, None)]
        .into_iter()
        .enumerate()
    {
        let token = forge(
            &key,
            alg,
            header(alg.name(), typ, &kid),
            claims(json!(ENTRA_ENDPOINT), now, &format!("ok{i}")),
        );
        v.verify(&token).unwrap();
    }
    // Rejected: the issuer as audience, the explicit rfc7523bis type, ES256.
    let token = forge(
        &key,
        Algorithm::Ps256,
        header("PS256", Some("JWT"), &kid),
        claims(json!(ENTRA_ISSUER), now, "r1"),
    );
    assert_eq!(rejected(&v, &token), ErrorKind::AudienceMismatch);
    let token = forge(
        &key,
        Algorithm::Ps256,
        header("PS256", Some("client-authentication+jwt"), &kid),
        claims(json!(ENTRA_ENDPOINT), now, "r2"),
    );
    assert_eq!(rejected(&v, &token), ErrorKind::TypeNotAllowed);
    let token = forge(
        &k.p256,
        Algorithm::Es256,
        header("ES256", Some("JWT"), k.p256.kid()),
        claims(json!(ENTRA_ENDPOINT), now, "r3"),
    );
    assert_eq!(rejected(&v, &token), ErrorKind::AlgorithmNotAllowed);
}

#[test]
fn legacy_token_endpoint_both_sides() {
    let k = keys();
    let clock = clock();
    let profile = || Profile::legacy_token_endpoint(TOKEN_ENDPOINT);

    // Client: aud is the token endpoint, typ JWT, the key decides the alg.
    let s = signer(k.rsa.clone(), "", profile(), &clock);
    let a = s.sign().unwrap();
    let jws = split(a.as_str());
    assert_eq!(jws.claims["aud"], TOKEN_ENDPOINT);
    assert_eq!(jws.header["typ"], "JWT");
    assert_eq!(a.algorithm(), Algorithm::Rs256);
    assert_eq!(s.audience(), TOKEN_ENDPOINT);
    let err = AssertionSigner::builder(k.rsa.clone(), "app-id", ISSUER)
        .profile(profile())
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);

    // Server: the token endpoint and the issuer are accepted, nothing else.
    let legacy = verifier(ISSUER, Some(profile()), &clock);
    legacy.verify(a.as_str()).unwrap();
    let issuer_aud = signer(k.p256.clone(), ISSUER, Profile::Rfc7523bis, &clock)
        .sign()
        .unwrap();
    legacy.verify(issuer_aud.as_str()).unwrap();
    let other = AssertionSigner::builder(k.p256.clone(), "app-id", "https://other.example/token")
        .clock(clock.clone())
        .build()
        .unwrap()
        .sign()
        .unwrap();
    assert_eq!(
        rejected(&legacy, other.as_str()),
        ErrorKind::AudienceMismatch
    );

    // A later profile replaces the earlier one's audience.
    let policy = Policy::new(ISSUER)
        .profile(profile())
        .profile(Profile::legacy_token_endpoint(
            "https://as.example.com/v2/token",
        ));
    let replaced = Verifier::builder(ISSUER, Arc::new(ClientRegistry::new()))
        .policy(policy)
        .clock(clock.clone())
        .build()
        .unwrap();
    let registry = replaced.registry();
    registry.register("app-id", &jwk_set([&*k.rsa])).unwrap();
    let token = s.sign().unwrap();
    assert_eq!(
        rejected(&replaced, token.as_str()),
        ErrorKind::AudienceMismatch
    );

    // A strict default verifier rejects the token endpoint audience.
    let strict = verifier(ISSUER, None, &clock);
    let again = s.sign().unwrap();
    assert_eq!(
        rejected(&strict, again.as_str()),
        ErrorKind::AudienceMismatch
    );
}

#[test]
fn every_profile_round_trips() {
    let k = keys();
    let clock = clock();
    let entra_key = Arc::new(PrivateKey::from_file(data("certs/entra.key.pem")).unwrap());
    let cases: Vec<(Profile, &str, Vec<Arc<PrivateKey>>)> = vec![
        (
            Profile::Rfc7523bis,
            ISSUER,
            vec![
                k.p256.clone(),
                k.p384.clone(),
                k.ed25519.clone(),
                k.rsa.clone(),
            ],
        ),
        (
            Profile::Fapi2,
            ISSUER,
            vec![k.p256.clone(), k.ed25519.clone(), k.rsa.clone()],
        ),
        (
            Profile::entra_id(TENANT),
            ENTRA_ISSUER,
            vec![entra_key.clone()],
        ),
        (
            Profile::legacy_token_endpoint(TOKEN_ENDPOINT),
            ISSUER,
            vec![
                k.p256.clone(),
                k.p384.clone(),
                k.ed25519.clone(),
                k.rsa.clone(),
            ],
        ),
    ];
    for (profile, issuer, signing_keys) in cases {
        let registry = Arc::new(ClientRegistry::new());
        registry
            .register(
                "app-id",
                &jwk_set(signing_keys.iter().map(|k| &**k as &dyn KeySource)),
            )
            .unwrap();
        let v = Verifier::builder(issuer, registry)
            .profile(profile.clone())
            .clock(clock.clone())
            .build()
            .unwrap();
        assert_eq!(v.policy().profile_in_force(), Some(&profile));
        for key in signing_keys {
            let aud = if profile.audience().is_some() {
                ""
            } else {
                issuer
            };
            let mut b = AssertionSigner::builder(key.clone(), "app-id", aud)
                .profile(profile.clone())
                .clock(clock.clone());
            if profile.requires_certificate() {
                b = b.certificate(entra_chain());
            }
            let a = b.build().unwrap().sign().unwrap();
            let verified = v
                .verify(a.as_str())
                .unwrap_or_else(|e| panic!("{}: {:?}: {e}", profile.name(), key.key_type()));
            assert!(profile.algorithms().contains(&verified.algorithm()));
            assert_eq!(
                split(a.as_str()).header["typ"],
                profile.token_type().header_value().unwrap()
            );
        }
    }
}

#[test]
fn profile_names_and_key_types() {
    assert_eq!(Profile::default().name(), "rfc7523bis");
    assert_eq!(Profile::Fapi2.name(), "fapi2");
    assert_eq!(Profile::entra_id("t").name(), "entra_id");
    assert_eq!(
        Profile::legacy_token_endpoint("u").name(),
        "legacy_token_endpoint"
    );
    assert!(!KeyType::P384
        .algorithms()
        .iter()
        .any(|a| Profile::Fapi2.algorithms().contains(a)));
}
