//! The crypto backend the integration tests run on, chosen with the
//! environment variable `CLIENT_ASSERTION_TEST_BACKEND`: `rust-crypto`
//! (the default, also when unset or empty) or `aws-lc`, which needs a build
//! with `--features aws-lc-rs` and fails every test that signs or verifies
//! otherwise. Shared by `tests/common`, `tests/verify_common` and the test
//! files that include it directly (`#[path = "common/backend.rs"]`).
#![allow(dead_code)]

use client_assertion::{Backend, ClientRegistry, PrivateKey};

/// The environment variable naming the test backend.
pub const BACKEND_VAR: &str = "CLIENT_ASSERTION_TEST_BACKEND";

/// The backend named by [`BACKEND_VAR`]; panics on an unknown name or on a
/// backend this build does not include.
pub fn backend() -> Backend {
    match std::env::var(BACKEND_VAR) {
        Err(std::env::VarError::NotPresent) => Backend::RustCrypto,
        Ok(name) if name.is_empty() => Backend::RustCrypto,
        Ok(name) => name.parse().unwrap_or_else(|e| {
            panic!(
                "{BACKEND_VAR}={name:?} cannot be used: {e} \
                 (aws-lc needs `cargo test --features aws-lc-rs` or `--all-features`)"
            )
        }),
        Err(e) => panic!("{BACKEND_VAR}: {e}"),
    }
}

/// `key`, signing with the test backend.
#[track_caller]
pub fn on_backend(key: PrivateKey) -> PrivateKey {
    let backend = backend();
    key.with_backend(backend)
        .unwrap_or_else(|e| panic!("{backend} refuses the key: {e}"))
}

/// An empty registry verifying with the test backend.
pub fn registry() -> ClientRegistry {
    ClientRegistry::with_backend(backend())
}
