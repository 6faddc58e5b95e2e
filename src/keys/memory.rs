//! In-memory private keys: parsed once, zeroized on drop, never printed.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

// Two `signature` majors: 3 for ECDSA (p256/p384 0.14), 2 for Ed25519 and RSA.
use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::Generate as _;
use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use sha2::Sha256;

use crate::algorithm::{Algorithm, KeyType};
use crate::backend::Backend;
use crate::error::{Error, ErrorKind};
use crate::keys::jwk::{PublicJwk, PublicParams};
use crate::keys::parse::{self, ParsedPrivate};
use crate::keys::KeySource;

/// The private key material. Every variant zeroizes its secret on drop
/// (the RustCrypto key types implement `ZeroizeOnDrop`).
pub(crate) enum Secret {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(Box<RsaSecret>),
}

/// RSA signing keys prepared once for both padding schemes (blinded).
pub(crate) struct RsaSecret {
    pkcs1: rsa::pkcs1v15::SigningKey<Sha256>,
    pss: rsa::pss::BlindedSigningKey<Sha256>,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl Secret {
    pub(crate) fn rsa(key: RsaPrivateKey) -> Self {
        let n = key.n().to_bytes_be();
        let e = key.e().to_bytes_be();
        Self::Rsa(Box::new(RsaSecret {
            pkcs1: rsa::pkcs1v15::SigningKey::new(key.clone()),
            pss: rsa::pss::BlindedSigningKey::new(key),
            n,
            e,
        }))
    }

    pub(crate) fn key_type(&self) -> KeyType {
        match self {
            Self::P256(_) => KeyType::P256,
            Self::P384(_) => KeyType::P384,
            Self::Ed25519(_) => KeyType::Ed25519,
            Self::Rsa(_) => KeyType::Rsa,
        }
    }

    pub(crate) fn p256_params(key: &p256::ecdsa::VerifyingKey) -> PublicParams {
        let point = key.to_sec1_point(false);
        PublicParams::Ec {
            curve: KeyType::P256,
            x: point.x().map(|x| x.to_vec()).unwrap_or_default(),
            y: point.y().map(|y| y.to_vec()).unwrap_or_default(),
        }
    }

    pub(crate) fn p384_params(key: &p384::ecdsa::VerifyingKey) -> PublicParams {
        let point = key.to_sec1_point(false);
        PublicParams::Ec {
            curve: KeyType::P384,
            x: point.x().map(|x| x.to_vec()).unwrap_or_default(),
            y: point.y().map(|y| y.to_vec()).unwrap_or_default(),
        }
    }

    pub(crate) fn public_params(&self) -> PublicParams {
        match self {
            Self::P256(k) => Self::p256_params(k.verifying_key()),
            Self::P384(k) => Self::p384_params(k.verifying_key()),
            Self::Ed25519(k) => PublicParams::Ed25519 {
                x: k.verifying_key().to_bytes(),
            },
            Self::Rsa(k) => PublicParams::Rsa {
                n: k.n.clone(),
                e: k.e.clone(),
            },
        }
    }

    /// Signs `msg` with `alg`, which the caller has checked fits this key.
    fn sign(&self, alg: Algorithm, msg: &[u8]) -> Result<Vec<u8>, Error> {
        // Generic: ECDSA fails with `signature` 3's error, the others with 2's.
        fn failed<E>(_: E) -> Error {
            Error::detail(ErrorKind::KeyBackend, "signing failed")
        }
        Ok(match (self, alg) {
            (Self::P256(k), Algorithm::Es256) => {
                let sig: p256::ecdsa::Signature = k.try_sign(msg).map_err(failed)?;
                sig.to_vec()
            }
            (Self::P384(k), Algorithm::Es384) => {
                let sig: p384::ecdsa::Signature = k.try_sign(msg).map_err(failed)?;
                sig.to_vec()
            }
            (Self::Ed25519(k), Algorithm::EdDsa) => k.try_sign(msg).map_err(failed)?.to_vec(),
            (Self::Rsa(k), Algorithm::Rs256) => k
                .pkcs1
                .try_sign_with_rng(&mut rand::thread_rng(), msg)
                .map_err(failed)?
                .to_vec(),
            (Self::Rsa(k), Algorithm::Ps256) => k
                .pss
                .try_sign_with_rng(&mut rand::thread_rng(), msg)
                .map_err(failed)?
                .to_vec(),
            _ => return Err(mismatch()),
        })
    }

    /// The private key as PKCS#8 DER.
    fn to_pkcs8_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        use pkcs8::EncodePrivateKey;
        // ECDSA keys encode through pkcs8 0.11 (p256/p384 0.14), Ed25519 and
        // RSA keys through pkcs8 0.10: two document types, the same DER.
        use p256::pkcs8::EncodePrivateKey as EcEncodePrivateKey;
        let der = match self {
            Self::P256(k) => EcEncodePrivateKey::to_pkcs8_der(k)
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
            Self::P384(k) => EcEncodePrivateKey::to_pkcs8_der(k)
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
            Self::Ed25519(k) => k
                .to_pkcs8_der()
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
            Self::Rsa(k) => AsRef::<RsaPrivateKey>::as_ref(&k.pkcs1)
                .to_pkcs8_der()
                .map(|doc| doc.as_bytes().to_vec())
                .map_err(|e| e.to_string()),
        }
        .map_err(|e| Error::with_source(ErrorKind::KeyBackend, e))?;
        Ok(zeroize::Zeroizing::new(der))
    }

