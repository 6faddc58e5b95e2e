//! Decoding key material: PEM (PKCS#8, SEC1, PKCS#1, SPKI), DER, and JWK.
//!
//! Every decoded private byte buffer is held in `Zeroizing` until it is
//! turned into a key object that zeroizes itself on drop. Errors are typed
//! and carry fixed details only, never the input.

use pkcs8::der::Decode;
use pkcs8::{DecodePrivateKey, ObjectIdentifier, PrivateKeyInfoRef};
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::algorithm::{Algorithm, KeyType};
use crate::b64;
pub(crate) use crate::backend::MIN_RSA_BITS;
use crate::backend::{public_uint, sec1_uncompressed, PublicParams, Secret, MAX_RSA_VERIFY_BITS};
use crate::error::{Error, ErrorKind};
use crate::keys::skip::{is_encryption_alg, SkipReason};

const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// A decoded private key with what its encoding said about `kid` and `alg`.
pub(crate) struct ParsedPrivate {
    pub(crate) secret: Secret,
    pub(crate) kid: Option<String>,
    pub(crate) alg: Option<Algorithm>,
    /// See [`ParsedPrivate::self_checked`].
    self_checked: bool,
}

impl From<Secret> for ParsedPrivate {
    fn from(secret: Secret) -> Self {
        Self {
            secret,
            kid: None,
            alg: None,
            self_checked: false,
        }
    }
}

impl ParsedPrivate {
    /// Whether the encoding carried redundancy that was checked against the
    /// private part, so that a torn or spliced file cannot pass as another
    /// valid key: an embedded public key equal to the one derived from the
    /// private scalar or seed (PKCS#8 v2, SEC1 or PKCS#8 EC with its public
    /// key, a private JWK, whose public members are required, when it has
    /// no `alg` and no `kid` but its thumbprint), or RSA
    /// components checked for consistency (`n = p·q`, `d·e ≡ 1 mod p−1` and
    /// `mod q−1`; the CRT values in the file are not used, they are
    /// recomputed). Not self-checked: Ed25519 PKCS#8 v1 (the seed alone, as
    /// OpenSSL writes it) and an EC key without its public key, where any
    /// scalar in range is a valid key; a JWK with an `alg` or a `kid` of
    /// its own, which a torn file could pair with another key.
    pub(crate) fn self_checked(&self) -> bool {
        self.self_checked
    }

    fn checked(mut self) -> Self {
        self.self_checked = true;
        self
    }
}

/// `secret`, self-checked when `embedded` (the public key a PKCS#8 v2 or
/// SEC1 document carries) is present: it must equal the public key derived
/// from the private part. The decoders of `ed25519-dalek` and
/// `elliptic-curve` compare it too; this check does not depend on them.
fn with_embedded_public(secret: Secret, embedded: Option<&[u8]>) -> Result<ParsedPrivate, Error> {
    let Some(bytes) = embedded else {
        return Ok(secret.into());
    };
    let mismatch = || invalid("the embedded public key does not match the private key");
    let public = match secret.key_type() {
        KeyType::P256 => p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map(|k| Secret::p256_params(&k))
            .map_err(|_| mismatch())?,
        KeyType::P384 => p384::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map(|k| Secret::p384_params(&k))
            .map_err(|_| mismatch())?,
        KeyType::Ed25519 => ed25519_public(bytes).map_err(|_| mismatch())?,
        // RSA encodings carry no separate public key; they are checked
        // by `rsa_secret`.
        KeyType::Rsa => return Ok(ParsedPrivate::from(secret).checked()),
    };
    if public != secret.public_params() {
        return Err(mismatch());
    }
    Ok(ParsedPrivate::from(secret).checked())
}

fn invalid(detail: &'static str) -> Error {
    Error::detail(ErrorKind::InvalidKey, detail)
}

fn unsupported(detail: &'static str) -> Error {
    Error::detail(ErrorKind::UnsupportedKey, detail)
}

