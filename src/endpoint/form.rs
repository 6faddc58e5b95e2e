//! A bounded `application/x-www-form-urlencoded` reader (WHATWG URL
//! §5.1, strict): `+` is a space, `%XX` a byte, the result must be UTF-8.

use crate::error::{Error, ErrorKind};

/// The largest form body read (a client assertion is at most 8 KiB by
/// default; 64 KiB leaves room for every other parameter).
pub(crate) const MAX_FORM_BYTES: usize = 64 * 1024;
/// The most parameters read from one body.
pub(crate) const MAX_PARAMS: usize = 64;

fn invalid(detail: &'static str) -> Error {
    Error::detail(ErrorKind::InvalidRequest, detail)
}

/// The name/value pairs of `body`, in order; empty pieces (`a=1&&b=2`) are
/// skipped.
pub(crate) fn decode(body: &[u8]) -> Result<Vec<(String, String)>, Error> {
    if body.len() > MAX_FORM_BYTES {
        return Err(invalid("the form body is too large"));
    }
    let mut pairs = Vec::new();
    for piece in body.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        if pairs.len() == MAX_PARAMS {
            return Err(invalid("too many form parameters"));
        }
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, &[][..]),
        };
        pairs.push((unescape(name)?, unescape(value)?));
    }
    Ok(pairs)
}

fn unescape(s: &[u8]) -> Result<String, Error> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .ok_or_else(|| invalid("a bad % escape"))?;
                let byte = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .filter(|_| hex.iter().all(u8::is_ascii_hexdigit))
                    .ok_or_else(|| invalid("a bad % escape"))?;
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| invalid("the form is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_refuses_bad_escapes() {
        let pairs = decode(b"a=1+2&&b=%C3%BC%26&c").unwrap();
        assert_eq!(
            pairs,
            [
                ("a".into(), "1 2".into()),
                ("b".into(), "ü&".into()),
                ("c".into(), String::new())
            ]
        );
        for bad in [&b"a=%"[..], b"a=%4", b"a=%zz", b"a=%+1", b"a=%FF"] {
            assert_eq!(decode(bad).unwrap_err().kind(), ErrorKind::InvalidRequest);
        }
        let many = "a=1&".repeat(MAX_PARAMS + 1);
        assert!(decode(many.as_bytes()).is_err());
        assert!(decode(&vec![b'a'; MAX_FORM_BYTES + 1]).is_err());
    }
}
