//! Workload identity federation end to end: a Kubernetes-shaped
//! service-account token and a GitHub-Actions-shaped OIDC token, each
//! signed by a stand-in for its platform's key, verified against presets
//! by one `FederatedVerifier`; then the near miss an operator sees for a
//! token whose issuer has a trailing slash.
//!
//! ```text
//! cargo run --example federation
//! ```
//!
//! In production the platform signs: the workload reads its projected
//! token (or requests one from `ACTIONS_ID_TOKEN_REQUEST_URL`) and sends it
//! as `client_assertion`; the server loads each issuer's JWK Set (saved, or
//! fetched through a `JwksFetcher`).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use client_assertion::federation::{FederatedVerifier, Match, TrustKeys, TrustRule};
use client_assertion::{jwk_set, Algorithm, KeySource, KeyType, PrivateKey};
use serde_json::{json, Value};

const AS_ISSUER: &str = "https://as.example.com";
const CLUSTER: &str =
    "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";

/// A compact JWS over `header` and `claims`, as the platform would mint it.
fn mint(
    key: &PrivateKey,
    alg: Algorithm,
    header: Value,
    claims: Value,
) -> client_assertion::Result<String> {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = key.sign(alg, input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

fn main() -> client_assertion::Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let cluster_key = PrivateKey::generate(KeyType::P256)?;
    let github_key = PrivateKey::generate(KeyType::Rsa)?; // GitHub signs RS256

    let verifier = FederatedVerifier::builder(AS_ISSUER)
        .rule(
            TrustRule::kubernetes(
                "payments",
                CLUSTER,
                TrustKeys::Jwks(jwk_set([&cluster_key])),
            )
            .service_account("payments", "payments-api")
            .build()?,
        )
        .rule(
            TrustRule::github_actions("deployer", TrustKeys::Jwks(jwk_set([&github_key])))
                .repository_id("74")
                .require(["environment"], Match::Exact("prod".into()))
                .build()?,
        )
        .build()?;

    // A projected service-account token (aud is an array, as Kubernetes writes it).
    let k8s_claims = json!({
        "aud": [AS_ISSUER], "iss": CLUSTER, "iat": now, "nbf": now, "exp": now + 3600,
        "jti": "ea28ed49-2e11-4280-9ec5-bc3d1d84661a",
        "sub": "system:serviceaccount:payments:payments-api",
        "kubernetes.io": {
            "namespace": "payments",
            "pod": {"name": "payments-api-69cbfb9798-jv9gn", "uid": "778a530c-b3f4-47c0-9cd5-ab018fb64f33"},
            "serviceaccount": {"name": "payments-api", "uid": "a087d5a0-e1dd-43ec-93ac-f13d89cd13af"}
        }
    });
    let header = json!({"alg": "ES256", "kid": cluster_key.kid()});
    let token = mint(
        &cluster_key,
        Algorithm::Es256,
        header.clone(),
        k8s_claims.clone(),
    )?;
    let client = verifier.verify(&token)?;
    println!(
        "kubernetes: client {} (rule {}), pod {}",
        client.client_id(),
        client.rule_index(),
        client.claim("pod").unwrap_or("-")
    );

    // A GitHub Actions OIDC token, as GitHub documents its claims.
    let gh_claims = json!({
        "jti": "example-id", "iss": "https://token.actions.githubusercontent.com",
        "aud": AS_ISSUER, "sub": "repo:octo-org/octo-repo:environment:prod",
        "environment": "prod", "ref": "refs/heads/main", "repository": "octo-org/octo-repo",
        "repository_id": "74", "repository_owner": "octo-org", "repository_owner_id": "65",
        "job_workflow_ref": "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
        "nbf": now - 600, "iat": now, "exp": now + 300
    });
    let gh_header = json!({"typ": "JWT", "alg": "RS256", "kid": github_key.kid()});
    let token = mint(&github_key, Algorithm::Rs256, gh_header, gh_claims)?;
    let client = verifier.verify(&token)?;
    println!(
        "github: client {}, workflow {}",
        client.client_id(),
        client.claim("job_workflow_ref").unwrap_or("-")
    );

    // An issuer with a trailing slash: the client gets `invalid_client`,
    // the operator the near miss.
    let mut slash = k8s_claims;
    slash["iss"] = json!(format!("{CLUSTER}/"));
    let token = mint(&cluster_key, Algorithm::Es256, header, slash)?;
    if let Err(e) = verifier.verify(&token) {
        let near = e.near_miss().map(ToString::to_string).unwrap_or_default();
        println!("rejected {}: {near}", e.code());
    }
    Ok(())
}
