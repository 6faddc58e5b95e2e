//! A token request's client authentication, read from the form body and
//! whether an `Authorization` header was sent: [`TokenRequest`].
//!
//! The rules (RFC 6749 §2.3 and §3.2, RFC 7521 §4.2, RFC 7523 §2.2):
//!
//! - a parameter sent without a value counts as omitted;
//! - no parameter may appear twice ([`ErrorKind::DuplicateParameter`]),
//!   except those defined as repeatable: `resource` (RFC 8707) and
//!   `audience` (RFC 8693);
//! - one client authentication method per request: an `Authorization`
//!   header, `client_secret`, and `client_assertion`/`client_assertion_type`
//!   exclude each other ([`ErrorKind::MultipleAuthMethods`]);
//! - `client_assertion` and `client_assertion_type` come together
//!   ([`ErrorKind::MissingParameter`]), and the type must be
//!   `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
//!   ([`ErrorKind::UnsupportedAssertionType`]);
//! - a `client_id` sent with an assertion must equal its `iss` and `sub`,
//!   which verification checks ([`ErrorKind::IssuerMismatch`]).

use std::fmt;

use super::form;
use super::response::ErrorResponse;
use crate::audit::{self, ReplayCheck, Seen};
use crate::error::{Error, ErrorKind, Usage};
use crate::params::CLIENT_ASSERTION_TYPE_JWT_BEARER;

/// Parameters that may be repeated (RFC 8707 `resource`, RFC 8693 `audience`).
const REPEATABLE: [&str; 2] = ["resource", "audience"];
/// Parameters whose values `Debug` never shows.
const SECRET: [&str; 4] = ["client_assertion", "assertion", "client_secret", "code"];

/// How the client tried to authenticate, as the request shows it (before
/// anything is verified).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PresentedMethod {
    /// `client_assertion_type` and `client_assertion`: `private_key_jwt`
    /// or `client_secret_jwt` (the assertion's `alg` tells which).
    Assertion,
    /// An `Authorization` header (`client_secret_basic` for `Basic`).
    AuthorizationHeader,
    /// `client_secret` in the body (`client_secret_post`).
    ClientSecretPost,
    /// Only `client_id` (a public client, `none`).
    ClientIdOnly,
    /// Nothing that identifies a client.
    Nothing,
}

/// A token request, with the client authentication it presents.
///
/// ```
/// use client_assertion::ErrorKind;
/// use client_assertion::server::{PresentedMethod, TokenRequest};
///
/// let body = b"grant_type=client_credentials\
///     &client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer\
///     &client_assertion=eyJ.eyJ.sig";
/// let request = TokenRequest::from_form(body, None)?;
/// assert_eq!(request.method(), PresentedMethod::Assertion);
/// assert_eq!(request.grant_type(), Some("client_credentials"));
/// assert_eq!(request.client_assertion(), Some("eyJ.eyJ.sig"));
///
/// // The same request with an Authorization header uses two methods.
/// let err = TokenRequest::from_form(body, Some("Basic Y2xpZW50OnNlY3JldA==")).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::MultipleAuthMethods);
/// assert_eq!(err.token_response().status(), 400);
/// # Ok::<(), client_assertion::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRequest {
    params: Vec<(String, String)>,
    method: PresentedMethod,
    /// The `Authorization` header's scheme, when one was sent.
    scheme: Option<String>,
}

/// A request refused before any assertion was read: one
/// `assertion.rejected` event (usage client authentication, the error's
/// code as `reason`; no client id, `kid` or `jti`, nothing of the body).
fn audited(request: Result<TokenRequest, Error>) -> Result<TokenRequest, Error> {
    if let Err(error) = &request {
        audit::rejected(
            Usage::ClientAuthentication,
            ReplayCheck::Recorded,
            error,
            &Seen::default(),
            &|_| false,
        );
    }
    request
}

impl TokenRequest {
    /// Reads an `application/x-www-form-urlencoded` body; `authorization`
    /// is the `Authorization` header's value, if the request had one.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidRequest`] for a body that is not UTF-8 form
    /// data or is larger than 64 KiB (or has more than 64 parameters);
    /// otherwise as [`TokenRequest::from_pairs`].
    ///
    /// A refused request emits the `assertion.rejected` audit event
    /// (feature `tracing`) with its error code as `reason` and nothing of
    /// the body.
    pub fn from_form(body: &[u8], authorization: Option<&str>) -> Result<Self, Error> {
        audited(form::decode(body).and_then(|pairs| Self::from_owned(pairs, authorization)))
    }

