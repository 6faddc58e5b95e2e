//! The token endpoint around the verifier (issue 18): request parsing,
//! error responses, method and algorithm binding, discovery metadata, and
//! the client store with its caches.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_assertion::secret::{ClientSecret, ClientSecretJwtSigner, HmacAlgorithm};
use client_assertion::server::{
    ClientAuthRules, ClientCache, ClientCredentials, ClientStore, Lookup, PresentedMethod,
    ServerMetadata, StoreFuture, StoredClient, TokenEndpoint, TokenRequest,
};
use client_assertion::*;

const ISSUER: &str = "https://as.example";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&urlencode(k));
        out.push('=');
        out.push_str(&urlencode(v));
    }
    out.into_bytes()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn kind_of<T: std::fmt::Debug>(r: Result<T, Error>) -> ErrorKind {
    r.expect_err("expected an error").kind()
}

// ----- request parsing -----

#[test]
fn a_well_formed_request_presents_one_assertion() {
    let body = form(&[
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", "a.b.c"),
        ("client_id", "c1"),
        ("scope", "read write"),
        ("resource", "https://rs1.example"),
        ("resource", "https://rs2.example"),
        ("state", ""),
    ]);
    let r = TokenRequest::from_form(&body, None).unwrap();
    assert_eq!(r.method(), PresentedMethod::Assertion);
    assert_eq!(r.client_assertion(), Some("a.b.c"));
    assert_eq!(r.client_id(), Some("c1"));
    assert_eq!(r.scope(), Some("read write"));
    assert_eq!(r.params("resource").count(), 2);
    assert_eq!(
        r.param("state"),
        None,
        "a parameter without value is omitted"
    );
    assert!(
        !format!("{r:?}").contains("a.b.c"),
        "Debug elides the assertion"
    );
    // The same from pairs, as a framework's form extractor gives them.
    let pairs = [
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", "a.b.c"),
    ];
    let r = TokenRequest::from_pairs(pairs, None).unwrap();
    assert_eq!(r.require_assertion().unwrap(), "a.b.c");
}

#[test]
fn duplicate_parameters_are_refused() {
    for name in ["grant_type", "client_assertion", "client_id", "scope"] {
        let body = form(&[
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", "a.b.c"),
            (name, "1"),
            (name, "2"),
        ]);
        let err = TokenRequest::from_form(&body, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DuplicateParameter, "{name}");
        let response = err.token_response();
        assert_eq!(
            (response.status(), response.error()),
            (400, "invalid_request")
        );
    }
    let twice = [
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion_type", JWT_BEARER),
    ];
    assert_eq!(
        kind_of(TokenRequest::from_pairs(twice, None)),
        ErrorKind::DuplicateParameter
    );
}

#[test]
fn two_methods_at_once_are_refused() {
    let assertion = form(&[
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", "a.b.c"),
    ]);
    let basic = Some("Basic YzE6c2VjcmV0");
    assert_eq!(
        kind_of(TokenRequest::from_form(&assertion, basic)),
        ErrorKind::MultipleAuthMethods
    );
    let with_secret = form(&[
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", "a.b.c"),
        ("client_secret", "s"),
    ]);
    assert_eq!(
        kind_of(TokenRequest::from_form(&with_secret, None)),
        ErrorKind::MultipleAuthMethods
    );
    let post_and_basic = form(&[("client_id", "c1"), ("client_secret", "s")]);
    let err = TokenRequest::from_form(&post_and_basic, basic).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MultipleAuthMethods);
    assert_eq!(err.token_response().status(), 400);
    // One method each is fine.
    let r = TokenRequest::from_form(&post_and_basic[..0], basic).unwrap();
    assert_eq!(r.method(), PresentedMethod::AuthorizationHeader);
    let r = TokenRequest::from_form(&post_and_basic, None).unwrap();
    assert_eq!(r.method(), PresentedMethod::ClientSecretPost);
    let r = TokenRequest::from_form(b"client_id=c1", None).unwrap();
    assert_eq!(r.method(), PresentedMethod::ClientIdOnly);
    assert_eq!(
        TokenRequest::from_form(b"", None).unwrap().method(),
        PresentedMethod::Nothing
    );
}