/// Private key from bytes of any supported encoding: PEM, a JWK (JSON), or DER.
pub(crate) fn private_from_bytes(bytes: &[u8]) -> Result<ParsedPrivate, Error> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .ok_or_else(|| invalid("empty key input"))?;
    match bytes[start] {
        b'{' => {
            let text = std::str::from_utf8(bytes).map_err(|_| invalid("JWK is not UTF-8"))?;
            private_from_jwk(text)
        }
        // Text may precede the PEM block (RFC 7468 §5.2), e.g. the
        // "Bag Attributes" lines of `openssl pkcs12 -nodes`.
        _ if bytes.windows(11).any(|w| w == b"-----BEGIN ") => {
            let text = std::str::from_utf8(bytes).map_err(|_| invalid("PEM is not UTF-8"))?;
            private_from_pem(text)
        }
        _ => private_from_der(bytes),
    }
}

/// The first PEM block whose label is not `EC PARAMETERS`, decoded.
fn pem_block(text: &str) -> Result<(String, Zeroizing<Vec<u8>>), Error> {
    let mut rest = text;
    loop {
        let begin = rest
            .find("-----BEGIN ")
            .ok_or_else(|| invalid("no PEM block found"))?;
        let block = &rest[begin..];
        let label_end = block[11..]
            .find("-----")
            .ok_or_else(|| invalid("unterminated PEM label"))?;
        let label = &block[11..11 + label_end];
        let end_marker = format!("-----END {label}-----");
        let end = block
            .find(&end_marker)
            .ok_or_else(|| invalid("PEM block has no END line"))?;
        let whole = &block[..end + end_marker.len()];
        rest = &block[end + end_marker.len()..];
        if label == "EC PARAMETERS" {
            continue;
        }
        let (label, der) =
            pkcs8::der::pem::decode_vec(whole.as_bytes()).map_err(|_| invalid("malformed PEM"))?;
        return Ok((label.to_owned(), Zeroizing::new(der)));
    }
}

/// Private key from PEM: `PRIVATE KEY` (PKCS#8), `EC PRIVATE KEY` (SEC1),
/// `RSA PRIVATE KEY` (PKCS#1).
pub(crate) fn private_from_pem(text: &str) -> Result<ParsedPrivate, Error> {
    let (label, der) = pem_block(text)?;
    match label.as_str() {
        "PRIVATE KEY" => private_from_pkcs8(&der),
        "EC PRIVATE KEY" => private_from_sec1(&der),
        "RSA PRIVATE KEY" => {
            let key = RsaPrivateKey::from_pkcs1_der(&der)
                .map_err(|_| invalid("malformed PKCS#1 RSA private key"))?;
            rsa_secret(key)
        }
        "ENCRYPTED PRIVATE KEY" => Err(unsupported(
            "encrypted PKCS#8 keys are not supported; decrypt the key first",
        )),
        "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => Err(Error::detail(
            ErrorKind::PublicKeyOnly,
            "the PEM holds public material only",
        )),
        _ => Err(invalid("unknown PEM label")),
    }
}

/// Private key from DER: PKCS#8, SEC1 or PKCS#1, detected by structure.
pub(crate) fn private_from_der(der: &[u8]) -> Result<ParsedPrivate, Error> {
    if PrivateKeyInfoRef::from_der(der).is_ok() {
        return private_from_pkcs8(der);
    }
    if sec1::EcPrivateKey::from_der(der).is_ok() {
        return private_from_sec1(der);
    }
    if rsa::pkcs1::RsaPrivateKeyRef::from_der(der).is_ok() {
        let key =
            RsaPrivateKey::from_pkcs1_der(der).map_err(|_| invalid("malformed PKCS#1 RSA key"))?;
        return rsa_secret(key);
    }
    if pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der).is_ok() {
        return Err(Error::detail(
            ErrorKind::PublicKeyOnly,
            "the DER holds a public key only",
        ));
    }
    Err(invalid("not a PKCS#8, SEC1 or PKCS#1 private key"))
}

