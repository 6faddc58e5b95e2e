//! Empty: the benchmarks are in `benches/peers.rs`.
