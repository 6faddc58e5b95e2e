//! A [`ClientStore`] over a real SQLite file (issue 18): the clients live in
//! a `clients` table, registered and changed while the server runs; the
//! crate parses each client version once and looks unknown ids up at most
//! once per negative-cache period.
//!
//! The database is reached through CPython's standard `sqlite3` module in a
//! helper process this test starts (and kills): a real SQLite file and
//! engine, at no compile cost. `rusqlite` with its bundled SQLite would add
//! a C build of SQLite to every CI run of a 2-core machine already near its
//! budget, for one test. An authorization server would use its own async
//! driver (`sqlx`, `tokio-rusqlite`, ...) the same way: `find` returns the
//! row as a [`StoredClient`].

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use client_assertion::server::{
    ClientAuthRules, ClientCache, ClientCacheConfig, ClientCredentials, ClientStore, Lookup,
    StoreFuture, StoredClient, TokenEndpoint, TokenRequest,
};
use client_assertion::*;
use serde_json::{json, Value};

const ISSUER: &str = "https://as.example";

/// One JSON request per line on stdin, one JSON answer per line on stdout.
const HELPER: &str = r#"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, version INTEGER NOT NULL, method TEXT NOT NULL, alg TEXT, jwks TEXT NOT NULL)")
db.commit()
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "put":
        db.execute("INSERT INTO clients VALUES (?, 1, ?, ?, ?) ON CONFLICT(client_id) DO UPDATE SET version = version + 1, method = excluded.method, alg = excluded.alg, jwks = excluded.jwks",
                   (req["id"], req["method"], req.get("alg"), req["jwks"]))
        db.commit()
        out = {"ok": True}
    elif req["op"] == "delete":
        db.execute("DELETE FROM clients WHERE client_id = ?", (req["id"],))
        db.commit()
        out = {"ok": True}
    else:
        row = db.execute("SELECT version, method, alg, jwks FROM clients WHERE client_id = ?", (req["id"],)).fetchone()
        out = None if row is None else {"version": row[0], "method": row[1], "alg": row[2], "jwks": row[3]}
    print(json.dumps(out), flush=True)
"#;

/// The helper process and its pipes.
struct Sqlite {
    child: Child,
    io: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
}

impl std::fmt::Debug for Sqlite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sqlite")
    }
}

