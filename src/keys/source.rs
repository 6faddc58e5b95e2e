//! The key-source contract: [`KeyMetadata`] describes a key, [`KeySource`]
//! signs with it synchronously, [`AsyncKeySource`] asynchronously, and
//! [`SignerKey`] is what a signer holds (either kind).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::keys::jwk::{JwkSet, PublicJwk};

/// The future returned by [`AsyncKeySource::sign_async`].
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, Error>> + Send + 'a>>;

/// What a key source says about its key: algorithms, `kid`, public JWK.
///
/// The contract, modelled on rustls' `SigningKey`:
/// - the key decides its algorithms ([`KeyMetadata::algorithms`], the
///   default first); a signer never forces another one onto it, and signing
///   refuses an algorithm outside that list;
/// - [`KeyMetadata::kid`] and [`KeyMetadata::public_jwk`] describe the key
///   that signs.
///
/// Every key source implements it, together with [`KeySource`] (it signs
/// synchronously, and gets [`AsyncKeySource`] for free) or
/// [`AsyncKeySource`] (a remote signer). A type that implements neither
/// signing trait cannot be handed to a signer.
pub trait KeyMetadata: fmt::Debug + Send + Sync {
    /// The algorithms this key can sign with, the default first. Never empty.
    fn algorithms(&self) -> &'static [Algorithm];

    /// The key id written in the JWS header and published in the JWK.
    fn kid(&self) -> Cow<'_, str>;

    /// The public half of the key as a JWK (with `kid`).
    fn public_jwk(&self) -> PublicJwk;

    /// Every public key this source publishes (for a key ring: the next,
    /// active and retired keys). Defaults to [`KeyMetadata::public_jwk`].
    fn published_jwks(&self) -> Vec<PublicJwk> {
        vec![self.public_jwk()]
    }
}

/// A key that signs synchronously: in memory, a file, an HSM, a key ring.
///
/// - a source whose key can change (a reloading file, a rotating ring)
///   returns the key in force from [`KeySource::snapshot`], so the `kid`
///   written in a header and the key that signs it always agree;
/// - failures are typed [`Error`]s carrying their cause
///   ([`Error::with_source`] with [`ErrorKind::KeyBackend`]); nothing panics.
///
/// The trait is object safe and `Send + Sync`; every `KeySource` is also an
/// [`AsyncKeySource`] (its `sign_async` runs [`KeySource::sign`]).
pub trait KeySource: KeyMetadata {
    /// Signs the JWS signing input (`base64url(header) '.' base64url(claims)`)
    /// and returns the raw JWS signature (`r || s` for ECDSA).
    ///
    /// # Errors
    /// [`ErrorKind::AlgorithmNotAllowed`] if `alg` is not one of
    /// [`KeyMetadata::algorithms`]; [`ErrorKind::KeyBackend`] if the backend
    /// fails.
    fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error>;

    /// The key in force now, for sources whose key can change; `None` (the
    /// default) for sources whose key never changes.
    ///
    /// Signers call this once per assertion and take `kid`, algorithm and
    /// signature from the returned key, so that a reload between two calls
    /// can never pair one key's `kid` with another key's signature.
    fn snapshot(&self) -> Option<Arc<dyn KeySource>> {
        None
    }
}

/// A key that signs without blocking an async executor: a remote signer (a
/// cloud KMS reached with your own HTTP client). Implemented for every
/// [`KeySource`]; implement it directly only for a source that cannot sign
/// synchronously, and hand it to a signer with [`SignerKey::asynchronous`].
///
/// ```
/// use std::borrow::Cow;
/// use client_assertion::keys::{AsyncKeySource, KeyMetadata, PublicJwk, SignFuture};
/// use client_assertion::{Algorithm, Error, ErrorKind};
///
/// /// A KMS-backed key: metadata known locally, signatures made remotely.
/// #[derive(Debug)]
/// struct KmsKey { jwk: PublicJwk }
///
/// impl KeyMetadata for KmsKey {
///     fn algorithms(&self) -> &'static [Algorithm] { &[Algorithm::Es256] }
///     fn kid(&self) -> Cow<'_, str> { Cow::Borrowed(self.jwk.kid()) }
///     fn public_jwk(&self) -> PublicJwk { self.jwk.clone() }
/// }
///
/// impl AsyncKeySource for KmsKey {
///     fn sign_async<'a>(&'a self, _alg: Algorithm, input: &'a [u8]) -> SignFuture<'a> {
///         Box::pin(async move {
///             // let sig = my_http_client.post(kms_url).body(digest(input)).send().await ...
///             let _ = input;
///             Err(Error::with_source(ErrorKind::KeyBackend, "KMS unreachable"))
///         })
///     }
/// }
/// ```
pub trait AsyncKeySource: KeyMetadata {
    /// Signs the JWS signing input, as [`KeySource::sign`].
    fn sign_async<'a>(&'a self, alg: Algorithm, signing_input: &'a [u8]) -> SignFuture<'a>;
}

impl<T: KeySource + ?Sized> AsyncKeySource for T {
    fn sign_async<'a>(&'a self, alg: Algorithm, signing_input: &'a [u8]) -> SignFuture<'a> {
        Box::pin(std::future::ready(self.sign(alg, signing_input)))
    }
}

