//! `client_secret_jwt` (OpenID Connect Core §9): HS256/HS384/HS512 as a
//! separate mode on both sides.
//!
//! - Round trips on every compiled backend, checked against jsonwebtoken as
//!   an independent oracle in both directions.
//! - Secrets: RFC 7518 §3.2 lengths, redaction, loading.
//! - Confusion: a client registered with public keys is never verified with
//!   HMAC, whatever bytes of its public key (PEM, DER, JWK JSON, RSA `n`, EC
//!   point) an attacker MACs with; a client registered with a secret is
//!   never verified with anything but its registered HMAC algorithms.
//! - The verifier opt-in, wrong secrets, replay, and the unchanged claim
//!   rules.

mod verify_common;

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use client_assertion::client::TokenType;
use client_assertion::secret::{ClientSecret, ClientSecretJwtSigner, HmacAlgorithm};
use client_assertion::server::{AuthMethod, AuthenticatedClient};
use client_assertion::time::ManualClock;
use client_assertion::{
    jwk_set, AssertionSigner, Backend, ClientRegistry, Error, ErrorKind, FormParams, KeySource,
    KeyType, Policy, PrivateKey, Usage, Verifier,
};
use serde_json::{json, Value};
use verify_common::{b64, backend, claims_for, registry, sign_json, ISSUER, NOW};

/// The secret client.
const SECRET_CLIENT: &str = "legacy-hmac-client";
/// A client registered with public keys.
const KEY_CLIENT: &str = "key-client";
/// A recognisable 64-byte secret (long enough for HS512).
const SECRET: &str = "SeCrEt-MaRkEr-7f3a9c1e-client-secret-jwt-0123456789abcdefghijklm";

fn secret() -> ClientSecret {
    assert_eq!(SECRET.len(), 64);
    ClientSecret::from_string(SECRET).expect("64-byte secret")
}

fn jwt_alg(alg: HmacAlgorithm) -> jsonwebtoken::Algorithm {
    match alg {
        HmacAlgorithm::Hs256 => jsonwebtoken::Algorithm::HS256,
        HmacAlgorithm::Hs384 => jsonwebtoken::Algorithm::HS384,
        _ => jsonwebtoken::Algorithm::HS512,
    }
}

/// A registry (test backend unless given) with the secret client on all
/// three HMAC algorithms and, optionally, key clients; a verifier at `NOW`.
struct Server {
    registry: Arc<ClientRegistry>,
    clock: ManualClock,
    verifier: Verifier,
}

impl Server {
    fn new(policy: Policy) -> Self {
        Self::on(Arc::new(registry()), policy)
    }

    fn on(registry: Arc<ClientRegistry>, policy: Policy) -> Self {
        registry
            .register_client_secret(SECRET_CLIENT, secret(), &HmacAlgorithm::ALL)
            .expect("register the secret client");
        let clock = ManualClock::at_unix(NOW);
        let verifier = Verifier::builder(ISSUER, registry.clone())
            .policy(policy)
            .clock(Arc::new(clock.clone()))
            .build()
            .expect("verifier");
        Self {
            registry,
            clock,
            verifier,
        }
    }

    /// With `client_secret_jwt` allowed.
    fn allowing() -> Self {
        Self::new(Policy::new(ISSUER).allow_client_secret_jwt())
    }

    fn auth(&self, token: &str) -> Result<AuthenticatedClient, Error> {
        self.verifier.authenticate_client(token, None)
    }
}

fn signer(alg: HmacAlgorithm, clock: &ManualClock) -> ClientSecretJwtSigner {
    ClientSecretJwtSigner::builder(secret(), SECRET_CLIENT, ISSUER)
        .algorithm(alg)
        .clock(Arc::new(clock.clone()))
        .backend(backend())
        .build()
        .expect("signer")
}

/// A compact JWS over JSON header and claims, MACed by jsonwebtoken's
/// independent HMAC with `key` bytes (of any length).
fn hs_token(alg: jsonwebtoken::Algorithm, key: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(key).expect("a non-empty key"),
        alg,
    )
    .expect("jsonwebtoken MACs");
    format!("{input}.{sig}")
}