impl Sqlite {
    fn open(path: &std::path::Path) -> Self {
        let mut child = Command::new("python3")
            .args(["-u", "-c", HELPER])
            .arg(path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 (CPython's sqlite3 module) runs the SQLite helper");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            io: Mutex::new((stdin, stdout)),
        }
    }

    fn call(&self, request: Value) -> Value {
        let mut io = self.io.lock().unwrap();
        writeln!(io.0, "{request}").unwrap();
        let mut line = String::new();
        io.1.read_line(&mut line).unwrap();
        serde_json::from_str(&line).expect("the helper answers JSON")
    }
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The client store over the `clients` table.
#[derive(Debug)]
struct SqliteStore {
    db: Sqlite,
    lookups: AtomicU64,
}

impl SqliteStore {
    fn put(&self, id: &str, jwks: &str, alg: Option<&str>) {
        let r = self.db.call(
            json!({"op": "put", "id": id, "method": "private_key_jwt", "alg": alg, "jwks": jwks}),
        );
        assert_eq!(r["ok"], true);
    }

    fn row(&self, client_id: &str) -> Lookup {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let row = self.db.call(json!({"op": "get", "id": client_id}));
        if row.is_null() {
            return Ok(None);
        }
        let rules = ClientAuthRules::from_metadata(
            row["method"].as_str().unwrap_or_default(),
            row["alg"].as_str(),
        )?;
        let jwks = row["jwks"].as_str().unwrap_or_default();
        Ok(Some(
            StoredClient::new(
                client_id,
                row["version"].to_string(),
                ClientCredentials::jwks_json(jwks),
            )
            .rules(rules),
        ))
    }
}

impl ClientStore for SqliteStore {
    fn find<'a>(&'a self, client_id: &'a str) -> StoreFuture<'a> {
        // A test double for an async driver: the pipe exchange is short.
        Box::pin(async move { self.row(client_id) })
    }
}

fn request(key: &Arc<PrivateKey>, client_id: &str) -> TokenRequest {
    let signer = AssertionSigner::builder(key.clone(), client_id, ISSUER)
        .build()
        .unwrap();
    let body = signer
        .sign()
        .unwrap()
        .form_params()
        .client_credentials()
        .to_urlencoded();
    TokenRequest::from_form(body.as_bytes(), None).unwrap()
}

#[test]
fn clients_in_a_sqlite_table() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore {
        db: Sqlite::open(&dir.path().join("clients.sqlite")),
        lookups: AtomicU64::new(0),
    });
    let k1 = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let k2 = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    store.put("c1", &jwk_set([&*k1]).to_json(), Some("ES256"));
    for i in 0..20 {
        let other = PrivateKey::generate(KeyType::Ed25519).unwrap();
        store.put(&format!("other-{i}"), &jwk_set([&other]).to_json(), None);
    }
    // Revalidate at every request: the store is asked each time, the keys
    // are parsed once per version.
    let mut config = ClientCacheConfig::default();
    config.revalidate_after = std::time::Duration::ZERO;
    let cache = Arc::new(ClientCache::new(store.clone()).config(config).unwrap());
    let verifier = Verifier::builder(ISSUER, cache.registry().clone())
        .build()
        .unwrap();
    let endpoint = TokenEndpoint::with_cache(verifier, cache.clone()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for _ in 0..10 {
        let client = rt
            .block_on(endpoint.authenticate_async(&request(&k1, "c1")))
            .unwrap();
        assert_eq!(client.client_id(), "c1");
    }
    assert_eq!(cache.key_parses(), 1);
    assert_eq!(cache.store_lookups(), 10);

    // The client rotates its key in the database: version 2, parsed once.
    store.put("c1", &jwk_set([&*k2]).to_json(), Some("ES256"));
    rt.block_on(endpoint.authenticate_async(&request(&k2, "c1")))
        .unwrap();
    let old = rt
        .block_on(endpoint.authenticate_async(&request(&k1, "c1")))
        .unwrap_err();
    assert_eq!(old.kind(), ErrorKind::UnknownKey);
    assert_eq!(cache.key_parses(), 2);

    // Pinned to another algorithm in the database: refused before the signature.
    store.put("c1", &jwk_set([&*k2]).to_json(), Some("ES384"));
    let err = rt
        .block_on(endpoint.authenticate_async(&request(&k2, "c1")))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed);
    assert_eq!(err.token_response().status(), 401);

    // Deleted: unknown at once (the cache revalidates at every request).
    store.db.call(json!({"op": "delete", "id": "c1"}));
    let err = rt
        .block_on(endpoint.authenticate_async(&request(&k2, "c1")))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownClient);
}

/// 10 000 requests over 100 unknown client ids: at most 100 SQLite lookups.
#[test]
fn unknown_ids_cost_one_sqlite_lookup_each() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore {
        db: Sqlite::open(&dir.path().join("clients.sqlite")),
        lookups: AtomicU64::new(0),
    });
    let cache = Arc::new(ClientCache::new(store.clone()));
    let verifier = Verifier::builder(ISSUER, cache.registry().clone())
        .build()
        .unwrap();
    let endpoint = TokenEndpoint::with_cache(verifier, cache).unwrap();
    let key = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let requests: Vec<TokenRequest> = (0..100)
        .map(|i| request(&key, &format!("ghost-{i}")))
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for n in 0..10_000 {
        let err = rt
            .block_on(endpoint.authenticate_async(&requests[n % 100]))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownClient);
    }
    let lookups = store.lookups.load(Ordering::Relaxed);
    assert!(lookups <= 100, "{lookups} lookups");
}
