//! X.509 certificates of a signing key, for servers that identify a client
//! key by its certificate (Microsoft Entra ID, ADFS, mTLS estates).
//!
//! A [`CertificateChain`] holds the DER of one or more certificates, leaf
//! first, exactly as they were given (thumbprints are taken over those
//! bytes, never over a re-encoding). Each certificate is parsed with
//! RustCrypto's `x509-cert` when loaded, so that garbage is refused with
//! [`ErrorKind::InvalidCertificate`] instead of being hashed and sent.
//!
//! The chain is *not* validated here (no signature, validity or path
//! checks): the server that receives it decides what to trust. What this
//! crate does check is the one thing a client can get wrong locally: that
//! the leaf certifies the key that signs ([`CertificateChain::check_key`],
//! run by [`AssertionSignerBuilder::build`](crate::AssertionSignerBuilder::build)
//! and again at every signature).
//!
//! The JWS header members it produces (RFC 7515 §4.1.6 to §4.1.8):
//!
//! | member | value | chosen with |
//! |---|---|---|
//! | `x5t#S256` | base64url SHA-256 of the leaf DER | [`CertificateHeaders::X5T_S256`] (the default) |
//! | `x5t` | base64url SHA-1 of the leaf DER (older Entra ID / ADFS) | [`CertificateHeaders::X5T`] |
//! | `x5c` | the chain, standard base64 (padded) DER, leaf first | [`CertificateHeaders::X5C`] |

use std::fmt;
use std::ops::BitOr;
use std::path::Path;
use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::der::{self, Decode, Encode, Reader, SliceReader};
use x509_cert::Certificate;

use crate::b64;
use crate::backend::PublicParams;
use crate::error::{Error, ErrorKind};
use crate::keys::KeySource;

/// At most this many certificates in one chain (the `x5c` header of a
/// longer one would not fit a verifier's token size limit anyway).
pub(crate) const MAX_CHAIN_LENGTH: usize = 10;

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

fn invalid(detail: &'static str) -> Error {
    Error::detail(ErrorKind::InvalidCertificate, detail)
}

fn mismatch(detail: &'static str) -> Error {
    Error::detail(ErrorKind::CertificateMismatch, detail)
}

