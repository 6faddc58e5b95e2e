//! Logic shared by the fuzz targets in `fuzz_targets/`, so that each target
//! stays a one-liner.

pub mod differential;
