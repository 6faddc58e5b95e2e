//! The public half of a key as validated parameters: what key parsing
//! produces and every backend's verifying key is built from.

use crate::algorithm::KeyType;

/// The shortest RSA modulus accepted anywhere in this crate.
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// The longest RSA modulus accepted for verification, on every backend
/// (RFC 7518 sets no maximum; 8192 bits bounds the cost of one check).
pub(crate) const MAX_RSA_VERIFY_BITS: usize = 8192;

/// The public parameters of a key, validated when they were parsed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum PublicParams {
    /// EC point, affine coordinates as fixed-size big-endian bytes.
    Ec {
        curve: KeyType,
        x: Vec<u8>,
        y: Vec<u8>,
    },
    /// Ed25519 public key bytes.
    Ed25519 { x: [u8; 32] },
    /// RSA modulus and public exponent, minimal big-endian bytes.
    Rsa { n: Vec<u8>, e: Vec<u8> },
}

impl PublicParams {
    pub(crate) fn key_type(&self) -> KeyType {
        match self {
            Self::Ec { curve, .. } => *curve,
            Self::Ed25519 { .. } => KeyType::Ed25519,
            Self::Rsa { .. } => KeyType::Rsa,
        }
    }
}

/// The uncompressed SEC1 encoding `0x04 || x || y` of an EC point.
pub(crate) fn sec1_uncompressed(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut sec1 = Vec::with_capacity(1 + x.len() + y.len());
    sec1.push(4);
    sec1.extend_from_slice(x);
    sec1.extend_from_slice(y);
    sec1
}
