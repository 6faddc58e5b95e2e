//! The audit events of federated verification (feature `tracing`), in a
//! test binary of their own: a callsite first reached without a subscriber
//! by a parallel test would cache "no interest".
#![cfg(feature = "tracing")]

mod verify_common;

use std::sync::Arc;

use client_assertion::federation::{FederatedVerifier, TrustKeys, TrustRule};
use client_assertion::time::ManualClock;
use client_assertion::{jwk_set, Algorithm, KeyMetadata, PrivateKey};
use serde_json::json;
use verify_common::{sign_raw, ISSUER, NOW};

const K8S_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";

fn rsa() -> Arc<PrivateKey> {
    let pem = include_str!("data/rsa2048.pkcs8.pem");
    Arc::new(PrivateKey::from_pem(pem).expect("fixture key"))
}

fn verifier(key: &PrivateKey, clock: &ManualClock) -> FederatedVerifier {
    let rule = TrustRule::kubernetes("payments", K8S_ISSUER, TrustKeys::Jwks(jwk_set([key])))
        .service_account("payments", "payments-api")
        .build()
        .unwrap();
    FederatedVerifier::builder(ISSUER)
        .rule(rule)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

#[path = "common/capture.rs"]
mod capture;

#[test]
fn audit_events_name_the_client_and_carry_the_near_miss() {
    use client_assertion::audit::{REJECTED, VERIFIED};
    let key = rsa();
    let clock = ManualClock::at_unix(NOW);
    let v = verifier(&key, &clock);
    let h = json!({"alg": "RS256", "kid": key.kid()});
    let c = json!({
        "aud": [ISSUER], "iss": K8S_ISSUER, "iat": NOW, "exp": NOW + 600,
        "sub": "system:serviceaccount:payments:payments-api",
        "kubernetes.io": {"namespace": "payments", "serviceaccount": {"name": "payments-api"}},
    });
    let sign = |h: &serde_json::Value, c: &serde_json::Value| {
        sign_raw(&*key, Algorithm::Rs256, &h.to_string(), &c.to_string())
    };
    let mut slash = c.clone();
    slash["iss"] = json!(format!("{K8S_ISSUER}/"));
    let (_, events) = capture::capture(|| {
        v.verify(&sign(&h, &c)).unwrap();
        v.verify(&sign(&h, &slash)).unwrap_err();
    });
    let verified = events
        .iter()
        .find(|e| e.name == VERIFIED)
        .expect("verified");
    assert_eq!(verified.field("client_id"), Some("payments"));
    assert_eq!(verified.field("replay_checked"), Some("false"));
    let rejected = events
        .iter()
        .find(|e| e.name == REJECTED)
        .unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(rejected.field("reason"), Some("unknown_issuer"));
    let near = rejected.field("near_miss").expect("near_miss field");
    assert!(
        near.contains("payments#0") && near.contains("trailing\\u{20}slash"),
        "{near}"
    );
}
