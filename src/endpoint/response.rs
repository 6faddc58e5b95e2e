//! The token endpoint's error response (RFC 6749 §5.2) as plain values:
//! a status code, headers and a JSON body, for any HTTP framework.

use std::fmt::Write as _;
use std::time::Duration;

use crate::error::{Disposition, Error, Usage};

/// The `Retry-After` of a retryable server condition unless set otherwise.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A token endpoint error response: status, headers and JSON body, built
/// from an [`Error`] by [`ErrorResponse::from_error`] (or, knowing whether
/// the client tried the `Authorization` header, by
/// [`TokenRequest::error_response`](crate::server::TokenRequest::error_response)).
///
/// | [`Disposition`] | status | `error` | extra headers |
/// |---|---|---|---|
/// | rejected client authentication | 401 | `invalid_client` | `WWW-Authenticate` when the client tried the `Authorization` header |
/// | rejected grant | 400 | `invalid_grant` | |
/// | malformed request | 400 | `invalid_request` | |
/// | unsupported grant type | 400 | `unsupported_grant_type` | |
/// | retryable server condition | 503 | `temporarily_unavailable` (extension) | `Retry-After` |
/// | server fault | 500 | `server_error` (extension) | |
///
/// Every response carries `Content-Type: application/json`,
/// `Cache-Control: no-store` and `Pragma: no-cache`. The body holds the
/// `error` code and [`Error::client_description`] only: never the
/// operator's reason code, which would tell an unknown client from a bad
/// signature.
///
/// ```
/// use client_assertion::{Error, ErrorKind};
/// use client_assertion::server::ErrorResponse;
///
/// let outage = ErrorResponse::from_error(&Error::new(ErrorKind::ReplayStoreUnavailable));
/// assert_eq!(outage.status(), 503);
/// assert_eq!(outage.header("retry-after"), Some("5"));
/// assert_eq!(outage.error(), "temporarily_unavailable");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorResponse {
    disposition: Disposition,
    description: &'static str,
    /// `Retry-After` in whole seconds, as written.
    retry_after: Option<String>,
    challenge: Option<String>,
}

impl ErrorResponse {
    /// The response to `error`, by the usage it knows ([`Error::disposition`]).
    pub fn from_error(error: &Error) -> Self {
        let disposition = error.disposition();
        Self {
            disposition,
            description: error.client_description(),
            retry_after: (disposition == Disposition::Retryable)
                .then(|| whole_seconds(DEFAULT_RETRY_AFTER)),
            challenge: None,
        }
    }

    /// Sets `Retry-After` of a retryable response (default 5 s, rounded up
    /// to whole seconds, at least 1); no effect on other responses.
    pub fn retry_after(mut self, after: Duration) -> Self {
        if self.retry_after.is_some() {
            self.retry_after = Some(whole_seconds(after));
        }
        self
    }

    /// The client tried to authenticate with the `Authorization` header
    /// under `scheme` (e.g. `Basic`): an `invalid_client` response then
    /// carries `WWW-Authenticate` with that scheme (RFC 6749 §5.2). A
    /// scheme that is not an HTTP token becomes `Basic`.
    pub fn challenge(mut self, scheme: &str) -> Self {
        if self.disposition == Disposition::Rejected(Usage::ClientAuthentication) {
            let token = !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            let scheme = if token { scheme } else { "Basic" };
            self.challenge = Some(format!("{scheme} realm=\"token\""));
        }
        self
    }

    /// The class of the error.
    pub fn disposition(&self) -> Disposition {
        self.disposition
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.disposition.status()
    }

