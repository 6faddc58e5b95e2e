//! The key-source contract and its implementations.
//!
//! A [`KeySource`] reports its algorithm(s), its `kid` and its public JWK,
//! and signs the JWS signing input. In-memory keys ([`PrivateKey`]) and
//! reloading key files ([`FileKey`]) live here; HSM and KMS signers
//! implement the same trait.
//!
//! JWK Sets read for verification ([`JwkSet::from_json`]) keep the keys a
//! signature verifier can use and report the others ([`SkippedJwk`],
//! [`SkipReason`]); see [`JwkSet`] for the rules.

pub(crate) mod cert;
pub(crate) mod file;
pub(crate) mod jwk;
pub(crate) mod memory;
pub(crate) mod parse;
#[cfg(feature = "pkcs11")]
pub mod pkcs11;
pub(crate) mod settle;
mod skip;
mod source;

pub use cert::{CertificateChain, CertificateHeaders};
pub use file::{FileKey, ReloadStatus};
pub use jwk::{JwkSet, PublicJwk};
pub use memory::PrivateKey;
pub use skip::{SkipReason, SkippedJwk};
pub use source::{jwk_set, AsyncKeySource, KeyMetadata, KeySource, SignFuture, SignerKey};
