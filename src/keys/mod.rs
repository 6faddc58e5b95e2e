//! The key-source contract and its implementations.
//!
//! A [`KeySource`] reports its algorithm(s), its `kid` and its public JWK,
//! and signs the JWS signing input. In-memory keys ([`PrivateKey`]) and
//! reloading key files ([`FileKey`]) live here; HSM and KMS signers
//! implement the same trait.

pub(crate) mod cert;
pub(crate) mod file;
pub(crate) mod jwk;
pub(crate) mod memory;
pub(crate) mod parse;
#[cfg(feature = "pkcs11")]
pub mod pkcs11;
pub(crate) mod settle;
mod source;

pub use cert::{CertificateChain, CertificateHeaders};
pub use file::{FileKey, ReloadStatus};
pub use jwk::{JwkSet, PublicJwk};
pub use memory::PrivateKey;
pub use source::{jwk_set, AsyncKeySource, KeyMetadata, KeySource, SignFuture, SignerKey};
