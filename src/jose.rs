//! Shared JOSE vocabulary, used by the signing and the verifying side
//! alike: the `typ` header values this crate writes ([`TokenType`]) and the
//! media-type comparison of RFC 7515 §4.1.9. A leaf module: it uses nothing
//! else of the crate.

/// The `typ` header written on assertions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// `client-authentication+jwt` (draft-ietf-oauth-rfc7523bis explicit
    /// typing), the default for client authentication.
    #[default]
    ClientAuthentication,
    /// `JWT`, for servers that reject unknown types; the default for grants.
    Jwt,
    /// No `typ` header at all, for legacy servers.
    Omitted,
}

impl TokenType {
    /// The header value, if any.
    pub const fn header_value(self) -> Option<&'static str> {
        match self {
            Self::ClientAuthentication => Some("client-authentication+jwt"),
            Self::Jwt => Some("JWT"),
            Self::Omitted => None,
        }
    }
}

/// Whether the JOSE `typ` value `typ` names the media type `name`: compared
/// case-insensitively, with or without the `application/` prefix
/// (RFC 7515 §4.1.9).
pub(crate) fn media_type_is(typ: &str, name: &str) -> bool {
    let short = match typ.get(..12) {
        Some(p) if p.eq_ignore_ascii_case("application/") => &typ[12..],
        _ => typ,
    };
    short.eq_ignore_ascii_case(name)
}