#[test]
fn assertion_type_must_be_jwt_bearer_and_come_with_an_assertion() {
    let saml = form(&[
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
        ),
        ("client_assertion", "PHNhbWw+"),
    ]);
    let err = TokenRequest::from_form(&saml, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedAssertionType);
    assert_eq!(err.token_response().error(), "invalid_request");
    let no_type = form(&[("client_assertion", "a.b.c")]);
    assert_eq!(
        kind_of(TokenRequest::from_form(&no_type, None)),
        ErrorKind::MissingParameter
    );
    let no_assertion = form(&[("client_assertion_type", JWT_BEARER)]);
    assert_eq!(
        kind_of(TokenRequest::from_form(&no_assertion, None)),
        ErrorKind::MissingParameter
    );
    for bad in [&b"a=%zz"[..], b"a=%C3", &vec![b'a'; 70 * 1024]] {
        let err = TokenRequest::from_form(bad, None).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert_eq!(err.token_response().status(), 400);
    }
}

// ----- the endpoint over a registry -----

struct Fixture {
    key: Arc<PrivateKey>,
    endpoint: TokenEndpoint,
}

fn fixture(policy: Policy) -> Fixture {
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let registry = Arc::new(ClientRegistry::new());
    registry.register("c1", &jwk_set([&*key])).unwrap();
    let verifier = Verifier::builder(ISSUER, registry)
        .policy(policy)
        .build()
        .unwrap();
    Fixture {
        key,
        endpoint: TokenEndpoint::new(verifier),
    }
}

fn signed(key: &Arc<PrivateKey>, client_id: &str) -> String {
    AssertionSigner::builder(key.clone(), client_id, ISSUER)
        .build()
        .unwrap()
        .sign()
        .unwrap()
        .into_string()
}

fn request_for(assertion: &str, client_id: Option<&str>) -> TokenRequest {
    let mut params = FormParams::client_authentication(assertion).client_credentials();
    if let Some(id) = client_id {
        params = params.with_client_id(id);
    }
    TokenRequest::from_form(params.to_urlencoded().as_bytes(), None).unwrap()
}

#[test]
fn a_client_id_that_disagrees_with_the_assertion_is_refused() {
    let f = fixture(Policy::new(ISSUER));
    let a = signed(&f.key, "c1");
    let err = f
        .endpoint
        .authenticate(&request_for(&a, Some("c2")))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IssuerMismatch);
    let r = request_for(&a, Some("c2")).error_response(&err);
    assert_eq!((r.status(), r.error()), (401, "invalid_client"));
    // The same assertion with the right client_id (or none) is accepted once.
    let ok = f
        .endpoint
        .authenticate(&request_for(&a, Some("c1")))
        .unwrap();
    assert_eq!(ok.client_id(), "c1");
    let replay = f.endpoint.authenticate(&request_for(&a, None)).unwrap_err();
    assert_eq!(replay.kind(), ErrorKind::Replayed);
    assert_eq!(replay.token_response().status(), 401);
}

#[test]
fn other_methods_are_refused_with_a_challenge_for_the_header() {
    let f = fixture(Policy::new(ISSUER));
    let basic =
        TokenRequest::from_form(b"grant_type=client_credentials", Some("Basic YzE6cw==")).unwrap();
    let err = f.endpoint.authenticate(&basic).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthMethodNotAllowed);
    let r = basic.error_response(&err);
    assert_eq!((r.status(), r.error()), (401, "invalid_client"));
    assert_eq!(r.header("www-authenticate"), Some("Basic realm=\"token\""));
    let post = TokenRequest::from_form(b"client_id=c1&client_secret=s", None).unwrap();
    let err = f.endpoint.authenticate(&post).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthMethodNotAllowed);
    assert_eq!(post.error_response(&err).header("www-authenticate"), None);
}