fn private_from_pkcs8(der: &[u8]) -> Result<ParsedPrivate, Error> {
    let info = PrivateKeyInfoRef::from_der(der).map_err(|_| invalid("malformed PKCS#8"))?;
    match info.algorithm.oid {
        OID_EC => {
            let secret = match info.algorithm.parameters_oid() {
                Ok(OID_P256) => <p256::ecdsa::SigningKey as DecodePrivateKey>::from_pkcs8_der(der)
                    .map(Secret::P256)
                    .map_err(|_| invalid("malformed P-256 private key"))?,
                Ok(OID_P384) => <p384::ecdsa::SigningKey as DecodePrivateKey>::from_pkcs8_der(der)
                    .map(Secret::P384)
                    .map_err(|_| invalid("malformed P-384 private key"))?,
                _ => {
                    return Err(unsupported(
                        "unsupported elliptic curve (P-256 and P-384 only)",
                    ))
                }
            };
            let inner = sec1::EcPrivateKey::from_der(info.private_key.as_bytes())
                .map_err(|_| invalid("malformed EC private key"))?;
            with_embedded_public(secret, inner.public_key)
        }
        OID_ED25519 => {
            let key = ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .map_err(|_| invalid("malformed Ed25519 private key"))?;
            let embedded = info.public_key.as_ref().map(|k| k.raw_bytes());
            with_embedded_public(Secret::Ed25519(key), embedded)
        }
        OID_RSA => {
            let key = RsaPrivateKey::from_pkcs8_der(der)
                .map_err(|_| invalid("malformed RSA private key"))?;
            rsa_secret(key)
        }
        _ => Err(unsupported("unsupported key algorithm")),
    }
}

fn private_from_sec1(der: &[u8]) -> Result<ParsedPrivate, Error> {
    let parsed = sec1::EcPrivateKey::from_der(der).map_err(|_| invalid("malformed SEC1 key"))?;
    let curve = match parsed.parameters.and_then(|p| p.named_curve()) {
        Some(OID_P256) => KeyType::P256,
        Some(OID_P384) => KeyType::P384,
        Some(_) => {
            return Err(unsupported(
                "unsupported elliptic curve (P-256 and P-384 only)",
            ))
        }
        None => match parsed.private_key.len() {
            32 => KeyType::P256,
            48 => KeyType::P384,
            _ => return Err(unsupported("unknown elliptic curve")),
        },
    };
    let secret = match curve {
        KeyType::P256 => p256::SecretKey::from_sec1_der(der)
            .map(|k| Secret::P256(k.into()))
            .map_err(|_| invalid("malformed P-256 SEC1 key"))?,
        _ => p384::SecretKey::from_sec1_der(der)
            .map(|k| Secret::P384(k.into()))
            .map_err(|_| invalid("malformed P-384 SEC1 key"))?,
    };
    with_embedded_public(secret, parsed.public_key)
}

fn check_rsa_size(bits: usize) -> Result<(), Error> {
    if bits < MIN_RSA_BITS {
        return Err(Error::detail(
            ErrorKind::WeakKey,
            "RSA modulus is shorter than 2048 bits",
        ));
    }
    Ok(())
}

fn rsa_secret(mut key: RsaPrivateKey) -> Result<ParsedPrivate, Error> {
    check_rsa_size(key.n().bit_width_vartime() as usize)?;
    key.validate()
        .map_err(|_| invalid("inconsistent RSA private key"))?;
    key.precompute()
        .map_err(|_| invalid("inconsistent RSA private key"))?;
    Ok(ParsedPrivate::from(Secret::rsa(key)).checked())
}

