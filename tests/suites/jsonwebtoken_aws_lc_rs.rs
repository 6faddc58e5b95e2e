//! Our `jsonwebtoken` feature picks no jsonwebtoken crypto backend: this
//! binary links jsonwebtoken with `aws_lc_rs` (tests/suites/Cargo.toml) and
//! our crate with its `jsonwebtoken` feature; jsonwebtoken panics at its
//! first signature operation if our normal dependency enabled `rust_crypto`
//! as well. (The package's own tests/jsonwebtoken_backend.rs checks the
//! other direction, with `rust_crypto`.)

#[path = "../common/mod.rs"]
mod common;

#[path = "../common/jsonwebtoken_oracle.rs"]
mod oracle;

#[test]
fn jsonwebtoken_signs_and_verifies_next_to_our_conversions() {
    oracle::jsonwebtoken_signs_and_verifies_next_to_our_conversions();
}
