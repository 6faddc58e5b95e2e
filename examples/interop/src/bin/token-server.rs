//! `token-server --listen 127.0.0.1:PORT --issuer URL --clients FILE [--redis URL]`
//!
//! FILE is a JSON array of `{"client_id": ..., "jwks": {...}}` (optionally
//! `"token_endpoint_auth_signing_alg"`). Serves `POST /token`
//! (`grant_type=client_credentials`, `private_key_jwt`) and
//! `GET /.well-known/oauth-authorization-server`.

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!("usage: token-server --listen ADDR --issuer URL --clients FILE [--redis URL]");
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut listen, mut issuer, mut clients, mut redis) = (None, None, None, None);
    while let Some(flag) = args.next() {
        let value = args.next();
        match (flag.as_str(), value) {
            ("--listen", Some(v)) => listen = Some(v),
            ("--issuer", Some(v)) => issuer = Some(v),
            ("--clients", Some(v)) => clients = Some(v),
            ("--redis", Some(v)) => redis = Some(v),
            _ => return usage(),
        }
    }
    let (Some(listen), Some(issuer), Some(clients)) = (listen, issuer, clients) else {
        return usage();
    };
    let json = match std::fs::read_to_string(&clients) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("token-server: {clients}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let app = match client_assertion_interop::server::app(&issuer, &json, redis.as_deref()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("token-server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("token-server: {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("token-server: listening on {listen} for {issuer}");
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("token-server: {e}");
            ExitCode::FAILURE
        }
    }
}
