//! The crate's one error type, with stable reason codes.
//!
//! Every failure, on the signing side (a key that cannot be loaded, a backend
//! that cannot sign) and on the verification side (a rejected assertion),
//! is an [`Error`] carrying an [`ErrorKind`]. Each kind has a stable,
//! documented reason code ([`ErrorKind::code`]) that is safe to log, to count
//! in metrics and to show to a client: no kind carries key material, token
//! content or other internals. The underlying cause of a backend failure (an
//! I/O error, an HSM return value, a KMS transport error) travels as
//! [`std::error::Error::source`] for the operator's logs only.

use std::fmt;
use std::sync::Arc;

use crate::diagnostic::NearMiss;
/// The one description of every rejection whose reason would tell a
/// client whether a client id (or key id) is registered: an unknown client
/// and a bad signature read the same to the client; operators tell them
/// apart by [`ErrorKind`] and the audit event.
const NOT_VERIFIED: &str = "the assertion could not be verified";

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, as a stable reason code.
///
/// The table of codes is in the crate's README. New kinds may be added in
/// minor releases, so match with a wildcard arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    // ----- keys and signing -----
    /// Key material could not be decoded (bad PEM, DER, JWK or key file).
    InvalidKey,
    /// The key is well formed but of a type or curve this crate does not use.
    UnsupportedKey,
    /// The key is too weak (an RSA modulus below 2048 bits).
    WeakKey,
    /// A private key was needed but only public material was given.
    PublicKeyOnly,
    /// The algorithm is unknown, forbidden (`none`; HMAC outside `client_secret_jwt`)
    /// or does not fit the key or the client's registration.
    AlgorithmNotAllowed,
    /// A builder or policy was given a value it cannot accept.
    InvalidConfig,
    /// A key file could not be read.
    Io,
    /// The key backend (HSM, KMS, custom key source) failed to sign.
    KeyBackend,
    /// A synchronous call was made on a key source that can only sign asynchronously.
    RequiresAsync,
    /// A `client_secret_jwt` secret is shorter than its HMAC algorithm needs
    /// (RFC 7518 §3.2: at least 32, 48 or 64 bytes for HS256, HS384, HS512).
    WeakSecret,
    /// An X.509 certificate (or chain) could not be decoded.
    InvalidCertificate,
    /// The certificate does not certify the signing key.
    CertificateMismatch,
    /// The key backend (HSM token, KMS, key file) cannot be reached right
    /// now: a token that is not present, a module that does not answer.
    KeyUnavailable,
    /// The key backend refused access: a wrong or locked PIN, missing rights.
    KeyAccessDenied,
    /// The key backend holds no key under the configured name or label.
    KeyNotFound,
    /// The backend now holds a different key under the name the key source
    /// was opened with; the key source refuses to sign with it.
    KeyReplaced,
    /// A JWK Set published for verification carries private key members
    /// (`d`, `p`, `q`, ...): the publisher has leaked its private key, and the
    /// whole set is refused.
    PrivateKeyPublished,
    /// A federation trust rule for a shared issuer (GitHub Actions,
    /// GitLab.com, Terraform Cloud) pins no immutable owner, repository or
    /// namespace id: anyone on that platform could authenticate.
    SharedIssuerUnpinned,

    // ----- verification -----
    /// The token is not a well-formed compact JWS with JSON object parts.
    Malformed,
    /// The token is larger than the verifier's limit.
    TooLarge,
    /// The `iss`/`sub` names no registered client.
    UnknownClient,
    /// The `iss` of an authorization grant (or of a federated token) names
    /// no trusted issuer.
    UnknownIssuer,
    /// No registered key of the client matches the token's `kid`/`alg`.
    UnknownKey,
    /// The signature does not verify with the client's key.
    BadSignature,
    /// `iss` differs from the `client_id` request parameter.
    IssuerMismatch,
    /// `sub` is missing, or differs from `iss`, or from the `client_id` parameter.
    SubjectMismatch,
    /// `aud` is not exactly one accepted audience.
    AudienceMismatch,
    /// `exp` has passed.
    Expired,
    /// `nbf` or `iat` lies in the future beyond the leeway.
    NotYetValid,
    /// The assertion lives longer, or was issued longer ago, than the policy allows.
    LifetimeTooLong,
    /// A required claim (`exp`, `jti`, ...) is missing or has the wrong type.
    MissingClaim,
    /// A claim is present but its value is not acceptable (e.g. a `jti` that is too long).
    InvalidClaim,
    /// The `jti` was already presented by this client.
    Replayed,
    /// The in-memory replay cache is full of unexpired entries; failing closed.
    ReplayCacheFull,
    /// The replay store could not be reached or answered an error; failing closed.
    ReplayStoreUnavailable,
    /// The replay store may have lost what it recorded (a restart, a flush,
    /// an eviction, a failover) and this assertion was issued before the
    /// store's memory became complete again, so it may have been accepted
    /// before: refused until the acceptance window has passed (RFC 4120
    /// §3.2.3). A server condition, never the client's fault; the client
    /// retries with a freshly issued assertion.
    ReplayQuarantine,
    /// The `typ` header names a token type other than a client assertion.
    TypeNotAllowed,
    /// The header carries `crit`, a key-carrying member (`jwk`, `jku`,
    /// `x5u`), or `b64` with another value than `true` (RFC 7797).
    HeaderNotAllowed,
    /// The client's keys come from a remote JWK Set that could not be fetched
    /// and no usable copy is cached; failing closed.
    KeysUnavailable,
    /// A federated token matches trust rules of more than one client.
    AmbiguousClient,

    // ----- token endpoint requests -----
    /// The request body is not a form this crate reads: not
    /// `application/x-www-form-urlencoded` UTF-8, or too large.
    InvalidRequest,
    /// A request parameter appears more than once (RFC 6749 §3.2).
    DuplicateParameter,
    /// The request uses more than one client authentication method
    /// (RFC 6749 §2.3), e.g. an `Authorization` header and a `client_assertion`.
    MultipleAuthMethods,
    /// A parameter the request needs is missing (`client_assertion` without
    /// `client_assertion_type`, no `grant_type`, ...).
    MissingParameter,
    /// `client_assertion_type` is not `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    UnsupportedAssertionType,
    /// The `grant_type` is not one the token endpoint serves.
    UnsupportedGrantType,
    /// The client authenticated with another method than the one it
    /// registered (`token_endpoint_auth_method`), or with none.
    AuthMethodNotAllowed,
    /// An authorization server's metadata supports none of the client's
    /// authentication methods or signing algorithms (client side).
    UnsupportedByServer,
}