#[test]
fn a_replay_cache_outage_is_503_not_invalid_client() {
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let registry = Arc::new(ClientRegistry::new());
    registry.register("c1", &jwk_set([&*key])).unwrap();
    let small = Arc::new(MemoryReplayCache::with_capacity(64));
    let verifier = Verifier::builder(ISSUER, registry)
        .replay_cache(small)
        .build()
        .unwrap();
    let endpoint = TokenEndpoint::new(verifier);
    let err = (0..1000)
        .find_map(|_| {
            endpoint
                .authenticate(&request_for(&signed(&key, "c1"), None))
                .err()
        })
        .expect("a cache of 64 entries fills up");
    assert_eq!(err.kind(), ErrorKind::ReplayCacheFull);
    let r = err.token_response();
    assert_eq!((r.status(), r.error()), (503, "temporarily_unavailable"));
    assert_eq!(r.header("retry-after"), Some("5"));
    assert_eq!(err.oauth_code(), "temporarily_unavailable");
}

#[test]
fn unknown_client_and_bad_signature_answer_the_same_body() {
    let f = fixture(Policy::new(ISSUER));
    let stranger = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let unknown = f
        .endpoint
        .authenticate(&request_for(&signed(&stranger, "nobody"), None))
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::UnknownClient);
    // c1's kid, a stranger's signature.
    let forged = AssertionSigner::builder(stranger, "c1", ISSUER)
        .build()
        .unwrap();
    let mut parts: Vec<String> = forged
        .sign()
        .unwrap()
        .into_string()
        .split('.')
        .map(str::to_owned)
        .collect();
    let genuine = signed(&f.key, "c1");
    parts[0] = genuine.split('.').next().unwrap().to_owned();
    let bad = f
        .endpoint
        .authenticate(&request_for(&parts.join("."), None))
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::BadSignature);
    assert_eq!(unknown.token_response().body(), bad.token_response().body());
    assert_eq!(
        unknown.token_response().status(),
        bad.token_response().status()
    );
}

// ----- method and algorithm binding -----

/// An in-memory store whose records are written by the test, counting
/// lookups; async-only (no synchronous path) unless `sync`.
#[derive(Debug, Default)]
struct MapStore {
    records: Mutex<HashMap<String, StoredClient>>,
    lookups: AtomicU64,
    sync: bool,
}

impl MapStore {
    fn put(&self, record: StoredClient) {
        let id = record.client_id().to_owned();
        self.records.lock().unwrap().insert(id, record);
    }
    fn lookup(&self, client_id: &str) -> Lookup {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        Ok(self.records.lock().unwrap().get(client_id).cloned())
    }
}

impl ClientStore for MapStore {
    fn find_now(&self, client_id: &str) -> Option<Lookup> {
        self.sync.then(|| self.lookup(client_id))
    }
    fn find<'a>(&'a self, client_id: &'a str) -> StoreFuture<'a> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.lookup(client_id)
        })
    }
}

