//! Minting RFC 7523 JWT assertions: header and claims assembly, `jti`
//! generation, and the resulting [`ClientAssertion`].
//!
//! Everything that does not change per assertion (the JSON-escaped issuer,
//! subject and audience, extra claims) is prepared once when the signer is
//! built; per assertion only the times, a fresh `jti` and the signature are
//! produced, straight into the output buffer.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::algorithm::Algorithm;
use crate::b64;
use crate::backend::PublicParams;
use crate::error::{Error, ErrorKind, Usage};
pub use crate::jose::TokenType;
use crate::keys::{CertificateChain, CertificateHeaders, KeyMetadata, SignerKey};
use crate::params::FormParams;
use crate::profile::Profile;
use crate::time::{unix_seconds, Clock, SystemClock};

/// The default assertion lifetime (`exp - iat`).
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);
/// The longest lifetime a signer accepts.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(3600);

const REGISTERED_CLAIMS: [&str; 7] = ["iss", "sub", "aud", "jti", "iat", "nbf", "exp"];

/// Builds an [`AssertionSigner`]; see [`AssertionSigner::builder`].
#[derive(Debug)]
#[must_use]
pub struct AssertionSignerBuilder {
    key: SignerKey,
    usage: Usage,
    issuer: String,
    subject: String,
    audience: String,
    alg: Option<Algorithm>,
    lifetime: Duration,
    typ: TokenType,
    clock: Arc<dyn Clock>,
    extra: serde_json::Map<String, serde_json::Value>,
    certificate: Option<CertificateChain>,
    certificate_headers: Option<CertificateHeaders>,
    profile: Option<Profile>,
}

impl AssertionSignerBuilder {
    /// Signs with `alg` instead of the key's default (e.g. PS256 for an RSA
    /// key). Checked against the key when built and at every signature.
    pub fn algorithm(mut self, alg: Algorithm) -> Self {
        self.alg = Some(alg);
        self
    }

    /// Sets the lifetime `exp - iat` (default 60 s, at most one hour).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Sets the `typ` header (default `client-authentication+jwt` for client
    /// authentication, `JWT` for grants).
    pub fn token_type(mut self, typ: TokenType) -> Self {
        self.typ = typ;
        self
    }

    /// Takes time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Adds a claim to every assertion. Registered claims (`iss`, `sub`,
    /// `aud`, `jti`, `iat`, `nbf`, `exp`) are set by the signer and refused
    /// here when building.
    ///
    /// The value is a `serde_json::Value` on purpose: an extra claim is any
    /// JSON value, and `serde_json` 1.x is the JSON type the ecosystem shares.
    pub fn claim(mut self, name: impl Into<String>, value: serde_json::Value) -> Self {
        self.extra.insert(name.into(), value);
        self
    }

    /// Names the key's X.509 certificate (chain, leaf first) in every
    /// header: `x5t#S256` by default, more with
    /// [`AssertionSignerBuilder::certificate_headers`]. For servers that
    /// identify a client key by its certificate (Microsoft Entra ID, ADFS).
    ///
    /// The leaf must certify the signing key: [`build`](Self::build)
    /// checks it against the key in force ([`KeySource::snapshot`](crate::KeySource::snapshot)), and
    /// every signature checks it again against the key that signs, so a
    /// reloaded or rotated key is never sent with a certificate that names
    /// another key ([`ErrorKind::CertificateMismatch`]). Rotate key and
    /// certificate together by building a new signer.
    pub fn certificate(mut self, chain: CertificateChain) -> Self {
        self.certificate = Some(chain);
        self
    }

    /// Chooses which certificate members the header carries (default
    /// [`CertificateHeaders::X5T_S256`]); needs
    /// [`AssertionSignerBuilder::certificate`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use client_assertion::{AssertionSigner, PrivateKey};
    /// use client_assertion::keys::{CertificateChain, CertificateHeaders};
    ///
    /// let key = Arc::new(PrivateKey::from_file("tests/data/certs/rsa.key.pem")?);
    /// let chain = CertificateChain::from_file("tests/data/certs/rsa.chain.pem")?;
    /// let signer = AssertionSigner::builder(key, "app-id", "https://login.example/token")
    ///     .certificate(chain)
    ///     .certificate_headers(CertificateHeaders::X5T_S256 | CertificateHeaders::X5T | CertificateHeaders::X5C)
    ///     .build()?;
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    pub fn certificate_headers(mut self, headers: CertificateHeaders) -> Self {
        self.certificate_headers = Some(headers);
        self
    }

