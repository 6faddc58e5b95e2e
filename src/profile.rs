//! Named presets for the two sides: the rules one deployment (a standard or
//! a vendor) sets for client assertions, applied at once to a signer
//! ([`AssertionSignerBuilder::profile`](crate::AssertionSignerBuilder::profile))
//! or to a verifier ([`Policy::for_profile`](crate::Policy::for_profile),
//! [`VerifierBuilder::profile`](crate::VerifierBuilder::profile)).
//!
//! A profile only ever narrows what the crate already allows, and each side
//! refuses a configuration its profile forbids (an RS256 signer under FAPI
//! 2.0 is `algorithm_not_allowed`, an Entra ID signer without a certificate
//! is `invalid_config`). The README's "Profiles" table lists every rule with
//! its source.
//!
//! | profile | `aud` | `typ` written / accepted | algorithms | future `iat`/`nbf` |
//! |---|---|---|---|---|
//! | [`Profile::Rfc7523bis`] | the issuer, one string | `client-authentication+jwt` / only that | all five | leeway (30 s) |
//! | [`Profile::Fapi2`] | the issuer, one string | `client-authentication+jwt` / any of today's | PS256, ES256, EdDSA | accepted up to 10 s, rejected beyond 60 s (leeway 10 s) |
//! | [`Profile::EntraId`] | the tenant's v2.0 token endpoint | `JWT` / `JWT` or none | PS256 (default), RS256 | leeway (30 s) |
//! | [`Profile::LegacyTokenEndpoint`] | the token endpoint URL | `JWT` / any of today's | all five | leeway (30 s) |
//!
//! Design notes:
//! - `Rfc7523bis` is what a signer does without a profile; a *verifier*
//!   without a profile stays as lenient about `typ` as before (absent, `JWT`
//!   or `client-authentication+jwt`), and opting into the profile makes the
//!   explicit type mandatory.
//! - `LegacyTokenEndpoint` writes `typ` `JWT`, not
//!   `client-authentication+jwt`: the explicit type announces the
//!   rfc7523bis audience (the issuer), which such a server does not use. Its
//!   verifier accepts the token endpoint *and* the issuer, so clients can
//!   migrate one at a time.
//! - `EntraId` builds the public-cloud endpoint
//!   (`https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`); for a
//!   sovereign cloud use `LegacyTokenEndpoint` with a certificate and
//!   `Algorithm::Ps256`.

use std::time::Duration;

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::jose::TokenType;

/// The Microsoft Entra ID (public cloud) login host.
pub(crate) const ENTRA_ID_AUTHORITY: &str = "https://login.microsoftonline.com";

/// The leeway a FAPI 2.0 verifier uses: `iat`/`nbf` up to 10 s in the future
/// are accepted (FAPI 2.0 Security Profile §5.3.2.1: "shall accept ... up to
/// 10 seconds"), and anything beyond is rejected, well before the 60 s the
/// profile says must be rejected.
pub(crate) const FAPI2_LEEWAY: Duration = Duration::from_secs(10);

/// FAPI 2.0: `iat`/`nbf` this far in the future or more must be rejected.
const FAPI2_REJECT_FUTURE: Duration = Duration::from_secs(60);

const ALL: &[Algorithm] = &Algorithm::ALL;
const FAPI2_ALGORITHMS: &[Algorithm] = &[Algorithm::Ps256, Algorithm::Es256, Algorithm::EdDsa];
const ENTRA_ID_ALGORITHMS: &[Algorithm] = &[Algorithm::Ps256, Algorithm::Rs256];

const ALL_TYPES: &[TokenType] = &[
    TokenType::ClientAuthentication,
    TokenType::Jwt,
    TokenType::Omitted,
];

