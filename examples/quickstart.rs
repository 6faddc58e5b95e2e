//! The main job on embedded defaults: an in-memory ES256 key, its public JWK
//! Set, a fresh client assertion and the url-encoded token request body.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::sync::Arc;

use client_assertion::{jwk_set, AssertionSigner, KeySource, KeyType, PrivateKey};

fn main() -> Result<(), client_assertion::Error> {
    let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
    let client_id = "quickstart-client";
    let issuer = "https://as.example.com";

    println!("# public JWK Set (register it, or serve it at your jwks_uri)");
    println!("{}", jwk_set([&*key as &dyn KeySource]).to_json_pretty());

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
    Ok(())
}
