//! Entry points for the fuzz targets in `fuzz/` (hidden, not a stable API).
//!
//! Each function takes arbitrary bytes and must never panic.
