//! The Ed25519 rule both backends add to the library's verification: a
//! signature whose `R` is a small-order point is refused.

/// The eight small-order points of edwards25519, canonically encoded. A
/// strict Ed25519 verifier refuses a signature whose `R` is one of them
/// (non-canonical encodings never match AWS-LC's recomputed `R`).
pub(crate) const SMALL_ORDER: [[u8; 32]; 8] = {
    const fn hex(s: &[u8; 64]) -> [u8; 32] {
        const fn nibble(c: u8) -> u8 {
            match c {
                b'0'..=b'9' => c - b'0',
                _ => c - b'a' + 10,
            }
        }
        let mut out = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
            i += 1;
        }
        out
    }
    [
        // The identity (order 1).
        hex(b"0100000000000000000000000000000000000000000000000000000000000000"),
        // (0, -1), order 2.
        hex(b"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        // (+-sqrt(-1), 0), order 4.
        hex(b"0000000000000000000000000000000000000000000000000000000000000000"),
        hex(b"0000000000000000000000000000000000000000000000000000000000000080"),
        // Order 8.
        hex(b"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        hex(b"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
        hex(b"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        hex(b"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
    ]
};

/// Whether `signature` has the Ed25519 length and an `R` that is not a
/// small-order point: checked before either backend verifies.
pub(crate) fn screen(signature: &[u8]) -> bool {
    signature.len() == 64 && !SMALL_ORDER.iter().any(|r| signature[..32] == r[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_order_table_is_exactly_the_small_order_points() {
        for bytes in SMALL_ORDER {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).expect("a curve point");
            assert!(key.is_weak(), "{bytes:02x?} is small-order");
            // Canonical: y (the sign bit masked) is below p = 2^255 - 19.
            let mut y = bytes;
            y[31] &= 0x7f;
            y.reverse();
            let mut p = [0xffu8; 32];
            p[0] = 0x7f;
            p[31] = 0xed;
            assert!(y < p, "{bytes:02x?} is canonical");
        }
        let mut distinct = SMALL_ORDER.to_vec();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 8);
    }
}
