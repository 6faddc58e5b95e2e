//! Workload identity federation: platform-shaped tokens (fixtures in
//! tests/data/federation/, each citing the documentation it follows)
//! signed with keys the tests generate, accepted by presets, and the
//! hostile cases per preset of issue 17.

mod verify_common;

use std::sync::Arc;
use std::time::Duration;

use client_assertion::federation::{
    Difference, FederatedVerifier, Match, Preset, SpiffeBundle, TrustKeys, TrustRule,
};
use client_assertion::time::ManualClock;
use client_assertion::{jwk_set, Algorithm, ErrorKind, KeySource, KeyType, PrivateKey};
use serde_json::{json, Value};
use verify_common::{sign_raw, ISSUER, NOW, TOKEN_ENDPOINT};

const K8S_ISSUER: &str =
    "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

fn rsa() -> Arc<PrivateKey> {
    let pem = include_str!("data/rsa2048.pkcs8.pem");
    Arc::new(PrivateKey::from_pem(pem).expect("fixture key"))
}

fn p256() -> Arc<PrivateKey> {
    Arc::new(PrivateKey::generate(KeyType::P256).expect("generate"))
}

/// A fixture's header and claims, `kid` set to the key's, times shifted
/// from offsets to absolute at [`NOW`].
fn fixture(name: &str, key: &dyn KeySource) -> (Value, Value) {
    let path = format!(
        "{}/tests/data/federation/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut header = doc["header"].clone();
    header["kid"] = json!(key.kid());
    let mut claims = doc["claims"].clone();
    for t in ["iat", "nbf", "exp"] {
        if let Some(offset) = claims.get(t).and_then(Value::as_i64) {
            claims[t] = json!(NOW as i64 + offset);
        }
    }
    (header, claims)
}

fn sign(key: &dyn KeySource, header: &Value, claims: &Value) -> String {
    let alg = Algorithm::from_name(header["alg"].as_str().unwrap()).unwrap();
    sign_raw(key, alg, &header.to_string(), &claims.to_string())
}

fn verifier(rules: Vec<TrustRule>, clock: &ManualClock) -> FederatedVerifier {
    FederatedVerifier::builder(ISSUER)
        .rules(rules)
        .backend(verify_common::backend())
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("verifier")
}

fn k8s_rule(key: &PrivateKey) -> TrustRule {
    TrustRule::kubernetes("payments", K8S_ISSUER, TrustKeys::Jwks(jwk_set([key])))
        .service_account("payments", "payments-api")
        .build()
        .unwrap()
}

fn github_rule(key: &PrivateKey) -> TrustRule {
    TrustRule::github_actions("deployer", TrustKeys::Jwks(jwk_set([key])))
        .repository_id("74")
        .subject("repo:octo-org/octo-repo:environment:prod")
        .build()
        .unwrap()
}

fn svid_bundle(key: &PrivateKey) -> SpiffeBundle {
    let jwk = key
        .public_jwk()
        .to_json()
        .replace(r#""use":"sig""#, r#""use":"jwt-svid""#);
    let json = format!(r#"{{"spiffe_sequence":1,"spiffe_refresh_hint":300,"keys":[{jwk}]}}"#);
    SpiffeBundle::from_json("example.org", &json).unwrap()
}

fn spiffe_rule(key: &PrivateKey) -> TrustRule {
    TrustRule::spiffe("mesh-api", svid_bundle(key))
        .spiffe_id("/ns/payments")
        .build()
        .unwrap()
}

// ------------------------------------------------------------- Kubernetes

#[test]
fn kubernetes_projected_token_is_accepted_and_reused() {
    let key = rsa();
    let clock = ManualClock::at_unix(NOW);
    let v = verifier(vec![k8s_rule(&key)], &clock);
    let (h, c) = fixture("kubernetes_projected.json", &*key);
    let token = sign(&*key, &h, &c);
    let client = v.verify(&token).expect("accepted");
    assert_eq!(client.client_id(), "payments");
    assert_eq!(client.preset(), Preset::Kubernetes);
    assert_eq!(client.issuer(), K8S_ISSUER);
    assert_eq!(
        client.subject(),
        "system:serviceaccount:payments:payments-api"
    );
    assert_eq!(client.claim("pod"), Some("payments-api-69cbfb9798-jv9gn"));
    assert_eq!(
        client.claim("node"),
        Some("ip-10-0-12-34.eu-west-1.compute.internal")
    );
    assert_eq!(
        client.claim("service_account_uid"),
        Some("a087d5a0-e1dd-43ec-93ac-f13d89cd13af")
    );
    // Reused by design (the kubelet hands out the same token): no jti record.
    clock.advance(Duration::from_secs(1200));
    assert_eq!(v.verify(&token).unwrap().client_id(), "payments");
}

#[test]
fn kubernetes_token_older_than_the_preset_age_is_too_old() {
    let key = rsa();
    let clock = ManualClock::at_unix(NOW);
    let v = verifier(vec![k8s_rule(&key)], &clock);
    let (h, mut c) = fixture("kubernetes_projected.json", &*key);
    c["exp"] = json!(NOW + 7200);
    let token = sign(&*key, &h, &c);
    clock.advance(Duration::from_secs(3600 + 31));
    let e = v.verify(&token).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LifetimeTooLong);
    assert!(matches!(
        e.near_miss().unwrap().difference(),
        Difference::TooOld {
            max_age_secs: 3600,
            ..
        }
    ));
}

#[test]
fn kubernetes_hostile_claims() {
    let key = rsa();
    let clock = ManualClock::at_unix(NOW);
    let v = verifier(vec![k8s_rule(&key)], &clock);
    let (h, c) = fixture("kubernetes_projected.json", &*key);
    let kind = |c: &Value| v.verify(&sign(&*key, &h, c)).unwrap_err();
    // Another service account of the namespace.
    let mut other = c.clone();
    other["sub"] = json!("system:serviceaccount:payments:default");
    other["kubernetes.io"]["serviceaccount"]["name"] = json!("default");
    assert_eq!(kind(&other).kind(), ErrorKind::SubjectMismatch);
    // sub and the kubernetes.io claim disagree.
    let mut split = c.clone();
    split["kubernetes.io"]["namespace"] = json!("other");
    assert_eq!(kind(&split).kind(), ErrorKind::SubjectMismatch);
    // A missing claim never matches.
    let mut missing = c.clone();
    missing.as_object_mut().unwrap().remove("kubernetes.io");
    assert_eq!(kind(&missing).kind(), ErrorKind::MissingClaim);
    // A duplicate member inside the platform claim is malformed.
    let body = c.to_string().replacen(
        r#""namespace":"payments""#,
        r#""namespace":"payments","namespace":"other""#,
        1,
    );
    let dup = sign_raw(&*key, Algorithm::Rs256, &h.to_string(), &body);
    assert_eq!(v.verify(&dup).unwrap_err().kind(), ErrorKind::Malformed);
    // The issuer differs by a trailing slash, then by case.
    let mut slash = c.clone();
    slash["iss"] = json!(format!("{K8S_ISSUER}/"));
    let e = kind(&slash);
    assert_eq!(e.kind(), ErrorKind::UnknownIssuer);
    assert!(matches!(
        e.near_miss().unwrap().difference(),
        Difference::IssuerTrailingSlash { .. }
    ));
    let mut case = c.clone();
    case["iss"] = json!(K8S_ISSUER.to_uppercase());
    let e = kind(&case);
    assert!(matches!(
        e.near_miss().unwrap().difference(),
        Difference::IssuerCase { .. }
    ));
    // The audience is the token endpoint.
    let mut aud = c.clone();
    aud["aud"] = json!([TOKEN_ENDPOINT]);
    let e = kind(&aud);
    assert_eq!(e.kind(), ErrorKind::AudienceMismatch);
    assert!(matches!(
        e.near_miss().unwrap().difference(),
        Difference::AudienceIsTokenEndpoint { .. }
    ));
    assert!(e.near_miss().unwrap().to_string().contains("payments#0"));
    // Two audiences are never accepted.
    let mut two = c.clone();
    two["aud"] = json!([ISSUER, "https://kubernetes.default.svc"]);
    assert_eq!(kind(&two).kind(), ErrorKind::AudienceMismatch);
    // exp is required.
    let mut no_exp = c;
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(kind(&no_exp).kind(), ErrorKind::MissingClaim);
}

// ---------------------------------------------------------- GitHub Actions

#[test]
fn github_actions_token_is_accepted_once() {
    let key = rsa();
    let clock = ManualClock::at_unix(NOW);
    let v = verifier(vec![github_rule(&key)], &clock);
    let (h, c) = fixture("github_actions.json", &*key);
    let token = sign(&*key, &h, &c);
    let client = v.verify(&token).expect("accepted");
    assert_eq!(client.client_id(), "deployer");
    assert_eq!(
        client.issuer(),
        "https://token.actions.githubusercontent.com"
    );
    assert_eq!(client.claim("repository_id"), Some("74"));
    assert_eq!(
        client.claim("job_workflow_ref"),
        Some("octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main")
    );
    assert_eq!(client.claim("environment"), Some("prod"));
    // Single-use in spirit: the jti is recorded.
    assert_eq!(v.verify(&token).unwrap_err().kind(), ErrorKind::Replayed);
}

#[test]
fn github_shared_issuer_needs_an_immutable_pin() {
    let key = rsa();
    let keys = || TrustKeys::Jwks(jwk_set([&*key]));
    let unpinned = TrustRule::github_actions("ci", keys())
        .subject("repo:octo-org/octo-repo:ref:refs/heads/main")
        .build()
        .unwrap_err();
    assert_eq!(unpinned.kind(), ErrorKind::SharedIssuerUnpinned);
    // A Contains matcher is no pin; an immutable-ID subject is.
    let contains = TrustRule::github_actions("ci", keys())
        .require(["repository_id"], Match::Contains("74".into()))
        .build()
        .unwrap_err();
    assert_eq!(contains.kind(), ErrorKind::SharedIssuerUnpinned);
    TrustRule::github_actions("ci", keys())
        .subject("repo:octo-org@65/octo-repo@74:ref:refs/heads/main")
        .build()
        .expect("immutable subject pins");
    // GitLab.com and Terraform Cloud as generic OIDC, typo'd or not.
    for iss in [
        "https://gitlab.com",
        "https://GitLab.com/",
        "https://app.terraform.io",
    ] {
        let e = TrustRule::oidc("ci", iss, keys())
            .subject("project_path:g/p:ref_type:branch:ref:main")
            .build();
        assert_eq!(
            e.unwrap_err().kind(),
            ErrorKind::SharedIssuerUnpinned,
            "{iss}"
        );
    }
    TrustRule::oidc("ci", "https://gitlab.com", keys())
        .require(["project_id"], Match::Exact("42".into()))
        .build()
        .expect("pinned");
    // No matcher at all is refused for any issuer.
    let e = TrustRule::kubernetes("k", K8S_ISSUER, keys())
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
}

#[test]
fn github_hostile_tokens() {
    let key = rsa();
    let clock = ManualClock::at_unix(NOW);
    let v = verifier(vec![github_rule(&key)], &clock);
    let (h, c) = fixture("github_actions.json", &*key);
    let reject = |c: &Value| v.verify(&sign(&*key, &h, c)).unwrap_err();
    // Another repository on the shared issuer, even under the same name
    // (deleted and re-created: a new repository_id).
    let mut same_name = c.clone();
    same_name["repository_id"] = json!("999");
    same_name["jti"] = json!("j2");
    assert_eq!(reject(&same_name).kind(), ErrorKind::InvalidClaim);
    let mut other = c.clone();
    other["sub"] = json!("repo:evil-org/octo-repo:environment:prod");
    other["jti"] = json!("j3");
    assert_eq!(reject(&other).kind(), ErrorKind::SubjectMismatch);
    // A missing pin claim never matches.
    let mut missing = c.clone();
    missing.as_object_mut().unwrap().remove("repository_id");
    missing["jti"] = json!("j4");
    let e = reject(&missing);
    assert_eq!(e.kind(), ErrorKind::MissingClaim);
    assert_eq!(
        e.near_miss().unwrap().difference(),
        &Difference::MissingClaim {
            claim: "repository_id".into()
        }
    );
    // Presented past exp (GitHub tokens live 300 s).
    let mut old = c;
    old["jti"] = json!("j5");
    let token = sign(&*key, &h, &old);
    clock.advance(Duration::from_secs(299));
    clock.advance(Duration::from_secs(40));
    assert_eq!(v.verify(&token).unwrap_err().kind(), ErrorKind::Expired);
}

#[test]
fn github_legacy_subject_where_the_immutable_one_is_expected() {
    let key = rsa();
    let clock = ManualClock::at_unix(NOW);
    let rule = TrustRule::github_actions("deployer", TrustKeys::Jwks(jwk_set([&*key])))
        .subject("repo:octo-org@65/octo-repo@74:environment:prod")
        .build()
        .unwrap();
    let v = verifier(vec![rule], &clock);
    let (h, c) = fixture("github_actions.json", &*key);
    let e = v.verify(&sign(&*key, &h, &c)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::SubjectMismatch);
    assert_eq!(
        e.near_miss().unwrap().difference(),
        &Difference::LegacyGithubSubject
    );
    // The immutable-ID subject (repositories created from 15 July 2026).
    let mut immutable = c;
    immutable["sub"] = json!("repo:octo-org@65/octo-repo@74:environment:prod");
    let client = v.verify(&sign(&*key, &h, &immutable)).unwrap();
    assert_eq!(
        client.subject(),
        "repo:octo-org@65/octo-repo@74:environment:prod"
    );
    // Spoofing the other way: an immutable subject against a legacy rule.
    let legacy = verifier(vec![github_rule(&key)], &clock);
    let mut spoof = immutable;
    spoof["jti"] = json!("other");
    let e = legacy.verify(&sign(&*key, &h, &spoof)).unwrap_err();
    assert_eq!(
        e.near_miss().unwrap().difference(),
        &Difference::ImmutableGithubSubject
    );
}

// ------------------------------------------------------------------ SPIFFE

#[test]
fn spiffe_jwt_svid_is_accepted_without_iss_and_reused() {
    let key = p256();
    let clock = ManualClock::at_unix(NOW);
    let v = verifier(vec![spiffe_rule(&key)], &clock);
    let (h, c) = fixture("spiffe_jwt_svid.json", &*key);
    let token = sign(&*key, &h, &c);
    let client = v
        .verify_request(
            client_assertion::FormParams::CLIENT_ASSERTION_TYPE_JWT_SPIFFE,
            &token,
        )
        .expect("accepted");
    assert_eq!(client.client_id(), "mesh-api");
    assert_eq!(client.issuer(), "spiffe://example.org");
    assert_eq!(client.jti(), "");
    // May be reused until it expires.
    v.verify_request(
        client_assertion::FormParams::CLIENT_ASSERTION_TYPE_JWT_BEARER,
        &token,
    )
    .expect("reused");
    let e = v.verify_request("urn:example:other", &token).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeNotAllowed);
    // jwt-spiffe is for JWT-SVIDs only.
    let k8s = rsa();
    let v2 = verifier(vec![k8s_rule(&k8s), spiffe_rule(&key)], &clock);
    let (kh, kc) = fixture("kubernetes_projected.json", &*k8s);
    let k8s_token = sign(&*k8s, &kh, &kc);
    let jwt_spiffe = client_assertion::FormParams::CLIENT_ASSERTION_TYPE_JWT_SPIFFE;
    let e = v2.verify_request(jwt_spiffe, &k8s_token).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TypeNotAllowed);
    assert_eq!(
        v2.verify_request(jwt_spiffe, &token).unwrap().client_id(),
        "mesh-api"
    );
    // A JWT-SVID's optional iss does not move its anchor.
    let mut with_iss = c;
    with_iss["iss"] = json!("https://spire.example.org");
    v.verify(&sign(&*key, &h, &with_iss))
        .expect("anchored by trust domain");
}

