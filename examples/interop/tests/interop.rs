//! Both directions against real peers:
//! - the reqwest client against the axum `token-server` (in-memory replay
//!   cache, and a Redis one when `redis-server` is installed);
//! - an independent client (panva's `jose` on Node.js) against the axum server;
//! - the reqwest client against a live `oidc-provider` 9.
//!
//! Every run checks a valid request (200, RFC 6749 §5.1 body) and the same
//! assertion replayed (401 `invalid_client`). The Node.js parts need
//! `npm ci` in `oidc/` (run.sh does it); without `oidc/node_modules` they
//! fail, unless `INTEROP_SKIP_NODE=1`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client_assertion::{jwk_set, KeyType, PrivateKey};
use client_assertion_interop::client;

/// A child process killed (by its pid) when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

fn node_enabled() -> bool {
    if std::env::var_os("INTEROP_SKIP_NODE").is_some() {
        eprintln!("INTEROP_SKIP_NODE set: the Node.js peers are skipped");
        return false;
    }
    assert!(
        oidc_dir().join("node_modules/oidc-provider").is_dir(),
        "run `npm ci` in examples/interop/oidc first (examples/interop/run.sh does)"
    );
    true
}

/// Polls `url` until it answers (at most 20 s).
async fn wait_for(http: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if http.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} did not answer within 20 s");
}

struct Client {
    id: String,
    key: Arc<PrivateKey>,
    dir: PathBuf,
}

fn client(dir: &Path, id: &str) -> Client {
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    std::fs::write(dir.join("jwks.json"), jwk_set([&*key]).to_json()).unwrap();
    std::fs::write(dir.join("key.pem"), key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    let entry = serde_json::json!([{
        "client_id": id,
        "jwks": serde_json::from_str::<serde_json::Value>(&jwk_set([&*key]).to_json()).unwrap(),
        "token_endpoint_auth_signing_alg": "ES256",
    }]);
    std::fs::write(dir.join("clients.json"), entry.to_string()).unwrap();
    Client {
        id: id.to_owned(),
        key,
        dir: dir.to_owned(),
    }
}

fn token_server(c: &Client, port: u16, redis: Option<&str>) -> (Running, String) {
    let issuer = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_token-server"));
    cmd.args([
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--issuer",
        &issuer,
    ])
    .arg("--clients")
    .arg(c.dir.join("clients.json"));
    if let Some(url) = redis {
        cmd.args(["--redis", url]);
    }
    (Running(cmd.spawn().expect("token-server starts")), issuer)
}

/// A valid request and the same assertion again, against `issuer`.
async fn valid_then_replayed(http: &reqwest::Client, metadata_url: &str, issuer: &str, c: &Client) {
    wait_for(http, metadata_url).await;
    let metadata = client::discover(http, metadata_url, issuer).await.unwrap();
    let form = client::form(&metadata, c.key.clone(), &c.id).unwrap();
    let ok = client::request(http, &metadata, &form).await.unwrap();
    assert_eq!(ok.status, 200, "{issuer}: {}", ok.body);
    assert!(ok.body["access_token"].is_string(), "{}", ok.body);
    assert_eq!(
        ok.body["token_type"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some("bearer")
    );
    let replay = client::request(http, &metadata, &form).await.unwrap();
    assert_eq!(replay.status, 401, "{issuer}: {}", replay.body);
    assert_eq!(replay.body["error"], "invalid_client", "{issuer}");
}

#[tokio::test]
async fn reqwest_client_against_the_axum_server() {
    let dir = tempfile_dir("axum");
    let c = client(&dir, "interop-client");
    let port = free_port();
    let (_server, issuer) = token_server(&c, port, None);
    let http = reqwest::Client::new();
    let metadata_url = format!("{issuer}/.well-known/oauth-authorization-server");
    valid_then_replayed(&http, &metadata_url, &issuer, &c).await;
    // Request rules: a repeated parameter, two methods, a wrong grant type.
    let token = format!("{issuer}/token");
    let r = http
        .post(&token)
        .body("grant_type=client_credentials&grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let form = client::form(
        &client::discover(&http, &metadata_url, &issuer)
            .await
            .unwrap(),
        c.key.clone(),
        &c.id,
    )
    .unwrap();
    let r = http
        .post(&token)
        .basic_auth(&c.id, Some("secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "two methods are invalid_request");
    let r = http
        .post(&token)
        .basic_auth(&c.id, Some("secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "no grant_type");
    let r = http
        .post(&token)
        .basic_auth(&c.id, Some("secret"))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn reqwest_client_against_the_axum_server_with_redis() {
    let Ok(redis_server) = which("redis-server") else {
        eprintln!("redis-server not installed: the Redis run is skipped");
        return;
    };
    let dir = tempfile_dir("redis");
    let redis_port = free_port();
    let _redis = Running(
        Command::new(redis_server)
            .args([
                "--port",
                &redis_port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let c = client(&dir, "interop-client");
    let url = format!("redis://127.0.0.1:{redis_port}/0");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", redis_port)).is_err() {
        assert!(Instant::now() < deadline, "redis-server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let port = free_port();
    let (_server, issuer) = token_server(&c, port, Some(&url));
    let http = reqwest::Client::new();
    let metadata_url = format!("{issuer}/.well-known/oauth-authorization-server");
    valid_then_replayed(&http, &metadata_url, &issuer, &c).await;
}

#[tokio::test]
async fn jose_client_against_the_axum_server() {
    if !node_enabled() {
        return;
    }
    let dir = tempfile_dir("jose");
    let c = client(&dir, "jose-client");
    let port = free_port();
    let (_server, issuer) = token_server(&c, port, None);
    let http = reqwest::Client::new();
    wait_for(
        &http,
        &format!("{issuer}/.well-known/oauth-authorization-server"),
    )
    .await;
    let out = Command::new("node")
        .arg(oidc_dir().join("client.mjs"))
        .args([&format!("{issuer}/token"), &issuer, &c.id])
        .arg(c.dir.join("key.pem"))
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(lines[0].starts_with("200 "), "{}", lines[0]);
    assert!(
        lines[1].starts_with("401 ") && lines[1].contains("invalid_client"),
        "{}",
        lines[1]
    );
}

#[tokio::test]
async fn reqwest_client_against_oidc_provider() {
    if !node_enabled() {
        return;
    }
    let dir = tempfile_dir("oidc");
    let c = client(&dir, "interop-client");
    let port = free_port();
    let _provider = Running(
        Command::new("node")
            .arg(oidc_dir().join("server.mjs"))
            .arg(port.to_string())
            .arg(c.dir.join("jwks.json"))
            .arg(&c.id)
            .stdout(Stdio::null())
            .spawn()
            .expect("node starts oidc-provider"),
    );
    let issuer = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    valid_then_replayed(
        &http,
        &format!("{issuer}/.well-known/openid-configuration"),
        &issuer,
        &c,
    )
    .await;
}

fn tempfile_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ca-interop-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn which(program: &str) -> Result<PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(program))
                .find(|p| p.is_file())
        })
        .ok_or(())
}