    /// Applies a [`Profile`]: sets the `typ` header to the profile's (a
    /// later [`token_type`](Self::token_type) may pick another one the
    /// profile accepts), restricts the algorithms, and for
    /// [`Profile::EntraId`] and [`Profile::LegacyTokenEndpoint`] writes the
    /// profile's token endpoint as `aud` (the audience given to
    /// [`AssertionSigner::builder`] must then be empty or that same URL).
    /// Without an explicit [`algorithm`](Self::algorithm), FAPI 2.0 and Entra
    /// ID sign with the first of the profile's algorithms the key supports
    /// (PS256 for an RSA key).
    ///
    /// [`build`](Self::build) refuses what the profile forbids: an
    /// algorithm or key type outside the profile
    /// ([`ErrorKind::AlgorithmNotAllowed`]), a `typ` it does not accept, an
    /// Entra ID signer without a certificate or without `x5t#S256`, another
    /// audience, or a grant signer ([`ErrorKind::InvalidConfig`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use client_assertion::{Algorithm, AssertionSigner, KeyType, PrivateKey, Profile};
    ///
    /// let rsa = Arc::new(PrivateKey::generate(KeyType::Rsa)?);
    /// let signer = AssertionSigner::builder(rsa.clone(), "my-client", "https://as.example")
    ///     .profile(Profile::Fapi2)
    ///     .build()?;
    /// assert_eq!(signer.sign()?.algorithm(), Algorithm::Ps256);
    ///
    /// let err = AssertionSigner::builder(rsa, "my-client", "https://as.example")
    ///     .profile(Profile::Fapi2)
    ///     .algorithm(Algorithm::Rs256)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), client_assertion::ErrorKind::AlgorithmNotAllowed);
    /// # Ok::<(), client_assertion::Error>(())
    /// ```
    pub fn profile(mut self, profile: Profile) -> Self {
        self.typ = profile.token_type();
        self.profile = Some(profile);
        self
    }

    /// Builds the signer.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty client id, issuer, subject or
    /// audience, a zero lifetime or one above an hour, an extra claim
    /// that shadows a registered one, or certificate headers without a
    /// certificate (or an empty selection); [`ErrorKind::AlgorithmNotAllowed`]
    /// if the chosen algorithm does not fit the key;
    /// [`ErrorKind::CertificateMismatch`] if the certificate does not
    /// certify the key.
    pub fn build(mut self) -> Result<AssertionSigner, Error> {
        let config = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        // Every check below looks at one snapshot of the key in force.
        let source = self.key.clone();
        let pinned = source.pin();
        let key = pinned.metadata();
        let profile_algorithms = match self.profile.take() {
            Some(profile) => self.apply_profile(&profile, key)?,
            None => None,
        };
        let claims = ClaimsTemplate::new(
            &self.issuer,
            &self.subject,
            &self.audience,
            self.lifetime,
            &self.extra,
        )?;
        if let Some(alg) = self.alg {
            check_alg(key, alg)?;
        }
        let (certificate_header, certificate_key) =
            match (&self.certificate, self.certificate_headers) {
                (None, None) => (String::new(), None),
                (None, Some(_)) => return config("certificate headers need a certificate"),
                (Some(_), Some(h)) if h.is_empty() => {
                    return config("a certificate needs at least one certificate header")
                }
                (Some(chain), headers) => {
                    chain.check_params(&key.public_jwk().params)?;
                    let members = chain.header_members(headers.unwrap_or_default());
                    (members, chain.leaf_params().cloned())
                }
            };
        Ok(AssertionSigner {
            key: self.key,
            usage: self.usage,
            issuer: self.issuer,
            audience: self.audience,
            alg: self.alg,
            lifetime: self.lifetime.as_secs().max(1),
            typ: self.typ,
            clock: self.clock,
            claims,
            certificate_header,
            certificate_key,
            profile_algorithms,
        })
    }