fn hs_header(alg: &str) -> Value {
    json!({"alg": alg, "typ": "client-authentication+jwt"})
}

#[track_caller]
fn assert_kind<T: std::fmt::Debug>(result: Result<T, Error>, kind: ErrorKind) {
    match result {
        Ok(v) => panic!("expected `{kind:?}`, but it was accepted: {v:?}"),
        Err(e) => {
            assert_eq!(e.kind(), kind, "{e:?}");
            assert!(e.kind().is_rejection());
            assert_eq!(e.oauth_error(Usage::ClientAuthentication), "invalid_client");
            assert!(!format!("{e:?} {e}").contains(SECRET));
        }
    }
}

// ----- round trips -------------------------------------------------------

#[test]
fn round_trip_on_every_backend_and_algorithm_with_jsonwebtoken_as_oracle() {
    for &backend in Backend::available() {
        let server = Server::on(
            Arc::new(ClientRegistry::with_backend(backend)),
            Policy::new(ISSUER).allow_client_secret_jwt(),
        );
        for alg in HmacAlgorithm::ALL {
            let signer = ClientSecretJwtSigner::builder(secret(), SECRET_CLIENT, ISSUER)
                .algorithm(alg)
                .clock(Arc::new(server.clock.clone()))
                .backend(backend)
                .build()
                .unwrap();
            assert_eq!(signer.algorithm(), alg);
            let a = signer.sign().unwrap();
            assert_eq!(a.algorithm(), alg);
            assert_eq!(a.kid(), "");
            assert_eq!(a.usage(), Usage::ClientAuthentication);
            assert_eq!(
                a.expires_at(),
                std::time::UNIX_EPOCH + Duration::from_secs(NOW + 60)
            );

            // Same header shape and claims as private_key_jwt, minus the kid.
            let header = jsonwebtoken::decode_header(a.as_str()).unwrap();
            assert_eq!(header.alg, jwt_alg(alg));
            assert_eq!(header.kid, None);
            assert_eq!(header.typ.as_deref(), Some("client-authentication+jwt"));
            let form = a.form_params();
            assert_eq!(
                form.get("client_assertion_type"),
                Some(FormParams::CLIENT_ASSERTION_TYPE_JWT_BEARER)
            );
            assert_eq!(form.get("client_assertion"), Some(a.as_str()));

            // jsonwebtoken verifies our MAC.
            let mut v = jsonwebtoken::Validation::new(jwt_alg(alg));
            v.validate_exp = false;
            v.set_audience(&[ISSUER]);
            v.set_issuer(&[SECRET_CLIENT]);
            v.sub = Some(SECRET_CLIENT.to_owned());
            let claims = jsonwebtoken::decode::<Value>(
                a.as_str(),
                &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()).unwrap(),
                &v,
            )
            .unwrap_or_else(|e| panic!("{backend} {alg}: jsonwebtoken rejects: {e}"))
            .claims;
            assert_eq!(claims["jti"], a.jti());
            assert_eq!(claims["iat"], NOW);
            assert_eq!(claims["nbf"], NOW);
            assert_eq!(claims["exp"], NOW + 60);

            // We verify it.
            let client = server.auth(a.as_str()).unwrap();
            assert_eq!(client.method(), AuthMethod::ClientSecretJwt);
            assert_eq!(client.client_id(), SECRET_CLIENT);
            assert_eq!(client.jti(), a.jti());
            assert!(client.private_key_jwt().is_none());
            let v = client.client_secret_jwt().unwrap();
            assert_eq!(v.algorithm(), alg);
            assert_eq!(v.kid(), "");
            assert_eq!(v.audience(), ISSUER);
            assert_eq!(v.expires_at(), a.expires_at());

            // We verify jsonwebtoken's MAC.
            let theirs = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jwt_alg(alg)),
                &claims_for(SECRET_CLIENT, &format!("oracle-{backend}-{alg}"), NOW),
                &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
            )
            .unwrap();
            let client = server.auth(&theirs).unwrap();
            assert_eq!(client.client_secret_jwt().unwrap().algorithm(), alg);
        }
    }
}