/// An X.509 certificate chain, leaf first, as DER.
///
/// ```
/// use client_assertion::keys::CertificateChain;
///
/// let pem = std::fs::read_to_string("tests/data/certs/ec.chain.pem").unwrap();
/// let chain = CertificateChain::from_pem(&pem)?;
/// assert_eq!(chain.len(), 2); // the leaf and its intermediate
/// assert_eq!(chain.thumbprint_sha256().len(), 43); // base64url of 32 bytes
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CertificateChain {
    ders: Vec<Vec<u8>>,
    /// The leaf's public key, when it is of a type this crate signs with.
    leaf_key: Option<PublicParams>,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl CertificateChain {
    /// At most this many certificates in one chain (the `x5c` header of a
    /// longer one would not fit a verifier's token size limit anyway).
    pub const MAX_LENGTH: usize = MAX_CHAIN_LENGTH;

    /// Reads every `CERTIFICATE` PEM block of `pem`, in order (leaf first).
    /// Text outside the blocks and blocks with other labels (a private key
    /// in the same file, say) are ignored.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidCertificate`] when there is no certificate block,
    /// a block is not valid PEM, a certificate is not valid DER X.509, or
    /// there are more than [`CertificateChain::MAX_LENGTH`] certificates.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let mut ders = Vec::new();
        let mut rest = pem;
        while let Some(start) = rest.find(PEM_BEGIN) {
            let block = &rest[start..];
            let end = block
                .find(PEM_END)
                .ok_or_else(|| invalid("a PEM certificate block has no END line"))?
                + PEM_END.len();
            let (label, der) = der::pem::decode_vec(&block.as_bytes()[..end])
                .map_err(|_| invalid("malformed PEM certificate block"))?;
            if label != "CERTIFICATE" {
                return Err(invalid("malformed PEM certificate block"));
            }
            if ders.len() == MAX_CHAIN_LENGTH {
                return Err(invalid("too many certificates in the chain"));
            }
            ders.push(der);
            rest = &block[end..];
        }
        Self::from_ders(ders)
    }

    /// Reads one DER certificate, or several concatenated (leaf first).
    ///
    /// # Errors
    /// As [`CertificateChain::from_pem`].
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let mut ders = Vec::new();
        let mut reader =
            SliceReader::new(der).map_err(|_| invalid("the certificate is too large"))?;
        while !reader.is_finished() {
            let start = usize::try_from(reader.position()).unwrap_or(usize::MAX);
            Certificate::decode(&mut reader)
                .map_err(|_| invalid("malformed DER X.509 certificate"))?;
            let end = usize::try_from(reader.position()).unwrap_or(usize::MAX);
            if ders.len() == MAX_CHAIN_LENGTH {
                return Err(invalid("too many certificates in the chain"));
            }
            ders.push(
                der.get(start..end)
                    .ok_or_else(|| invalid("malformed DER"))?
                    .to_vec(),
            );
        }
        Self::from_ders(ders)
    }

    /// Reads a certificate file: PEM (one or more `CERTIFICATE` blocks) or
    /// DER, detected from the content.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] (with the I/O error as source) when the file cannot
    /// be read; otherwise as [`CertificateChain::from_pem`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let bytes =
            std::fs::read(path.as_ref()).map_err(|e| Error::with_source(ErrorKind::Io, e))?;
        Self::from_bytes(&bytes)
    }

    /// Reads PEM or DER, detected from the content: PEM when the bytes are
    /// text with a `-----BEGIN ` line, DER otherwise.
    ///
    /// # Errors
    /// As [`CertificateChain::from_pem`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        match std::str::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN ") => Self::from_pem(text),
            _ => Self::from_der(bytes),
        }
    }

    /// Builds the chain from DER certificates, each parsed completely.
    fn from_ders(ders: Vec<Vec<u8>>) -> Result<Self, Error> {
        let leaf = ders
            .first()
            .ok_or_else(|| invalid("no certificate found"))?;
        let leaf = Certificate::from_der(leaf).map_err(|_| invalid("malformed X.509 leaf"))?;
        for der in &ders[1..] {
            Certificate::from_der(der).map_err(|_| invalid("malformed X.509 certificate"))?;
        }
        let tbs = leaf.tbs_certificate();
        let leaf_key = tbs
            .subject_public_key_info()
            .to_der()
            .ok()
            .and_then(|spki| crate::keys::parse::public_from_spki(&spki).ok());
        Ok(Self {
            ders,
            leaf_key,
            not_before: tbs.validity().not_before.to_system_time(),
            not_after: tbs.validity().not_after.to_system_time(),
        })
    }

    /// The leaf certificate's DER.
    pub fn leaf_der(&self) -> &[u8] {
        // `from_ders` refuses an empty chain.
        self.ders.first().map(Vec::as_slice).unwrap_or_default()
    }

    /// Every certificate's DER, leaf first.
    pub fn ders(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.ders.iter().map(Vec::as_slice)
    }

    /// How many certificates the chain holds (at least one).
    pub fn len(&self) -> usize {
        self.ders.len()
    }

    /// Always `false`: a chain holds at least its leaf.
    pub fn is_empty(&self) -> bool {
        self.ders.is_empty()
    }

    /// The `x5t#S256` value: base64url (unpadded) SHA-256 of the leaf DER.
    /// The hex form of the same digest is what `openssl x509 -fingerprint
    /// -sha256` prints and what Entra ID shows as the certificate's
    /// SHA-256 thumbprint.
    pub fn thumbprint_sha256(&self) -> String {
        b64::encode(&Sha256::digest(self.leaf_der()))
    }

    /// The `x5t` value: base64url (unpadded) SHA-1 of the leaf DER, for
    /// servers that only know the SHA-1 thumbprint (older Entra ID, ADFS).
    pub fn thumbprint_sha1(&self) -> String {
        b64::encode(&Sha1::digest(self.leaf_der()))
    }

    /// The `x5c` value: each certificate as standard (padded) base64 DER,
    /// leaf first (RFC 7515 §4.1.6).
    pub fn x5c(&self) -> Vec<String> {
        self.ders.iter().map(|d| STANDARD.encode(d)).collect()
    }

    /// The leaf's `notBefore`.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// The leaf's `notAfter`: when the server will stop accepting
    /// assertions that name this certificate.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Checks that the leaf certifies `key`'s public key (the key in force:
    /// for a reloading or rotating source, the one its
    /// [`KeySource::snapshot`] returns).
    ///
    /// # Errors
    /// [`ErrorKind::CertificateMismatch`] when the leaf's public key differs
    /// from the key's, or is of a type this crate does not sign with.
    pub fn check_key(&self, key: &dyn KeySource) -> Result<(), Error> {
        let pinned = key.snapshot();
        let key: &dyn KeySource = pinned.as_deref().unwrap_or(key);
        self.check_params(&key.public_jwk().params)
    }

    pub(crate) fn check_params(&self, params: &PublicParams) -> Result<(), Error> {
        match &self.leaf_key {
            Some(leaf) if leaf == params => Ok(()),
            Some(_) => Err(mismatch(
                "the certificate's public key is not the signing key",
            )),
            None => Err(mismatch("the certificate's key type is not supported")),
        }
    }

    pub(crate) fn leaf_params(&self) -> Option<&PublicParams> {
        self.leaf_key.as_ref()
    }

    /// The header members `headers` selects, each as `,"name":value`.
    pub(crate) fn header_members(&self, headers: CertificateHeaders) -> String {
        let mut out = String::new();
        if headers.x5t_s256 {
            out.push_str(r#","x5t#S256":""#);
            out.push_str(&self.thumbprint_sha256());
            out.push('"');
        }
        if headers.x5t {
            out.push_str(r#","x5t":""#);
            out.push_str(&self.thumbprint_sha1());
            out.push('"');
        }
        if headers.x5c {
            out.push_str(r#","x5c":["#);
            for (i, cert) in self.x5c().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('"');
                out.push_str(cert);
                out.push('"');
            }
            out.push(']');
        }
        out
    }
}

impl fmt::Debug for CertificateChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateChain")
            .field("len", &self.ders.len())
            .field("x5t#S256", &self.thumbprint_sha256())
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// Which certificate members the signer writes in the JWS header.
///
/// The default (with a certificate) is `x5t#S256` alone; combine with `|`:
///
/// ```
/// use client_assertion::keys::CertificateHeaders;
///
/// let headers = CertificateHeaders::X5T_S256 | CertificateHeaders::X5T | CertificateHeaders::X5C;
/// assert!(headers.contains(CertificateHeaders::X5C));
/// assert_eq!(CertificateHeaders::default(), CertificateHeaders::X5T_S256);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificateHeaders {
    x5t_s256: bool,
    x5t: bool,
    x5c: bool,
}

