//! Reading a token key: its type, its public half (as `PublicParams`), and
//! checking a signature against it.

use cryptoki::object::{Attribute, AttributeType, KeyType as CkKeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use p256::elliptic_curve::sec1::ToSec1Point as _;

use super::error::{ck, Pkcs11Error};
use crate::algorithm::KeyType;
use crate::backend::PublicParams;
use crate::error::Error;
use crate::keys::parse;

/// DER `OBJECT IDENTIFIER` prime256v1 (1.2.840.10045.3.1.7).
pub(crate) const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER `OBJECT IDENTIFIER` secp384r1 (1.3.132.0.34).
pub(crate) const P384_PARAMS: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
/// DER `OBJECT IDENTIFIER` id-Ed25519 (1.3.101.112, RFC 8410).
pub(crate) const ED25519_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER `PrintableString` "edwards25519" (PKCS#11 3.0 curve name form).
const ED25519_NAME: &[u8] = b"\x13\x0cedwards25519";
/// DER `OBJECT IDENTIFIER` 1.3.6.1.4.1.11591.15.1 (the GnuPG Ed25519 OID
/// some older tokens use).
const ED25519_GNU: &[u8] = &[
    0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x0f, 0x01,
];

fn unsupported(reason: &'static str) -> Error {
    Pkcs11Error::UnsupportedKey { reason }.into()
}

/// What the crate needs to know about a private key on the token.
pub(crate) struct KeyInfo {
    pub(crate) key_type: KeyType,
    pub(crate) params: PublicParams,
    pub(crate) label: Option<String>,
    pub(crate) id: Vec<u8>,
}

/// The private keys matching `label` and/or `id`.
pub(crate) fn find_private(
    session: &Session,
    label: Option<&str>,
    id: Option<&[u8]>,
) -> Result<Vec<ObjectHandle>, cryptoki::error::Error> {
    let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
    if let Some(label) = label {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if let Some(id) = id {
        template.push(Attribute::Id(id.to_vec()));
    }
    session.find_objects(&template)
}

/// The one private key matching `label` and/or `id`.
pub(crate) fn find_one_private(
    session: &Session,
    label: Option<&str>,
    id: Option<&[u8]>,
) -> Result<ObjectHandle, FindError> {
    let found = find_private(session, label, id).map_err(FindError::Call)?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(FindError::Typed(Pkcs11Error::KeyNotFound {
            label: label.map(str::to_owned),
            id: id.map(<[u8]>::to_vec),
        })),
        many => Err(FindError::Typed(Pkcs11Error::AmbiguousKey {
            label: label.map(str::to_owned),
            id: id.map(<[u8]>::to_vec),
            count: many.len(),
        })),
    }
}

/// A failed key search: a PKCS#11 call error (perhaps recoverable) or a
/// typed outcome (not found, ambiguous).
pub(crate) enum FindError {
    Call(cryptoki::error::Error),
    Typed(Pkcs11Error),
}

/// The curve named by `CKA_EC_PARAMS`.
fn curve(key_type: CkKeyType, params: Option<&[u8]>) -> Result<KeyType, Error> {
    let params = params.ok_or_else(|| unsupported("the EC key has no CKA_EC_PARAMS"))?;
    if key_type == CkKeyType::EC {
        match params {
            P256_PARAMS => Ok(KeyType::P256),
            P384_PARAMS => Ok(KeyType::P384),
            _ => Err(unsupported(
                "unsupported elliptic curve (P-256 and P-384 only)",
            )),
        }
    } else {
        match params {
            ED25519_PARAMS | ED25519_NAME | ED25519_GNU => Ok(KeyType::Ed25519),
            _ => Err(unsupported("unsupported Edwards curve (Ed25519 only)")),
        }
    }
}

/// The contents of a DER `OCTET STRING`, if `der` is exactly one.
fn der_octet_string(der: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = der.split_first()?;
    if tag != 0x04 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, body) = match first {
        n if n < 0x80 => (usize::from(n), rest),
        0x81 => {
            let (&n, body) = rest.split_first()?;
            (usize::from(n), body)
        }
        0x82 => {
            let (len, body) = rest.split_at_checked(2)?;
            (usize::from(u16::from_be_bytes([len[0], len[1]])), body)
        }
        _ => return None,
    };
    (body.len() == len).then_some(body)
}

/// EC public parameters from `CKA_EC_POINT`: a DER `OCTET STRING` around
/// the SEC1 point (what the specification asks for), or the bare point
/// (what some tokens return).
fn ec_params(curve: KeyType, point: &[u8]) -> Result<PublicParams, Error> {
    let decode = |sec1: &[u8]| -> Option<(Vec<u8>, Vec<u8>)> {
        if curve == KeyType::P256 {
            let p = p256::PublicKey::from_sec1_bytes(sec1)
                .ok()?
                .to_sec1_point(false);
            Some((p.x()?.to_vec(), p.y()?.to_vec()))
        } else {
            let p = p384::PublicKey::from_sec1_bytes(sec1)
                .ok()?
                .to_sec1_point(false);
            Some((p.x()?.to_vec(), p.y()?.to_vec()))
        }
    };
    let (x, y) = der_octet_string(point)
        .and_then(decode)
        .or_else(|| decode(point))
        .ok_or_else(|| unsupported("CKA_EC_POINT is not a point on the key's curve"))?;
    parse::ec_public(curve, &x, &y)
}

/// Ed25519 public parameters from `CKA_EC_POINT` (DER-wrapped or bare).
fn ed25519_params(point: &[u8]) -> Result<PublicParams, Error> {
    let raw = match der_octet_string(point) {
        Some(inner) if inner.len() == 32 => inner,
        _ => point,
    };
    parse::ed25519_public(raw)
}

fn bytes(attrs: &[Attribute], wanted: AttributeType) -> Option<&[u8]> {
    attrs.iter().find_map(|a| match (a, wanted) {
        (Attribute::EcParams(v), AttributeType::EcParams)
        | (Attribute::EcPoint(v), AttributeType::EcPoint)
        | (Attribute::Modulus(v), AttributeType::Modulus)
        | (Attribute::PublicExponent(v), AttributeType::PublicExponent)
        | (Attribute::PublicKeyInfo(v), AttributeType::PublicKeyInfo)
        | (Attribute::Id(v), AttributeType::Id)
        | (Attribute::Label(v), AttributeType::Label) => Some(v.as_slice()),
        _ => None,
    })
}

fn flag(attrs: &[Attribute], wanted: AttributeType) -> Option<bool> {
    attrs.iter().find_map(|a| match (a, wanted) {
        (Attribute::Sign(v), AttributeType::Sign)
        | (Attribute::AlwaysAuthenticate(v), AttributeType::AlwaysAuthenticate) => Some(*v),
        _ => None,
    })
}

/// Public parameters from a key object's attributes, if they hold them.
fn params_from(key_type: KeyType, attrs: &[Attribute]) -> Option<Result<PublicParams, Error>> {
    match key_type {
        KeyType::P256 | KeyType::P384 => {
            bytes(attrs, AttributeType::EcPoint).map(|p| ec_params(key_type, p))
        }
        KeyType::Ed25519 => bytes(attrs, AttributeType::EcPoint).map(ed25519_params),
        KeyType::Rsa => {
            let n = bytes(attrs, AttributeType::Modulus)?;
            let e = bytes(attrs, AttributeType::PublicExponent)?;
            Some(parse::rsa_public_params(n, e))
        }
    }
    .or_else(|| {
        bytes(attrs, AttributeType::PublicKeyInfo)
            .filter(|spki| !spki.is_empty())
            .map(parse::public_from_spki)
    })
}

const PUBLIC_ATTRS: [AttributeType; 5] = [
    AttributeType::EcParams,
    AttributeType::EcPoint,
    AttributeType::Modulus,
    AttributeType::PublicExponent,
    AttributeType::PublicKeyInfo,
];

/// Reads a private key's type and public half: from the public-key object
/// with the same `CKA_ID` (or, without an id, the same `CKA_LABEL`), else
/// from the private key's own attributes.
pub(crate) fn read_key(session: &Session, key: ObjectHandle) -> Result<KeyInfo, Error> {
    let mut wanted = vec![
        AttributeType::KeyType,
        AttributeType::Id,
        AttributeType::Label,
        AttributeType::Sign,
        AttributeType::AlwaysAuthenticate,
    ];
    wanted.extend(PUBLIC_ATTRS);
    let attrs = session
        .get_attributes(key, &wanted)
        .map_err(ck("C_GetAttributeValue"))?;
    let (ck_type, key_type) = private_key_type(&attrs)?;
    check_signing_flags(&attrs)?;
    let id = bytes(&attrs, AttributeType::Id)
        .unwrap_or_default()
        .to_vec();
    let label = bytes(&attrs, AttributeType::Label)
        .filter(|l| !l.is_empty())
        .map(|l| String::from_utf8_lossy(l).into_owned());
    let publics = matching_publics(session, ck_type, &id, label.as_deref())?;
    let params = public_params(session, &publics, &attrs, ck_type, key_type)?;
    Ok(KeyInfo {
        key_type,
        params,
        label,
        id,
    })
}

/// A private key's type (PKCS#11 and the crate's) from its `CKA_KEY_TYPE`
/// and, for EC and Edwards keys, its `CKA_EC_PARAMS`.
fn private_key_type(attrs: &[Attribute]) -> Result<(CkKeyType, KeyType), Error> {
    let ck_type = attrs
        .iter()
        .find_map(|a| match a {
            Attribute::KeyType(t) => Some(*t),
            _ => None,
        })
        .ok_or_else(|| unsupported("the private key has no CKA_KEY_TYPE"))?;
    let ec_params_attr = bytes(attrs, AttributeType::EcParams);
    let key_type = if ck_type == CkKeyType::RSA {
        KeyType::Rsa
    } else if ck_type == CkKeyType::EC || ck_type == CkKeyType::EC_EDWARDS {
        curve(ck_type, ec_params_attr)?
    } else {
        return Err(unsupported(
            "unsupported key type (EC P-256/P-384, Ed25519 and RSA only)",
        ));
    };
    Ok((ck_type, key_type))
}

/// Refuses a private key that may not sign, or that needs a PIN for every
/// signature.
fn check_signing_flags(attrs: &[Attribute]) -> Result<(), Error> {
    if flag(attrs, AttributeType::Sign) == Some(false) {
        return Err(unsupported("the key may not sign (CKA_SIGN is false)"));
    }
    if flag(attrs, AttributeType::AlwaysAuthenticate) == Some(true) {
        return Err(unsupported(
            "keys with CKA_ALWAYS_AUTHENTICATE (a PIN per signature) are not supported",
        ));
    }
    Ok(())
}

/// The public-key objects that belong to a private key: the same key type
/// and `CKA_ID` (or, without an id, the same `CKA_LABEL`); none if the
/// private key has neither.
fn matching_publics(
    session: &Session,
    ck_type: CkKeyType,
    id: &[u8],
    label: Option<&str>,
) -> Result<Vec<ObjectHandle>, Error> {
    let mut template = vec![
        Attribute::Class(ObjectClass::PUBLIC_KEY),
        Attribute::KeyType(ck_type),
    ];
    if !id.is_empty() {
        template.push(Attribute::Id(id.to_vec()));
    } else if let Some(label) = label {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    if template.len() > 2 {
        session.find_objects(&template).map_err(ck("C_FindObjects"))
    } else {
        Ok(Vec::new())
    }
}

/// The public parameters: from the first of `publics` on the same curve
/// that holds them, else from the private key's own attributes `own` (RSA
/// keys carry n and e; some tokens expose CKA_EC_POINT or
/// CKA_PUBLIC_KEY_INFO on private keys). Without either, the first error
/// met reading a public-key object, or `PublicKeyUnavailable`.
fn public_params(
    session: &Session,
    publics: &[ObjectHandle],
    own: &[Attribute],
    ck_type: CkKeyType,
    key_type: KeyType,
) -> Result<PublicParams, Error> {
    let mut first_error = None;
    for &public in publics {
        let attrs = session
            .get_attributes(public, &PUBLIC_ATTRS)
            .map_err(ck("C_GetAttributeValue"))?;
        // The same curve (the encodings of CKA_EC_PARAMS may differ: SoftHSM2
        // gives an Ed25519 private key the curve name, its public key the OID).
        if key_type != KeyType::Rsa
            && curve(ck_type, bytes(&attrs, AttributeType::EcParams)).ok() != Some(key_type)
        {
            continue;
        }
        match params_from(key_type, &attrs) {
            Some(Ok(params)) => return Ok(params),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            None => {}
        }
    }
    match params_from(key_type, own) {
        Some(Ok(params)) => Ok(params),
        Some(Err(e)) => Err(e),
        None => Err(first_error.unwrap_or_else(|| Pkcs11Error::PublicKeyUnavailable.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_point_is_read_wrapped_or_bare() {
        let key = p256::SecretKey::from_slice(&[7u8; 32])
            .unwrap()
            .public_key();
        let bare = key.to_sec1_point(false).as_bytes().to_vec();
        let mut wrapped = vec![0x04, bare.len() as u8];
        wrapped.extend_from_slice(&bare);
        let a = ec_params(KeyType::P256, &bare).unwrap();
        let b = ec_params(KeyType::P256, &wrapped).unwrap();
        assert!(a == b);
        let compressed = key.to_sec1_point(true).as_bytes().to_vec();
        assert!(ec_params(KeyType::P256, &compressed).unwrap() == a);
        assert!(ec_params(KeyType::P384, &wrapped).is_err());
        assert!(ec_params(KeyType::P256, &wrapped[..40]).is_err());
    }

    #[test]
    fn ed25519_point_is_read_wrapped_or_bare() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]).verifying_key();
        let bare = key.to_bytes();
        let mut wrapped = vec![0x04, 0x20];
        wrapped.extend_from_slice(&bare);
        assert!(ed25519_params(&bare).unwrap() == ed25519_params(&wrapped).unwrap());
    }

    #[test]
    fn curves_are_recognised() {
        assert_eq!(
            curve(CkKeyType::EC, Some(P256_PARAMS)).unwrap(),
            KeyType::P256
        );
        assert_eq!(
            curve(CkKeyType::EC, Some(P384_PARAMS)).unwrap(),
            KeyType::P384
        );
        assert_eq!(
            curve(CkKeyType::EC_EDWARDS, Some(ED25519_NAME)).unwrap(),
            KeyType::Ed25519
        );
        assert!(curve(CkKeyType::EC, Some(ED25519_PARAMS)).is_err());
        assert!(curve(CkKeyType::EC, None).is_err());
    }
}