/// Private key from a JWK (JSON). The JWK's `kid` and `alg` are kept.
pub(crate) fn private_from_jwk(json: &str) -> Result<ParsedPrivate, Error> {
    let raw = RawJwk::from_json(json)?;
    private_from_raw_jwk(&raw)
}

pub(crate) fn private_from_raw_jwk(raw: &RawJwk) -> Result<ParsedPrivate, Error> {
    if raw.is_symmetric() {
        return Err(Error::detail(
            ErrorKind::AlgorithmNotAllowed,
            "symmetric (oct) keys cannot sign client assertions here",
        ));
    }
    // The public members are validated first: a key whose private part does
    // not match its public part is refused below.
    let public = raw.public_params()?;
    let alg = raw.algorithm(public.key_type())?;
    if !raw.has_private_part() {
        return Err(Error::detail(
            ErrorKind::PublicKeyOnly,
            "the JWK has no private member d",
        ));
    }
    let d = RawJwk::secret(&raw.d, "bad private member d")?;
    let secret = match public.key_type() {
        KeyType::P256 => Secret::P256(
            p256::ecdsa::SigningKey::from_slice(&d).map_err(|_| invalid("bad P-256 d"))?,
        ),
        KeyType::P384 => Secret::P384(
            p384::ecdsa::SigningKey::from_slice(&d).map_err(|_| invalid("bad P-384 d"))?,
        ),
        KeyType::Ed25519 => {
            let bytes: &[u8; 32] = d[..].try_into().map_err(|_| invalid("bad Ed25519 d"))?;
            Secret::Ed25519(ed25519_dalek::SigningKey::from_bytes(bytes))
        }
        KeyType::Rsa => {
            let PublicParams::Rsa { n, e } = &public else {
                return Err(invalid("RSA JWK without n/e"));
            };
            rsa_from_jwk(raw, n, e, &d)?
        }
    };
    if secret.public_params() != public {
        return Err(invalid(
            "the JWK's private part does not match its public part",
        ));
    }
    // The public members are required and equal the private part's, which
    // checks the key members. `kid` and `alg` are not covered: a file torn
    // between them and the key would pair one key's name with another key.
    // So the JWK is self-checked only when it names nothing but its key (no
    // `alg`, and no `kid` or the thumbprint one).
    let kid = raw.kid();
    let names_only_its_key =
        alg.is_none() && kid.as_ref().is_none_or(|k| *k == public.thumbprint());
    Ok(ParsedPrivate {
        secret,
        kid,
        alg,
        self_checked: names_only_its_key,
    })
}

/// The RSA private key of a JWK whose public members `n` and `e` were
/// validated, from its `d` (and `p`, `q` when present).
fn rsa_from_jwk(raw: &RawJwk, n: &[u8], e: &[u8], d: &[u8]) -> Result<Secret, Error> {
    // Secret integers get the modulus's precision, as the `rsa` crate's own
    // decoders give them (a longer one is refused); leading zero octets, as
    // a lenient encoder may write them, are dropped (their count is the
    // encoding's length, no secret).
    let bits = u32::try_from(n.len() * 8).map_err(|_| invalid("bad RSA n"))?;
    let secret_uint = |bytes: &[u8], what| {
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        BoxedUint::from_be_slice(&bytes[start..], bits).map_err(|_| invalid(what))
    };
    let mut primes = Vec::new();
    if raw.p.is_some() || raw.q.is_some() {
        let p = RawJwk::secret(&raw.p, "bad RSA p")?;
        let q = RawJwk::secret(&raw.q, "bad RSA q")?;
        primes.push(secret_uint(&p, "bad RSA p")?);
        primes.push(secret_uint(&q, "bad RSA q")?);
    }
    // d = 0 is never valid (and without p and q the prime recovery of the
    // `rsa` crate's 0.9 underflowed on it).
    if d.iter().all(|&b| b == 0) {
        return Err(invalid("bad private member d"));
    }
    let key = RsaPrivateKey::from_components(
        public_uint(n),
        public_uint(e),
        secret_uint(d, "bad private member d")?,
        primes,
    )
    .map_err(|_| invalid("inconsistent RSA private JWK"))?;
    Ok(rsa_secret(key)?.secret)
}

