//! In-memory private keys: parsed once, zeroized on drop, never printed.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use crate::algorithm::{Algorithm, KeyType};
use crate::backend::{mismatch, Backend, Secret, SigningKey};
use crate::error::{Error, ErrorKind};
use crate::keys::jwk::PublicJwk;
use crate::keys::parse::{self, ParsedPrivate};
use crate::keys::{KeyMetadata, KeySource};

/// A private signing key held in memory.
///
/// Built from PEM (PKCS#8, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`),
/// DER, a private JWK, or freshly generated. The key decides its algorithm:
/// P-256 signs ES256, P-384 ES384, Ed25519 EdDSA, and RSA (at least 2048
/// bits) RS256 or PS256.
///
/// The private material is zeroized when the key is dropped; `Debug` shows
/// only the key type, `kid` and backend; there is no `Clone`, only the
/// explicit [`PrivateKey::clone_key`].
///
/// Every constructor signs with [`Backend::RustCrypto`];
/// [`PrivateKey::with_backend`] converts the key once for another backend.
///
/// ```
/// use client_assertion::{Algorithm, KeySource, KeyType, PrivateKey};
///
/// let key = PrivateKey::generate(KeyType::P256)?;
/// assert_eq!(key.algorithms(), &[Algorithm::Es256]);
/// assert_eq!(key.kid(), key.public_jwk().thumbprint());
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct PrivateKey {
    key: SigningKey,
    public: PublicJwk,
    algorithms: &'static [Algorithm],
}

impl PrivateKey {
    fn from_parsed(parsed: ParsedPrivate) -> Self {
        let key_type = parsed.secret.key_type();
        let algorithms = match parsed.alg {
            Some(alg) => KeyType::only(alg),
            None => key_type.algorithms(),
        };
        let public = PublicJwk::new(parsed.secret.public_params(), parsed.kid, parsed.alg);
        Self {
            key: SigningKey::new(parsed.secret),
            public,
            algorithms,
        }
    }