    /// Checks the builder against `profile` and sets the profile's audience;
    /// returns the algorithms to choose from when none was set explicitly.
    fn apply_profile(
        &mut self,
        profile: &Profile,
        key: &dyn KeyMetadata,
    ) -> Result<Option<&'static [Algorithm]>, Error> {
        let config = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        profile.validate()?;
        if self.usage != Usage::ClientAuthentication {
            return config("profiles apply to client authentication, not to grants");
        }
        if let Some(audience) = profile.audience() {
            if !self.audience.is_empty() && self.audience != audience {
                return config("the audience differs from the profile's token endpoint");
            }
            self.audience = audience;
        }
        if !profile.accepted_token_types().contains(&self.typ) {
            return config("the profile does not accept this typ");
        }
        if profile.requires_certificate() {
            match (&self.certificate, self.certificate_headers) {
                (None, _) => return config("the profile needs a certificate (x5t#S256)"),
                (Some(_), Some(h)) if !h.contains(CertificateHeaders::X5T_S256) => {
                    return config("the profile needs the x5t#S256 header")
                }
                _ => {}
            }
        }
        let allowed = profile.algorithms();
        let not_allowed = || {
            Error::detail(
                ErrorKind::AlgorithmNotAllowed,
                "the profile does not allow this algorithm or key type",
            )
        };
        match self.alg {
            Some(alg) if !allowed.contains(&alg) => Err(not_allowed()),
            Some(_) => Ok(None),
            None if !profile.picks_algorithm() => Ok(None),
            None => {
                pick_algorithm(key, allowed).ok_or_else(not_allowed)?;
                Ok(Some(allowed))
            }
        }
    }
}

/// The first of `preferred` that `key` can sign with.
fn pick_algorithm(key: &dyn KeyMetadata, preferred: &[Algorithm]) -> Option<Algorithm> {
    let supported = key.algorithms();
    preferred.iter().copied().find(|a| supported.contains(a))
}

fn check_alg(key: &dyn KeyMetadata, alg: Algorithm) -> Result<(), Error> {
    if key.algorithms().contains(&alg) {
        Ok(())
    } else {
        Err(Error::detail(
            ErrorKind::AlgorithmNotAllowed,
            "the algorithm does not fit the key",
        ))
    }
}

/// Mints signed JWT assertions for one client (or one grant issuer and
/// subject) and one audience.
///
/// Claims: `iss`, `sub`, `aud` (a single string), `jti` (256 random bits
/// from a CSPRNG, base64url), `iat` = `nbf` = now, `exp` = now + lifetime,
/// plus any extra claims. Header: `alg` and `kid` from the key, `typ`.
///
/// ```
/// use std::sync::Arc;
/// use client_assertion::{AssertionSigner, KeyType, PrivateKey};
///
/// let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
/// let signer = AssertionSigner::builder(key, "my-client", "https://as.example").build()?;
/// let assertion = signer.sign()?;
/// assert_eq!(assertion.as_str().split('.').count(), 3);
/// let body = assertion.form_params().to_urlencoded();
/// assert!(body.starts_with("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="));
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct AssertionSigner {
    key: SignerKey,
    usage: Usage,
    issuer: String,
    audience: String,
    alg: Option<Algorithm>,
    lifetime: u64,
    typ: TokenType,
    clock: Arc<dyn Clock>,
    claims: ClaimsTemplate,
    /// `,"x5t#S256":..` and the other chosen certificate members, or empty.
    certificate_header: String,
    /// The certificate's public key, checked against the key that signs.
    certificate_key: Option<PublicParams>,
    /// A profile's algorithms, the preferred first, when the algorithm is
    /// chosen per key rather than fixed.
    profile_algorithms: Option<&'static [Algorithm]>,
}

impl AssertionSigner {
    /// The default assertion lifetime (`exp - iat`).
    pub const DEFAULT_LIFETIME: Duration = DEFAULT_LIFETIME;

    /// The longest lifetime a signer accepts.
    pub const MAX_LIFETIME: Duration = MAX_LIFETIME;

    /// A signer for RFC 7523 §2.2 client authentication (`private_key_jwt`):
    /// `iss` = `sub` = `client_id`. `audience` should be the authorization
    /// server's issuer identifier (draft-ietf-oauth-rfc7523bis, OIDC Core
    /// errata); pass the token endpoint URL only for servers that demand it.
    pub fn builder(
        key: impl Into<SignerKey>,
        client_id: impl Into<String>,
        audience: impl Into<String>,
    ) -> AssertionSignerBuilder {
        let client_id = client_id.into();
        AssertionSignerBuilder {
            key: key.into(),
            usage: Usage::ClientAuthentication,
            subject: client_id.clone(),
            issuer: client_id,
            audience: audience.into(),
            alg: None,
            lifetime: DEFAULT_LIFETIME,
            typ: TokenType::ClientAuthentication,
            clock: Arc::new(SystemClock),
            extra: serde_json::Map::new(),
            certificate: None,
            certificate_headers: None,
            profile: None,
        }
    }