impl ErrorKind {
    /// The stable reason code, e.g. `"bad_signature"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidKey => "invalid_key",
            Self::UnsupportedKey => "unsupported_key",
            Self::WeakKey => "weak_key",
            Self::PublicKeyOnly => "public_key_only",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::InvalidConfig => "invalid_config",
            Self::Io => "io",
            Self::KeyBackend => "key_backend",
            Self::RequiresAsync => "requires_async",
            Self::WeakSecret => "weak_secret",
            Self::InvalidCertificate => "invalid_certificate",
            Self::CertificateMismatch => "certificate_mismatch",
            Self::KeyUnavailable => "key_unavailable",
            Self::KeyAccessDenied => "key_access_denied",
            Self::KeyNotFound => "key_not_found",
            Self::KeyReplaced => "key_replaced",
            Self::PrivateKeyPublished => "private_key_published",
            Self::SharedIssuerUnpinned => "shared_issuer_unpinned",
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::UnknownClient => "unknown_client",
            Self::UnknownIssuer => "unknown_issuer",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::SubjectMismatch => "subject_mismatch",
            Self::AudienceMismatch => "audience_mismatch",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::LifetimeTooLong => "lifetime_too_long",
            Self::MissingClaim => "missing_claim",
            Self::InvalidClaim => "invalid_claim",
            Self::Replayed => "replayed",
            Self::ReplayCacheFull => "replay_cache_full",
            Self::ReplayStoreUnavailable => "replay_store_unavailable",
            Self::ReplayQuarantine => "replay_quarantine",
            Self::TypeNotAllowed => "type_not_allowed",
            Self::HeaderNotAllowed => "header_not_allowed",
            Self::KeysUnavailable => "keys_unavailable",
            Self::AmbiguousClient => "ambiguous_client",
            Self::InvalidRequest => "invalid_request",
            Self::DuplicateParameter => "duplicate_parameter",
            Self::MultipleAuthMethods => "multiple_auth_methods",
            Self::MissingParameter => "missing_parameter",
            Self::UnsupportedAssertionType => "unsupported_assertion_type",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::AuthMethodNotAllowed => "auth_method_not_allowed",
            Self::UnsupportedByServer => "unsupported_by_server",
        }
    }

    /// A one-line description that is safe to return to a client.
    pub const fn description(self) -> &'static str {
        match self {
            Self::InvalidKey => "the key material could not be decoded",
            Self::UnsupportedKey => "the key type or curve is not supported",
            Self::WeakKey => "the key is too weak (RSA keys need at least 2048 bits)",
            Self::PublicKeyOnly => "a private key is required",
            Self::AlgorithmNotAllowed => "the algorithm is not allowed for this key",
            Self::InvalidConfig => "invalid configuration",
            Self::Io => "the key file could not be read",
            Self::KeyBackend => "the key backend failed to sign",
            Self::RequiresAsync => "this key source can only sign asynchronously",
            Self::WeakSecret => "the client secret is too short for its HMAC algorithm",
            Self::InvalidCertificate => "the certificate could not be decoded",
            Self::CertificateMismatch => "the certificate does not match the signing key",
            Self::KeyUnavailable => "the key backend cannot be reached",
            Self::KeyAccessDenied => "the key backend refused access",
            Self::KeyNotFound => "the key backend holds no such key",
            Self::KeyReplaced => "the key backend holds a different key than the one opened",
            Self::PrivateKeyPublished => "the JWK Set carries private key material",
            Self::SharedIssuerUnpinned => {
                "a trust rule for a shared issuer must pin an immutable id"
            }
            Self::Malformed => "the assertion is not a well-formed JWT",
            Self::TooLarge => "the assertion is too large",
            Self::UnknownClient => NOT_VERIFIED,
            Self::UnknownIssuer => "the assertion issuer is not trusted",
            Self::UnknownKey => NOT_VERIFIED,
            Self::BadSignature => NOT_VERIFIED,
            Self::IssuerMismatch => "the assertion issuer does not match the client",
            Self::SubjectMismatch => "the assertion subject does not match the client",
            Self::AudienceMismatch => "the assertion audience is not accepted",
            Self::Expired => "the assertion has expired",
            Self::NotYetValid => "the assertion is not yet valid",
            Self::LifetimeTooLong => "the assertion lifetime or age exceeds the allowed maximum",
            Self::MissingClaim => "a required claim is missing",
            Self::InvalidClaim => "a claim has an invalid value",
            Self::Replayed => "the assertion has already been used",
            Self::ReplayCacheFull => "the server cannot accept assertions right now",
            Self::ReplayStoreUnavailable => "the server cannot accept assertions right now",
            Self::ReplayQuarantine => {
                "the server cannot accept this assertion right now; retry with a newly issued one"
            }
            Self::TypeNotAllowed => "the assertion type is not accepted",
            Self::HeaderNotAllowed => "the assertion header carries a forbidden member",
            Self::AmbiguousClient => "the assertion matches more than one client",
            Self::KeysUnavailable => "the server cannot accept assertions right now",
            Self::InvalidRequest => "the request body is malformed",
            Self::DuplicateParameter => "a request parameter is repeated",
            Self::MultipleAuthMethods => {
                "the request uses more than one client authentication method"
            }
            Self::MissingParameter => "a required request parameter is missing",
            Self::UnsupportedAssertionType => "the client_assertion_type is not supported",
            Self::UnsupportedGrantType => "the grant_type is not supported",
            Self::AuthMethodNotAllowed => NOT_VERIFIED,
            Self::UnsupportedByServer => {
                "the authorization server supports none of the client's methods or algorithms"
            }
        }
    }

    /// Whether this kind rejects a presented assertion (as opposed to a local
    /// key, configuration or backend problem).
    pub const fn is_rejection(self) -> bool {
        !matches!(
            self,
            Self::InvalidKey
                | Self::UnsupportedKey
                | Self::WeakKey
                | Self::PublicKeyOnly
                | Self::InvalidConfig
                | Self::Io
                | Self::KeyBackend
                | Self::RequiresAsync
                | Self::WeakSecret
                | Self::InvalidCertificate
                | Self::CertificateMismatch
                | Self::KeyUnavailable
                | Self::KeyAccessDenied
                | Self::KeyNotFound
                | Self::KeyReplaced
                | Self::PrivateKeyPublished
                | Self::SharedIssuerUnpinned
                | Self::UnsupportedByServer
        )
    }
}

