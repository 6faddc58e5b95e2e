//! SPIFFE IDs and JWT bundles, as the SPIFFE standards define them
//! (spiffe/spiffe `standards/SPIFFE-ID.md`, `JWT-SVID.md`,
//! `SPIFFE_Trust_Domain_and_Bundle.md`).
//!
//! - A SPIFFE ID is `spiffe://<trust domain><path>`: the scheme in lower
//!   case, a non-empty trust domain of `a-z 0-9 . - _` (no user info, no
//!   port, at most 255 bytes), and a path that is empty or a sequence of
//!   `/segment`s, each non-empty, of `a-z A-Z 0-9 . - _`, never `.` or `..`,
//!   no trailing `/`, no query or fragment; at most 2048 bytes in all.
//!   Cross-checked against the `spiffe` package on PyPI
//!   (`scripts/spiffe_vectors.py`, `tests/data/federation/spiffe_ids.json`).
//! - A SPIFFE bundle is a JWK Set with `spiffe_sequence` and
//!   `spiffe_refresh_hint`; its JWT authorities are the keys whose `use`
//!   is `jwt-svid`, each with a `kid`. A key with another `use` (`x509-svid`,
//!   or `sig`: there is no fallback to it) never verifies a JWT-SVID.

use std::fmt;

use serde::Deserialize;

use crate::error::{Error, ErrorKind};
use crate::keys::{JwkSet, PublicJwk};

/// The longest SPIFFE ID, in bytes (SPIFFE-ID §2.3).
pub const MAX_SPIFFE_ID_LEN: usize = 2048;
/// The longest trust domain name, in bytes (SPIFFE-ID §2.3).
pub const MAX_TRUST_DOMAIN_LEN: usize = 255;

const SCHEME: &str = "spiffe://";

/// A valid SPIFFE ID.
///
/// ```
/// use client_assertion::federation::SpiffeId;
///
/// let id = SpiffeId::parse("spiffe://example.org/ns/prod/sa/api")?;
/// assert_eq!(id.trust_domain(), "example.org");
/// assert_eq!(id.path(), "/ns/prod/sa/api");
/// assert!(id.has_path_prefix("/ns/prod"));
/// assert!(!id.has_path_prefix("/ns/pro"));
/// assert!(SpiffeId::parse("spiffe://example.org/ns/../admin").is_err());
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SpiffeId {
    id: String,
    /// Where the path starts in `id`.
    path_at: usize,
}

impl SpiffeId {
    /// Parses and validates `id`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidClaim`] with a detail naming the broken rule.
    pub fn parse(id: &str) -> Result<Self, Error> {
        let bad = |d| Err(Error::detail(ErrorKind::InvalidClaim, d));
        if id.len() > MAX_SPIFFE_ID_LEN {
            return bad("SPIFFE ID longer than 2048 bytes");
        }
        let Some(rest) = id.strip_prefix(SCHEME) else {
            return bad("SPIFFE ID does not start with spiffe://");
        };
        let td_len = rest.find('/').unwrap_or(rest.len());
        validate_trust_domain(&rest[..td_len])?;
        let path = &rest[td_len..];
        validate_path(path)?;
        Ok(Self {
            id: id.to_owned(),
            path_at: SCHEME.len() + td_len,
        })
    }

    /// The trust domain name (`example.org`).
    pub fn trust_domain(&self) -> &str {
        &self.id[SCHEME.len()..self.path_at]
    }

    /// The path (`/ns/prod/sa/api`; empty for the trust domain's own ID).
    pub fn path(&self) -> &str {
        &self.id[self.path_at..]
    }

