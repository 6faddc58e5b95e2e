//! The main job on embedded defaults, both sides in one program.
//!
//! Client: an in-memory ES256 key, its public JWK Set, a fresh client
//! assertion and the url-encoded token request body. Server: a registry
//! built from that JWK Set and a strict verifier (with its in-memory replay
//! cache) that accepts the assertion once, then rejects it as `replayed`.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::sync::Arc;

use client_assertion::{jwk_set, AssertionSigner, ClientRegistry, KeyType, PrivateKey, Verifier};

fn main() -> Result<(), client_assertion::Error> {
    let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
    let client_id = "quickstart-client";
    let issuer = "https://as.example.com";

    let jwks = jwk_set([&*key]).to_json_pretty();
    println!("# public JWK Set (register it, or serve it at your jwks_uri)");
    println!("{jwks}");

    let signer = AssertionSigner::builder(key, client_id, issuer).build()?;
    let assertion = signer.sign()?;
    println!("# client assertion (jti {})", assertion.jti());
    println!("{}", assertion.as_str());
    println!("# token request body (POST it to the token endpoint with your HTTP client)");
    println!(
        "{}",
        assertion
            .form_params()
            .with_client_id(client_id)
            .to_urlencoded()
    );

    // The authorization server's side: the client's registered JWK Set and
    // a verifier whose only accepted audience is its issuer identifier.
    let registry = Arc::new(ClientRegistry::new());
    registry.register_jwks_json(client_id, &jwks)?;
    let verifier = Verifier::builder(issuer, registry).build()?;

    let verified = verifier.verify(assertion.as_str())?;
    println!(
        "# verified: client {} (jti {}, key {}, {})",
        verified.client_id(),
        verified.jti(),
        verified.kid(),
        verified.algorithm()
    );
    // The same assertion a second time is a replay.
    let replay = verifier.verify(assertion.as_str()).unwrap_err();
    println!("# presented again: rejected ({})", replay.code());
    Ok(())
}