    /// Reads a private key from PEM: `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY`
    /// (SEC1, an `EC PARAMETERS` block before it is skipped) or
    /// `RSA PRIVATE KEY` (PKCS#1).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidKey`] for malformed input, [`ErrorKind::PublicKeyOnly`]
    /// for a public key or certificate, [`ErrorKind::UnsupportedKey`] for other
    /// curves and key types or encrypted keys, [`ErrorKind::WeakKey`] for RSA
    /// below 2048 bits.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        parse::private_from_pem(pem).map(Self::from_parsed)
    }

    /// Reads a private key from DER (PKCS#8, SEC1 or PKCS#1, detected).
    ///
    /// # Errors
    /// As [`PrivateKey::from_pem`].
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        parse::private_from_der(der).map(Self::from_parsed)
    }

    /// Reads a private JWK (JSON). Its `kid` and `alg` are kept; the public
    /// members must match the private one.
    ///
    /// `jsonwebtoken::jwk::Jwk` models public keys only (it has no `d`), so
    /// a private key cannot come from it; read the JWK JSON here instead.
    ///
    /// # Errors
    /// As [`PrivateKey::from_pem`]; [`ErrorKind::AlgorithmNotAllowed`] for a
    /// symmetric (`oct`) key or an `alg` that does not fit the key.
    pub fn from_jwk(json: &str) -> Result<Self, Error> {
        parse::private_from_jwk(json).map(Self::from_parsed)
    }

    /// Reads a private key in any supported encoding (PEM, JWK or DER,
    /// detected from the content).
    ///
    /// # Errors
    /// As [`PrivateKey::from_pem`] and [`PrivateKey::from_jwk`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        parse::private_from_bytes(bytes).map(Self::from_parsed)
    }

    /// As [`PrivateKey::from_bytes`], and whether the encoding was
    /// self-checked (see `ParsedPrivate::self_checked`): the key file
    /// sources admit a key that is not only once its file has settled.
    pub(crate) fn from_bytes_self_checked(bytes: &[u8]) -> Result<(Self, bool), Error> {
        let parsed = parse::private_from_bytes(bytes)?;
        let checked = parsed.self_checked();
        Ok((Self::from_parsed(parsed), checked))
    }

    /// Reads a private key file in any supported encoding.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] (with the I/O error as source) when the file cannot
    /// be read; otherwise as [`PrivateKey::from_bytes`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let bytes = zeroize::Zeroizing::new(
            std::fs::read(path.as_ref()).map_err(|e| Error::with_source(ErrorKind::Io, e))?,
        );
        Self::from_bytes(&bytes)
    }

    /// Generates a fresh key with the operating system's CSPRNG. RSA keys
    /// are 2048 bits; use [`PrivateKey::generate_rsa`] for another size.
    ///
    /// # Errors
    /// [`ErrorKind::KeyBackend`] if key generation fails.
    pub fn generate(key_type: KeyType) -> Result<Self, Error> {
        let secret = match key_type {
            KeyType::Rsa => return Self::generate_rsa(2048),
            other => Secret::generate(other)?,
        };
        Ok(Self::from_parsed(secret.into()))
    }

    /// Generates a fresh RSA key of `bits` bits (2048 to 4096).
    ///
    /// # Errors
    /// [`ErrorKind::WeakKey`] below 2048 bits, [`ErrorKind::InvalidConfig`]
    /// above 4096, [`ErrorKind::KeyBackend`] if generation fails.
    pub fn generate_rsa(bits: usize) -> Result<Self, Error> {
        if bits < parse::MIN_RSA_BITS {
            return Err(Error::detail(
                ErrorKind::WeakKey,
                "RSA modulus is shorter than 2048 bits",
            ));
        }
        if bits > 4096 {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "RSA keys above 4096 bits are not supported",
            ));
        }
        Ok(Self::from_parsed(Secret::generate_rsa(bits)?.into()))
    }

    /// Replaces the `kid` (by default the RFC 7638 thumbprint, or the JWK's own).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.public.kid = kid.into();
        self
    }

    /// Restricts the key to one algorithm (e.g. PS256 for an RSA key), which
    /// is then also published as the JWK's `alg`.
    ///
    /// # Errors
    /// [`ErrorKind::AlgorithmNotAllowed`] if the key cannot sign with `alg`.
    pub fn with_algorithm(mut self, alg: Algorithm) -> Result<Self, Error> {
        if !self.algorithms.contains(&alg) {
            return Err(mismatch());
        }
        self.algorithms = KeyType::only(alg);
        self.public.alg = Some(alg);
        Ok(self)
    }

    /// Signs with `backend` from now on (every constructor starts with
    /// [`Backend::RustCrypto`]). The key is converted once, here: for
    /// `Backend::AwsLc` into an AWS-LC key pair through its PKCS#8 DER
    /// (held in `Zeroizing` and wiped at once); the AWS-LC key memory is
    /// cleansed by AWS-LC when the key is dropped. The `kid`, algorithms and
    /// public JWK do not change. See [`crate::backend`].
    ///
    /// ```
    /// use client_assertion::{Backend, KeySource, KeyType, PrivateKey};
    ///
    /// let key = PrivateKey::generate(KeyType::Ed25519)?.with_backend(Backend::RustCrypto)?;
    /// assert_eq!(key.backend(), Backend::RustCrypto);
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::KeyBackend`] if the backend refuses the key.
    pub fn with_backend(mut self, backend: Backend) -> Result<Self, Error> {
        self.key.set_backend(backend)?;
        Ok(self)
    }

    /// The backend that signs with this key.
    pub fn backend(&self) -> Backend {
        self.key.backend()
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// The algorithms this key signs with, the default first (as
    /// [`KeyMetadata::algorithms`], without importing the trait).
    pub fn algorithms(&self) -> &'static [Algorithm] {
        self.algorithms
    }

    /// The public half as a JWK with its `kid` (as
    /// [`KeyMetadata::public_jwk`], without importing the trait).
    pub fn public_jwk(&self) -> PublicJwk {
        self.public.clone()
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key.secret().key_type()
    }

    /// The private key as a PKCS#8 PEM document (`PRIVATE KEY`), e.g. to
    /// store a generated key. The text is secret and zeroized on drop; the
    /// `kid` and algorithm restriction are not part of it.
    ///
    /// The return type is `zeroize::Zeroizing<String>` (it derefs to `&str`)
    /// on purpose: `zeroize` 1.x is the wipe-on-drop wrapper every RustCrypto
    /// crate and most secret-handling code already share, so the secret can
    /// move into the caller's own zeroizing storage without a copy.
    ///
    /// # Errors
    /// [`ErrorKind::KeyBackend`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<zeroize::Zeroizing<String>, Error> {
        let der = self.key.secret().to_pkcs8_der()?;
        pkcs8::der::pem::encode_string("PRIVATE KEY", pkcs8::der::pem::LineEnding::LF, &der)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| Error::with_source(ErrorKind::KeyBackend, e.to_string()))
    }

    /// An explicit copy of the key (there is no implicit `Clone`), on the
    /// same backend: an AWS-LC key pair is re-derived from the PKCS#8 DER,
    /// so the copy owns its own key memory. (AWS-LC cannot refuse a key it
    /// has already accepted; should it all the same, the copy signs with
    /// [`Backend::RustCrypto`] rather than panic; see [`PrivateKey::backend`].)
    pub fn clone_key(&self) -> Self {
        Self {
            key: self.key.clone_key(),
            public: self.public.clone(),
            algorithms: self.algorithms,
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("key_type", &self.key_type())
            .field("kid", &self.public.kid)
            .field("backend", &self.backend())
            .field("secret", &"[secret key elided]")
            .finish()
    }
}

impl KeyMetadata for PrivateKey {
    fn algorithms(&self) -> &'static [Algorithm] {
        PrivateKey::algorithms(self)
    }

    fn kid(&self) -> Cow<'_, str> {
        Cow::Borrowed(PrivateKey::kid(self))
    }

    fn public_jwk(&self) -> PublicJwk {
        PrivateKey::public_jwk(self)
    }
}

impl KeySource for PrivateKey {
    fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        if !self.algorithms.contains(&alg) {
            return Err(mismatch());
        }
        self.key.sign(alg, signing_input)
    }
}
