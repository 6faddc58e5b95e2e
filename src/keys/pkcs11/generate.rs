//! Key generation on the token: the private key is created there and
//! never leaves it.

use cryptoki::mechanism::Mechanism;
use cryptoki::object::Attribute;
use cryptoki::session::Session;
use cryptoki::types::Ulong;

use super::error::Pkcs11Error;
use super::public::{ED25519_PARAMS, P256_PARAMS, P384_PARAMS};
use super::session::{call, Failure};
use crate::algorithm::KeyType;

/// Refuses a label or id that an object on the token already carries.
pub(crate) fn check_free(session: &Session, label: &str, id: &[u8]) -> Result<(), Failure> {
    let by_label = session
        .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
        .map_err(call("C_FindObjects"))?;
    let by_id = session
        .find_objects(&[Attribute::Id(id.to_vec())])
        .map_err(call("C_FindObjects"))?;
    if by_label.is_empty() && by_id.is_empty() {
        return Ok(());
    }
    Err(Pkcs11Error::KeyExists {
        label: (!by_label.is_empty()).then(|| label.to_owned()),
        id: (!by_id.is_empty()).then(|| id.to_vec()),
    }
    .into())
}

/// Generates a key pair on the token: a private key that is a token
/// object (`CKA_TOKEN`), private, sensitive, not extractable and may only
/// sign; and its public key, with the same label and id.
pub(crate) fn generate_pair(
    session: &Session,
    key_type: KeyType,
    rsa_bits: usize,
    label: &str,
    id: &[u8],
) -> Result<(), Failure> {
    let mut public = vec![
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.to_vec()),
    ];
    let private = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Id(id.to_vec()),
    ];
    let mechanism = match key_type {
        KeyType::P256 => {
            public.push(Attribute::EcParams(P256_PARAMS.to_vec()));
            Mechanism::EccKeyPairGen
        }
        KeyType::P384 => {
            public.push(Attribute::EcParams(P384_PARAMS.to_vec()));
            Mechanism::EccKeyPairGen
        }
        KeyType::Ed25519 => {
            public.push(Attribute::EcParams(ED25519_PARAMS.to_vec()));
            Mechanism::EccEdwardsKeyPairGen
        }
        KeyType::Rsa => {
            let bits = Ulong::try_from(rsa_bits).map_err(call("C_GenerateKeyPair"))?;
            public.push(Attribute::ModulusBits(bits));
            public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
            Mechanism::RsaPkcsKeyPairGen
        }
    };
    session
        .generate_key_pair(&mechanism, &public, &private)
        .map_err(call("C_GenerateKeyPair"))?;
    Ok(())
}