#[test]
fn signer_options_and_async_authentication() {
    let server = Server::allowing();
    let signer = ClientSecretJwtSigner::builder(secret(), SECRET_CLIENT, ISSUER)
        .clock(Arc::new(server.clock.clone()))
        .lifetime(Duration::from_secs(120))
        .token_type(TokenType::Jwt)
        .claim("tenant", json!("blue"))
        .build()
        .unwrap();
    assert_eq!(signer.client_id(), SECRET_CLIENT);
    assert_eq!(signer.audience(), ISSUER);
    let a = signer.sign().unwrap();
    assert_eq!(a.algorithm(), HmacAlgorithm::Hs256, "the default");
    let payload = a.as_str().split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["tenant"], "blue");
    assert_eq!(claims["exp"], NOW + 120);
    let header = jsonwebtoken::decode_header(a.as_str()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let client = rt
        .block_on(
            server
                .verifier
                .authenticate_client_async(a.as_str(), Some(SECRET_CLIENT)),
        )
        .unwrap();
    assert_eq!(client.method(), AuthMethod::ClientSecretJwt);
    assert_kind(
        rt.block_on(server.verifier.authenticate_client_async(a.as_str(), None)),
        ErrorKind::Replayed,
    );

    // Builder checks are the AssertionSigner's.
    let build = |b: client_assertion::secret::ClientSecretJwtSignerBuilder| b.build().map(|_| ());
    let b = || ClientSecretJwtSigner::builder(secret(), SECRET_CLIENT, ISSUER);
    assert_eq!(
        build(b().claim("iss", json!("x"))).unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        build(b().lifetime(Duration::from_secs(3601)))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        build(ClientSecretJwtSigner::builder(secret(), "", ISSUER))
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );
}

#[test]
fn private_key_jwt_clients_still_authenticate_through_the_same_door() {
    let server = Server::allowing();
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    server
        .registry
        .register(KEY_CLIENT, &jwk_set([&*key]))
        .unwrap();
    let signer = AssertionSigner::builder(key, KEY_CLIENT, ISSUER)
        .clock(Arc::new(server.clock.clone()))
        .build()
        .unwrap();
    let a = signer.sign().unwrap();
    let client = server.auth(a.as_str()).unwrap();
    assert_eq!(client.method(), AuthMethod::PrivateKeyJwt);
    assert_eq!(
        client.private_key_jwt().unwrap().algorithm(),
        client_assertion::Algorithm::Es256
    );
    assert_kind(server.auth(a.as_str()), ErrorKind::Replayed);
    // And verify() still takes them.
    assert!(server
        .verifier
        .verify(signer.sign().unwrap().as_str())
        .is_ok());
}

// ----- secrets -------------------------------------------------------------

#[test]
fn short_secrets_are_refused_per_rfc_7518() {
    assert_eq!(ClientSecret::MIN_LEN, 32);
    for short in [&b""[..], b"hunter2", &[b'x'; 31]] {
        let e = ClientSecret::from_bytes(short).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::WeakSecret);
        assert_eq!(e.code(), "weak_secret");
        assert!(!e.kind().is_rejection(), "a local configuration error");
    }
    assert_eq!(
        ClientSecret::from_string("x".repeat(31))
            .unwrap_err()
            .kind(),
        ErrorKind::WeakSecret
    );
    let s32 = || ClientSecret::from_bytes(&[b'k'; 32]).unwrap();
    let s48 = || ClientSecret::from_bytes(&[b'k'; 48]).unwrap();
    let s64 = || ClientSecret::from_bytes(&[b'k'; 64]).unwrap();

    // Signers: the hash output size at least.
    let build = |s, alg| {
        ClientSecretJwtSigner::builder(s, "c", ISSUER)
            .algorithm(alg)
            .build()
            .map(|_| ())
    };
    assert!(build(s32(), HmacAlgorithm::Hs256).is_ok());
    assert_eq!(
        build(s32(), HmacAlgorithm::Hs384).unwrap_err().kind(),
        ErrorKind::WeakSecret
    );
    assert!(build(s48(), HmacAlgorithm::Hs384).is_ok());
    assert_eq!(
        build(s48(), HmacAlgorithm::Hs512).unwrap_err().kind(),
        ErrorKind::WeakSecret
    );
    assert!(build(s64(), HmacAlgorithm::Hs512).is_ok());

    // Registrations: every registered algorithm; nothing registered on error.
    let r = registry();
    let e = r
        .register_client_secret("c", s48(), &[HmacAlgorithm::Hs256, HmacAlgorithm::Hs512])
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WeakSecret);
    assert!(!r.contains("c"));
    assert_eq!(
        r.register_client_secret("c", s64(), &[])
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        r.register_client_secret("", s64(), &[HmacAlgorithm::Hs256])
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );
    r.register_client_secret("c", s48(), &[HmacAlgorithm::Hs384])
        .unwrap();
    assert!(r.contains("c"));
    assert_eq!(r.remote_fetch_count("c"), None);
}

