//! `token-client --issuer URL --metadata URL --client-id ID --key PEM [--replay]`
//!
//! Obtains a `client_credentials` token with `private_key_jwt` (audience,
//! algorithm and profile from the server's metadata) and prints the status
//! and body; with `--replay`, sends the same assertion a second time too.

use std::process::ExitCode;
use std::sync::Arc;

use client_assertion::PrivateKey;
use client_assertion_interop::client;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut issuer, mut metadata, mut client_id, mut key, mut replay) =
        (None, None, None, None, false);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--replay" => replay = true,
            "--issuer" => issuer = args.next(),
            "--metadata" => metadata = args.next(),
            "--client-id" => client_id = args.next(),
            "--key" => key = args.next(),
            _ => {
                eprintln!("usage: token-client --issuer URL --metadata URL --client-id ID --key PEM [--replay]");
                return ExitCode::from(2);
            }
        }
    }
    let (Some(issuer), Some(client_id), Some(key)) = (issuer, client_id, key) else {
        eprintln!("token-client: --issuer, --client-id and --key are required");
        return ExitCode::from(2);
    };
    let metadata_url = metadata.unwrap_or_else(|| {
        format!(
            "{}/.well-known/oauth-authorization-server",
            issuer.trim_end_matches('/')
        )
    });
    let run = async {
        let pem = std::fs::read_to_string(&key).map_err(|e| format!("{key}: {e}"))?;
        let key = Arc::new(PrivateKey::from_pem(&pem).map_err(|e| e.to_string())?);
        let http = reqwest::Client::new();
        let metadata = client::discover(&http, &metadata_url, &issuer).await?;
        let form = client::form(&metadata, key, &client_id)?;
        let first = client::request(&http, &metadata, &form).await?;
        println!("{} {}", first.status, first.body);
        if replay {
            let again = client::request(&http, &metadata, &form).await?;
            println!("{} {}", again.status, again.body);
        }
        Ok::<_, String>(first.status == 200)
    };
    match run.await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("token-client: {e}");
            ExitCode::FAILURE
        }
    }
}