#[test]
fn spiffe_hostile_svids() {
    let key = p256();
    let clock = ManualClock::at_unix(NOW);
    let v = verifier(vec![spiffe_rule(&key)], &clock);
    let (h, c) = fixture("spiffe_jwt_svid.json", &*key);
    let reject = |h: &Value, c: &Value| v.verify(&sign(&*key, h, c)).unwrap_err().kind();
    let mut typ = h.clone();
    typ["typ"] = json!("client-authentication+jwt");
    assert_eq!(reject(&typ, &c), ErrorKind::TypeNotAllowed);
    let mut jose = h.clone();
    jose["typ"] = json!("JOSE");
    v.verify(&sign(&*key, &jose, &c)).expect("JOSE is allowed");
    for (sub, kind) in [
        (
            "spiffe://other.org/ns/payments/sa/api",
            ErrorKind::UnknownIssuer,
        ),
        (
            "spiffe://example.org/ns/payments/../admin",
            ErrorKind::SubjectMismatch,
        ),
        (
            "spiffe://example.org/ns//payments",
            ErrorKind::SubjectMismatch,
        ),
        (
            "spiffe://Example.org/ns/payments/sa/api",
            ErrorKind::MissingClaim,
        ),
        (
            "spiffe://example.org/ns/paymentsx/sa/api",
            ErrorKind::SubjectMismatch,
        ),
    ] {
        let mut bad = c.clone();
        bad["sub"] = json!(sub);
        assert_eq!(reject(&h, &bad), kind, "{sub}");
    }
    for claim in ["aud", "exp"] {
        let mut missing = c.clone();
        missing.as_object_mut().unwrap().remove(claim);
        assert_eq!(reject(&h, &missing), ErrorKind::MissingClaim, "{claim}");
    }
}