#[test]
fn debug_output_never_shows_the_secret() {
    let s = secret();
    assert_eq!(format!("{s:?}"), "ClientSecret([redacted])");
    assert_eq!(format!("{s:#?}"), "ClientSecret([redacted])");
    let clock = ManualClock::at_unix(NOW);
    let builder = ClientSecretJwtSigner::builder(secret(), SECRET_CLIENT, ISSUER);
    let built = signer(HmacAlgorithm::Hs512, &clock);
    let server = Server::allowing();
    let a = built.sign().unwrap();
    let verified = server.auth(a.as_str()).unwrap();
    for text in [
        format!("{builder:?}"),
        format!("{built:?}"),
        format!("{built:#?}"),
        format!("{:?}", server.registry),
        format!("{:?}", server.verifier),
        format!("{a:?}"),
        format!("{verified:?}"),
        format!("{:?}", ClientSecret::from_bytes(&[0xa5; 40])),
    ] {
        assert!(!text.contains(SECRET), "{text}");
        assert!(!text.contains("SeCrEt-MaRkEr"), "{text}");
        assert!(!text.contains(&STANDARD.encode(SECRET)), "{text}");
    }
    assert!(format!("{built:?}").contains("[redacted]"));
    // The explicit accessor is the only way out.
    assert_eq!(s.secret_bytes(), SECRET.as_bytes());
    assert_eq!(s.clone_secret().secret_bytes(), SECRET.as_bytes());
}

#[test]
fn secrets_load_from_files_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client_secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    assert_eq!(
        ClientSecret::from_file(&path).unwrap().secret_bytes(),
        SECRET.as_bytes(),
        "one trailing newline is dropped"
    );
    std::fs::write(&path, format!("{SECRET}\r\n")).unwrap();
    assert_eq!(
        ClientSecret::from_file(&path).unwrap().secret_bytes(),
        SECRET.as_bytes()
    );
    std::fs::write(&path, format!(" {SECRET}\n\n")).unwrap();
    assert_eq!(
        ClientSecret::from_file(&path).unwrap().secret_bytes(),
        format!(" {SECRET}\n").as_bytes(),
        "only one line break is dropped"
    );
    std::fs::write(&path, "short\n").unwrap();
    assert_eq!(
        ClientSecret::from_file(&path).unwrap_err().kind(),
        ErrorKind::WeakSecret
    );
    assert_eq!(
        ClientSecret::from_file(dir.path().join("missing"))
            .unwrap_err()
            .kind(),
        ErrorKind::Io
    );

    let var = "CLIENT_ASSERTION_TEST_CLIENT_SECRET_7F3A";
    assert_eq!(
        ClientSecret::from_env(var).unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
    std::env::set_var(var, SECRET);
    assert_eq!(
        ClientSecret::from_env(var).unwrap().secret_bytes(),
        SECRET.as_bytes()
    );
    std::env::remove_var(var);

    let g = ClientSecret::generate().unwrap();
    assert!(std::str::from_utf8(g.secret_bytes()).is_ok(), "printable");
    assert!(g.secret_bytes().len() >= HmacAlgorithm::Hs512.min_secret_len());
}