macro_rules! forward_key_source {
    ($ty:ty) => {
        impl<T: KeyMetadata + ?Sized> KeyMetadata for $ty {
            fn algorithms(&self) -> &'static [Algorithm] {
                (**self).algorithms()
            }
            fn kid(&self) -> Cow<'_, str> {
                (**self).kid()
            }
            fn public_jwk(&self) -> PublicJwk {
                (**self).public_jwk()
            }
            fn published_jwks(&self) -> Vec<PublicJwk> {
                (**self).published_jwks()
            }
        }
        impl<T: KeySource + ?Sized> KeySource for $ty {
            fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
                (**self).sign(alg, signing_input)
            }
            fn snapshot(&self) -> Option<Arc<dyn KeySource>> {
                (**self).snapshot()
            }
        }
    };
}

forward_key_source!(Arc<T>);
forward_key_source!(Box<T>);

/// The key a signer holds: a [`KeySource`] (signs both ways) or an
/// [`AsyncKeySource`] only (then the signer's synchronous `sign` fails with
/// [`ErrorKind::RequiresAsync`]).
///
/// Built from any `Arc` of a key source with `.into()` (signers take
/// `impl Into<SignerKey>`), or with [`SignerKey::asynchronous`].
#[derive(Clone, Debug)]
pub struct SignerKey(Inner);

#[derive(Clone, Debug)]
enum Inner {
    Sync(Arc<dyn KeySource>),
    Async(Arc<dyn AsyncKeySource>),
}

impl SignerKey {
    /// A key source that signs only asynchronously.
    pub fn asynchronous(key: Arc<dyn AsyncKeySource>) -> Self {
        Self(Inner::Async(key))
    }

    /// The key's metadata.
    pub fn metadata(&self) -> &dyn KeyMetadata {
        match &self.0 {
            Inner::Sync(k) => &**k,
            Inner::Async(k) => &**k,
        }
    }

    /// The synchronous key source, if this is one.
    pub fn as_sync(&self) -> Option<&Arc<dyn KeySource>> {
        match &self.0 {
            Inner::Sync(k) => Some(k),
            Inner::Async(_) => None,
        }
    }

    /// The key in force now: a synchronous source's snapshot (or itself).
    pub(crate) fn pin(&self) -> PinnedKey<'_> {
        match &self.0 {
            Inner::Sync(k) => PinnedKey::Sync(k.snapshot(), &**k),
            Inner::Async(k) => PinnedKey::Async(&**k),
        }
    }
}

/// The key in force for one signature (a snapshot held while it signs).
pub(crate) enum PinnedKey<'a> {
    Sync(Option<Arc<dyn KeySource>>, &'a dyn KeySource),
    Async(&'a dyn AsyncKeySource),
}

impl PinnedKey<'_> {
    /// The key's metadata.
    pub(crate) fn metadata(&self) -> &dyn KeyMetadata {
        match self {
            Self::Sync(Some(k), _) => &**k,
            Self::Sync(None, k) => *k,
            Self::Async(k) => *k,
        }
    }

    /// Signs synchronously; [`ErrorKind::RequiresAsync`] for an async-only
    /// source.
    pub(crate) fn sign(&self, alg: Algorithm, input: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Self::Sync(Some(k), _) => k.sign(alg, input),
            Self::Sync(None, k) => k.sign(alg, input),
            Self::Async(_) => Err(Error::new(ErrorKind::RequiresAsync)),
        }
    }

    /// Signs asynchronously.
    pub(crate) async fn sign_async(&self, alg: Algorithm, input: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Self::Sync(Some(k), _) => k.sign(alg, input),
            Self::Sync(None, k) => k.sign(alg, input),
            Self::Async(k) => k.sign_async(alg, input).await,
        }
    }
}

impl<T: KeySource + 'static> From<Arc<T>> for SignerKey {
    fn from(key: Arc<T>) -> Self {
        Self(Inner::Sync(key))
    }
}

impl From<Arc<dyn KeySource>> for SignerKey {
    fn from(key: Arc<dyn KeySource>) -> Self {
        Self(Inner::Sync(key))
    }
}

impl From<Arc<dyn AsyncKeySource>> for SignerKey {
    fn from(key: Arc<dyn AsyncKeySource>) -> Self {
        Self::asynchronous(key)
    }
}

/// The JWK Set publishing every key of `sources` (for key rings, the next,
/// active and retired keys), each key once: what a client registers or
/// serves at its `jwks_uri`. A key whose `kid` and key type are both those
/// of a key already in the set is left out; keys of different types may
/// share a `kid` (RFC 7517 §4.5).
///
/// ```
/// use client_assertion::{jwk_set, KeyType, PrivateKey};
///
/// let a = PrivateKey::generate(KeyType::P256)?;
/// let b = PrivateKey::generate(KeyType::Ed25519)?;
/// assert_eq!(jwk_set([&a, &b]).keys().len(), 2);
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub fn jwk_set<'a, K>(sources: impl IntoIterator<Item = &'a K>) -> JwkSet
where
    K: KeyMetadata + ?Sized + 'a,
{
    let mut set = JwkSet::new();
    for source in sources {
        for jwk in source.published_jwks() {
            if set.find_key(jwk.kid(), jwk.key_type()).is_none() {
                set.push(jwk);
            }
        }
    }
    set
}
