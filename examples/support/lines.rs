//! One bounded line of standard input at a time, shared by the `verify`
//! example and the `client-assertion verify` command (included by both
//! with `#[path]`): a line longer than the limit is cut, and the rest of it
//! skipped without being buffered.

use std::io::{self, BufRead, Read};

/// Reads one line into `line`, keeping at most `limit + 1` bytes of it (the
/// rest of a longer line is skipped, never buffered); `Ok(false)` at the
/// end of input.
pub(crate) fn read_line(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    limit: usize,
) -> io::Result<bool> {
    line.clear();
    if input
        .by_ref()
        .take(limit as u64 + 1)
        .read_until(b'\n', line)?
        == 0
    {
        return Ok(false);
    }
    if line.len() > limit && line.last() != Some(&b'\n') {
        loop {
            let buf = input.fill_buf()?;
            let (used, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), buf.is_empty()),
            };
            input.consume(used);
            if done {
                break;
            }
        }
    }
    Ok(true)
}