#[test]
fn spiffe_bundle_keys_need_use_jwt_svid_and_kid() {
    let key = p256();
    let sig = key.public_jwk().to_json();
    let only_sig = format!(r#"{{"keys":[{sig}]}}"#);
    assert_eq!(
        SpiffeBundle::from_json("example.org", &only_sig)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidConfig
    );
    let svid = sig.replace(r#""use":"sig""#, r#""use":"jwt-svid""#);
    let no_kid: Value = {
        let mut v: Value = serde_json::from_str(&svid).unwrap();
        v.as_object_mut().unwrap().remove("kid");
        v
    };
    let e = SpiffeBundle::from_json("example.org", &format!(r#"{{"keys":[{no_kid}]}}"#));
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidConfig);
    // A token signed with the bundle's `use: sig` key is refused.
    let other = p256();
    let mixed = format!(
        r#"{{"keys":[{svid},{}]}}"#,
        other.public_jwk().with_kid("plain").to_json()
    );
    let bundle = SpiffeBundle::from_json("example.org", &mixed).unwrap();
    assert_eq!(bundle.skipped_keys(), 1);
    let clock = ManualClock::at_unix(NOW);
    let rule = TrustRule::spiffe("mesh", bundle)
        .spiffe_id("")
        .build()
        .unwrap();
    let v = verifier(vec![rule], &clock);
    let (mut h, c) = fixture("spiffe_jwt_svid.json", &*other);
    h["kid"] = json!("plain");
    assert_eq!(
        v.verify(&sign(&*other, &h, &c)).unwrap_err().kind(),
        ErrorKind::UnknownKey
    );
}

// ---------------------------------------------------- the verifier itself

#[test]
fn a_token_matching_two_clients_is_ambiguous() {
    let key = rsa();
    let clock = ManualClock::at_unix(NOW);
    let second = TrustRule::kubernetes("billing", K8S_ISSUER, TrustKeys::Jwks(jwk_set([&*key])))
        .require(
            ["kubernetes.io", "namespace"],
            Match::OneOf(vec!["payments".into(), "billing".into()]),
        )
        .build()
        .unwrap();
    let v = verifier(vec![k8s_rule(&key), second], &clock);
    let (h, c) = fixture("kubernetes_projected.json", &*key);
    let e = v.verify(&sign(&*key, &h, &c)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AmbiguousClient);
    assert_eq!(e.code(), "ambiguous_client");
    assert_eq!(
        e.oauth_error(client_assertion::Usage::ClientAuthentication),
        "invalid_client"
    );
}

#[test]
fn rules_of_one_issuer_must_share_keys_and_rule_audiences_are_exact() {
    let (a, b) = (rsa(), p256());
    let r1 = k8s_rule(&a);
    let r2 = TrustRule::kubernetes("x", K8S_ISSUER, TrustKeys::Jwks(jwk_set([&*b])))
        .service_account("x", "y")
        .build()
        .unwrap();
    let e = FederatedVerifier::builder(ISSUER)
        .rule(r1)
        .rule(r2)
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
    // An Entra-style exchange audience, named by the rule.
    let clock = ManualClock::at_unix(NOW);
    let rule = TrustRule::kubernetes("payments", K8S_ISSUER, TrustKeys::Jwks(jwk_set([&*a])))
        .service_account("payments", "payments-api")
        .audience("api://AzureADTokenExchange")
        .build()
        .unwrap();
    let v = verifier(vec![rule], &clock);
    let (h, mut c) = fixture("kubernetes_projected.json", &*a);
    assert_eq!(
        v.verify(&sign(&*a, &h, &c)).unwrap_err().kind(),
        ErrorKind::AudienceMismatch
    );
    c["aud"] = json!(["api://AzureADTokenExchange"]);
    v.verify(&sign(&*a, &h, &c)).expect("the rule's audience");
}

#[test]
fn oidc_rules_choose_jti_recording_and_record_requires_jti() {
    let key = p256();
    let clock = ManualClock::at_unix(NOW);
    let iss = "https://idp.example.org";
    let rule = |record| {
        TrustRule::oidc("app", iss, TrustKeys::Jwks(jwk_set([&*key])))
            .subject("workload-1")
            .record_jti(record)
            .build()
            .unwrap()
    };
    let h = json!({"alg": "ES256", "kid": key.kid(), "typ": "JWT"});
    let c = json!({"iss": iss, "sub": "workload-1", "aud": ISSUER, "iat": NOW, "exp": NOW + 60, "jti": "a"});
    let token = sign(&*key, &h, &c);
    let recording = verifier(vec![rule(true)], &clock);
    recording.verify(&token).unwrap();
    assert_eq!(
        recording.verify(&token).unwrap_err().kind(),
        ErrorKind::Replayed
    );
    let mut no_jti = c.clone();
    no_jti.as_object_mut().unwrap().remove("jti");
    let e = recording.verify(&sign(&*key, &h, &no_jti)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::MissingClaim);
    let reusing = verifier(vec![rule(false)], &clock);
    reusing.verify(&token).unwrap();
    reusing.verify(&token).unwrap();
    // Only an OIDC rule chooses.
    let e = TrustRule::kubernetes("k", K8S_ISSUER, TrustKeys::Jwks(jwk_set([&*key])))
        .service_account("a", "b")
        .record_jti(true)
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig);
}

#[test]
fn preset_algorithms_and_embedded_keys() {
    let ed = Arc::new(PrivateKey::generate(KeyType::Ed25519).unwrap());
    let clock = ManualClock::at_unix(NOW);
    // SPIFFE never takes EdDSA, even from a bundle key.
    let v = verifier(vec![spiffe_rule(&ed)], &clock);
    let (mut h, c) = fixture("spiffe_jwt_svid.json", &*ed);
    h["alg"] = json!("EdDSA");
    assert_eq!(
        v.verify(&sign(&*ed, &h, &c)).unwrap_err().kind(),
        ErrorKind::AlgorithmNotAllowed
    );
    // A header key is never used.
    let key = rsa();
    let v = verifier(vec![k8s_rule(&key)], &clock);
    let (mut h, c) = fixture("kubernetes_projected.json", &*key);
    h["jku"] = json!("https://evil.example/jwks");
    assert_eq!(
        v.verify(&sign(&*key, &h, &c)).unwrap_err().kind(),
        ErrorKind::HeaderNotAllowed
    );
}

// ------------------------------------------------------------ remote keys

#[derive(Debug)]
struct Jwks(String, std::sync::atomic::AtomicUsize);

impl client_assertion::server::JwksFetcher for Jwks {
    fn fetch<'a>(&'a self, issuer: &'a str) -> client_assertion::server::FetchFuture<'a> {
        assert_eq!(issuer, K8S_ISSUER);
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let body = self.0.clone().into_bytes();
        Box::pin(async move { Ok(body) })
    }
}

#[tokio::test]
async fn remote_keys_through_the_jwks_fetcher() {
    let key = rsa();
    let clock = ManualClock::at_unix(NOW);
    let fetcher = Arc::new(Jwks(jwk_set([&*key]).to_json(), Default::default()));
    let keys = TrustKeys::Remote(fetcher.clone(), Default::default());
    let rule = TrustRule::kubernetes("payments", K8S_ISSUER, keys)
        .service_account("payments", "payments-api")
        .build()
        .unwrap();
    let v = verifier(vec![rule], &clock);
    let (h, c) = fixture("kubernetes_projected.json", &*key);
    let token = sign(&*key, &h, &c);
    // The sync path never fetches.
    assert_eq!(
        v.verify(&token).unwrap_err().kind(),
        ErrorKind::KeysUnavailable
    );
    assert_eq!(
        v.verify_async(&token).await.unwrap().client_id(),
        "payments"
    );
    assert_eq!(
        v.verify_async(&token).await.unwrap().client_id(),
        "payments"
    );
    assert_eq!(
        fetcher.1.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "cached"
    );
    v.verify(&token).expect("cached keys serve the sync path");
}

#[test]
fn matcher_and_rule_configuration_errors() {
    use client_assertion::federation::ClaimMatcher;
    let spiffe = |prefix: &str| {
        ClaimMatcher::claim(
            "sub",
            Match::SpiffeId {
                trust_domain: "example.org".into(),
                path_prefix: prefix.into(),
            },
        )
    };
    assert!(spiffe("").is_ok() && spiffe("/").is_ok() && spiffe("/ns/prod").is_ok());
    for bad in ["ns/prod", "/ns/../x", "//x"] {
        assert_eq!(
            spiffe(bad).unwrap_err().kind(),
            ErrorKind::InvalidConfig,
            "{bad}"
        );
    }
    let bad_td = ClaimMatcher::claim(
        "sub",
        Match::SpiffeId {
            trust_domain: "Example.org".into(),
            path_prefix: String::new(),
        },
    );
    assert!(bad_td.is_err());
    assert!(ClaimMatcher::claim("x", Match::OneOf(vec![])).is_err());
    assert!(ClaimMatcher::new(["sub", "x"], Match::Exact("a".into())).is_err());
    // spiffe_id on a non-SPIFFE rule (whatever its issuer's bytes) is an error, never a panic.
    let key = p256();
    let e = TrustRule::oidc("c", "ééééé", TrustKeys::Jwks(jwk_set([&*key])))
        .spiffe_id("")
        .build();
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidConfig);
    // A SPIFFE bundle on a non-SPIFFE rule, and a GitHub rule's keys elsewhere.
    let bundle = svid_bundle(&key);
    let e = TrustRule::oidc("c", "https://idp", TrustKeys::Bundle(bundle))
        .subject("s")
        .build();
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidConfig);
    let e = TrustRule::kubernetes("c", K8S_ISSUER, TrustKeys::Jwks(jwk_set([&*key])))
        .service_account("a", "b")
        .max_age(Duration::ZERO)
        .build();
    assert_eq!(e.unwrap_err().kind(), ErrorKind::InvalidConfig);
}