impl ErrorKind {
    /// Whether the condition is the server's and passes with time: a
    /// replay store or key set that cannot be reached, a full replay cache.
    /// A token endpoint answers these with 503 and `Retry-After`
    /// ([`Disposition::Retryable`]), never with `invalid_client`: the
    /// client's credentials are fine.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::ReplayStoreUnavailable
                | Self::ReplayCacheFull
                | Self::ReplayQuarantine
                | Self::KeysUnavailable
                | Self::KeyUnavailable
        )
    }

    /// How a token endpoint answers this kind when a verifier returned it
    /// for `usage` (`None`: the error came from no verifier).
    pub const fn disposition(self, usage: Option<Usage>) -> Disposition {
        if self.is_retryable() {
            return Disposition::Retryable;
        }
        match self {
            Self::InvalidRequest
            | Self::DuplicateParameter
            | Self::MultipleAuthMethods
            | Self::MissingParameter
            | Self::UnsupportedAssertionType => Disposition::InvalidRequest,
            Self::UnsupportedGrantType => Disposition::UnsupportedGrantType,
            Self::AuthMethodNotAllowed => Disposition::Rejected(Usage::ClientAuthentication),
            // Local configuration, key-file and signing-backend faults; a
            // verifier never rejects an assertion with these.
            Self::InvalidConfig
            | Self::Io
            | Self::KeyBackend
            | Self::RequiresAsync
            | Self::WeakSecret
            | Self::InvalidCertificate
            | Self::CertificateMismatch
            | Self::KeyAccessDenied
            | Self::KeyNotFound
            | Self::KeyReplaced
            | Self::UnsupportedByServer => Disposition::ServerFault,
            // A rejection (key material included: a client's remote JWK Set
            // that was refused); from no verifier, a local fault.
            _ => match usage {
                Some(usage) => Disposition::Rejected(usage),
                None => Disposition::ServerFault,
            },
        }
    }
}

