//! The key-source contract and its implementations.
//!
//! A [`KeySource`] reports its algorithm(s), its `kid` and its public JWK,
//! and signs the JWS signing input. In-memory keys ([`PrivateKey`]) and
//! reloading key files ([`FileKey`]) live here; HSM and KMS signers
//! implement the same trait.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};

pub(crate) mod cert;
pub(crate) mod file;
pub(crate) mod jwk;
pub(crate) mod memory;
pub(crate) mod parse;
#[cfg(feature = "pkcs11")]
pub mod pkcs11;

pub use cert::{CertificateChain, CertificateHeaders, MAX_CHAIN_LENGTH};
pub use file::{FileKey, ReloadStatus};
pub use jwk::{JwkSet, PublicJwk};
pub use memory::PrivateKey;

/// The future returned by [`KeySource::sign_async`].
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, Error>> + Send + 'a>>;

/// Something that holds a private key and can sign with it.
///
/// The contract, modelled on rustls' `SigningKey`:
/// - the key decides its algorithms ([`KeySource::algorithms`], the default
///   first); a signer never forces another one onto it, and
///   [`KeySource::sign`] refuses an algorithm outside that list;
/// - [`KeySource::kid`] and [`KeySource::public_jwk`] describe the key that
///   signs;
/// - a source whose key can change (a reloading file, a rotating ring)
///   returns the key in force from [`KeySource::snapshot`], so the `kid`
///   written in a header and the key that signs it always agree;
/// - failures are typed [`Error`]s carrying their cause
///   ([`Error::with_source`] with [`ErrorKind::KeyBackend`]); nothing panics.
///
/// The trait is object safe and `Send + Sync`: signers hold an
/// `Arc<dyn KeySource>`.
///
/// # Sync and async signing
/// A local key implements [`KeySource::sign`] and gets
/// [`KeySource::sign_async`] for free. A remote signer (a cloud KMS reached
/// with your own HTTP client) implements `sign_async` instead, so it never
/// blocks an async executor; its `sign` keeps the default, which returns
/// [`ErrorKind::RequiresAsync`].
///
/// ```
/// use std::borrow::Cow;
/// use client_assertion::{Algorithm, Error, ErrorKind, KeySource, PublicJwk, SignFuture};
///
/// /// A KMS-backed key: metadata known locally, signatures made remotely.
/// #[derive(Debug)]
/// struct KmsKey { jwk: PublicJwk }
///
/// impl KeySource for KmsKey {
///     fn algorithms(&self) -> &'static [Algorithm] { &[Algorithm::Es256] }
///     fn kid(&self) -> Cow<'_, str> { Cow::Borrowed(self.jwk.kid()) }
///     fn public_jwk(&self) -> PublicJwk { self.jwk.clone() }
///     fn sign_async<'a>(&'a self, _alg: Algorithm, input: &'a [u8]) -> SignFuture<'a> {
///         Box::pin(async move {
///             // let sig = my_http_client.post(kms_url).body(digest(input)).send().await ...
///             let _ = input;
///             Err(Error::with_source(ErrorKind::KeyBackend, "KMS unreachable"))
///         })
///     }
/// }
/// ```
pub trait KeySource: fmt::Debug + Send + Sync {
    /// The algorithms this key can sign with, the default first. Never empty.
    fn algorithms(&self) -> &'static [Algorithm];

    /// The key id written in the JWS header and published in the JWK.
    fn kid(&self) -> Cow<'_, str>;

    /// The public half of the key as a JWK (with `kid`).
    fn public_jwk(&self) -> PublicJwk;

    /// Signs the JWS signing input (`base64url(header) '.' base64url(claims)`)
    /// and returns the raw JWS signature (`r || s` for ECDSA).
    ///
    /// # Errors
    /// [`ErrorKind::AlgorithmNotAllowed`] if `alg` is not one of
    /// [`KeySource::algorithms`]; [`ErrorKind::KeyBackend`] if the backend
    /// fails; [`ErrorKind::RequiresAsync`] (the default) for sources that
    /// only sign asynchronously.
    fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        let _ = (alg, signing_input);
        Err(Error::new(ErrorKind::RequiresAsync))
    }

    /// Signs without blocking an async executor. The default runs
    /// [`KeySource::sign`], which for in-memory keys is pure computation.
    fn sign_async<'a>(&'a self, alg: Algorithm, signing_input: &'a [u8]) -> SignFuture<'a> {
        Box::pin(std::future::ready(self.sign(alg, signing_input)))
    }

    /// The key in force now, for sources whose key can change; `None` (the
    /// default) for sources whose key never changes.
    ///
    /// Signers call this once per assertion and take `kid`, algorithm and
    /// signature from the returned key, so that a reload between two calls
    /// can never pair one key's `kid` with another key's signature.
    fn snapshot(&self) -> Option<Arc<dyn KeySource>> {
        None
    }

    /// Every public key this source publishes (for a key ring: the next,
    /// active and retired keys). Defaults to [`KeySource::public_jwk`].
    fn published_jwks(&self) -> Vec<PublicJwk> {
        vec![self.public_jwk()]
    }
}

macro_rules! forward_key_source {
    ($ty:ty) => {
        impl<T: KeySource + ?Sized> KeySource for $ty {
            fn algorithms(&self) -> &'static [Algorithm] {
                (**self).algorithms()
            }
            fn kid(&self) -> Cow<'_, str> {
                (**self).kid()
            }
            fn public_jwk(&self) -> PublicJwk {
                (**self).public_jwk()
            }
            fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
                (**self).sign(alg, signing_input)
            }
            fn sign_async<'a>(&'a self, alg: Algorithm, signing_input: &'a [u8]) -> SignFuture<'a> {
                (**self).sign_async(alg, signing_input)
            }
            fn snapshot(&self) -> Option<Arc<dyn KeySource>> {
                (**self).snapshot()
            }
            fn published_jwks(&self) -> Vec<PublicJwk> {
                (**self).published_jwks()
            }
        }
    };
}

forward_key_source!(Arc<T>);
forward_key_source!(Box<T>);

/// The public JWK Set of every key the given sources publish: what a client
/// registers with its authorization server or serves at its `jwks_uri`.
/// Never contains a private member. Keys with the same `kid` appear once.
pub fn jwk_set<'a>(sources: impl IntoIterator<Item = &'a dyn KeySource>) -> JwkSet {
    let mut set = JwkSet::new();
    for source in sources {
        for jwk in source.published_jwks() {
            if set.find(jwk.kid()).is_none() {
                set.push(jwk);
            }
        }
    }
    set
}