    /// A signer for an RFC 7523 §2.1 authorization grant, where `iss` (the
    /// assertion's issuer) and `sub` (the principal) may differ.
    pub fn grant_builder(
        key: impl Into<SignerKey>,
        issuer: impl Into<String>,
        subject: impl Into<String>,
        audience: impl Into<String>,
    ) -> AssertionSignerBuilder {
        let mut b = Self::builder(key, issuer, audience);
        b.subject = subject.into();
        b.usage = Usage::AuthorizationGrant;
        b.typ = TokenType::Jwt;
        b
    }

    /// The key source.
    pub fn key(&self) -> &SignerKey {
        &self.key
    }

    /// The client id (for a grant: the issuer).
    pub fn client_id(&self) -> &str {
        &self.issuer
    }

    /// The audience written in `aud`.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Mints a fresh assertion.
    ///
    /// # Errors
    /// [`ErrorKind::AlgorithmNotAllowed`] if the key (after a reload) no
    /// longer fits the chosen algorithm; the key source's errors otherwise
    /// ([`ErrorKind::RequiresAsync`] for async-only sources: use
    /// [`AssertionSigner::sign_async`]).
    pub fn sign(&self) -> Result<ClientAssertion, Error> {
        audited(self.client_id(), self.usage, self.mint())
    }

    /// Mints a fresh assertion through [`KeySource::sign_async`](crate::keys::AsyncKeySource::sign_async), for remote
    /// signers; in-memory keys complete immediately.
    ///
    /// # Errors
    /// As [`AssertionSigner::sign`].
    pub async fn sign_async(&self) -> Result<ClientAssertion, Error> {
        let result = self.mint_async().await;
        audited(self.client_id(), self.usage, result)
    }

    fn mint(&self) -> Result<ClientAssertion, Error> {
        let pinned = self.key.pin();
        let draft = self.draft(pinned.metadata())?;
        let signature = pinned.sign(draft.alg, draft.token.as_bytes())?;
        Ok(draft.finish(&signature))
    }

    async fn mint_async(&self) -> Result<ClientAssertion, Error> {
        let pinned = self.key.pin();
        let draft = self.draft(pinned.metadata())?;
        let signature = pinned.sign_async(draft.alg, draft.token.as_bytes()).await?;
        Ok(draft.finish(&signature))
    }

    /// Header and claims, encoded: the JWS signing input.
    fn draft(&self, key: &dyn KeyMetadata) -> Result<Draft<Algorithm>, Error> {
        let alg = match self.alg {
            Some(alg) => {
                check_alg(key, alg)?;
                alg
            }
            None => match self.profile_algorithms {
                Some(preferred) => pick_algorithm(key, preferred).ok_or_else(|| {
                    Error::detail(
                        ErrorKind::AlgorithmNotAllowed,
                        "the profile does not allow this key type",
                    )
                })?,
                None => *key.algorithms().first().ok_or_else(|| {
                    Error::detail(ErrorKind::KeyBackend, "the key source reports no algorithm")
                })?,
            },
        };
        if let Some(certified) = &self.certificate_key {
            if key.public_jwk().params != *certified {
                return Err(Error::detail(
                    ErrorKind::CertificateMismatch,
                    "the key in force is not the certificate's key",
                ));
            }
        }
        let kid = key.kid();
        let now = unix_seconds(self.clock.now());
        self.claims.draft(
            JwsHeader {
                alg,
                kid: Some(&kid),
                typ: self.typ,
                extra: &self.certificate_header,
            },
            now,
            self.lifetime,
            self.usage,
        )
    }
}

/// The claims every assertion of one signer shares (issuer, subject,
/// audience, extra claims), checked and JSON-escaped once when the signer is
/// built, and the per-assertion assembly of header, claims and `jti`.
/// Shared by [`AssertionSigner`] and the `client_secret_jwt` signer, so that
/// both modes mint exactly the same claims.
pub(crate) struct ClaimsTemplate {
    /// `{"iss":..,"sub":..,"aud":..,"jti":"` JSON-escaped once.
    claims_prefix: String,
    /// `,"name":value` for each extra claim.
    extra_claims: String,
}

