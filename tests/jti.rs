//! `jti` uniqueness: 100 000 assertions, every `jti` distinct and the
//! base64url encoding of exactly 32 random bytes.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use client_assertion::time::ManualClock;
use client_assertion::{AssertionSigner, KeyType, PrivateKey};
use common::{b64url, on_backend};

#[test]
fn one_hundred_thousand_distinct_jtis() {
    const N: usize = 100_000;
    // A frozen clock: uniqueness must come from the jti alone.
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let key = Arc::new(on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap()));
    let signer = AssertionSigner::builder(key, "client", "https://as.example")
        .clock(clock)
        .build()
        .unwrap();
    let mut seen = HashSet::with_capacity(N);
    let mut zero_bits = 0u64;
    for _ in 0..N {
        let a = signer.sign().unwrap();
        let jti = a.jti();
        assert_eq!(jti.len(), 43);
        let bytes = b64url(jti);
        assert_eq!(bytes.len(), 32);
        zero_bits += bytes
            .iter()
            .map(|b| u64::from(b.count_zeros()))
            .sum::<u64>();
        // The claim in the token is the one reported.
        let claims_b64 = a.as_str().split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&b64url(claims_b64)).unwrap();
        assert_eq!(claims["jti"], jti);
        assert!(seen.insert(jti.to_owned()), "duplicate jti {jti}");
    }
    assert_eq!(seen.len(), N);
    // A crude randomness check: about half of the 25.6 million bits are zero.
    let total = (N * 256) as f64;
    let ratio = zero_bits as f64 / total;
    assert!((0.499..0.501).contains(&ratio), "zero-bit ratio {ratio}");
}
