//! Clocks and paths shared by the benches that time blocks themselves
//! (`verify`, `replay`, `client_store` include it with `mod support;`).
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Nanoseconds this thread has spent runnable but waiting for a CPU
/// (`/proc/thread-self/schedstat`, second field; Linux with
/// `CONFIG_SCHED_INFO`). The kernel adds each wait when the thread gets a
/// CPU back, so reading it before and after a block and subtracting the
/// difference from the block's wall time removes the time the thread was
/// preempted by other processes.
pub fn run_delay() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Wall time and on-CPU time (wall minus run-queue wait, when known) of `f`.
pub fn timed(f: impl FnOnce()) -> (Duration, Option<Duration>) {
    let before = run_delay();
    let start = Instant::now();
    f();
    let wall = start.elapsed();
    let on_cpu = before
        .zip(run_delay())
        .map(|(b, a)| wall.saturating_sub(a.saturating_sub(b)));
    (wall, on_cpu)
}

/// Whether `BENCH_CLOCK=wall` asks for plain wall time.
pub fn wall_clock() -> bool {
    std::env::var("BENCH_CLOCK").is_ok_and(|c| c == "wall")
}

/// The time `f` takes as the benchmarks count it: on-CPU time (wall time
/// minus run-queue wait, see [`run_delay`]) by default, so that a busy
/// machine's preemptions do not land on whichever benchmark is running;
/// wall time with `BENCH_CLOCK=wall` or where schedstat is unavailable.
pub fn measure(f: impl FnOnce()) -> Duration {
    let (wall, on_cpu) = timed(f);
    if wall_clock() {
        wall
    } else {
        on_cpu.unwrap_or(wall)
    }
}

/// Where criterion writes its reports (same rule as criterion 0.5, minus
/// its `cargo metadata` fallback).
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| PathBuf::from("target"), PathBuf::from)
        .join("criterion")
}
