//! Method and algorithm binding: what a client registered
//! (`token_endpoint_auth_method`, `token_endpoint_auth_signing_alg`, RFC 7591
//! §2 and OpenID Connect Dynamic Client Registration §2) against what a
//! request presents.
//!
//! Checked before the signature, on the assertion's header `alg` (the same
//! header the signature is then verified under): a client registered for
//! `private_key_jwt` with `ES256` is refused when it presents
//! `client_secret_jwt`, another algorithm, or another method.

use crate::algorithm::{Algorithm, HmacAlgorithm};
use crate::error::{Error, ErrorKind};
use crate::verify::AuthMethod;

use super::request::PresentedMethod;

/// The signing algorithm a client registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Pinned {
    Asymmetric(Algorithm),
    Hmac(HmacAlgorithm),
}

/// How a client registered to authenticate at the token endpoint: its
/// method and, if it pinned one, its signing algorithm.
///
/// ```
/// use client_assertion::{Algorithm, ErrorKind};
/// use client_assertion::server::{ClientAuthRules, PresentedMethod};
///
/// let rules = ClientAuthRules::private_key_jwt().signing_alg(Algorithm::Es256);
/// assert!(rules.check(PresentedMethod::Assertion, "ES256").is_ok());
/// let wrong_alg = rules.check(PresentedMethod::Assertion, "PS256").unwrap_err();
/// assert_eq!(wrong_alg.kind(), ErrorKind::AlgorithmNotAllowed);
/// let hmac = rules.check(PresentedMethod::Assertion, "HS256").unwrap_err();
/// assert_eq!(hmac.kind(), ErrorKind::AuthMethodNotAllowed);
/// let basic = rules.check(PresentedMethod::AuthorizationHeader, "").unwrap_err();
/// assert_eq!(basic.kind(), ErrorKind::AuthMethodNotAllowed);
/// assert_eq!(basic.token_response().status(), 401);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAuthRules {
    method: AuthMethod,
    alg: Option<Pinned>,
}

fn not_allowed(detail: &'static str) -> Error {
    Error::detail(ErrorKind::AuthMethodNotAllowed, detail)
}

impl ClientAuthRules {
    /// `private_key_jwt`, any algorithm the policy and the key allow.
    pub const fn private_key_jwt() -> Self {
        Self {
            method: AuthMethod::PrivateKeyJwt,
            alg: None,
        }
    }

    /// `client_secret_jwt`, any HMAC algorithm the client's secret was
    /// registered for.
    pub const fn client_secret_jwt() -> Self {
        Self {
            method: AuthMethod::ClientSecretJwt,
            alg: None,
        }
    }

    /// Pins `private_key_jwt` to `alg` (`token_endpoint_auth_signing_alg`).
    /// Makes the rules `private_key_jwt`.
    pub const fn signing_alg(self, alg: Algorithm) -> Self {
        Self {
            method: AuthMethod::PrivateKeyJwt,
            alg: Some(Pinned::Asymmetric(alg)),
        }
    }

    /// Pins `client_secret_jwt` to `alg`. Makes the rules `client_secret_jwt`.
    pub const fn hmac_alg(self, alg: HmacAlgorithm) -> Self {
        Self {
            method: AuthMethod::ClientSecretJwt,
            alg: Some(Pinned::Hmac(alg)),
        }
    }

    /// Reads registered metadata values: `method` is a
    /// `token_endpoint_auth_method`, `alg` a `token_endpoint_auth_signing_alg`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for a method this crate does not verify
    /// (`client_secret_basic`, `none`, ...) or an algorithm that is not one
    /// of the method's.
    pub fn from_metadata(method: &str, alg: Option<&str>) -> Result<Self, Error> {
        let bad = |d| Error::detail(ErrorKind::InvalidConfig, d);
        let rules = match method {
            "private_key_jwt" => Self::private_key_jwt(),
            "client_secret_jwt" => Self::client_secret_jwt(),
            _ => {
                return Err(bad(
                    "a token_endpoint_auth_method this crate does not verify",
                ))
            }
        };
        Ok(match (rules.method, alg) {
            (_, None) => rules,
            (AuthMethod::ClientSecretJwt, Some(a)) => rules
                .hmac_alg(HmacAlgorithm::lookup(a).ok_or_else(|| bad("not an HMAC algorithm"))?),
            (_, Some(a)) => rules.signing_alg(
                Algorithm::from_name(a).map_err(|_| bad("not a private_key_jwt algorithm"))?,
            ),
        })
    }

    /// The registered method.
    pub const fn method(&self) -> AuthMethod {
        self.method
    }

    /// The pinned algorithm's JWS name, if one is pinned.
    pub fn pinned_alg(&self) -> Option<&'static str> {
        self.alg.map(|a| match a {
            Pinned::Asymmetric(a) => a.name(),
            Pinned::Hmac(a) => a.name(),
        })
    }

    /// Checks a request's method and its assertion's header `alg` (any
    /// string, as the token says it) against the registration.
    ///
    /// # Errors
    /// [`ErrorKind::AuthMethodNotAllowed`] for another method than an
    /// assertion, or an assertion of the other kind (HMAC for a
    /// `private_key_jwt` client, anything else for a `client_secret_jwt`
    /// one); [`ErrorKind::AlgorithmNotAllowed`] for another algorithm than
    /// the pinned one. Both are `invalid_client`.
    pub fn check(&self, presented: PresentedMethod, alg: &str) -> Result<(), Error> {
        if presented != PresentedMethod::Assertion {
            return Err(not_allowed("the client registered another method"));
        }
        let hmac = HmacAlgorithm::lookup(alg).is_some();
        match (self.method, hmac) {
            (AuthMethod::PrivateKeyJwt, true) => {
                return Err(not_allowed("the client registered private_key_jwt"))
            }
            (AuthMethod::ClientSecretJwt, false) => {
                return Err(not_allowed("the client registered client_secret_jwt"))
            }
            _ => {}
        }
        let same = match self.alg {
            None => true,
            Some(Pinned::Asymmetric(pinned)) => Algorithm::from_name(alg).ok() == Some(pinned),
            Some(Pinned::Hmac(pinned)) => HmacAlgorithm::lookup(alg) == Some(pinned),
        };
        if !same {
            return Err(Error::detail(
                ErrorKind::AlgorithmNotAllowed,
                "the client registered another signing algorithm",
            ));
        }
        Ok(())
    }
}

impl Default for ClientAuthRules {
    fn default() -> Self {
        Self::private_key_jwt()
    }
}