/// How a token endpoint answers an error (RFC 6749 §5.2): the class of
/// [`ErrorKind::disposition`], which decides the status code and the
/// `error` code of the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Disposition {
    /// The assertion or credential is refused: `invalid_client` (401) for
    /// client authentication, `invalid_grant` (400) for a grant.
    Rejected(Usage),
    /// The request is malformed (repeated parameter, two methods, missing
    /// parameter, unknown `client_assertion_type`): `invalid_request` (400).
    InvalidRequest,
    /// `unsupported_grant_type` (400).
    UnsupportedGrantType,
    /// A server condition that passes (replay store or keys unreachable,
    /// replay cache full): 503 with `Retry-After`. Its `error` code,
    /// `temporarily_unavailable`, is an extension at the token endpoint:
    /// RFC 6749 §5.2 defines no server-side error there, and this is the
    /// authorization endpoint's code (§4.1.2.1), the common choice of
    /// servers.
    Retryable,
    /// A server fault that retrying does not cure (configuration, key
    /// backend): 500, `server_error` (an extension at the token endpoint,
    /// as above).
    ServerFault,
}

impl Disposition {
    /// The OAuth 2.0 `error` code of the response.
    pub const fn oauth_code(self) -> &'static str {
        match self {
            Self::Rejected(Usage::ClientAuthentication) => "invalid_client",
            Self::Rejected(Usage::AuthorizationGrant) => "invalid_grant",
            Self::InvalidRequest => "invalid_request",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::Retryable => "temporarily_unavailable",
            Self::ServerFault => "server_error",
        }
    }

    /// The HTTP status code of the response (before a `WWW-Authenticate`
    /// challenge, which keeps 401).
    pub const fn status(self) -> u16 {
        match self {
            Self::Rejected(Usage::ClientAuthentication) => 401,
            Self::Rejected(Usage::AuthorizationGrant)
            | Self::InvalidRequest
            | Self::UnsupportedGrantType => 400,
            Self::Retryable => 503,
            Self::ServerFault => 500,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The error type of every fallible operation in this crate.
///
/// Small (one pointer), cheap to clone, and safe to log: its `Display` and
/// `Debug` show the reason code, a fixed description and, for some kinds, a
/// short detail chosen by this crate that never contains key material or
/// token content.
#[derive(Clone)]
pub struct Error(Box<Inner>);

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    usage: Option<Usage>,
    detail: Option<&'static str>,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
    near_miss: Option<Arc<NearMiss>>,
}

impl Error {
    /// An error of the given kind.
    pub fn new(kind: ErrorKind) -> Self {
        Self(Box::new(Inner {
            kind,
            usage: None,
            detail: None,
            source: None,
            near_miss: None,
        }))
    }

    /// An error of the given kind with a fixed detail message (no secrets).
    pub(crate) fn detail(kind: ErrorKind, detail: &'static str) -> Self {
        Self(Box::new(Inner {
            kind,
            usage: None,
            detail: Some(detail),
            source: None,
            near_miss: None,
        }))
    }

    /// An error of the given kind caused by `source`.
    ///
    /// Key sources outside this crate (a KMS client, a custom HSM binding)
    /// use this to report backend failures with [`ErrorKind::KeyBackend`]:
    /// the cause is kept for the operator's logs.
    pub fn with_source(
        kind: ErrorKind,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self(Box::new(Inner {
            kind,
            usage: None,
            detail: None,
            source: Some(Arc::from(source.into())),
            near_miss: None,
        }))
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The stable reason code, e.g. `"expired"`.
    pub fn code(&self) -> &'static str {
        self.0.kind.code()
    }

    /// A description safe to return to a client (no key material, no internals).
    pub fn description(&self) -> &'static str {
        self.0.kind.description()
    }

    /// What the rejected assertion was presented for, when a verifier
    /// returned this error: [`Usage::ClientAuthentication`] from a
    /// `Verifier`, [`Usage::AuthorizationGrant`] from a `GrantVerifier`.
    /// `None` for errors that do not come from a verifier (key loading,
    /// signing, configuration).
    ///
    /// With it, one handler maps both verifiers' errors to the right OAuth
    /// error: `err.usage().map(|u| err.oauth_error(u))`.
    pub fn usage(&self) -> Option<Usage> {
        self.0.usage
    }

    /// For the operator only: the closest rule a rejected token missed and
    /// how (an issuer that differs by case or a trailing slash, the token
    /// endpoint as audience, a legacy GitHub subject, a missing claim, a
    /// token too old), when the verifier found one. Never send it to the
    /// client; the `assertion.rejected` audit event carries it as
    /// `near_miss`.
    pub fn near_miss(&self) -> Option<&NearMiss> {
        self.0.near_miss.as_deref()
    }

    /// Attaches the operator's near-miss explanation.
    pub(crate) fn with_near_miss(mut self, near_miss: NearMiss) -> Self {
        self.0.near_miss = Some(Arc::new(near_miss));
        self
    }

    /// Records what the rejected assertion was presented for.
    pub(crate) fn for_usage(mut self, usage: Usage) -> Self {
        self.0.usage = Some(usage);
        self
    }

    /// The OAuth 2.0 error code of a token endpoint response to this error
    /// had it been returned for `usage`: `invalid_client` or `invalid_grant`
    /// for a rejection, and, whatever the usage, `temporarily_unavailable`
    /// for a retryable server condition, `server_error` for a server fault
    /// and `invalid_request` for a malformed request (see
    /// [`Disposition`]). [`Error::oauth_code`] takes the usage the error
    /// knows.
    pub fn oauth_error(&self, usage: Usage) -> &'static str {
        self.0.kind.disposition(Some(usage)).oauth_code()
    }

    /// How a token endpoint answers this error, by its kind and the usage
    /// it knows ([`Error::usage`]); an error from no verifier that is no
    /// request error is a server fault.
    pub fn disposition(&self) -> Disposition {
        self.0.kind.disposition(self.0.usage)
    }

    /// The OAuth 2.0 `error` code of the token endpoint response:
    /// `invalid_client`, `invalid_grant`, `invalid_request`,
    /// `unsupported_grant_type`, `temporarily_unavailable` (503) or
    /// `server_error` (500). See [`Disposition`].
    pub fn oauth_code(&self) -> &'static str {
        self.disposition().oauth_code()
    }

    /// The `error_description` of the token endpoint response: safe to
    /// return, and the same for every rejection whose reason would tell
    /// whether a client id or key is registered (an unknown client, an
    /// unknown key, a bad signature, an algorithm the registration does
    /// not allow, another method than the registered one).
    pub fn client_description(&self) -> &'static str {
        match (self.0.kind, self.0.usage) {
            (ErrorKind::AlgorithmNotAllowed, Some(_)) => NOT_VERIFIED,
            (kind, _) => kind.description(),
        }
    }
}

