//! Near misses of the other verifiers (issue 17, point 4): the
//! client-authentication `Verifier` and the `GrantVerifier` explain an
//! audience that is the token endpoint and an assertion issued too long
//! ago, and a client id that differs from a registered one only by case or
//! a trailing slash, for the operator only (the client-facing text does not
//! change).

mod verify_common;

use std::sync::Arc;
use std::time::Duration;

use client_assertion::federation::Difference;
use client_assertion::grant::{GrantVerifier, TrustedIssuers};
use client_assertion::time::ManualClock;
use client_assertion::{jwk_set, AssertionSigner, ErrorKind, KeyType, PrivateKey};
use serde_json::json;
use verify_common::{with, Fixture, CLIENT, ISSUER, NOW, TOKEN_ENDPOINT};

#[test]
fn client_assertion_to_the_token_endpoint_and_too_old() {
    let f = Fixture::new(KeyType::P256);
    let token = f.token(&f.header(), &with(f.claims(), "aud", json!(TOKEN_ENDPOINT)));
    let e = f.verify(&token).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AudienceMismatch);
    let near = e.near_miss().expect("near miss");
    assert_eq!(
        near.difference(),
        &Difference::AudienceIsTokenEndpoint {
            expected: ISSUER.into()
        }
    );
    // The client-facing description is unchanged, and names nothing.
    assert_eq!(e.description(), "the assertion audience is not accepted");
    // Another audience altogether is no near miss.
    let token = f.token(
        &f.header(),
        &with(f.claims(), "aud", json!("https://evil.example")),
    );
    assert!(f.verify(&token).unwrap_err().near_miss().is_none());

    let old = with(
        with(f.claims(), "iat", json!(NOW - 400)),
        "exp",
        json!(NOW + 60),
    );
    let e = f.verify(&f.token(&f.header(), &old)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LifetimeTooLong);
    assert_eq!(
        e.near_miss().unwrap().difference(),
        &Difference::TooOld {
            age_secs: 400,
            max_age_secs: 300
        }
    );
}

#[test]
fn grant_to_the_token_endpoint() {
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let issuers = Arc::new(TrustedIssuers::new());
    issuers
        .register("https://idp.example.org", &jwk_set([&*key]))
        .unwrap();
    let clock = ManualClock::at_unix(NOW);
    let verifier = GrantVerifier::builder(ISSUER, issuers)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let grant =
        AssertionSigner::grant_builder(key, "https://idp.example.org", "alice", TOKEN_ENDPOINT)
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap()
            .sign()
            .unwrap();
    clock.advance(Duration::from_secs(1));
    let e = verifier.verify(grant.as_str()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AudienceMismatch);
    assert!(matches!(
        e.near_miss().unwrap().difference(),
        Difference::AudienceIsTokenEndpoint { .. }
    ));
}

#[test]
fn client_id_that_differs_by_case_or_a_trailing_slash() {
    let f = Fixture::new(KeyType::P256);
    let upper = CLIENT.to_ascii_uppercase();
    let slashed = format!("{CLIENT}/");
    let cases = [
        (
            upper.as_str(),
            Difference::IssuerCase {
                expected: CLIENT.into(),
            },
        ),
        (
            slashed.as_str(),
            Difference::IssuerTrailingSlash {
                expected: CLIENT.into(),
            },
        ),
    ];
    for (iss, difference) in cases {
        let claims = with(with(f.claims(), "iss", json!(iss)), "sub", json!(iss));
        let e = f.verify(&f.token(&f.header(), &claims)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnknownClient, "{iss}");
        assert_eq!(e.near_miss().expect("near miss").difference(), &difference);
        // The client is told nothing about which ids exist.
        assert_eq!(e.description(), "the assertion could not be verified");
    }
    // An id unlike any registered one is no near miss.
    let claims = with(
        with(f.claims(), "iss", json!("nobody")),
        "sub",
        json!("nobody"),
    );
    let e = f.verify(&f.token(&f.header(), &claims)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownClient);
    assert!(e.near_miss().is_none());
}