/// Validated EC public parameters (the point must be on the curve).
pub(crate) fn ec_public(curve: KeyType, x: &[u8], y: &[u8]) -> Result<PublicParams, Error> {
    let size = if curve == KeyType::P256 { 32 } else { 48 };
    if x.len() != size || y.len() != size {
        return Err(invalid("EC coordinates have the wrong length"));
    }
    let sec1 = sec1_uncompressed(x, y);
    let ok = if curve == KeyType::P256 {
        p256::PublicKey::from_sec1_bytes(&sec1).is_ok()
    } else {
        p384::PublicKey::from_sec1_bytes(&sec1).is_ok()
    };
    if !ok {
        return Err(invalid("EC point is not on the curve"));
    }
    Ok(PublicParams::Ec {
        curve,
        x: x.to_vec(),
        y: y.to_vec(),
    })
}

/// Validated Ed25519 public parameters (a valid, non-weak point).
pub(crate) fn ed25519_public(x: &[u8]) -> Result<PublicParams, Error> {
    let bytes: [u8; 32] = x
        .try_into()
        .map_err(|_| invalid("Ed25519 key must be 32 bytes"))?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|_| invalid("Ed25519 key is not a valid point"))?;
    if key.is_weak() {
        return Err(invalid("Ed25519 key is a small-order point"));
    }
    Ok(PublicParams::Ed25519 { x: bytes })
}

/// Validated RSA public parameters (2048 to [`MAX_RSA_VERIFY_BITS`] bits,
/// a sane exponent).
pub(crate) fn rsa_public_params(n: &[u8], e: &[u8]) -> Result<PublicParams, Error> {
    let (n, e) = (public_uint(n), public_uint(e));
    let bits = n.bit_width_vartime() as usize;
    if bits > MAX_RSA_VERIFY_BITS {
        return Err(unsupported("RSA modulus longer than 8192 bits"));
    }
    // Below 2048 bits is `weak_key` (by `rsa_params`), not out of range: the
    // `rsa` crate is only asked about the other rules (odd modulus, exponent).
    let key =
        RsaPublicKey::new_with_size_limits(n, e, bits.min(MIN_RSA_BITS)..=MAX_RSA_VERIFY_BITS)
            .map_err(|_| unsupported("RSA public key out of the supported range"))?;
    rsa_params(&key)
}

pub(crate) fn rsa_params(key: &RsaPublicKey) -> Result<PublicParams, Error> {
    check_rsa_size(key.n().bit_width_vartime() as usize)?;
    // Minimal big-endian bytes, as the JWK and its thumbprint need them
    // (`to_be_bytes` would pad to the limb precision).
    Ok(PublicParams::Rsa {
        n: key.n_bytes().into_vec(),
        e: key.e_bytes().into_vec(),
    })
}

/// Public key from PEM (`PUBLIC KEY` SPKI or `RSA PUBLIC KEY` PKCS#1).
pub(crate) fn public_from_pem(text: &str) -> Result<PublicParams, Error> {
    let (label, der) = pem_block(text)?;
    match label.as_str() {
        "PUBLIC KEY" => public_from_spki(&der),
        "RSA PUBLIC KEY" => rsa_public_from_pkcs1(&der),
        "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY" => {
            Ok(private_from_pem(text)?.secret.public_params())
        }
        _ => Err(invalid("unknown PEM label for a public key")),
    }
}

