//! `client-assertion verify --redis URL` (features `cli` and `redis`): two
//! processes sharing one private `redis-server` (on 127.0.0.1, started and
//! killed by its pid here; `scripts/redis.sh` installs it) catch a replay
//! across processes, and an unreachable Redis fails closed.
#![cfg(all(feature = "cli", feature = "redis"))]

mod cli_support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::*;

/// A private redis-server, killed (by its own pid) when dropped.
struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

fn start() -> Redis {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server runs (scripts/redis.sh installs it)");
    let redis = Redis {
        child,
        port,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ping(port) {
        assert!(
            Instant::now() < deadline,
            "redis-server did not answer PING"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    redis
}

#[test]
fn a_replay_is_caught_across_processes_and_redis_down_fails_closed() {
    let redis = start();
    let url = format!("redis://127.0.0.1:{}/0", redis.port);
    let s = Scratch::new();
    let token = format!("{}\n", s.sign(&[]));
    let mut args = vec!["verify"];
    args.extend(s.verifier_args());
    args.extend(["--redis", &url]);
    let first = s.run(&args, token.as_bytes());
    expect(&first, 0);
    assert!(stdout(&first).starts_with("ok "));
    let second = s.run(&args, token.as_bytes());
    expect(&second, 1);
    assert_eq!(stdout(&second), "rejected replayed\n");
    // Nothing listens on this port: every line fails closed.
    let dead = format!("redis://127.0.0.1:{}/0", free_port());
    let mut args = vec!["verify", "--json"];
    args.extend(s.verifier_args());
    args.extend(["--redis", &dead]);
    let out = s.run(&args, format!("{}\n", s.sign(&[])).as_bytes());
    expect(&out, 1);
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(line["code"], "replay_store_unavailable");
    drop(redis);
}
