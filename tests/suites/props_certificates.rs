//! Certificate parsing never panics: random bytes and corrupted fixture
//! certificates (moved from tests/certificates.rs with proptest).

#[path = "../common/mod.rs"]
mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use client_assertion::keys::CertificateChain;
use common::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = CertificateChain::from_der(&bytes);
        let _ = CertificateChain::from_bytes(&bytes);
        let _ = CertificateChain::from_pem(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn corrupted_certificates_never_panic(
        index in 0usize..3,
        cut in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
    ) {
        let name = ["ec", "rsa", "ed25519"][index];
        let mut der = read(&format!("certs/{name}.cert.der"));
        for (at, x) in flips {
            let i = at.index(der.len());
            der[i] ^= x;
        }
        let len = cut.index(der.len() + 1);
        let der = &der[..len];
        if let Ok(c) = CertificateChain::from_der(der) {
            // Whatever parses still yields well-formed values.
            let _ = (c.thumbprint_sha256(), c.thumbprint_sha1(), c.x5c());
        }
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            STANDARD.encode(der)
        );
        let _ = CertificateChain::from_pem(&pem);
    }
}