/// An RSA public key from its PKCS#1 `RSAPublicKey` DER (also the
/// contents of an RSA SPKI), by the size rules of [`rsa_public_params`]
/// (the `rsa` crate's own decoders stop at 4096 bits).
fn rsa_public_from_pkcs1(der: &[u8]) -> Result<PublicParams, Error> {
    use rsa::pkcs1::der::Decode;
    let key = rsa::pkcs1::RsaPublicKeyRef::from_der(der)
        .map_err(|_| invalid("malformed PKCS#1 RSA public key"))?;
    rsa_public_params(key.modulus.as_bytes(), key.public_exponent.as_bytes())
}

/// Public key from DER SPKI (`SubjectPublicKeyInfo`).
pub(crate) fn public_from_spki(der: &[u8]) -> Result<PublicParams, Error> {
    use p256::pkcs8::DecodePublicKey as EcDecodePublicKey;
    let spki = pkcs8::spki::SubjectPublicKeyInfoRef::from_der(der)
        .map_err(|_| invalid("malformed SubjectPublicKeyInfo"))?;
    match spki.algorithm.oid {
        OID_EC => match spki.algorithm.parameters_oid() {
            Ok(OID_P256) => {
                let k = <p256::PublicKey as EcDecodePublicKey>::from_public_key_der(der)
                    .map_err(|_| invalid("malformed P-256 public key"))?;
                Ok(Secret::p256_params(&k.into()))
            }
            Ok(OID_P384) => {
                let k = <p384::PublicKey as EcDecodePublicKey>::from_public_key_der(der)
                    .map_err(|_| invalid("malformed P-384 public key"))?;
                Ok(Secret::p384_params(&k.into()))
            }
            _ => Err(unsupported(
                "unsupported elliptic curve (P-256 and P-384 only)",
            )),
        },
        OID_ED25519 => ed25519_public(spki.subject_public_key.raw_bytes()),
        OID_RSA if spki.algorithm.parameters.is_some_and(|p| p.is_null()) => {
            rsa_public_from_pkcs1(spki.subject_public_key.raw_bytes())
        }
        OID_RSA => Err(invalid("RSA SubjectPublicKeyInfo without NULL parameters")),
        _ => Err(unsupported("unsupported key algorithm")),
    }
}
// ----- JWK JSON (RFC 7517), public or private -----

type SecretMember = Option<Zeroizing<String>>;

/// A JWK as read from JSON, public or private. Private members zeroize.
#[derive(Deserialize)]
pub(crate) struct RawJwk {
    kty: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    n: Option<String>,
    e: Option<String>,
    #[serde(default)]
    pub(crate) d: SecretMember,
    #[serde(default)]
    pub(crate) p: SecretMember,
    #[serde(default)]
    pub(crate) q: SecretMember,
    #[serde(default)]
    k: SecretMember,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
}

