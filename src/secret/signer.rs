//! The client side of `client_secret_jwt`: a signer that MACs the same
//! claims an [`AssertionSigner`](crate::AssertionSigner) signs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{ClientSecret, HmacAlgorithm, MacKey};
use crate::backend::Backend;
use crate::error::{Error, ErrorKind, Usage};
use crate::signing::{ClaimsTemplate, ClientAssertion, JwsHeader, TokenType, DEFAULT_LIFETIME};
use crate::time::{unix_seconds, Clock, SystemClock};

/// Builds a [`ClientSecretJwtSigner`]; see [`ClientSecretJwtSigner::builder`].
#[must_use]
pub struct ClientSecretJwtSignerBuilder {
    secret: ClientSecret,
    client_id: String,
    audience: String,
    alg: HmacAlgorithm,
    lifetime: Duration,
    typ: TokenType,
    clock: Arc<dyn Clock>,
    backend: Backend,
    extra: serde_json::Map<String, serde_json::Value>,
}

impl ClientSecretJwtSignerBuilder {
    /// MACs with `alg` (default HS256). HS384 needs a secret of at least 48
    /// bytes, HS512 64; checked when built.
    pub fn algorithm(mut self, alg: HmacAlgorithm) -> Self {
        self.alg = alg;
        self
    }

    /// Sets the lifetime `exp - iat` (default 60 s, at most one hour).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Sets the `typ` header (default `client-authentication+jwt`).
    pub fn token_type(mut self, typ: TokenType) -> Self {
        self.typ = typ;
        self
    }

    /// Takes time from `clock` instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// MACs with `backend` (default [`Backend::RustCrypto`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
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

    /// Builds the signer.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for an empty client id or audience, a
    /// zero lifetime or one above an hour, or an extra claim that shadows a
    /// registered one; [`ErrorKind::WeakSecret`] if the secret is shorter
    /// than the algorithm's hash output (RFC 7518 §3.2).
    pub fn build(self) -> Result<ClientSecretJwtSigner, Error> {
        let claims = ClaimsTemplate::new(
            &self.client_id,
            &self.client_id,
            &self.audience,
            self.lifetime,
            &self.extra,
        )?;
        let key = super::mac_key(&self.secret, &[self.alg], self.backend)?;
        Ok(ClientSecretJwtSigner {
            key,
            client_id: self.client_id,
            audience: self.audience,
            alg: self.alg,
            lifetime: self.lifetime.as_secs().max(1),
            typ: self.typ,
            clock: self.clock,
            claims,
        })
    }
}

impl fmt::Debug for ClientSecretJwtSignerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretJwtSignerBuilder")
            .field("secret", &self.secret)
            .field("client_id", &self.client_id)
            .field("audience", &self.audience)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Mints `client_secret_jwt` assertions (OpenID Connect Core §9): the same
/// claims as [`AssertionSigner`](crate::AssertionSigner) — `iss` = `sub` =
/// client id, `aud` (a single string), a 256-bit random `jti`, `iat` =
/// `nbf` = now, `exp` = now + lifetime, extra claims — and the same form
/// parameters (`client_assertion_type` = `jwt-bearer`), MACed with the
/// client's secret. The header is `alg` and `typ`; there is no `kid`.
///
/// Prefer `private_key_jwt` ([`AssertionSigner`](crate::AssertionSigner))
/// wherever the server supports it: the server holds the same secret and
/// could mint this client's assertions itself.
///
/// ```
/// use client_assertion::secret::{ClientSecret, ClientSecretJwtSigner, HmacAlgorithm};
///
/// # std::env::set_var("MY_CLIENT_SECRET", "a client secret of at least 48 bytes, for HS384!");
/// let secret = ClientSecret::from_env("MY_CLIENT_SECRET")?;
/// let signer = ClientSecretJwtSigner::builder(secret, "my-client", "https://as.example")
///     .algorithm(HmacAlgorithm::Hs384)
///     .build()?;
/// let assertion = signer.sign()?;
/// assert_eq!(assertion.algorithm(), HmacAlgorithm::Hs384);
/// let body = assertion.form_params().to_urlencoded();
/// assert!(body.starts_with("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="));
/// # Ok::<(), client_assertion::Error>(())
/// ```
pub struct ClientSecretJwtSigner {
    key: MacKey,
    client_id: String,
    audience: String,
    alg: HmacAlgorithm,
    lifetime: u64,
    typ: TokenType,
    clock: Arc<dyn Clock>,
    claims: ClaimsTemplate,
}

impl ClientSecretJwtSigner {
    /// A signer for `client_id` whose assertions are MACed with `secret`.
    /// `audience` should be the authorization server's issuer identifier
    /// (draft-ietf-oauth-rfc7523bis); pass the token endpoint URL only for
    /// servers that demand it.
    pub fn builder(
        secret: ClientSecret,
        client_id: impl Into<String>,
        audience: impl Into<String>,
    ) -> ClientSecretJwtSignerBuilder {
        ClientSecretJwtSignerBuilder {
            secret,
            client_id: client_id.into(),
            audience: audience.into(),
            alg: HmacAlgorithm::Hs256,
            lifetime: DEFAULT_LIFETIME,
            typ: TokenType::ClientAuthentication,
            clock: Arc::new(SystemClock),
            backend: Backend::RustCrypto,
            extra: serde_json::Map::new(),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The audience written in `aud`.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The HMAC algorithm.
    pub fn algorithm(&self) -> HmacAlgorithm {
        self.alg
    }

    /// Mints a fresh assertion.
    ///
    /// # Errors
    /// None in practice (the secret and algorithm were checked when built);
    /// [`ErrorKind::KeyBackend`] is kept for a MAC that cannot be computed
    /// and a failing OS random generator (the `jti`).
    pub fn sign(&self) -> Result<ClientAssertion<HmacAlgorithm>, Error> {
        let now = unix_seconds(self.clock.now());
        let draft = self.claims.draft(
            JwsHeader {
                alg: self.alg,
                kid: None,
                typ: self.typ,
                extra: "",
            },
            now,
            self.lifetime,
            Usage::ClientAuthentication,
        )?;
        let result = self
            .key
            .sign(self.alg, draft.token.as_bytes())
            .map(|tag| draft.finish(&tag))
            .ok_or_else(|| Error::detail(ErrorKind::KeyBackend, "the MAC could not be computed"));
        crate::signing::audited(&self.client_id, Usage::ClientAuthentication, result)
    }
}

impl fmt::Debug for ClientSecretJwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecretJwtSigner")
            .field("key", &self.key)
            .field("client_id", &self.client_id)
            .field("audience", &self.audience)
            .field("alg", &self.alg)
            .field("lifetime_secs", &self.lifetime)
            .field("typ", &self.typ)
            .finish_non_exhaustive()
    }
}