fn endpoint_over(store: Arc<MapStore>, policy: Policy) -> (TokenEndpoint, Arc<ClientCache>) {
    let cache = Arc::new(ClientCache::new(store));
    let verifier = Verifier::builder(ISSUER, cache.registry().clone())
        .policy(policy)
        .build()
        .unwrap();
    (
        TokenEndpoint::with_cache(verifier, cache.clone()).unwrap(),
        cache,
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_private_key_jwt_es256_client_is_refused_any_other_method_or_alg() {
    let store = Arc::new(MapStore::default());
    let ec = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let rsa = Arc::new(PrivateKey::generate(KeyType::Rsa).unwrap());
    // c1: private_key_jwt pinned to ES256, but its JWK Set also holds an RSA key.
    let jwks = jwk_set([&*ec, &*rsa]).to_json();
    store.put(
        StoredClient::new("c1", "v1", ClientCredentials::jwks_json(jwks))
            .rules(ClientAuthRules::private_key_jwt().signing_alg(Algorithm::Es256)),
    );
    let secret = ClientSecret::generate().unwrap();
    store.put(
        StoredClient::new(
            "c1-secret",
            "v1",
            ClientCredentials::client_secret(secret.clone_secret(), &[HmacAlgorithm::Hs256]),
        )
        .rules(ClientAuthRules::private_key_jwt().signing_alg(Algorithm::Es256)),
    );
    let policy = Policy::new(ISSUER).allow_client_secret_jwt();
    let (endpoint, _) = endpoint_over(store, policy);
    let rt = rt();
    let ok = rt.block_on(endpoint.authenticate_async(&request_for(&signed(&ec, "c1"), None)));
    assert_eq!(ok.unwrap().method(), server::AuthMethod::PrivateKeyJwt);
    // Another algorithm (RS256 with the client's own registered RSA key).
    let err = rt
        .block_on(endpoint.authenticate_async(&request_for(&signed(&rsa, "c1"), None)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed);
    assert_eq!(err.token_response().status(), 401);
    // client_secret_jwt presented by a client registered for private_key_jwt.
    let hmac = ClientSecretJwtSigner::builder(secret, "c1-secret", ISSUER)
        .build()
        .unwrap();
    let err = rt
        .block_on(endpoint.authenticate_async(&request_for(hmac.sign().unwrap().as_str(), None)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthMethodNotAllowed);
    assert_eq!(err.token_response().error(), "invalid_client");
    // Another method altogether.
    let basic = TokenRequest::from_form(b"client_id=c1", Some("Basic YzE6cw==")).unwrap();
    let err = rt
        .block_on(endpoint.authenticate_async(&basic))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthMethodNotAllowed);
    assert!(basic
        .error_response(&err)
        .header("www-authenticate")
        .is_some());
}

#[test]
fn rules_read_from_registration_metadata() {
    let rules = ClientAuthRules::from_metadata("private_key_jwt", Some("ES256")).unwrap();
    assert_eq!(rules.pinned_alg(), Some("ES256"));
    assert!(rules.check(PresentedMethod::Assertion, "ES256").is_ok());
    assert_eq!(
        kind_of(rules.check(PresentedMethod::Assertion, "ES384")),
        ErrorKind::AlgorithmNotAllowed
    );
    assert_eq!(
        kind_of(rules.check(PresentedMethod::ClientSecretPost, "ES256")),
        ErrorKind::AuthMethodNotAllowed
    );
    let secret = ClientAuthRules::from_metadata("client_secret_jwt", Some("HS512")).unwrap();
    assert_eq!(
        kind_of(secret.check(PresentedMethod::Assertion, "ES256")),
        ErrorKind::AuthMethodNotAllowed
    );
    assert_eq!(
        kind_of(secret.check(PresentedMethod::Assertion, "HS256")),
        ErrorKind::AlgorithmNotAllowed
    );
    assert!(secret.check(PresentedMethod::Assertion, "HS512").is_ok());
    for (method, alg) in [
        ("client_secret_basic", None),
        ("private_key_jwt", Some("HS256")),
        ("client_secret_jwt", Some("ES256")),
    ] {
        assert_eq!(
            kind_of(ClientAuthRules::from_metadata(method, alg)),
            ErrorKind::InvalidConfig
        );
    }
}

// ----- discovery metadata -----

#[test]
fn metadata_values_come_from_the_policy() {
    let fapi = Policy::for_profile(ISSUER, Profile::Fapi2);
    let m = ServerMetadata::for_policy(&fapi, "https://as.example/token");
    assert_eq!(
        m.token_endpoint_auth_methods_supported(),
        ["private_key_jwt"]
    );
    assert_eq!(
        m.token_endpoint_auth_signing_alg_values_supported(),
        ["PS256", "ES256", "EdDSA"]
    );
    let legacy = Policy::new(ISSUER)
        .algorithms(&[Algorithm::Rs256])
        .allow_client_secret_jwt();
    let m = ServerMetadata::for_policy(&legacy, "https://as.example/token")
        .grant_types(["client_credentials", "authorization_code"]);
    assert_eq!(
        m.token_endpoint_auth_methods_supported(),
        ["private_key_jwt", "client_secret_jwt"]
    );
    assert_eq!(
        m.token_endpoint_auth_signing_alg_values_supported(),
        ["RS256", "HS256", "HS384", "HS512"]
    );
    let json: serde_json::Value = serde_json::from_str(&m.to_json()).unwrap();
    assert_eq!(json["issuer"], ISSUER);
    assert_eq!(json["token_endpoint"], "https://as.example/token");
    assert_eq!(json["grant_types_supported"][1], "authorization_code");
    // What the server publishes, a client reads back.
    assert_eq!(
        ServerMetadata::from_json_for_issuer(&m.to_json(), ISSUER).unwrap(),
        m
    );
}

#[test]
fn discovery_builds_a_signer_or_says_what_is_missing() {
    let rsa = Arc::new(PrivateKey::generate(KeyType::Rsa).unwrap());
    let doc = |methods: &str, algs: &str| {
        format!(
            r#"{{"issuer":"{ISSUER}","token_endpoint":"{ISSUER}/token","token_endpoint_auth_methods_supported":{methods},"token_endpoint_auth_signing_alg_values_supported":{algs},"jwks_uri":"x"}}"#
        )
    };
    let m = ServerMetadata::from_json(&doc(r#"["private_key_jwt"]"#, r#"["PS256"]"#)).unwrap();
    let signer = m
        .signer_builder(rsa.clone(), "c1")
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(signer.audience(), ISSUER);
    assert_eq!(signer.sign().unwrap().algorithm(), Algorithm::Ps256);
    let no_method =
        ServerMetadata::from_json(&doc(r#"["client_secret_basic"]"#, r#"["RS256"]"#)).unwrap();
    let err = no_method.signer_builder(rsa.clone(), "c1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedByServer);
    assert!(err.to_string().contains("private_key_jwt"), "{err}");
    let no_alg = ServerMetadata::from_json(&doc(r#"["private_key_jwt"]"#, r#"["ES256"]"#)).unwrap();
    let err = no_alg.signer_builder(rsa.clone(), "c1").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedByServer);
    assert!(err.to_string().contains("algorithms"), "{err}");
    // RFC 8414 §2: no methods listed means client_secret_basic only.
    let bare =
        ServerMetadata::from_json(&format!(r#"{{"issuer":"{ISSUER}","token_endpoint":"t"}}"#))
            .unwrap();
    assert_eq!(
        kind_of(bare.signer_builder(rsa.clone(), "c1")),
        ErrorKind::UnsupportedByServer
    );
    assert_eq!(
        kind_of(ServerMetadata::from_json("{}")),
        ErrorKind::InvalidConfig
    );
    assert_eq!(
        kind_of(ServerMetadata::from_json_for_issuer(
            &doc("[]", "[]"),
            "https://other.example"
        )),
        ErrorKind::InvalidConfig
    );
}

// ----- the client store and its caches -----

#[test]
fn keys_are_parsed_once_per_version() {
    let store = Arc::new(MapStore {
        sync: true,
        ..MapStore::default()
    });
    let k1 = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let k2 = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    store.put(StoredClient::new(
        "c1",
        "v1",
        ClientCredentials::jwks(jwk_set([&*k1])),
    ));
    let (endpoint, cache) = endpoint_over(store.clone(), Policy::new(ISSUER));
    for _ in 0..20 {
        endpoint
            .authenticate(&request_for(&signed(&k1, "c1"), None))
            .unwrap();
    }
    assert_eq!(cache.key_parses(), 1, "one version, one parse");
    assert_eq!(
        cache.store_lookups(),
        20,
        "a synchronous store is asked every time"
    );
    // The client rotates to k2: a new version, parsed once; k1 is gone.
    store.put(StoredClient::new(
        "c1",
        "v2",
        ClientCredentials::jwks(jwk_set([&*k2])),
    ));
    endpoint
        .authenticate(&request_for(&signed(&k2, "c1"), None))
        .unwrap();
    let err = endpoint
        .authenticate(&request_for(&signed(&k1, "c1"), None))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey);
    assert_eq!(cache.key_parses(), 2);
    // Deleted: unknown from the next request on.
    store.records.lock().unwrap().clear();
    let err = endpoint
        .authenticate(&request_for(&signed(&k2, "c1"), None))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownClient);
}

#[test]
fn an_async_store_is_asked_again_only_after_revalidation_or_invalidation() {
    let store = Arc::new(MapStore::default());
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    store.put(StoredClient::new(
        "c1",
        "v1",
        ClientCredentials::jwks(jwk_set([&*key])),
    ));
    let (endpoint, cache) = endpoint_over(store.clone(), Policy::new(ISSUER));
    // The synchronous path cannot ask an async-only store.
    let err = endpoint
        .authenticate(&request_for(&signed(&key, "c1"), None))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RequiresAsync);
    assert_eq!(err.token_response().status(), 500);
    let rt = rt();
    for _ in 0..10 {
        rt.block_on(endpoint.authenticate_async(&request_for(&signed(&key, "c1"), None)))
            .unwrap();
    }
    assert_eq!(cache.store_lookups(), 1);
    // Cached now, the synchronous path works too.
    endpoint
        .authenticate(&request_for(&signed(&key, "c1"), None))
        .unwrap();
    cache.invalidate("c1");
    rt.block_on(endpoint.authenticate_async(&request_for(&signed(&key, "c1"), None)))
        .unwrap();
    assert_eq!(cache.store_lookups(), 2);
    assert_eq!(cache.key_parses(), 2);
}

/// 10 000 requests spread over 100 unknown client ids, 50 at a time on a
/// multi-threaded runtime: at most one store lookup per id.
#[test]
fn unknown_ids_cost_at_most_one_lookup_each() {
    let store = Arc::new(MapStore::default());
    let (endpoint, cache) = endpoint_over(store.clone(), Policy::new(ISSUER));
    let endpoint = Arc::new(endpoint);
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let requests: Arc<Vec<TokenRequest>> = Arc::new(
        (0..100)
            .map(|i| request_for(&signed(&key, &format!("unknown-{i}")), None))
            .collect(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for t in 0..50 {
            let (endpoint, requests) = (endpoint.clone(), requests.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..200 {
                    let r = &requests[(t * 7 + i) % 100];
                    let err = endpoint.authenticate_async(r).await.unwrap_err();
                    assert!(
                        matches!(
                            err.kind(),
                            ErrorKind::UnknownClient | ErrorKind::KeysUnavailable
                        ),
                        "{err:?}"
                    );
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let lookups = store.lookups.load(Ordering::Relaxed);
    assert!(
        lookups <= 100,
        "{lookups} store lookups for 100 unknown ids"
    );
    assert_eq!(cache.store_lookups(), lookups);
}

#[test]
fn the_negative_cache_is_bounded() {
    let store = Arc::new(MapStore {
        sync: true,
        ..MapStore::default()
    });
    let mut config = server::ClientCacheConfig::default();
    config.max_unknown = 10;
    let cache = ClientCache::new(store.clone()).config(config).unwrap();
    for i in 0..1000 {
        assert!(cache.resolve_now(&format!("random-{i}")).is_err());
    }
    let debug = format!("{cache:?}");
    assert!(debug.contains("unknown: 10"), "{debug}");
    // The latest ids are still remembered: no new lookup.
    let before = cache.store_lookups();
    assert!(cache.resolve_now("random-999").is_err());
    assert_eq!(cache.store_lookups(), before);
}

/// The sharded cache under threads: known clients always resolve, the
/// negative cache stays within its bound, and an invalidated client is
/// asked for again.
#[test]
fn the_cache_keeps_its_rules_under_threads() {
    let store = Arc::new(MapStore {
        sync: true,
        ..MapStore::default()
    });
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    for i in 0..50 {
        store.put(StoredClient::new(
            format!("c{i}"),
            "v1",
            ClientCredentials::jwks(jwk_set([&*key])),
        ));
    }
    let mut config = server::ClientCacheConfig::default();
    config.max_unknown = 10;
    let cache = ClientCache::new(store.clone()).config(config).unwrap();
    // Parsed once each first (the synchronous path has no single-flight:
    // two threads meeting a new client both parse it).
    for i in 0..50 {
        cache.resolve_now(&format!("c{i}")).unwrap();
    }
    std::thread::scope(|s| {
        for t in 0..4 {
            let cache = &cache;
            s.spawn(move || {
                for i in 0..2_000 {
                    cache.resolve_now(&format!("c{}", (i + t) % 50)).unwrap();
                    let unknown = cache.resolve_now(&format!("ghost-{t}-{i}"));
                    assert_eq!(unknown.unwrap_err().kind(), ErrorKind::UnknownClient);
                }
            });
        }
    });
    let debug = format!("{cache:?}");
    assert!(debug.contains("known: 50"), "{debug}");
    assert!(debug.contains("unknown: 10"), "{debug}");
    assert_eq!(cache.key_parses(), 50, "one parse per client version");
    // Invalidation: the next request parses again.
    cache.invalidate("c7");
    assert!(!cache.registry().contains("c7"));
    cache.resolve_now("c7").unwrap();
    assert_eq!(cache.key_parses(), 51);
}

/// An async store whose lookups read the record when they start and
/// answer only when the test opens the gate.
#[derive(Debug)]
struct GatedStore {
    records: Mutex<HashMap<String, StoredClient>>,
    gate: tokio::sync::Semaphore,
}

impl ClientStore for GatedStore {
    fn find<'a>(&'a self, client_id: &'a str) -> StoreFuture<'a> {
        let read = self.records.lock().unwrap().get(client_id).cloned();
        Box::pin(async move {
            self.gate.acquire().await.unwrap().forget();
            Ok(read)
        })
    }
}

/// A lookup that read the record before the client rotated and
/// `invalidate` was called does not bring the old key back: its request is
/// retryable, and the next one takes the new version.
#[test]
fn a_lookup_that_raced_an_invalidation_is_not_cached() {
    let old = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let new = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let record = |v: &str, k: &Arc<PrivateKey>| {
        StoredClient::new("c1", v, ClientCredentials::jwks(jwk_set([&**k])))
    };
    let store = Arc::new(GatedStore {
        records: Mutex::default(),
        gate: tokio::sync::Semaphore::new(0),
    });
    store
        .records
        .lock()
        .unwrap()
        .insert("c1".into(), record("v1", &old));
    let cache = Arc::new(ClientCache::new(store.clone()));
    let verifier = Verifier::builder(ISSUER, cache.registry().clone())
        .build()
        .unwrap();
    let endpoint = Arc::new(TokenEndpoint::with_cache(verifier, cache.clone()).unwrap());
    let rt = rt();
    rt.block_on(async {
        let racing = {
            let endpoint = endpoint.clone();
            let request = request_for(&signed(&old, "c1"), None);
            tokio::spawn(async move { endpoint.authenticate_async(&request).await })
        };
        // The lookup has read v1 and waits at the gate.
        while cache.store_lookups() == 0 {
            tokio::task::yield_now().await;
        }
        store
            .records
            .lock()
            .unwrap()
            .insert("c1".into(), record("v2", &new));
        cache.invalidate("c1");
        store.gate.add_permits(1);
        let err = racing.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KeysUnavailable, "{err:?}");
        assert_eq!(err.token_response().status(), 503);
        store.gate.add_permits(10);
        let err = endpoint
            .authenticate_async(&request_for(&signed(&old, "c1"), None))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownKey, "the old key is gone");
        endpoint
            .authenticate_async(&request_for(&signed(&new, "c1"), None))
            .await
            .unwrap();
    });
}

/// Threads resolving one client while its version flips between two keys:
/// once the flipping stops, the cache holds the keys of the version it
/// names (the keys and the version change together).
#[test]
fn keys_and_version_change_together_under_threads() {
    let keys: Vec<Arc<PrivateKey>> = (0..2)
        .map(|_| Arc::new(PrivateKey::generate(KeyType::P256).unwrap()))
        .collect();
    let record = |n: usize| {
        StoredClient::new(
            "c1",
            format!("v{n}"),
            ClientCredentials::jwks(jwk_set([&*keys[n % 2]])),
        )
    };
    let store = Arc::new(MapStore {
        sync: true,
        ..MapStore::default()
    });
    store.put(record(0));
    let (endpoint, cache) = endpoint_over(store.clone(), Policy::new(ISSUER));
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let start = std::time::Instant::now();
                while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(5) {
                    let _ = cache.resolve_now("c1");
                }
            });
        }
        for n in 1..=2_000 {
            store.put(record(n));
        }
        stop.store(true, Ordering::Relaxed);
    });
    // The store ends at v2000 (key 0): the next request takes or confirms
    // it, and only key 0 verifies.
    endpoint
        .authenticate(&request_for(&signed(&keys[0], "c1"), None))
        .unwrap();
    let err = endpoint
        .authenticate(&request_for(&signed(&keys[1], "c1"), None))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKey, "{err:?}");
}

#[test]
fn the_registry_is_a_store() {
    let registry = Arc::new(ClientRegistry::new());
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    registry.register("c1", &jwk_set([&*key])).unwrap();
    let cache = Arc::new(ClientCache::new(registry.clone()));
    let verifier = Verifier::builder(ISSUER, cache.registry().clone())
        .build()
        .unwrap();
    let endpoint = TokenEndpoint::with_cache(verifier, cache.clone()).unwrap();
    endpoint
        .authenticate(&request_for(&signed(&key, "c1"), None))
        .unwrap();
    endpoint
        .authenticate(&request_for(&signed(&key, "c1"), None))
        .unwrap();
    assert_eq!(
        cache.key_parses(),
        0,
        "the registry's keys are parsed already"
    );
    registry.remove("c1");
    let err = endpoint
        .authenticate(&request_for(&signed(&key, "c1"), None))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownClient);
    // A verifier over another registry is refused.
    let other = Verifier::builder(ISSUER, registry).build().unwrap();
    assert_eq!(
        kind_of(TokenEndpoint::with_cache(other, cache)),
        ErrorKind::InvalidConfig
    );
}

// ----- audit events of refusals before the verifier -----

#[cfg(feature = "tracing")]
#[path = "common/capture.rs"]
mod capture;

/// An unknown id answered by the cache and a binding refusal each emit one
/// `assertion.rejected` with the operator's reason, as the verifier would.
#[cfg(feature = "tracing")]
#[test]
fn refusals_before_the_verifier_are_audited() {
    use client_assertion::audit::REJECTED;
    let store = Arc::new(MapStore {
        sync: true,
        ..MapStore::default()
    });
    let ec = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    store.put(
        StoredClient::new("c1", "v1", ClientCredentials::jwks(jwk_set([&*ec])))
            .rules(ClientAuthRules::private_key_jwt().signing_alg(Algorithm::Es384)),
    );
    let (endpoint, _) = endpoint_over(store, Policy::new(ISSUER));
    for (client, reason) in [("ghost", "unknown_client"), ("c1", "algorithm_not_allowed")] {
        let request = request_for(&signed(&ec, client), None);
        let (result, events) = capture::capture(|| endpoint.authenticate(&request));
        assert_eq!(result.unwrap_err().code(), reason);
        let rejected: Vec<_> = events.iter().filter(|e| e.name == REJECTED).collect();
        assert_eq!(rejected.len(), 1, "{events:?}");
        assert_eq!(rejected[0].field("reason"), Some(reason));
        assert_eq!(rejected[0].field("usage"), Some("client_authentication"));
    }
}