impl RawJwk {
    pub(crate) fn from_json(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json)
            .map_err(|_| Error::detail(ErrorKind::InvalidKey, "malformed JWK JSON"))
    }

    pub(crate) fn kid(&self) -> Option<String> {
        self.kid.clone()
    }

    /// The declared `alg`, checked against the key type.
    pub(crate) fn algorithm(&self, key_type: KeyType) -> Result<Option<Algorithm>, Error> {
        let Some(name) = &self.alg else {
            return Ok(None);
        };
        let alg = Algorithm::from_name(name)?;
        if alg.key_type() != key_type {
            return Err(Error::detail(
                ErrorKind::AlgorithmNotAllowed,
                "the JWK's alg does not fit its key type",
            ));
        }
        Ok(Some(alg))
    }

    fn field(v: &Option<String>, what: &'static str) -> Result<Vec<u8>, Error> {
        let text = v
            .as_deref()
            .ok_or_else(|| Error::detail(ErrorKind::InvalidKey, what))?;
        b64::decode(text.as_bytes()).ok_or_else(|| Error::detail(ErrorKind::InvalidKey, what))
    }

    /// Decodes a secret member, zeroizing the bytes on drop.
    pub(crate) fn secret(
        v: &SecretMember,
        what: &'static str,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let text = v
            .as_deref()
            .ok_or_else(|| Error::detail(ErrorKind::InvalidKey, what))?;
        b64::decode(text.as_bytes())
            .map(Zeroizing::new)
            .ok_or_else(|| Error::detail(ErrorKind::InvalidKey, what))
    }

    /// The public parameters, validated (the point is on the curve, the RSA
    /// modulus is at least 2048 bits).
    pub(crate) fn public_params(&self) -> Result<PublicParams, Error> {
        if let Some(u) = &self.use_ {
            if u != "sig" {
                return Err(Error::detail(
                    ErrorKind::UnsupportedKey,
                    "the JWK is not a signing key (use is not sig)",
                ));
            }
        }
        if let Some(ops) = &self.key_ops {
            if !ops.iter().any(|o| o == "verify" || o == "sign") {
                return Err(Error::detail(
                    ErrorKind::UnsupportedKey,
                    "the JWK's key_ops allow neither sign nor verify",
                ));
            }
        }
        let kty = self
            .kty
            .as_deref()
            .ok_or_else(|| Error::detail(ErrorKind::InvalidKey, "JWK without kty"))?;
        match (kty, self.crv.as_deref()) {
            ("EC", Some("P-256")) => {
                let (x, y) = (
                    Self::field(&self.x, "bad EC x")?,
                    Self::field(&self.y, "bad EC y")?,
                );
                ec_public(KeyType::P256, &x, &y)
            }
            ("EC", Some("P-384")) => {
                let (x, y) = (
                    Self::field(&self.x, "bad EC x")?,
                    Self::field(&self.y, "bad EC y")?,
                );
                ec_public(KeyType::P384, &x, &y)
            }
            ("EC", _) => Err(Error::detail(
                ErrorKind::UnsupportedKey,
                "unsupported elliptic curve (P-256 and P-384 only)",
            )),
            ("OKP", Some("Ed25519")) => {
                let x = Self::field(&self.x, "bad Ed25519 x")?;
                ed25519_public(&x)
            }
            ("OKP", _) => Err(Error::detail(
                ErrorKind::UnsupportedKey,
                "unsupported OKP curve (Ed25519 only)",
            )),
            ("RSA", _) => {
                let n = Self::field(&self.n, "bad RSA n")?;
                let e = Self::field(&self.e, "bad RSA e")?;
                rsa_public_params(&n, &e)
            }
            ("oct", _) => Err(Error::detail(
                ErrorKind::AlgorithmNotAllowed,
                "symmetric (oct) keys are not allowed here",
            )),
            _ => Err(Error::detail(ErrorKind::UnsupportedKey, "unsupported kty")),
        }
    }

    /// Why a signature verifier cannot use this key of a JWK Set, if it
    /// cannot; `None` for a key of a type, curve and `alg` this crate
    /// verifies. Only `use`, `key_ops`, `alg`, `kty` and `crv` are looked
    /// at: the parameters of a usable key are checked when it is read, and
    /// a broken one is an error there, not a skip.
    ///
    /// # Errors
    /// For keys that are wrong rather than unusable, as when they are read:
    /// [`ErrorKind::InvalidKey`] without `kty`, [`ErrorKind::UnsupportedKey`]
    /// for an EC or OKP key without `crv`, [`ErrorKind::AlgorithmNotAllowed`]
    /// for an `oct` key or an `alg` of `none` or HMAC.
    pub(crate) fn skip_reason(&self) -> Result<Option<SkipReason>, Error> {
        if self.use_.as_deref().is_some_and(|u| u != "sig") {
            return Ok(Some(SkipReason::NotForSignature));
        }
        if let Some(ops) = &self.key_ops {
            if !ops.iter().any(|o| o == "verify") {
                return Ok(Some(SkipReason::NoVerifyOperation));
            }
        }
        if self.alg.as_deref().is_some_and(is_encryption_alg) {
            return Ok(Some(SkipReason::EncryptionAlgorithm));
        }
        let kty = self
            .kty
            .as_deref()
            .ok_or_else(|| invalid("JWK without kty"))?;
        let curve_supported = match (kty, self.crv.as_deref()) {
            ("EC", Some(crv)) => matches!(crv, "P-256" | "P-384"),
            ("OKP", Some(crv)) => crv == "Ed25519",
            ("EC" | "OKP", None) => return Err(unsupported("EC or OKP JWK without crv")),
            ("RSA", _) => true,
            ("oct", _) => {
                return Err(Error::detail(
                    ErrorKind::AlgorithmNotAllowed,
                    "symmetric (oct) keys are not allowed here",
                ))
            }
            _ => return Ok(Some(SkipReason::UnsupportedKeyType)),
        };
        if !curve_supported {
            return Ok(Some(SkipReason::UnsupportedCurve));
        }
        match self.alg.as_deref() {
            Some(name) => match Algorithm::from_name(name) {
                Ok(_) => Ok(None),
                // `none` and HMAC on a public key are a mistake, not a key
                // for another purpose.
                Err(e) if name.starts_with("HS") || name.eq_ignore_ascii_case("none") => Err(e),
                Err(_) => Ok(Some(SkipReason::UnsupportedAlgorithm)),
            },
            None => Ok(None),
        }
    }

    pub(crate) fn has_private_part(&self) -> bool {
        self.d.is_some()
    }

    pub(crate) fn is_symmetric(&self) -> bool {
        self.k.is_some() || self.kty.as_deref() == Some("oct")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
        std::fs::read(format!("{path}{name}")).unwrap()
    }

    #[test]
    fn self_checked_encodings() {
        for (name, checked) in [
            ("ed25519.pkcs8.pem", false), // OpenSSL's v1: the seed only
            ("ed25519.jwk.json", true),
            ("p256.sec1.der", true),
            ("p256.pkcs8.der", true),
            ("p384.sec1.pem", true),
            ("p256.jwk.json", true),
            // A `kid` that is not the thumbprint: a torn file could pair it
            // with another key, so it settles.
            ("p256.kid.jwk.json", false),
            ("rsa2048.pkcs1.der", true),
            ("rsa2048.pkcs8.pem", true),
            ("rsa2048.jwk.json", true),
        ] {
            let parsed = private_from_bytes(&fixture(name)).unwrap();
            assert_eq!(parsed.self_checked(), checked, "{name}");
        }
    }

    #[test]
    fn an_ec_key_without_its_public_key_is_not_self_checked_and_a_wrong_one_is_refused() {
        let der = fixture("p256.sec1.der");
        let key = sec1::EcPrivateKey::from_der(&der).unwrap();
        let p384 = fixture("p384.sec1.der");
        let p384 = sec1::EcPrivateKey::from_der(&p384).unwrap();
        use pkcs8::der::Encode;
        let without = sec1::EcPrivateKey {
            public_key: None,
            ..key.clone()
        }
        .to_der()
        .unwrap();
        assert!(!private_from_der(&without).unwrap().self_checked());
        // A valid point that is not this key's: a fresh P-256 key's.
        use p256::elliptic_curve::sec1::ToSec1Point;
        let fresh = p256::SecretKey::from_slice(&[7; 32]).unwrap();
        let point = fresh.public_key().to_sec1_point(false);
        let wrong = sec1::EcPrivateKey {
            public_key: Some(point.as_bytes()),
            ..key.clone()
        }
        .to_der()
        .unwrap();
        assert_eq!(
            private_from_der(&wrong).err().map(|e| e.kind()),
            Some(ErrorKind::InvalidKey)
        );
        // A point of another curve is refused too.
        let foreign = sec1::EcPrivateKey {
            public_key: p384.public_key,
            ..key
        }
        .to_der()
        .unwrap();
        assert!(private_from_der(&foreign).is_err());
    }
}