/// A named set of client-assertion rules, applied to a signer and to a
/// verifier alike.
///
/// | profile | `aud` | `typ` written / accepted | algorithms | future `iat`/`nbf` |
/// |---|---|---|---|---|
/// | [`Profile::Rfc7523bis`] | the issuer, one string | `client-authentication+jwt` / only that | all five | leeway (30 s) |
/// | [`Profile::Fapi2`] | the issuer, one string | `client-authentication+jwt` / any of today's | PS256, ES256, EdDSA | accepted up to 10 s, rejected beyond (leeway 10 s; 60 s must be rejected) |
/// | [`Profile::EntraId`] | the tenant's v2.0 token endpoint | `JWT` / `JWT` or none | PS256 (default), RS256 | leeway (30 s) |
/// | [`Profile::LegacyTokenEndpoint`] | the token endpoint URL | `JWT` / any of today's | all five | leeway (30 s) |
///
/// ```
/// use std::sync::Arc;
/// use client_assertion::*;
///
/// let key = Arc::new(PrivateKey::generate(KeyType::P256)?);
/// let signer = AssertionSigner::builder(key.clone(), "my-client", "https://as.example")
///     .profile(Profile::Fapi2)
///     .build()?;
///
/// let registry = Arc::new(ClientRegistry::new());
/// registry.register("my-client", &jwk_set([&*key]))?;
/// let verifier = Verifier::builder("https://as.example", registry)
///     .profile(Profile::Fapi2)
///     .build()?;
/// verifier.verify(signer.sign()?.as_str())?;
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// draft-ietf-oauth-rfc7523bis: `aud` is the authorization server's
    /// issuer identifier as a single string; `typ` is
    /// `client-authentication+jwt`. What a signer does by default.
    #[default]
    Rfc7523bis,
    /// FAPI 2.0 Security Profile: PS256, ES256 or EdDSA only (RSA keys of
    /// at least 2048 bits); `aud` the issuer as a string; `iat`/`nbf`
    /// accepted up to 10 s in the future and rejected beyond 60 s.
    Fapi2,
    /// Microsoft Entra ID certificate credentials: `aud` is the tenant's
    /// v2.0 token endpoint, the header carries `x5t#S256` (so the signer
    /// needs a certificate), PS256 (RS256 allowed), `typ` `JWT`.
    EntraId {
        /// The tenant id (a GUID) or a verified domain name.
        tenant: String,
    },
    /// For servers that have not adopted the issuer audience: `aud` is the
    /// token endpoint URL, `typ` `JWT`.
    LegacyTokenEndpoint {
        /// The authorization server's token endpoint URL.
        token_endpoint: String,
    },
}

impl Profile {
    /// The Microsoft Entra ID (public cloud) login host.
    pub const ENTRA_ID_AUTHORITY: &'static str = ENTRA_ID_AUTHORITY;

    /// The leeway a FAPI 2.0 verifier uses: `iat`/`nbf` up to 10 s in the future
    /// are accepted (FAPI 2.0 Security Profile §5.3.2.1: "shall accept ... up to
    /// 10 seconds"), and anything beyond is rejected, well before the 60 s the
    /// profile says must be rejected.
    pub const FAPI2_LEEWAY: Duration = FAPI2_LEEWAY;

    /// [`Profile::EntraId`] for `tenant`.
    pub fn entra_id(tenant: impl Into<String>) -> Self {
        Self::EntraId {
            tenant: tenant.into(),
        }
    }

    /// [`Profile::LegacyTokenEndpoint`] for `token_endpoint`.
    pub fn legacy_token_endpoint(token_endpoint: impl Into<String>) -> Self {
        Self::LegacyTokenEndpoint {
            token_endpoint: token_endpoint.into(),
        }
    }