// ----- confusion -------------------------------------------------------------

/// Every byte string of `key`'s public key an attacker could try as an HMAC
/// key: SPKI PEM (with and without the final newline), SPKI DER, the JWK
/// and JWK Set JSON, and the raw numbers (RSA `n`; EC `x || y` and the SEC1
/// point).
fn public_key_byte_strings(name: &str, key: &PrivateKey) -> Vec<(String, Vec<u8>)> {
    let pem = std::fs::read_to_string(format!(
        "{}/tests/data/{name}.spki.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).unwrap();
    let jwk = key.public_jwk();
    let jwk_json: Value = serde_json::from_str(&jwk.to_json()).unwrap();
    let field = |f: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwk_json[f].as_str().unwrap())
            .unwrap()
    };
    let mut out = vec![
        ("PEM".to_owned(), pem.clone().into_bytes()),
        (
            "PEM, trimmed".to_owned(),
            pem.trim_end().as_bytes().to_vec(),
        ),
        ("DER".to_owned(), der),
        ("JWK JSON".to_owned(), jwk.to_json().into_bytes()),
        (
            "JWK Set JSON".to_owned(),
            jwk_set([key as &dyn KeySource]).to_json().into_bytes(),
        ),
    ];
    if jwk_json["kty"] == "RSA" {
        out.push(("n".to_owned(), field("n")));
    } else {
        let (x, y) = (field("x"), field("y"));
        out.push(("x || y".to_owned(), [x.clone(), y.clone()].concat()));
        out.push(("SEC1 point".to_owned(), [vec![4], x, y].concat()));
    }
    out
}