/// What an assertion is used for, which decides the OAuth error it maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Usage {
    /// RFC 7523 §2.2 client authentication (`private_key_jwt`): `invalid_client`.
    ClientAuthentication,
    /// RFC 7523 §2.1 authorization grant (`jwt-bearer`): `invalid_grant`.
    AuthorizationGrant,
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.kind.code(), self.0.kind.description())?;
        if let Some(detail) = self.0.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind);
        if let Some(usage) = self.0.usage {
            d.field("usage", &usage);
        }
        if let Some(detail) = self.0.detail {
            d.field("detail", &detail);
        }
        if let Some(source) = &self.0.source {
            d.field("source", &format_args!("{source}"));
        }
        if let Some(near_miss) = &self.0.near_miss {
            d.field("near_miss", &format_args!("{near_miss}"));
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn display_shows_code_and_detail() {
        let e = Error::detail(ErrorKind::WeakKey, "RSA modulus has 1024 bits");
        assert_eq!(
            e.to_string(),
            "weak_key: the key is too weak (RSA keys need at least 2048 bits) (RSA modulus has 1024 bits)"
        );
        assert_eq!(e.oauth_error(Usage::AuthorizationGrant), "invalid_grant");
        assert_eq!(e.usage(), None);
        let e = e.for_usage(Usage::AuthorizationGrant);
        assert_eq!(e.usage(), Some(Usage::AuthorizationGrant));
        assert!(format!("{e:?}").contains("AuthorizationGrant"));
    }
}
