//! Base64url (RFC 4648 §5) without padding, decoded strictly: no padding,
//! no `+` or `/`, and canonical trailing bits, so that one token has exactly
//! one encoding.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};

const STRICT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes `bytes` as unpadded base64url.
pub(crate) fn encode(bytes: &[u8]) -> String {
    STRICT.encode(bytes)
}

/// Appends the unpadded base64url encoding of `bytes` to `out`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    STRICT.encode_string(bytes, out)
}

/// Decodes strict unpadded base64url; `None` on any deviation.
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    STRICT.decode(text).ok()
}

/// Decodes strict unpadded base64url into `out` (cleared first).
pub(crate) fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    STRICT.decode_vec(text, out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_decoding() {
        assert_eq!(decode(b"AQID").unwrap(), vec![1, 2, 3]);
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert!(decode(b"-_8").is_some());
        assert!(decode(b"+/8").is_none(), "standard alphabet refused");
        assert!(decode(b"AQ==").is_none(), "padding refused");
        assert!(decode(b"AQ").is_some());
        assert!(
            decode(b"AR").is_none(),
            "non-canonical trailing bits refused"
        );
        assert!(decode(b"A").is_none());
        let mut v = vec![9];
        assert!(decode_into(b"AQID", &mut v).is_some());
        assert_eq!(v, vec![1, 2, 3]);
    }
}
