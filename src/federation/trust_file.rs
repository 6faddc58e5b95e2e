//! Federated clients from a JSON trust file (the `verify` example's
//! `--trust FILE`; the schema is in the README's "Workload identity
//! federation").

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::matcher::{ClaimMatcher, Match};
use super::preset::Preset;
use super::rule::{TrustKeys, TrustRule};
use super::spiffe::SpiffeBundle;
use crate::error::{Error, ErrorKind};
use crate::keys::JwkSet;

/// The largest trust file read, in bytes.
const MAX_TRUST_FILE_LEN: usize = 1 << 20;

/// The trust rules of a JSON trust file.
///
/// ```
/// use client_assertion::federation::TrustFile;
///
/// let dir = tempfile::tempdir().unwrap();
/// let key = client_assertion::PrivateKey::generate(client_assertion::KeyType::P256)?;
/// std::fs::write(dir.path().join("k8s.json"), client_assertion::jwk_set([&key]).to_json()).unwrap();
/// let json = r#"{"clients": [{
///     "client_id": "payments", "preset": "kubernetes",
///     "issuer": "https://kubernetes.default.svc", "jwks_file": "k8s.json",
///     "claims": [{"claim": "sub", "exact": "system:serviceaccount:prod:payments"}]
/// }]}"#;
/// let file = TrustFile::from_json(json, dir.path())?;
/// assert_eq!(file.rules()[0].client_id(), "payments");
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TrustFile {
    rules: Vec<TrustRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    clients: Vec<Client>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Client {
    client_id: String,
    preset: String,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    trust_domain: Option<String>,
    #[serde(default)]
    jwks_file: Option<String>,
    #[serde(default)]
    spiffe_bundle_file: Option<String>,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    max_age_secs: Option<u64>,
    #[serde(default)]
    record_jti: Option<bool>,
    claims: Vec<Claim>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ClaimPath {
    Name(String),
    Path(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Claim {
    claim: ClaimPath,
    #[serde(default)]
    exact: Option<String>,
    #[serde(default)]
    one_of: Option<Vec<String>>,
    #[serde(default)]
    contains: Option<String>,
    #[serde(default)]
    spiffe_id: Option<SpiffeMatch>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpiffeMatch {
    trust_domain: String,
    #[serde(default)]
    path_prefix: String,
}

fn config(detail: &'static str) -> Error {
    Error::detail(ErrorKind::InvalidConfig, detail)
}

impl TrustFile {
    /// Reads the trust file at `path`; key files are relative to its
    /// directory.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] for a file that cannot be read, else as
    /// [`TrustFile::from_json`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let json = read_bounded(path, MAX_TRUST_FILE_LEN)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_json(&json, &base)
    }

    /// Parses a trust file whose key files are relative to `base`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a document off the schema (unknown
    /// members included), an unknown preset, a claim with not exactly one
    /// matcher, a key file that does not fit the preset; every
    /// [`TrustRuleBuilder::build`](super::TrustRuleBuilder::build) error.
    pub fn from_json(json: &str, base: &Path) -> Result<Self, Error> {
        let doc: Document =
            serde_json::from_str(json).map_err(|_| config("the trust file is off its schema"))?;
        let rules = doc
            .clients
            .into_iter()
            .map(|c| c.rule(base))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { rules })
    }

    /// The rules, in file order.
    pub fn rules(&self) -> &[TrustRule] {
        &self.rules
    }

    /// The rules, taken.
    pub fn into_rules(self) -> Vec<TrustRule> {
        self.rules
    }
}

impl Client {
    fn rule(self, base: &Path) -> Result<TrustRule, Error> {
        let preset = Preset::from_name(&self.preset).ok_or_else(|| config("unknown preset"))?;
        let mut builder = match preset {
            Preset::Spiffe => {
                let (Some(td), Some(file), None, None) = (
                    &self.trust_domain,
                    &self.spiffe_bundle_file,
                    &self.jwks_file,
                    &self.issuer,
                ) else {
                    return Err(config(
                        "a spiffe client takes trust_domain and spiffe_bundle_file only",
                    ));
                };
                let json = read_bounded(&base.join(file), JwkSet::MAX_JSON_LEN)?;
                TrustRule::spiffe(self.client_id.clone(), SpiffeBundle::from_json(td, &json)?)
            }
            _ => {
                let (Some(file), None, None) = (
                    &self.jwks_file,
                    &self.spiffe_bundle_file,
                    &self.trust_domain,
                ) else {
                    return Err(config("this preset takes jwks_file (no SPIFFE members)"));
                };
                let json = read_bounded(&base.join(file), JwkSet::MAX_JSON_LEN)?;
                let keys = TrustKeys::Jwks(JwkSet::from_json(&json)?);
                let id = self.client_id.clone();
                match (preset, self.issuer.clone()) {
                    (Preset::GithubActions, None) => TrustRule::github_actions(id, keys),
                    (Preset::GithubActions, Some(_)) => {
                        return Err(config("a github_actions client takes no issuer"))
                    }
                    (_, None) => return Err(config("this preset needs an issuer")),
                    (Preset::Kubernetes, Some(iss)) => TrustRule::kubernetes(id, iss, keys),
                    (_, Some(iss)) => TrustRule::oidc(id, iss, keys),
                }
            }
        };
        if let Some(aud) = self.audience {
            builder = builder.audience(aud);
        }
        if let Some(secs) = self.max_age_secs {
            builder = builder.max_age(Duration::from_secs(secs));
        }
        if let Some(record) = self.record_jti {
            builder = builder.record_jti(record);
        }
        for claim in self.claims {
            builder = builder.claim(claim.matcher()?);
        }
        builder.build()
    }
}

impl Claim {
    fn matcher(self) -> Result<ClaimMatcher, Error> {
        let path = match self.claim {
            ClaimPath::Name(name) => vec![name],
            ClaimPath::Path(path) => path,
        };
        let matches = match (self.exact, self.one_of, self.contains, self.spiffe_id) {
            (Some(v), None, None, None) => Match::Exact(v),
            (None, Some(list), None, None) => Match::OneOf(list),
            (None, None, Some(v), None) => Match::Contains(v),
            (None, None, None, Some(s)) => Match::SpiffeId {
                trust_domain: s.trust_domain,
                path_prefix: s.path_prefix,
            },
            _ => {
                return Err(config(
                    "a claim takes exactly one of exact, one_of, contains, spiffe_id",
                ))
            }
        };
        ClaimMatcher::new(path, matches)
    }
}

/// At most `limit` bytes of `path`, as UTF-8.
fn read_bounded(path: &Path, limit: usize) -> Result<String, Error> {
    let io = |e: std::io::Error| Error::with_source(ErrorKind::Io, e);
    let file = std::fs::File::open(PathBuf::from(path)).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > limit {
        return Err(config("a trust or key file is too large"));
    }
    String::from_utf8(bytes).map_err(|_| config("a trust or key file is not UTF-8"))
}
