//! What a verifier expects of an assertion, and how strictly.
//!
//! Every default is the strict choice; loosening is a named method, never a
//! public field. The time rules, chosen after Keycloak's and FAPI 2.0's:
//!
//! - `exp` is required; the assertion is expired once `now >= exp + leeway`.
//! - `nbf` and `iat` are optional; when present neither may lie more than
//!   `leeway` in the future.
//! - **Lifetime:** `exp - iat` (or, without `iat`, `exp - now`) may not
//!   exceed `max_lifetime` (default one hour, so authlib's 3600 s, MSAL's
//!   600 s and openid-client's 60 s assertions all pass).
//! - **Age:** `now - iat` may not exceed `max_age + leeway` (default five
//!   minutes): a long-lived assertion must still be presented promptly, and
//!   the replay cache need only remember it until
//!   `min(exp, iat + max_age) + leeway`.
//! - **Leeway** defaults to 30 seconds of clock skew.

use std::time::Duration;

use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::jose::TokenType;
use crate::profile::Profile;

use crate::jose::media_type_is;

/// The default clock-skew allowance.
pub(crate) const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
/// The default maximum `exp - iat`.
pub(crate) const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(3600);
/// The default maximum `now - iat`.
pub(crate) const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);
/// The default maximum token size in bytes.
pub(crate) const DEFAULT_MAX_TOKEN_SIZE: usize = 8 * 1024;
/// The default maximum `jti` length in bytes.
pub(crate) const DEFAULT_MAX_JTI_LENGTH: usize = 256;

/// The verification policy of an authorization server.
///
/// ```
/// use std::time::Duration;
/// use client_assertion::Policy;
///
/// let policy = Policy::new("https://as.example.com")
///     // Opt-in: also accept the token endpoint URL as audience.
///     .also_accept_audience("https://as.example.com/token")
///     .leeway(Duration::from_secs(10));
/// ```
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) issuer: String,
    pub(crate) extra_audiences: Vec<String>,
    pub(crate) single_element_array: bool,
    pub(crate) leeway: Duration,
    pub(crate) max_lifetime: Duration,
    pub(crate) max_age: Duration,
    pub(crate) max_token_size: usize,
    pub(crate) max_jti_length: usize,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) client_secret_jwt: bool,
    /// The accepted `typ` values ([`TokenType::Omitted`]: no `typ`).
    pub(crate) token_types: Vec<TokenType>,
    /// Whether the issuer identifier itself is an accepted audience.
    pub(crate) issuer_audience: bool,
    /// The audience the profile fixes (a token endpoint), accepted too.
    pub(crate) profile_audience: Option<String>,
    pub(crate) profile: Option<Profile>,
    /// Whether `jti` is required (always, but for federated presets whose
    /// tokens are reused by design and carry none).
    pub(crate) jti_required: bool,
}

impl Policy {
    /// The default clock-skew allowance.
    pub const DEFAULT_LEEWAY: Duration = DEFAULT_LEEWAY;

    /// The default maximum `exp - iat`.
    pub const DEFAULT_MAX_LIFETIME: Duration = DEFAULT_MAX_LIFETIME;

    /// The default maximum `now - iat`.
    pub const DEFAULT_MAX_AGE: Duration = DEFAULT_MAX_AGE;

    /// The default maximum token size in bytes.
    pub const DEFAULT_MAX_TOKEN_SIZE: usize = DEFAULT_MAX_TOKEN_SIZE;

    /// The default maximum `jti` length in bytes.
    pub const DEFAULT_MAX_JTI_LENGTH: usize = DEFAULT_MAX_JTI_LENGTH;