    fn clone_secret(&self) -> Self {
        match self {
            Self::P256(k) => Self::P256(k.clone()),
            Self::P384(k) => Self::P384(k.clone()),
            Self::Ed25519(k) => Self::Ed25519(k.clone()),
            Self::Rsa(k) => Self::Rsa(Box::new(RsaSecret {
                pkcs1: k.pkcs1.clone(),
                pss: k.pss.clone(),
                n: k.n.clone(),
                e: k.e.clone(),
            })),
        }
    }
}

/// The key prepared for its backend's signing code.
enum BackendKey {
    /// Signs with [`Secret`] itself.
    RustCrypto,
    /// An AWS-LC key pair derived once from the secret's PKCS#8 DER.
    #[cfg(feature = "aws-lc-rs")]
    AwsLc(Box<crate::backend::aws_lc::SigningKey>),
}

impl BackendKey {
    #[cfg_attr(not(feature = "aws-lc-rs"), allow(unused_variables))]
    fn new(secret: &Secret, backend: Backend) -> Result<Self, Error> {
        match backend {
            Backend::RustCrypto => Ok(Self::RustCrypto),
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLc => {
                // The DER is zeroized as soon as AWS-LC has parsed it.
                let der = secret.to_pkcs8_der()?;
                crate::backend::aws_lc::SigningKey::from_pkcs8(secret.key_type(), &der)
                    .map(|k| Self::AwsLc(Box::new(k)))
            }
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Self::RustCrypto => Backend::RustCrypto,
            #[cfg(feature = "aws-lc-rs")]
            Self::AwsLc(_) => Backend::AwsLc,
        }
    }
}

fn mismatch() -> Error {
    Error::detail(
        ErrorKind::AlgorithmNotAllowed,
        "the algorithm does not fit the key",
    )
}

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
    secret: Secret,
    public: PublicJwk,
    algorithms: &'static [Algorithm],
    signer: BackendKey,
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
            secret: parsed.secret,
            public,
            algorithms,
            signer: BackendKey::RustCrypto,
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
        // ECDSA keys come from the OS RNG through getrandom (p256/p384 0.14
        // `Generate`); a failing OS RNG is an error, not a panic.
        let rng_failed = |_| Error::detail(ErrorKind::KeyBackend, "the OS random generator failed");
        let secret = match key_type {
            KeyType::P256 => {
                Secret::P256(p256::ecdsa::SigningKey::try_generate().map_err(rng_failed)?)
            }
            KeyType::P384 => {
                Secret::P384(p384::ecdsa::SigningKey::try_generate().map_err(rng_failed)?)
            }
            KeyType::Ed25519 => {
                Secret::Ed25519(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
            }
            KeyType::Rsa => return Self::generate_rsa(2048),
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
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
            .map_err(|e| Error::with_source(ErrorKind::KeyBackend, e))?;
        Ok(Self::from_parsed(Secret::rsa(key).into()))
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
        self.signer = BackendKey::new(&self.secret, backend)?;
        Ok(self)
    }

    /// The backend that signs with this key.
    pub fn backend(&self) -> Backend {
        self.signer.backend()
    }

    /// The key's `kid`.
    pub fn kid(&self) -> &str {
        &self.public.kid
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.secret.key_type()
    }

    /// The private key as a PKCS#8 PEM document (`PRIVATE KEY`), e.g. to
    /// store a generated key. The text is secret and zeroized on drop; the
    /// `kid` and algorithm restriction are not part of it.
    ///
    /// # Errors
    /// [`ErrorKind::KeyBackend`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<zeroize::Zeroizing<String>, Error> {
        let der = self.secret.to_pkcs8_der()?;
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
        let secret = self.secret.clone_secret();
        let signer = BackendKey::new(&secret, self.backend()).unwrap_or(BackendKey::RustCrypto);
        Self {
            secret,
            public: self.public.clone(),
            algorithms: self.algorithms,
            signer,
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

impl KeySource for PrivateKey {
    fn algorithms(&self) -> &'static [Algorithm] {
        self.algorithms
    }

    fn kid(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.public.kid)
    }

    fn public_jwk(&self) -> PublicJwk {
        self.public.clone()
    }

    fn sign(&self, alg: Algorithm, signing_input: &[u8]) -> Result<Vec<u8>, Error> {
        if !self.algorithms.contains(&alg) {
            return Err(mismatch());
        }
        match &self.signer {
            BackendKey::RustCrypto => self.secret.sign(alg, signing_input),
            #[cfg(feature = "aws-lc-rs")]
            BackendKey::AwsLc(k) => k.sign(alg, signing_input),
        }
    }
}
