//! SPIFFE ID parsing never panics, and a valid ID is its own string and
//! its parts (moved from tests/federation_spiffe.rs with proptest).

use client_assertion::federation::SpiffeId;

proptest::proptest! {
    /// Any input: no panic; a valid ID is its own string and its parts.
    #[test]
    fn spiffe_id_parse_never_panics(s in "(spiffe://)?[a-zA-Z0-9./_:@%-é]{0,40}") {
        if let Ok(id) = SpiffeId::parse(&s) {
            proptest::prop_assert_eq!(id.as_str(), s.as_str());
            let rebuilt = format!("spiffe://{}{}", id.trust_domain(), id.path());
            proptest::prop_assert_eq!(rebuilt, s);
        }
    }
}