    /// Reads decoded name/value pairs (as a framework's form extractor
    /// gives them, in order and with repeats); `authorization` as in
    /// [`TokenRequest::from_form`].
    ///
    /// # Errors
    /// [`ErrorKind::DuplicateParameter`], [`ErrorKind::MultipleAuthMethods`],
    /// [`ErrorKind::MissingParameter`], [`ErrorKind::UnsupportedAssertionType`]
    /// by the rules of this module; [`ErrorKind::InvalidRequest`] for more
    /// than 64 parameters. Audited as [`TokenRequest::from_form`].
    pub fn from_pairs<I, K, V>(pairs: I, authorization: Option<&str>) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut owned = Vec::new();
        for (k, v) in pairs {
            if owned.len() == form::MAX_PARAMS {
                return audited(Err(Error::detail(
                    ErrorKind::InvalidRequest,
                    "too many form parameters",
                )));
            }
            owned.push((k.as_ref().to_owned(), v.as_ref().to_owned()));
        }
        audited(Self::from_owned(owned, authorization))
    }

    fn from_owned(
        mut params: Vec<(String, String)>,
        authorization: Option<&str>,
    ) -> Result<Self, Error> {
        // RFC 6749 §3.1: "sent without a value MUST be treated as if omitted".
        params.retain(|(_, v)| !v.is_empty());
        for (i, (name, _)) in params.iter().enumerate() {
            let repeated = params[..i].iter().any(|(n, _)| n == name);
            if repeated && !REPEATABLE.contains(&name.as_str()) {
                return Err(Error::detail(
                    ErrorKind::DuplicateParameter,
                    "a parameter is repeated",
                ));
            }
        }
        let scheme = authorization.map(|h| h.split(' ').next().unwrap_or("").to_owned());
        let request = Self {
            method: PresentedMethod::Nothing,
            params,
            scheme,
        };
        let method = request.presented()?;
        Ok(Self { method, ..request })
    }

    /// The one method the request presents.
    fn presented(&self) -> Result<PresentedMethod, Error> {
        let has = |name| self.param(name).is_some();
        let assertion = has("client_assertion") || has("client_assertion_type");
        let methods = [
            (assertion, PresentedMethod::Assertion),
            (self.scheme.is_some(), PresentedMethod::AuthorizationHeader),
            (has("client_secret"), PresentedMethod::ClientSecretPost),
        ];
        let mut used = methods.iter().filter(|(on, _)| *on).map(|(_, m)| *m);
        let method = match (used.next(), used.next()) {
            (Some(_), Some(_)) => {
                return Err(Error::detail(
                    ErrorKind::MultipleAuthMethods,
                    "more than one client authentication method",
                ))
            }
            (Some(m), None) => m,
            (None, _) if has("client_id") => PresentedMethod::ClientIdOnly,
            (None, _) => PresentedMethod::Nothing,
        };
        if method == PresentedMethod::Assertion {
            match self.param("client_assertion_type") {
                None => {
                    return Err(Error::detail(
                        ErrorKind::MissingParameter,
                        "client_assertion without client_assertion_type",
                    ))
                }
                Some(t) if t != CLIENT_ASSERTION_TYPE_JWT_BEARER => {
                    return Err(Error::new(ErrorKind::UnsupportedAssertionType))
                }
                Some(_) if !has("client_assertion") => {
                    return Err(Error::detail(
                        ErrorKind::MissingParameter,
                        "client_assertion_type without client_assertion",
                    ))
                }
                Some(_) => {}
            }
        }
        Ok(method)
    }

    /// The method the client presented.
    pub fn method(&self) -> PresentedMethod {
        self.method
    }

    /// The first value of parameter `name` (parameters without a value
    /// count as omitted).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of parameter `name`, in order (more than one only for
    /// `resource` and `audience`).
    pub fn params<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `grant_type`.
    pub fn grant_type(&self) -> Option<&str> {
        self.param("grant_type")
    }

    /// The `client_id` parameter.
    pub fn client_id(&self) -> Option<&str> {
        self.param("client_id")
    }

    /// `scope`.
    pub fn scope(&self) -> Option<&str> {
        self.param("scope")
    }

    /// `client_assertion` (present exactly when [`TokenRequest::method`]
    /// is [`PresentedMethod::Assertion`]).
    pub fn client_assertion(&self) -> Option<&str> {
        self.param("client_assertion")
    }

    /// The `Authorization` header's scheme, if one was sent.
    pub fn authorization_scheme(&self) -> Option<&str> {
        self.scheme.as_deref()
    }

    /// The client assertion, or [`ErrorKind::AuthMethodNotAllowed`] for a
    /// request that authenticates otherwise (or not at all): a token
    /// endpoint that accepts only assertions refuses the others with
    /// `invalid_client`.
    ///
    /// # Errors
    /// As said.
    pub fn require_assertion(&self) -> Result<&str, Error> {
        self.client_assertion().ok_or_else(|| {
            Error::detail(
                ErrorKind::AuthMethodNotAllowed,
                "the request presents no client assertion",
            )
        })
    }

    /// The response to `error` for this request: as
    /// [`ErrorResponse::from_error`], with `WWW-Authenticate` when the
    /// client tried the `Authorization` header (RFC 6749 §5.2).
    pub fn error_response(&self, error: &Error) -> ErrorResponse {
        let response = ErrorResponse::from_error(error);
        match &self.scheme {
            Some(scheme) => response.challenge(scheme),
            None => response,
        }
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.params {
            if SECRET.contains(&k.as_str()) {
                m.entry(k, &"[elided]");
            } else {
                m.entry(k, v);
            }
        }
        m.entry(&"method", &self.method);
        m.finish()
    }
}
