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
    let mut out = Vec::new();
    decode_into(text, &mut out)?;
    Some(out)
}

/// Marks a byte outside the base64url alphabet in [`DECODE`].
const INVALID: u8 = 0x80;

/// The 6-bit value of each base64url character, [`INVALID`] for the rest.
static DECODE: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// [`DECODE`] pre-shifted for each of the four positions of a quantum:
/// `SHIFTED[k][c]` is character `c`'s 6 bits at bits `18 - 6k ..`, and
/// `0xff00_0000` for a character outside the alphabet, so that one OR of
/// four lookups is both the 24 decoded bits and (in its top byte) the
/// error flag.
static SHIFTED: [[u32; 256]; 4] = {
    let mut tables = [[0u32; 256]; 4];
    let mut k = 0;
    while k < 4 {
        let mut c = 0;
        while c < 256 {
            let v = DECODE[c];
            tables[k][c] = if v == INVALID {
                0xff00_0000
            } else {
                (v as u32) << (18 - 6 * k)
            };
            c += 1;
        }
        k += 1;
    }
    tables
};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Decodes strict unpadded base64url into `out` (cleared first); `None`
/// on any deviation, with `out` then unspecified.
///
/// A table lookup per character and one write per six bytes: the
/// verifier decodes three segments of every token it sees, and this is
/// about twice as fast as the `base64` crate's general-purpose engine (which
/// still encodes, and whose strict configuration this matches exactly: see
/// the differential test below).
pub(crate) fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let tail = text.len() % 4;
    let tail_bytes = match tail {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return None,
    };
    let body = &text[..text.len() - tail];
    out.clear();
    out.resize(body.len() / 4 * 3 + tail_bytes, 0);
    let lookup = |c: u8| u32::from(DECODE[usize::from(c)]);
    let quantum = |src: &[u8]| {
        SHIFTED[0][usize::from(src[0])]
            | SHIFTED[1][usize::from(src[1])]
            | SHIFTED[2][usize::from(src[2])]
            | SHIFTED[3][usize::from(src[3])]
    };
    let mut quanta = 0;
    // Two quanta (8 characters, 6 bytes) per step, then at most one more.
    let (pairs, single) = body.split_at(body.len() / 8 * 8);
    let (out_pairs, out_single) = out.split_at_mut(pairs.len() / 8 * 6);
    for (src, dst) in pairs.chunks_exact(8).zip(out_pairs.chunks_exact_mut(6)) {
        let (a, b) = (quantum(&src[..4]), quantum(&src[4..]));
        quanta |= a | b;
        // a's 24 bits, then b's, in the top 48 bits (an invalid character's
        // flag byte may spill over; the result is discarded then anyway).
        let both = (u64::from(a) << 40) | (u64::from(b) << 16);
        dst.copy_from_slice(&both.to_be_bytes()[..6]);
    }
    for (src, dst) in single.chunks_exact(4).zip(out_single.chunks_exact_mut(3)) {
        let n = quantum(src);
        quanta |= n;
        dst.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    let mut invalid = u32::from(quanta >> 24 != 0) << 7;
    let rest = &text[body.len()..];
    let end = out.len();
    match *rest {
        [] => {}
        [a, b] => {
            let (a, b) = (lookup(a), lookup(b));
            // The 4 bits after the last byte must be zero (canonical).
            invalid |= a | b | u32::from(b & 0x0f != 0) << 7;
            out[end - 1] = (a << 2 | b >> 4) as u8;
        }
        [a, b, c] => {
            let (a, b, c) = (lookup(a), lookup(b), lookup(c));
            invalid |= a | b | c | u32::from(c & 0x03 != 0) << 7;
            let n = a << 10 | b << 4 | c >> 2;
            out[end - 2] = (n >> 8) as u8;
            out[end - 1] = n as u8;
        }
        _ => return None,
    }
    (invalid & u32::from(INVALID) == 0).then_some(())
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
        assert_eq!(decode(b"").unwrap(), Vec::<u8>::new());
        assert!(decode(b"AQI=").is_none());
        assert!(decode(b"AQI.").is_none());
        assert!(decode(b"AQ\xff").is_none());
    }

    /// The hand-written decoder against the `base64` crate's strict engine.
    #[test]
    fn agrees_with_the_base64_crate() {
        let reference = |t: &[u8]| STRICT.decode(t).ok();
        // Every string of up to 3 characters over an alphabet with invalid
        // and boundary characters, then random text.
        let chars = b"AQgw_-zZ09+/=.\x00\xff";
        let mut cases: Vec<Vec<u8>> = vec![Vec::new()];
        for _ in 0..3 {
            let longer: Vec<Vec<u8>> = cases
                .iter()
                .filter(|c| c.len() == cases.last().map_or(0, Vec::len))
                .flat_map(|c| {
                    chars.iter().map(move |&x| {
                        let mut c = c.clone();
                        c.push(x);
                        c
                    })
                })
                .collect();
            cases.extend(longer);
        }
        for len in 0..40 {
            for seed in 0..200u32 {
                let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(len);
                let case: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 17;
                        x ^= x << 5;
                        if x % 50 == 0 {
                            b"=+/.\x80"[(x / 50 % 5) as usize]
                        } else {
                            ALPHABET[(x % 64) as usize]
                        }
                    })
                    .collect();
                cases.push(case);
            }
        }
        for case in &cases {
            assert_eq!(decode(case), reference(case), "{case:?}");
        }
        for bytes in [
            &b""[..],
            b"a",
            b"ab",
            b"abc",
            &[0xff; 100],
            &(0..=255).collect::<Vec<u8>>(),
        ] {
            let text = encode(bytes);
            assert_eq!(decode(text.as_bytes()).as_deref(), Some(bytes));
        }
        // Every length, so that each mix of 8-character steps, a last
        // 4-character quantum and a 2- or 3-character tail is decoded.
        let bytes: Vec<u8> = (0..=255u8).rev().collect();
        for len in 0..=bytes.len() {
            let text = encode(&bytes[..len]);
            assert_eq!(decode(text.as_bytes()).as_deref(), Some(&bytes[..len]));
        }
    }
}