    /// The ID as a string.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// Whether the path is `prefix` or lies under it, segment-wise:
    /// `/ns/prod` covers `/ns/prod` and `/ns/prod/sa/x`, not `/ns/production`.
    /// An empty (or `/`) prefix covers every path.
    pub fn has_path_prefix(&self, prefix: &str) -> bool {
        let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
        let path = self.path();
        match path.strip_prefix(prefix) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

/// Validates a trust domain name (without `spiffe://`).
///
/// # Errors
/// [`ErrorKind::InvalidClaim`] when it is empty, too long, or has a
/// character outside `a-z 0-9 . - _` (so no user info, port or upper case).
pub fn validate_trust_domain(name: &str) -> Result<(), Error> {
    let bad = |d| Err(Error::detail(ErrorKind::InvalidClaim, d));
    if name.is_empty() {
        return bad("SPIFFE trust domain is empty");
    }
    if name.len() > MAX_TRUST_DOMAIN_LEN {
        return bad("SPIFFE trust domain longer than 255 bytes");
    }
    let ok =
        |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_');
    if !name.bytes().all(ok) {
        return bad("SPIFFE trust domain has a character outside a-z 0-9 . - _");
    }
    Ok(())
}

fn validate_path(path: &str) -> Result<(), Error> {
    let bad = |d| Err(Error::detail(ErrorKind::InvalidClaim, d));
    if path.is_empty() {
        return Ok(());
    }
    // `path` starts with '/' (it follows the trust domain up to a '/').
    for segment in path[1..].split('/') {
        if segment.is_empty() {
            return bad("SPIFFE ID path has an empty segment or a trailing slash");
        }
        if segment == "." || segment == ".." {
            return bad("SPIFFE ID path has a . or .. segment");
        }
        let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_');
        if !segment.bytes().all(ok) {
            return bad("SPIFFE ID path has a character outside a-z A-Z 0-9 . - _");
        }
    }
    Ok(())
}

/// The trust domain's own SPIFFE ID (`spiffe://example.org`) of the
/// JWT-SVID subject `sub`, the name a JWT-SVID is looked up by; `None`
/// when `sub` has no valid trust domain. The path is checked later, by the
/// SPIFFE rule (so that a bad path is a subject mismatch of that rule).
pub(crate) fn trust_domain_of(sub: &str) -> Option<String> {
    let rest = sub.strip_prefix(SCHEME)?;
    let td = &rest[..rest.find('/').unwrap_or(rest.len())];
    validate_trust_domain(td).ok()?;
    Some(format!("{SCHEME}{td}"))
}

/// A trust domain's SPIFFE bundle, as far as JWT-SVIDs need it: its JWT
/// authorities, `spiffe_sequence` and `spiffe_refresh_hint`.
///
/// ```
/// use client_assertion::federation::SpiffeBundle;
/// use client_assertion::{KeyType, PrivateKey, KeySource};
///
/// let key = PrivateKey::generate(KeyType::P256)?;
/// let jwk = key.public_jwk().to_json().replacen(r#""use":"sig""#, r#""use":"jwt-svid""#, 1);
/// let json = format!(r#"{{"spiffe_sequence":7,"spiffe_refresh_hint":300,"keys":[{jwk}]}}"#);
/// let bundle = SpiffeBundle::from_json("example.org", &json)?;
/// assert_eq!(bundle.sequence(), Some(7));
/// assert_eq!(bundle.refresh_hint_secs(), Some(300));
/// assert_eq!(bundle.jwt_authorities().keys().len(), 1);
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SpiffeBundle {
    trust_domain: String,
    sequence: Option<u64>,
    refresh_hint: Option<u64>,
    authorities: JwkSet,
    skipped: usize,
}

#[derive(Deserialize)]
struct BundleDocument {
    keys: Vec<serde_json::Value>,
    #[serde(default)]
    spiffe_sequence: Option<u64>,
    #[serde(default)]
    spiffe_refresh_hint: Option<u64>,
}

impl SpiffeBundle {
    /// Parses the bundle of `trust_domain` (a name such as `example.org`)
    /// from its JSON document (at most [`JwkSet::MAX_JSON_LEN`] bytes).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an invalid trust domain, a document
    /// that is not a bundle (no `keys` array, a negative or fractional
    /// `spiffe_sequence` or `spiffe_refresh_hint`), a `jwt-svid` key without
    /// `kid`, or no JWT authority at all; key errors for an unusable
    /// `jwt-svid` key.
    pub fn from_json(trust_domain: &str, json: &str) -> Result<Self, Error> {
        let config = |d| Error::detail(ErrorKind::InvalidConfig, d);
        validate_trust_domain(trust_domain).map_err(|_| config("invalid SPIFFE trust domain"))?;
        JwkSet::check_len(json.len())?;
        let doc: BundleDocument =
            serde_json::from_str(json).map_err(|_| config("not a SPIFFE bundle document"))?;
        let mut authorities = JwkSet::new();
        let mut skipped = 0;
        for key in &doc.keys {
            if key.get("use").and_then(|u| u.as_str()) != Some("jwt-svid") {
                skipped += 1;
                continue;
            }
            let kid = key.get("kid").and_then(|k| k.as_str());
            if kid.is_none_or(str::is_empty) {
                return Err(config("a jwt-svid key of the SPIFFE bundle has no kid"));
            }
            // The key's own JWK without `use`, which the JWK parser reads
            // as a signature key: `use` was checked above.
            let mut key = key.clone();
            if let Some(members) = key.as_object_mut() {
                members.remove("use");
            }
            authorities.push(PublicJwk::from_json(&key.to_string())?);
        }
        if authorities.keys().is_empty() {
            return Err(config("the SPIFFE bundle has no jwt-svid key"));
        }
        Ok(Self {
            trust_domain: trust_domain.to_owned(),
            sequence: doc.spiffe_sequence,
            refresh_hint: doc.spiffe_refresh_hint,
            authorities,
            skipped,
        })
    }

    /// The trust domain name.
    pub fn trust_domain(&self) -> &str {
        &self.trust_domain
    }

    /// `spiffe_sequence`, if the bundle has one.
    pub fn sequence(&self) -> Option<u64> {
        self.sequence
    }

    /// `spiffe_refresh_hint` in seconds, if the bundle has one.
    pub fn refresh_hint_secs(&self) -> Option<u64> {
        self.refresh_hint
    }

    /// The JWT authorities (the `jwt-svid` keys).
    pub fn jwt_authorities(&self) -> &JwkSet {
        &self.authorities
    }

    /// How many keys of the document are not JWT authorities (X.509
    /// authorities, keys of another `use`).
    pub fn skipped_keys(&self) -> usize {
        self.skipped
    }
}