    /// A stable short name: `rfc7523bis`, `fapi2`, `entra_id`,
    /// `legacy_token_endpoint`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Rfc7523bis => "rfc7523bis",
            Self::Fapi2 => "fapi2",
            Self::EntraId { .. } => "entra_id",
            Self::LegacyTokenEndpoint { .. } => "legacy_token_endpoint",
        }
    }

    /// The audience the profile fixes (a token endpoint), or `None` when the
    /// audience is the authorization server's issuer identifier.
    pub fn audience(&self) -> Option<String> {
        match self {
            Self::EntraId { tenant } => {
                Some(format!("{ENTRA_ID_AUTHORITY}/{tenant}/oauth2/v2.0/token"))
            }
            Self::LegacyTokenEndpoint { token_endpoint } => Some(token_endpoint.clone()),
            Self::Rfc7523bis | Self::Fapi2 => None,
        }
    }

    /// The algorithms the profile allows, the preferred first: a signer
    /// without an explicit algorithm takes the first one its key supports.
    pub fn algorithms(&self) -> &'static [Algorithm] {
        match self {
            Self::Fapi2 => FAPI2_ALGORITHMS,
            Self::EntraId { .. } => ENTRA_ID_ALGORITHMS,
            Self::Rfc7523bis | Self::LegacyTokenEndpoint { .. } => ALL,
        }
    }

    /// Whether the signer picks its algorithm from [`Profile::algorithms`]
    /// rather than taking the key's default (RS256 for RSA).
    pub(crate) fn picks_algorithm(&self) -> bool {
        matches!(self, Self::Fapi2 | Self::EntraId { .. })
    }

    /// The `typ` a signer writes.
    pub fn token_type(&self) -> TokenType {
        match self {
            Self::Rfc7523bis | Self::Fapi2 => TokenType::ClientAuthentication,
            Self::EntraId { .. } | Self::LegacyTokenEndpoint { .. } => TokenType::Jwt,
        }
    }

    /// The `typ` values a verifier accepts ([`TokenType::Omitted`]: no `typ`).
    pub fn accepted_token_types(&self) -> &'static [TokenType] {
        match self {
            Self::Rfc7523bis => &[TokenType::ClientAuthentication],
            Self::EntraId { .. } => &[TokenType::Jwt, TokenType::Omitted],
            Self::Fapi2 | Self::LegacyTokenEndpoint { .. } => ALL_TYPES,
        }
    }

    /// Whether the signer must carry an X.509 certificate (`x5t#S256`).
    pub fn requires_certificate(&self) -> bool {
        matches!(self, Self::EntraId { .. })
    }

    /// The verifier leeway the profile sets, if it sets one.
    pub fn leeway(&self) -> Option<Duration> {
        match self {
            Self::Fapi2 => Some(FAPI2_LEEWAY),
            _ => None,
        }
    }

    /// Checks the profile's own parameters.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let bad = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        match self {
            Self::EntraId { tenant } => {
                let ok = !tenant.is_empty()
                    && tenant
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
                if !ok {
                    return bad("the Entra ID tenant must be a tenant id or domain name");
                }
            }
            Self::LegacyTokenEndpoint { token_endpoint } => {
                if token_endpoint.is_empty()
                    || token_endpoint
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control())
                {
                    return bad("the token endpoint must be a URL");
                }
            }
            Self::Rfc7523bis | Self::Fapi2 => {}
        }
        Ok(())
    }

    /// Checks a verifier's leeway against the profile's time rules.
    pub(crate) fn validate_leeway(&self, leeway: Duration) -> Result<(), Error> {
        if matches!(self, Self::Fapi2) && (leeway < FAPI2_LEEWAY || leeway >= FAPI2_REJECT_FUTURE) {
            return Err(Error::detail(
                ErrorKind::InvalidConfig,
                "FAPI 2.0 needs a leeway of at least 10 s and below 60 s",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entra_audience_and_tenant_rules() {
        let p = Profile::entra_id("contoso.onmicrosoft.com");
        assert_eq!(
            p.audience().unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert!(p.validate().is_ok());
        for bad in ["", "a/b", "x?y", "t enant"] {
            assert_eq!(
                Profile::entra_id(bad).validate().unwrap_err().kind(),
                ErrorKind::InvalidConfig
            );
        }
        assert!(Profile::legacy_token_endpoint("").validate().is_err());
        assert_eq!(Profile::default(), Profile::Rfc7523bis);
    }

    #[test]
    fn fapi_leeway_bounds() {
        let p = Profile::Fapi2;
        assert!(p.validate_leeway(Duration::from_secs(10)).is_ok());
        assert!(p.validate_leeway(Duration::from_secs(59)).is_ok());
        assert!(p.validate_leeway(Duration::from_secs(9)).is_err());
        assert!(p.validate_leeway(Duration::from_secs(60)).is_err());
        assert!(Profile::Rfc7523bis
            .validate_leeway(Duration::from_secs(300))
            .is_ok());
    }
}