    /// The `error` member of the body.
    pub fn error(&self) -> &'static str {
        self.disposition.oauth_code()
    }

    /// The `error_description` member of the body.
    pub fn description(&self) -> &'static str {
        self.description
    }

    /// The response headers, names in lower case.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("content-type", "application/json".to_owned()),
            ("cache-control", "no-store".to_owned()),
            ("pragma", "no-cache".to_owned()),
        ];
        if let Some(after) = &self.retry_after {
            headers.push(("retry-after", after.clone()));
        }
        if let Some(challenge) = &self.challenge {
            headers.push(("www-authenticate", challenge.clone()));
        }
        headers
    }

    /// The value of header `name` (lower case), if the response has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        match name {
            "content-type" => Some("application/json"),
            "cache-control" => Some("no-store"),
            "pragma" => Some("no-cache"),
            "www-authenticate" => self.challenge.as_deref(),
            "retry-after" => self.retry_after.as_deref(),
            _ => None,
        }
    }

    /// The JSON body: `{"error":"...","error_description":"..."}`.
    pub fn body(&self) -> String {
        let mut out = String::with_capacity(96);
        let _ = write!(
            out,
            r#"{{"error":"{}","error_description":"{}"}}"#,
            self.error(),
            self.description
        );
        out
    }
}

/// `after` in whole seconds, rounded up, at least 1.
fn whole_seconds(after: Duration) -> String {
    let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    secs.max(1).to_string()
}

impl Error {
    /// The token endpoint response to this error ([`ErrorResponse::from_error`]).
    pub fn token_response(&self) -> ErrorResponse {
        ErrorResponse::from_error(self)
    }
}

/// A successful token response (RFC 6749 §5.1): status 200, the same
/// `no-store` headers as [`ErrorResponse`], and a JSON body.
///
/// ```
/// use client_assertion::server::AccessTokenResponse;
///
/// let ok = AccessTokenResponse::bearer("2YotnFZFEjr1zCsicMWpAA", 3600).scope("read");
/// assert_eq!(ok.status(), 200);
/// assert_eq!(
///     ok.body(),
///     r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600,"scope":"read"}"#
/// );
/// ```
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccessTokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

impl AccessTokenResponse {
    /// A `Bearer` access token valid for `expires_in` seconds.
    pub fn bearer(access_token: impl Into<String>, expires_in: u64) -> Self {
        Self {
            access_token: access_token.into(),
            token_type: "Bearer",
            expires_in,
            scope: None,
        }
    }

    /// Sets the granted `scope`.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// 200.
    pub fn status(&self) -> u16 {
        200
    }