/// A JWS algorithm name as written in the `alg` header: [`Algorithm`] for
/// `private_key_jwt`, [`HmacAlgorithm`](crate::HmacAlgorithm) for
/// `client_secret_jwt`. Crate-private: the two stay distinct types.
/// Emits the audit event of minting an assertion for `client_id` (its
/// `iss`) and passes the result on.
pub(crate) fn audited<A: JwsAlgorithm>(
    client_id: &str,
    usage: Usage,
    result: Result<ClientAssertion<A>, Error>,
) -> Result<ClientAssertion<A>, Error> {
    match &result {
        Ok(a) => crate::audit::signed(&crate::audit::Signed {
            usage: a.usage(),
            client_id,
            kid: a.kid(),
            alg: a.algorithm().jws_name(),
            jti: a.jti(),
            expires_at: a.expires_at(),
        }),
        Err(error) => crate::audit::sign_failed(client_id, usage, error),
    }
    result
}

pub(crate) trait JwsAlgorithm: Copy {
    fn jws_name(self) -> &'static str;
}

impl JwsAlgorithm for Algorithm {
    fn jws_name(self) -> &'static str {
        self.name()
    }
}

/// The protected header of one assertion.
pub(crate) struct JwsHeader<'a, A> {
    pub(crate) alg: A,
    /// Omitted from the header when `None`.
    pub(crate) kid: Option<&'a str>,
    pub(crate) typ: TokenType,
    /// Further members, rendered: `,"name":value` each (the certificate's
    /// `x5t#S256`, `x5t`, `x5c`), or empty.
    pub(crate) extra: &'a str,
}