impl CertificateHeaders {
    /// No certificate member.
    pub const NONE: Self = Self {
        x5t_s256: false,
        x5t: false,
        x5c: false,
    };
    /// `x5t#S256`: base64url SHA-256 thumbprint of the leaf.
    pub const X5T_S256: Self = Self {
        x5t_s256: true,
        ..Self::NONE
    };
    /// `x5t`: base64url SHA-1 thumbprint of the leaf (older Entra ID, ADFS).
    pub const X5T: Self = Self {
        x5t: true,
        ..Self::NONE
    };
    /// `x5c`: the whole chain, leaf first.
    pub const X5C: Self = Self {
        x5c: true,
        ..Self::NONE
    };

    /// Every member of `self` and of `other`.
    pub const fn union(self, other: Self) -> Self {
        Self {
            x5t_s256: self.x5t_s256 || other.x5t_s256,
            x5t: self.x5t || other.x5t,
            x5c: self.x5c || other.x5c,
        }
    }

    /// Whether every member of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        (self.x5t_s256 || !other.x5t_s256) && (self.x5t || !other.x5t) && (self.x5c || !other.x5c)
    }

    /// Whether no member is selected.
    pub const fn is_empty(self) -> bool {
        !(self.x5t_s256 || self.x5t || self.x5c)
    }
}

impl Default for CertificateHeaders {
    fn default() -> Self {
        Self::X5T_S256
    }
}

impl BitOr for CertificateHeaders {
    type Output = Self;
    fn bitor(self, other: Self) -> Self {
        self.union(other)
    }
}

impl fmt::Debug for CertificateHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (self.x5t_s256, "x5t#S256"),
            (self.x5t, "x5t"),
            (self.x5c, "x5c"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        write!(f, "CertificateHeaders({})", names.join(" | "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_without_panicking() {
        for bytes in [
            &b""[..],
            b"\x30",
            b"\x30\x00",
            b"\x30\x84\xff\xff\xff\xff",
            b"-----BEGIN CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
            b"not a certificate",
        ] {
            let err = CertificateChain::from_bytes(bytes).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidCertificate, "{bytes:?}");
        }
    }

    #[test]
    fn headers_combine() {
        let all = CertificateHeaders::X5T_S256 | CertificateHeaders::X5T | CertificateHeaders::X5C;
        assert!(all.contains(CertificateHeaders::X5T));
        assert!(!CertificateHeaders::X5T.contains(all));
        assert!(CertificateHeaders::NONE.is_empty());
        assert_eq!(
            format!("{all:?}"),
            "CertificateHeaders(x5t#S256 | x5t | x5c)"
        );
    }
}