    /// `content-type`, `cache-control: no-store`, `pragma: no-cache`.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("content-type", "application/json".to_owned()),
            ("cache-control", "no-store".to_owned()),
            ("pragma", "no-cache".to_owned()),
        ]
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl std::fmt::Debug for AccessTokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenResponse")
            .field("access_token", &"[elided]")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    /// Every kind a verifier or the request parser returns, with the
    /// status and `error` it answers for each usage.
    #[test]
    fn every_kind_has_its_status_code_and_headers() {
        use ErrorKind::*;
        let rejections = [
            Malformed,
            TooLarge,
            UnknownClient,
            UnknownKey,
            BadSignature,
            IssuerMismatch,
            SubjectMismatch,
            AudienceMismatch,
            Expired,
            NotYetValid,
            LifetimeTooLong,
            MissingClaim,
            InvalidClaim,
            Replayed,
            TypeNotAllowed,
            HeaderNotAllowed,
            AlgorithmNotAllowed,
            InvalidKey,
            PrivateKeyPublished,
        ];
        for kind in rejections {
            let client = Error::new(kind).for_usage(Usage::ClientAuthentication);
            let r = client.token_response();
            assert_eq!((r.status(), r.error()), (401, "invalid_client"), "{kind:?}");
            assert_eq!(r.header("retry-after"), None);
            let grant = Error::new(kind).for_usage(Usage::AuthorizationGrant);
            let r = grant.token_response();
            assert_eq!((r.status(), r.error()), (400, "invalid_grant"), "{kind:?}");
            // From no verifier: a local fault, never the client's.
            let r = Error::new(kind).token_response();
            assert_eq!((r.status(), r.error()), (500, "server_error"), "{kind:?}");
        }
        for kind in [ReplayStoreUnavailable, ReplayCacheFull, KeysUnavailable] {
            for usage in [
                Some(Usage::ClientAuthentication),
                Some(Usage::AuthorizationGrant),
                None,
            ] {
                let e = match usage {
                    Some(u) => Error::new(kind).for_usage(u),
                    None => Error::new(kind),
                };
                let r = e.token_response();
                assert_eq!((r.status(), r.error()), (503, "temporarily_unavailable"));
                assert_eq!(r.header("retry-after"), Some("5"));
                assert!(e.kind().is_retryable());
                assert_ne!(e.oauth_code(), "invalid_client");
            }
        }
        for kind in [InvalidConfig, RequiresAsync, KeyBackend, Io] {
            let e = Error::new(kind).for_usage(Usage::ClientAuthentication);
            let r = e.token_response();
            assert_eq!((r.status(), r.error()), (500, "server_error"), "{kind:?}");
            assert_eq!(r.header("retry-after"), None);
        }
        for kind in [
            InvalidRequest,
            DuplicateParameter,
            MultipleAuthMethods,
            MissingParameter,
            UnsupportedAssertionType,
        ] {
            let r = Error::new(kind).token_response();
            assert_eq!(
                (r.status(), r.error()),
                (400, "invalid_request"),
                "{kind:?}"
            );
        }
        let r = Error::new(UnsupportedGrantType).token_response();
        assert_eq!((r.status(), r.error()), (400, "unsupported_grant_type"));
        let r = Error::new(AuthMethodNotAllowed).token_response();
        assert_eq!((r.status(), r.error()), (401, "invalid_client"));
    }

    #[test]
    fn headers_body_challenge_and_retry_after() {
        let e = Error::new(ErrorKind::BadSignature).for_usage(Usage::ClientAuthentication);
        let r = e.token_response();
        assert_eq!(
            r.headers(),
            [
                ("content-type", "application/json".to_owned()),
                ("cache-control", "no-store".to_owned()),
                ("pragma", "no-cache".to_owned()),
            ]
        );
        assert_eq!(
            r.body(),
            r#"{"error":"invalid_client","error_description":"the assertion could not be verified"}"#
        );
        let serde: serde_json::Value = serde_json::from_str(&r.body()).unwrap();
        assert_eq!(serde["error"], "invalid_client");
        let challenged = r.clone().challenge("Basic");
        assert_eq!(challenged.status(), 401);
        assert_eq!(
            challenged.header("www-authenticate"),
            Some("Basic realm=\"token\"")
        );
        assert_eq!(
            r.clone()
                .challenge("Bad\"scheme")
                .header("www-authenticate"),
            Some("Basic realm=\"token\"")
        );
        // No challenge on responses other than invalid_client.
        let grant = Error::new(ErrorKind::Expired).for_usage(Usage::AuthorizationGrant);
        assert_eq!(
            grant
                .token_response()
                .challenge("Basic")
                .header("www-authenticate"),
            None
        );
        let outage = Error::new(ErrorKind::ReplayStoreUnavailable).token_response();
        let later = outage.clone().retry_after(Duration::from_millis(1500));
        assert_eq!(later.header("retry-after"), Some("2"));
        assert!(later.headers().contains(&("retry-after", "2".to_owned())));
        assert_eq!(
            outage.retry_after(Duration::ZERO).header("retry-after"),
            Some("1")
        );
        assert_eq!(
            grant
                .token_response()
                .retry_after(Duration::from_secs(9))
                .header("retry-after"),
            None
        );
    }

    /// An unknown client, an unknown key, a bad signature, a refused
    /// algorithm and another method read the same to the client.
    #[test]
    fn descriptions_do_not_tell_whether_a_client_exists() {
        let bodies: Vec<String> = [
            ErrorKind::UnknownClient,
            ErrorKind::UnknownKey,
            ErrorKind::BadSignature,
            ErrorKind::AlgorithmNotAllowed,
            ErrorKind::AuthMethodNotAllowed,
        ]
        .into_iter()
        .map(|k| {
            Error::new(k)
                .for_usage(Usage::ClientAuthentication)
                .token_response()
                .body()
        })
        .collect();
        assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
        assert!(!bodies[0].contains("unknown_client"));
    }
}