impl ClaimsTemplate {
    /// Checks and prepares the shared claims.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty issuer, subject or audience,
    /// a zero lifetime or one above an hour, or an extra claim that shadows
    /// a registered one.
    pub(crate) fn new(
        issuer: &str,
        subject: &str,
        audience: &str,
        lifetime: Duration,
        extra: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, Error> {
        let config = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        if issuer.is_empty() || subject.is_empty() {
            return config("the client id (issuer and subject) must not be empty");
        }
        if audience.is_empty() {
            return config("the audience must not be empty");
        }
        if lifetime.is_zero() || lifetime > MAX_LIFETIME {
            return config("the lifetime must be between 1 second and 1 hour");
        }
        if extra
            .keys()
            .any(|k| REGISTERED_CLAIMS.contains(&k.as_str()))
        {
            return config("extra claims cannot replace iss, sub, aud, jti, iat, nbf or exp");
        }
        let json = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut claims_prefix = String::with_capacity(64 + 2 * issuer.len() + audience.len());
        let _ = write!(
            claims_prefix,
            r#"{{"iss":{},"sub":{},"aud":{},"jti":""#,
            json(issuer),
            json(subject),
            json(audience)
        );
        let mut extra_claims = String::new();
        for (name, value) in extra {
            let _ = write!(
                extra_claims,
                ",{}:{}",
                json(name),
                serde_json::to_string(value).unwrap_or_default()
            );
        }
        Ok(Self {
            claims_prefix,
            extra_claims,
        })
    }

    /// Header and claims with a fresh `jti`, `iat` = `nbf` = `now` and
    /// `exp` = `now + lifetime`, encoded: the JWS signing input.
    ///
    /// # Errors
    /// [`ErrorKind::KeyBackend`] if the OS random generator fails (`jti`).
    pub(crate) fn draft<A: JwsAlgorithm>(
        &self,
        header: JwsHeader<'_, A>,
        now: u64,
        lifetime: u64,
        usage: Usage,
    ) -> Result<Draft<A>, Error> {
        let exp = now.saturating_add(lifetime);
        let kid = header.kid.unwrap_or_default();

        let mut jti_bytes = [0u8; 32];
        crate::random::fill(&mut jti_bytes)?;
        let jti = b64::encode(&jti_bytes);

        let mut head = String::with_capacity(96 + kid.len() + header.extra.len());
        head.push_str(r#"{"alg":""#);
        head.push_str(header.alg.jws_name());
        head.push('"');
        if let Some(kid) = header.kid {
            head.push_str(r#","kid":"#);
            push_json_string(&mut head, kid);
        }
        if let Some(typ) = header.typ.header_value() {
            head.push_str(r#","typ":""#);
            head.push_str(typ);
            head.push('"');
        }
        head.push_str(header.extra);
        head.push('}');

        let mut claims =
            String::with_capacity(self.claims_prefix.len() + self.extra_claims.len() + 96);
        claims.push_str(&self.claims_prefix);
        claims.push_str(&jti);
        let _ = write!(claims, r#"","iat":{now},"nbf":{now},"exp":{exp}"#);
        claims.push_str(&self.extra_claims);
        claims.push('}');

        let mut token = String::with_capacity((head.len() + claims.len()) * 4 / 3 + 360);
        b64::encode_into(head.as_bytes(), &mut token);
        token.push('.');
        b64::encode_into(claims.as_bytes(), &mut token);
        Ok(Draft {
            token,
            alg: header.alg,
            kid: kid.to_owned(),
            jti,
            issued_at: now,
            expires_at: exp,
            usage,
        })
    }
}

/// Appends `s` as a JSON string literal.
fn push_json_string(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// An encoded signing input awaiting its signature.
pub(crate) struct Draft<A> {
    /// `header '.' claims`, then the signature once finished.
    pub(crate) token: String,
    alg: A,
    kid: String,
    jti: String,
    issued_at: u64,
    expires_at: u64,
    usage: Usage,
}

impl<A> Draft<A> {
    /// The assertion, with `signature` appended.
    pub(crate) fn finish(mut self, signature: &[u8]) -> ClientAssertion<A> {
        self.token.push('.');
        b64::encode_into(signature, &mut self.token);
        ClientAssertion {
            token: self.token,
            alg: self.alg,
            kid: self.kid,
            jti: self.jti,
            issued_at: UNIX_EPOCH + Duration::from_secs(self.issued_at),
            expires_at: UNIX_EPOCH + Duration::from_secs(self.expires_at),
            usage: self.usage,
        }
    }
}

impl fmt::Debug for AssertionSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssertionSigner")
            .field("key", &self.key)
            .field("usage", &self.usage)
            .field("client_id", &self.issuer)
            .field("audience", &self.audience)
            .field("alg", &self.alg)
            .field("lifetime_secs", &self.lifetime)
            .field("typ", &self.typ)
            .field("certificate", &!self.certificate_header.is_empty())
            .finish_non_exhaustive()
    }
}

/// A signed assertion: the compact JWS plus what the caller needs to know
/// about it.
///
/// The token is a bearer credential until it expires, so `Debug` does not
/// print it; use [`ClientAssertion::as_str`] to send it.
///
/// `A` is the kind of algorithm that signed it: [`Algorithm`] (the default)
/// for `private_key_jwt` and grants, [`HmacAlgorithm`](crate::secret::HmacAlgorithm)
/// for an assertion MACed by a
/// [`ClientSecretJwtSigner`](crate::secret::ClientSecretJwtSigner). The two are
/// distinct types, so code written for one mode never receives the other.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientAssertion<A = Algorithm> {
    token: String,
    alg: A,
    kid: String,
    jti: String,
    issued_at: SystemTime,
    expires_at: SystemTime,
    usage: Usage,
}

impl<A: Copy> ClientAssertion<A> {
    /// The compact JWS.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The compact JWS, by value.
    pub fn into_string(self) -> String {
        self.token
    }

    /// The `jti` claim.
    pub fn jti(&self) -> &str {
        &self.jti
    }

    /// The `exp` claim.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The `iat` (and `nbf`) claim.
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// The `kid` header (empty for `client_secret_jwt`, which writes none).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `alg` header.
    pub fn algorithm(&self) -> A {
        self.alg
    }

    /// What the assertion is for (client authentication or a grant).
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The token request parameters that present this assertion: for client
    /// authentication `client_assertion_type` and `client_assertion`; for a
    /// grant `grant_type` and `assertion`. Add `client_id` or `scope` with
    /// [`FormParams::with_client_id`] / [`FormParams::with_scope`].
    pub fn form_params(&self) -> FormParams {
        match self.usage {
            Usage::AuthorizationGrant => FormParams::authorization_grant(&self.token),
            _ => FormParams::client_authentication(&self.token),
        }
    }
}

impl<A: fmt::Debug> fmt::Debug for ClientAssertion<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientAssertion")
            .field("token", &"[assertion elided]")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("jti", &self.jti)
            .field("expires_at", &self.expires_at)
            .field("usage", &self.usage)
            .finish()
    }
}
