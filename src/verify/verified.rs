//! What verification returns: [`VerifiedAssertion`], [`VerifiedGrant`],
//! [`AuthenticatedClient`] and its [`AuthMethod`], built from the
//! pipeline's [`Checked`] result.

use std::fmt;
use std::time::SystemTime;

use super::pipeline::Checked;
use super::select::HeaderAlg;
use crate::algorithm::Algorithm;
use crate::error::{Error, ErrorKind};
use crate::secret::HmacAlgorithm;

/// An assertion that passed every check, including the replay check.
///
/// `A` is the kind of algorithm that verified it: [`Algorithm`] (the
/// default, `private_key_jwt`) or [`HmacAlgorithm`] for `client_secret_jwt`,
/// which only [`Verifier::authenticate_client`](crate::Verifier::authenticate_client)
/// returns.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedAssertion<A = Algorithm> {
    client_id: String,
    jti: String,
    kid: String,
    alg: A,
    expires_at: SystemTime,
    issued_at: Option<SystemTime>,
    audience: String,
}

impl<A: Copy> VerifiedAssertion<A> {
    /// The authenticated client id (`iss` = `sub`).
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The `jti`.
    pub fn jti(&self) -> &str {
        &self.jti
    }
    /// The `kid` of the registered key that verified the signature (empty
    /// for `client_secret_jwt`: a client has one secret).
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The algorithm that verified the signature.
    pub fn algorithm(&self) -> A {
        self.alg
    }
    /// The `exp` claim.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
    /// The `iat` claim, if present.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.issued_at
    }
    /// The audience that matched.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    fn from_checked(c: Checked, alg: A) -> Self {
        Self {
            client_id: c.iss,
            jti: c.claims.jti,
            kid: c.kid,
            alg,
            expires_at: c.claims.expires_at,
            issued_at: c.claims.issued_at,
            audience: c.claims.audience,
        }
    }
}

/// A JWT bearer grant that passed every check, including the replay check.
///
/// The subject is the issuer's name for the principal: map
/// ([`VerifiedGrant::issuer`], [`VerifiedGrant::subject`]) to a local user;
/// the same `sub` from two issuers may be two different people.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedGrant {
    issuer: String,
    subject: String,
    jti: String,
    kid: String,
    alg: Algorithm,
    expires_at: SystemTime,
    issued_at: Option<SystemTime>,
    audience: String,
}

impl VerifiedGrant {
    /// The trusted issuer (`iss`) whose key verified the grant.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
    /// The principal (`sub`), as the issuer names it.
    pub fn subject(&self) -> &str {
        &self.subject
    }
    /// The `jti`.
    pub fn jti(&self) -> &str {
        &self.jti
    }
    /// The `kid` of the issuer's key that verified the signature.
    pub fn kid(&self) -> &str {
        &self.kid
    }
    /// The algorithm that verified the signature.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }
    /// The `exp` claim.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
    /// The `iat` claim, if present.
    pub fn issued_at(&self) -> Option<SystemTime> {
        self.issued_at
    }
    /// The audience that matched.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The grant of a pipeline result (never HMAC: grants refuse it when
    /// screened).
    pub(crate) fn from_checked(c: Checked) -> Result<Self, Error> {
        let alg = asymmetric(c.alg)?;
        Ok(Self {
            issuer: c.iss,
            subject: c.claims.subject,
            jti: c.claims.jti,
            kid: c.kid,
            alg,
            expires_at: c.claims.expires_at,
            issued_at: c.claims.issued_at,
            audience: c.claims.audience,
        })
    }
}

/// A client authentication method (the `token_endpoint_auth_method`
/// values of RFC 7591 §2 that this crate verifies).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `private_key_jwt`: an assertion signed with one of the client's keys.
    PrivateKeyJwt,
    /// `client_secret_jwt`: an assertion MACed with the client's secret.
    ClientSecretJwt,
}

impl AuthMethod {
    /// The registered `token_endpoint_auth_method` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretJwt => "client_secret_jwt",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client authenticated by [`Verifier::authenticate_client`](crate::Verifier::authenticate_client),
/// with the method it used (its registered `token_endpoint_auth_method`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AuthenticatedClient {
    /// `private_key_jwt`: an assertion signed with one of the client's keys.
    PrivateKeyJwt(VerifiedAssertion),
    /// `client_secret_jwt`: an assertion MACed with the client's secret.
    ClientSecretJwt(VerifiedAssertion<HmacAlgorithm>),
}

impl AuthenticatedClient {
    /// The authenticated client id (`iss` = `sub`).
    pub fn client_id(&self) -> &str {
        match self {
            Self::PrivateKeyJwt(a) => a.client_id(),
            Self::ClientSecretJwt(a) => a.client_id(),
        }
    }

    /// The `jti`.
    pub fn jti(&self) -> &str {
        match self {
            Self::PrivateKeyJwt(a) => a.jti(),
            Self::ClientSecretJwt(a) => a.jti(),
        }
    }

    /// The `exp` claim.
    pub fn expires_at(&self) -> SystemTime {
        match self {
            Self::PrivateKeyJwt(a) => a.expires_at(),
            Self::ClientSecretJwt(a) => a.expires_at(),
        }
    }

    /// The method the client authenticated with.
    pub fn method(&self) -> AuthMethod {
        match self {
            Self::PrivateKeyJwt(_) => AuthMethod::PrivateKeyJwt,
            Self::ClientSecretJwt(_) => AuthMethod::ClientSecretJwt,
        }
    }

    /// The `private_key_jwt` assertion, if that was the method.
    pub fn private_key_jwt(&self) -> Option<&VerifiedAssertion> {
        match self {
            Self::PrivateKeyJwt(a) => Some(a),
            Self::ClientSecretJwt(_) => None,
        }
    }

    /// The `client_secret_jwt` assertion, if that was the method.
    pub fn client_secret_jwt(&self) -> Option<&VerifiedAssertion<HmacAlgorithm>> {
        match self {
            Self::PrivateKeyJwt(_) => None,
            Self::ClientSecretJwt(a) => Some(a),
        }
    }

    /// The client of a pipeline result, by the algorithm that proved it.
    pub(crate) fn from_checked(c: Checked) -> Self {
        match c.alg {
            HeaderAlg::Asymmetric(alg) => {
                Self::PrivateKeyJwt(VerifiedAssertion::from_checked(c, alg))
            }
            HeaderAlg::Hmac(alg) => Self::ClientSecretJwt(VerifiedAssertion::from_checked(c, alg)),
        }
    }
}

impl VerifiedAssertion {
    /// The `private_key_jwt` assertion of a pipeline result (screening
    /// refused HMAC already; refused again here rather than trusted).
    pub(crate) fn private_key_jwt(c: Checked) -> Result<Self, Error> {
        let alg = asymmetric(c.alg)?;
        Ok(Self::from_checked(c, alg))
    }
}

fn asymmetric(alg: HeaderAlg) -> Result<Algorithm, Error> {
    match alg {
        HeaderAlg::Asymmetric(alg) => Ok(alg),
        HeaderAlg::Hmac(_) => Err(Error::detail(
            ErrorKind::AlgorithmNotAllowed,
            "HMAC is never verified with a client's public keys",
        )),
    }
}