    /// The strict default policy for an authorization server whose issuer
    /// identifier is `issuer`: `aud` must be exactly that string.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            extra_audiences: Vec::new(),
            single_element_array: false,
            leeway: DEFAULT_LEEWAY,
            max_lifetime: DEFAULT_MAX_LIFETIME,
            max_age: DEFAULT_MAX_AGE,
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            max_jti_length: DEFAULT_MAX_JTI_LENGTH,
            algorithms: Algorithm::ALL.to_vec(),
            client_secret_jwt: false,
            token_types: vec![
                TokenType::ClientAuthentication,
                TokenType::Jwt,
                TokenType::Omitted,
            ],
            issuer_audience: true,
            profile_audience: None,
            profile: None,
            jti_required: true,
        }
    }

    /// The policy of `profile` for the authorization server `issuer`:
    /// [`Policy::new`] narrowed by [`Policy::profile`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use client_assertion::{Algorithm, Policy, Profile};
    ///
    /// let fapi = Policy::for_profile("https://as.example.com", Profile::Fapi2);
    /// assert_eq!(fapi.allowed_algorithms(), [Algorithm::Ps256, Algorithm::Es256, Algorithm::EdDsa]);
    /// assert_eq!(fapi.leeway_value(), Duration::from_secs(10));
    /// ```
    pub fn for_profile(issuer: impl Into<String>, profile: Profile) -> Self {
        Self::new(issuer).profile(profile)
    }

    /// Narrows the policy to `profile`'s rules: its algorithms, its `typ`
    /// allowlist, its audience ([`Profile::EntraId`]: only the tenant token
    /// endpoint; [`Profile::LegacyTokenEndpoint`]: the token endpoint as
    /// well as the issuer) and its leeway ([`Profile::Fapi2`]: 10 s, so
    /// `iat`/`nbf` up to 10 s in the future pass and anything beyond is
    /// rejected). Methods called afterwards may tune the policy further, but
    /// building a verifier refuses one that breaks the profile (an algorithm
    /// outside it, a FAPI 2.0 leeway outside 10 s to 59 s, another audience
    /// or an audience array under `Rfc7523bis` and `Fapi2`).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.algorithms = profile.algorithms().to_vec();
        self.token_types = profile.accepted_token_types().to_vec();
        if let Some(leeway) = profile.leeway() {
            self.leeway = leeway;
        }
        self.issuer_audience = !matches!(profile, Profile::EntraId { .. });
        self.profile_audience = profile.audience();
        self.profile = Some(profile);
        self
    }

    /// Sets the accepted `typ` header values (default: all three, where
    /// [`TokenType::Omitted`] accepts a token without `typ`). `typ` is
    /// compared case-insensitively, with or without the `application/`
    /// prefix; any other value is always rejected.
    pub fn token_types(mut self, types: &[TokenType]) -> Self {
        self.token_types = types.to_vec();
        self
    }

    /// Loosens: also accept `audience` (e.g. the token endpoint URL, for
    /// clients that predate draft-ietf-oauth-rfc7523bis). Compared as a
    /// plain string, no normalisation.
    pub fn also_accept_audience(mut self, audience: impl Into<String>) -> Self {
        self.extra_audiences.push(audience.into());
        self
    }

    /// Loosens: accept `aud` as a one-element array holding an accepted
    /// audience. An array with any other member is always rejected.
    pub fn accept_single_element_audience_array(mut self) -> Self {
        self.single_element_array = true;
        self
    }

    /// Sets the allowed clock skew (default 30 s, at most 5 minutes).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Sets the longest accepted lifetime `exp - iat` (default 1 hour).
    pub fn max_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime = max;
        self
    }

    /// Sets the greatest accepted age `now - iat` (default 5 minutes).
    pub fn max_age(mut self, max: Duration) -> Self {
        self.max_age = max;
        self
    }

    /// Sets the largest accepted token in bytes (default 8 KiB).
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_size = bytes;
        self
    }

    /// Sets the longest accepted `jti` in bytes (default 256).
    pub fn max_jti_length(mut self, bytes: usize) -> Self {
        self.max_jti_length = bytes;
        self
    }

    /// Restricts the accepted algorithms (default: all five).
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// Loosens: accept `client_secret_jwt` (HS256/HS384/HS512, OpenID
    /// Connect Core §9) from clients registered with a secret
    /// ([`ClientRegistry::register_client_secret`](crate::ClientRegistry::register_client_secret)),
    /// through [`Verifier::authenticate_client`](crate::Verifier::authenticate_client).
    ///
    /// Off by default: the server holds the same secret as the client, so a
    /// leak on either side lets anyone authenticate as the client, and FAPI
    /// 2.0 forbids it. Even when on, a client registered with public keys is
    /// never verified with HMAC, and [`Verifier::verify`](crate::Verifier::verify)
    /// never accepts it.
    pub fn allow_client_secret_jwt(mut self) -> Self {
        self.client_secret_jwt = true;
        self
    }

    /// Whether `client_secret_jwt` is accepted (see
    /// [`Policy::allow_client_secret_jwt`]).
    pub fn allows_client_secret_jwt(&self) -> bool {
        self.client_secret_jwt
    }

    /// The issuer identifier (the default accepted audience).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The profile the policy was narrowed to, if any.
    pub fn profile_in_force(&self) -> Option<&Profile> {
        self.profile.as_ref()
    }

    /// The accepted algorithms.
    pub fn allowed_algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The clock-skew allowance in force.
    pub fn leeway_value(&self) -> Duration {
        self.leeway
    }

    /// Whether a token with this `typ` (absent: `None`) is accepted. Unknown
    /// types never are.
    pub(crate) fn accepts_type(&self, typ: Option<&str>) -> bool {
        let kind = match typ {
            None => TokenType::Omitted,
            Some(t) => {
                if media_type_is(t, "client-authentication+jwt") {
                    TokenType::ClientAuthentication
                } else if media_type_is(t, "JWT") {
                    TokenType::Jwt
                } else {
                    return false;
                }
            }
        };
        self.token_types.contains(&kind)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        let bad = |d| Err(Error::detail(ErrorKind::InvalidConfig, d));
        if self.issuer.is_empty() || self.extra_audiences.iter().any(String::is_empty) {
            return bad("audiences must not be empty");
        }
        if self.leeway > Duration::from_secs(300) {
            return bad("leeway above 5 minutes");
        }
        if self.max_lifetime.is_zero() || self.max_age.is_zero() {
            return bad("max lifetime and max age must be positive");
        }
        if self.max_lifetime > Duration::from_secs(24 * 3600) {
            return bad("max lifetime above 24 hours");
        }
        if self.max_token_size < 256 || self.max_token_size > 1 << 20 {
            return bad("max token size must be between 256 bytes and 1 MiB");
        }
        if self.max_jti_length == 0 || self.max_jti_length > 4096 {
            return bad("max jti length must be between 1 and 4096");
        }
        if self.algorithms.is_empty() {
            return bad("no algorithm allowed");
        }
        if self.token_types.is_empty() {
            return bad("no typ allowed");
        }
        if let Some(profile) = &self.profile {
            profile.validate()?;
            profile.validate_leeway(self.leeway)?;
            if self
                .algorithms
                .iter()
                .any(|a| !profile.algorithms().contains(a))
            {
                return bad("an algorithm outside the profile");
            }
            let issuer_only = matches!(profile, Profile::Rfc7523bis | Profile::Fapi2);
            if issuer_only && (!self.extra_audiences.is_empty() || self.single_element_array) {
                return bad("the profile accepts only the issuer, as a single string");
            }
        }
        Ok(())
    }

    pub(crate) fn accepts_audience(&self, aud: &str) -> bool {
        (self.issuer_audience && aud == self.issuer)
            || self.profile_audience.as_deref() == Some(aud)
            || self.extra_audiences.iter().any(|a| a == aud)
    }
}