#[test]
fn a_public_key_client_is_never_verified_with_hmac() {
    for (name, header_alg) in [("rsa2048", "RS256"), ("p256", "ES256")] {
        let key = PrivateKey::from_pem(
            &std::fs::read_to_string(format!(
                "{}/tests/data/{name}.pkcs8.pem",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap(),
        )
        .unwrap();
        // Both policies: HMAC allowed (so the HMAC path exists) and not.
        for policy in [
            Policy::new(ISSUER).allow_client_secret_jwt(),
            Policy::new(ISSUER),
        ] {
            let allowed = policy.allows_client_secret_jwt();
            let server = Server::new(policy);
            server
                .registry
                .register(KEY_CLIENT, &jwk_set([&key]))
                .unwrap();
            // Registered as PEM too: the PEM text itself is then "known".
            server
                .registry
                .register_pems(
                    "pem-client",
                    [std::fs::read_to_string(format!(
                        "{}/tests/data/{name}.spki.pem",
                        env!("CARGO_MANIFEST_DIR")
                    ))
                    .unwrap()
                    .as_str()],
                )
                .unwrap();
            let mut n = 0;
            let mut controls = 0;
            for client in [KEY_CLIENT, "pem-client"] {
                for (what, bytes) in public_key_byte_strings(name, &key) {
                    for alg in HmacAlgorithm::ALL {
                        for header in [
                            hs_header(alg.name()),
                            json!({"alg": alg.name(), "kid": key.kid()}),
                            json!({"alg": alg.name(), "typ": "JWT"}),
                        ] {
                            n += 1;
                            let token = hs_token(
                                jwt_alg(alg),
                                &bytes,
                                &header,
                                &claims_for(client, &format!("confusion-{n}"), NOW),
                            );
                            let ctx = format!("{name} {client} {what} {alg} {header}");
                            let e = server.auth(&token).expect_err(&ctx);
                            assert_eq!(e.kind(), ErrorKind::AlgorithmNotAllowed, "{ctx}");
                            let e = server.verifier.verify(&token).expect_err(&ctx);
                            assert_eq!(e.kind(), ErrorKind::AlgorithmNotAllowed, "{ctx}");
                        }
                        // Control: the same bytes registered as a *secret*
                        // make the same kind of token pass, so the refusal
                        // above comes from the registration kind alone.
                        if allowed && bytes.len() >= alg.min_secret_len() {
                            n += 1;
                            server
                                .registry
                                .register_client_secret(
                                    "control",
                                    ClientSecret::from_bytes(&bytes).unwrap(),
                                    &[alg],
                                )
                                .unwrap();
                            let token = hs_token(
                                jwt_alg(alg),
                                &bytes,
                                &hs_header(alg.name()),
                                &claims_for("control", &format!("control-{n}"), NOW),
                            );
                            assert!(server.auth(&token).is_ok(), "control {what} {alg}");
                            controls += 1;
                        }
                    }
                }
            }
            assert!(n > 100, "{n} attempts");
            assert!(!allowed || controls > 20, "{controls} controls");
            // The client itself still authenticates with its real key.
            let good = sign_json(
                &key,
                &json!({"alg": header_alg, "kid": key.kid()}),
                &claims_for(KEY_CLIENT, "real-one", NOW),
            );
            assert_eq!(
                server.auth(&good).unwrap().method(),
                AuthMethod::PrivateKeyJwt
            );
        }
    }
}

#[test]
fn a_secret_client_is_never_verified_with_anything_but_its_hmac_algorithms() {
    let server = Server::allowing();
    let claims = || claims_for(SECRET_CLIENT, &format!("b-{}", rand_suffix()), NOW);

    // Asymmetric headers, properly signed by some key: never.
    let rsa = PrivateKey::from_pem(include_str!("data/rsa2048.pkcs8.pem")).unwrap();
    let p256 = PrivateKey::generate(KeyType::P256).unwrap();
    let ed = PrivateKey::generate(KeyType::Ed25519).unwrap();
    for (key, alg) in [
        (&rsa, "RS256"),
        (&rsa, "PS256"),
        (&p256, "ES256"),
        (&ed, "EdDSA"),
    ] {
        let token = sign_json(key, &json!({"alg": alg}), &claims());
        assert_kind(server.auth(&token), ErrorKind::AlgorithmNotAllowed);
        assert_kind(
            server.verifier.verify(&token),
            ErrorKind::AlgorithmNotAllowed,
        );
    }
    // An asymmetric header over a MAC made with the right secret: never.
    for alg in ["RS256", "ES256", "PS256", "EdDSA"] {
        let input = format!(
            "{}.{}",
            b64(json!({"alg": alg}).to_string().as_bytes()),
            b64(claims().to_string().as_bytes())
        );
        let mac = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
            jsonwebtoken::Algorithm::HS256,
        )
        .unwrap();
        assert_kind(
            server.auth(&format!("{input}.{mac}")),
            ErrorKind::AlgorithmNotAllowed,
        );
    }
    // Unsecured (alg none), with and without a signature.
    for alg in ["none", "None", "NONE"] {
        let input = format!(
            "{}.{}",
            b64(json!({"alg": alg}).to_string().as_bytes()),
            b64(claims().to_string().as_bytes())
        );
        assert_kind(
            server.auth(&format!("{input}.")),
            ErrorKind::AlgorithmNotAllowed,
        );
        assert_kind(
            server.auth(&format!("{input}.{}", b64(b"x"))),
            ErrorKind::AlgorithmNotAllowed,
        );
    }
    // HMAC names that are not exactly ours.
    for alg in ["hs256", "HS1", "HS224", "HS256 ", "Hs512"] {
        let token = hs_token(
            jsonwebtoken::Algorithm::HS256,
            SECRET.as_bytes(),
            &json!({"alg": alg}),
            &claims(),
        );
        assert_kind(server.auth(&token), ErrorKind::AlgorithmNotAllowed);
    }
    // The right secret, the right algorithm: accepted (the control).
    let token = hs_token(
        jsonwebtoken::Algorithm::HS256,
        SECRET.as_bytes(),
        &hs_header("HS256"),
        &claims(),
    );
    assert!(server.auth(&token).is_ok());
    // verify() is private_key_jwt only, whatever the policy.
    let token = hs_token(
        jsonwebtoken::Algorithm::HS256,
        SECRET.as_bytes(),
        &hs_header("HS256"),
        &claims(),
    );
    assert_kind(
        server.verifier.verify(&token),
        ErrorKind::AlgorithmNotAllowed,
    );
    assert_kind(
        server
            .verifier
            .dangerous()
            .verify_without_replay_check(&token),
        ErrorKind::AlgorithmNotAllowed,
    );
}

#[test]
fn an_algorithm_outside_the_clients_registration_is_refused() {
    let server = Server::allowing();
    server
        .registry
        .register_client_secret("hs256-only", secret(), &[HmacAlgorithm::Hs256])
        .unwrap();
    for alg in [HmacAlgorithm::Hs384, HmacAlgorithm::Hs512] {
        // A correct MAC with the client's own secret, on an unregistered algorithm.
        let token = hs_token(
            jwt_alg(alg),
            SECRET.as_bytes(),
            &hs_header(alg.name()),
            &claims_for("hs256-only", &format!("x-{alg}"), NOW),
        );
        assert_kind(server.auth(&token), ErrorKind::AlgorithmNotAllowed);
    }
    let token = hs_token(
        jsonwebtoken::Algorithm::HS256,
        SECRET.as_bytes(),
        &hs_header("HS256"),
        &claims_for("hs256-only", "ok", NOW),
    );
    assert!(server.auth(&token).is_ok());
}

#[test]
fn hmac_is_refused_unless_the_policy_opts_in() {
    let server = Server::new(Policy::new(ISSUER));
    assert!(!server.verifier.policy().allows_client_secret_jwt());
    let a = signer(HmacAlgorithm::Hs256, &server.clock).sign().unwrap();
    assert_kind(server.auth(a.as_str()), ErrorKind::AlgorithmNotAllowed);
    assert_kind(
        server.verifier.verify(a.as_str()),
        ErrorKind::AlgorithmNotAllowed,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_kind(
        rt.block_on(server.verifier.authenticate_client_async(a.as_str(), None)),
        ErrorKind::AlgorithmNotAllowed,
    );
    // Opting in is the only change needed.
    let server = Server::allowing();
    assert!(server.verifier.policy().allows_client_secret_jwt());
    assert!(server.auth(a.as_str()).is_ok());
}

#[test]
fn a_wrong_secret_or_a_damaged_mac_is_a_bad_signature() {
    let server = Server::allowing();
    let wrong = "SeCrEt-MaRkEr-7f3a9c1e-client-secret-jwt-0123456789abcdefghijklM";
    for alg in HmacAlgorithm::ALL {
        let token = hs_token(
            jwt_alg(alg),
            wrong.as_bytes(),
            &hs_header(alg.name()),
            &claims_for(SECRET_CLIENT, &format!("w-{alg}"), NOW),
        );
        assert_kind(server.auth(&token), ErrorKind::BadSignature);
    }
    let good = signer(HmacAlgorithm::Hs512, &server.clock)
        .sign()
        .unwrap()
        .into_string();
    let (input, mac) = good.rsplit_once('.').unwrap();
    let mac = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(mac)
        .unwrap();
    assert_kind(
        server.auth(&format!("{input}.{}", b64(&mac[..32]))),
        ErrorKind::BadSignature,
    );
    assert_kind(server.auth(&format!("{input}.")), ErrorKind::BadSignature);
    let mut flipped = mac.clone();
    flipped[63] ^= 1;
    assert_kind(
        server.auth(&format!("{input}.{}", b64(&flipped))),
        ErrorKind::BadSignature,
    );
    // A token of the secret client whose claims were changed after MACing.
    let tampered = format!(
        "{}.{}.{}",
        input.split('.').next().unwrap(),
        b64(claims_for(SECRET_CLIENT, "tampered", NOW)
            .to_string()
            .as_bytes()),
        b64(&mac)
    );
    assert_kind(server.auth(&tampered), ErrorKind::BadSignature);
    // The untouched token still passes (and only once).
    assert!(server.auth(&good).is_ok());
}

#[test]
fn replay_and_claim_rules_are_unchanged() {
    let server = Server::allowing();
    let signer = signer(HmacAlgorithm::Hs256, &server.clock);
    let a = signer.sign().unwrap();
    assert!(server.auth(a.as_str()).is_ok());
    assert_kind(server.auth(a.as_str()), ErrorKind::Replayed);

    // client_id parameter.
    let b = signer.sign().unwrap();
    assert_kind(
        server
            .verifier
            .authenticate_client(b.as_str(), Some("someone-else")),
        ErrorKind::IssuerMismatch,
    );
    assert!(server
        .verifier
        .authenticate_client(b.as_str(), Some(SECRET_CLIENT))
        .is_ok());

    let mac = |claims: &Value| {
        hs_token(
            jsonwebtoken::Algorithm::HS256,
            SECRET.as_bytes(),
            &hs_header("HS256"),
            claims,
        )
    };
    let good = || claims_for(SECRET_CLIENT, &format!("c-{}", rand_suffix()), NOW);
    let with = |name: &str, v: Value| {
        let mut c = good();
        c[name] = v;
        c
    };
    assert_kind(
        server.auth(&mac(&with("aud", json!("https://evil.example")))),
        ErrorKind::AudienceMismatch,
    );
    assert_kind(
        server.auth(&mac(&with("aud", json!([ISSUER])))),
        ErrorKind::AudienceMismatch,
    );
    assert_kind(
        server.auth(&mac(&with("sub", json!("other")))),
        ErrorKind::SubjectMismatch,
    );
    assert_kind(
        server.auth(&mac(&with("exp", json!(NOW - 60)))),
        ErrorKind::Expired,
    );
    assert_kind(
        server.auth(&mac(&with("iat", json!(NOW + 600)))),
        ErrorKind::NotYetValid,
    );
    assert_kind(
        server.auth(&mac(&with("jti", json!(7)))),
        ErrorKind::InvalidClaim,
    );
    let mut no_jti = good();
    no_jti.as_object_mut().unwrap().remove("jti");
    assert_kind(server.auth(&mac(&no_jti)), ErrorKind::MissingClaim);
    assert_kind(
        server.auth(&mac(&with("iss", json!("unregistered")))),
        ErrorKind::UnknownClient,
    );
    // Forbidden header members apply too.
    let t = hs_token(
        jsonwebtoken::Algorithm::HS256,
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "jwk": {"kty": "oct", "k": "AAAA"}}),
        &good(),
    );
    assert_kind(server.auth(&t), ErrorKind::HeaderNotAllowed);
    let t = hs_token(
        jsonwebtoken::Algorithm::HS256,
        SECRET.as_bytes(),
        &json!({"alg": "HS256", "typ": "at+jwt"}),
        &good(),
    );
    assert_kind(server.auth(&t), ErrorKind::TypeNotAllowed);

    // Time moves on: the signer's assertion expires.
    let late = signer.sign().unwrap();
    server.clock.advance(Duration::from_secs(60 + 30));
    assert_kind(server.auth(late.as_str()), ErrorKind::Expired);
}

#[test]
fn registering_keys_replaces_a_secret_and_back() {
    let server = Server::allowing();
    let key = PrivateKey::generate(KeyType::P256).unwrap();
    let a = signer(HmacAlgorithm::Hs256, &server.clock).sign().unwrap();
    // Now SECRET_CLIENT has keys: its HMAC assertion is refused.
    server
        .registry
        .register(SECRET_CLIENT, &jwk_set([&key]))
        .unwrap();
    assert_kind(server.auth(a.as_str()), ErrorKind::AlgorithmNotAllowed);
    // And back to a secret: its key-signed assertions are refused.
    server
        .registry
        .register_client_secret(SECRET_CLIENT, secret(), &[HmacAlgorithm::Hs256])
        .unwrap();
    let signed = sign_json(
        &key,
        &json!({"alg": "ES256", "kid": key.kid()}),
        &claims_for(SECRET_CLIENT, "es", NOW),
    );
    assert_kind(server.auth(&signed), ErrorKind::AlgorithmNotAllowed);
    assert!(server.auth(a.as_str()).is_ok());
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{:06}", N.fetch_add(1, Ordering::Relaxed))
}
