//! The two halves of the interop crate: [`server`] (an axum token endpoint
//! on client-assertion) and [`client`] (a reqwest `client_credentials`
//! request with `private_key_jwt`, set up from the server's metadata).

pub mod server {
    //! `POST /token` (`grant_type=client_credentials`, `private_key_jwt`)
    //! and `GET /.well-known/oauth-authorization-server`.

    use std::collections::HashMap;
    use std::sync::Arc;

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use axum::Router;
    use client_assertion::replay::{RedisReplayCache, RedisReplayConfig};
    use client_assertion::server::{
        AccessTokenResponse, ClientAuthRules, ClientCache, ClientCredentials, ClientStore, Lookup,
        ServerMetadata, StoreFuture, StoredClient, TokenEndpoint, TokenRequest,
    };
    use client_assertion::{Error, ErrorKind, Verifier};
    use serde::Deserialize;

    /// One entry of the `--clients` file.
    #[derive(Debug, Deserialize)]
    pub struct ClientEntry {
        /// The client id.
        pub client_id: String,
        /// Its JWK Set (`{"keys": [...]}`).
        pub jwks: serde_json::Value,
        /// Its pinned algorithm, if any.
        #[serde(default)]
        pub token_endpoint_auth_signing_alg: Option<String>,
    }

    /// The clients of the file, in memory: a store with a synchronous path.
    #[derive(Debug)]
    pub struct FileStore(HashMap<String, StoredClient>);

    impl FileStore {
        /// Reads a JSON array of [`ClientEntry`].
        pub fn from_json(json: &str) -> Result<Self, String> {
            let entries: Vec<ClientEntry> =
                serde_json::from_str(json).map_err(|e| format!("clients file: {e}"))?;
            let mut clients = HashMap::new();
            for e in entries {
                let rules = ClientAuthRules::from_metadata(
                    "private_key_jwt",
                    e.token_endpoint_auth_signing_alg.as_deref(),
                )
                .map_err(|err| format!("client {}: {err}", e.client_id))?;
                let record = StoredClient::new(
                    e.client_id.clone(),
                    "1",
                    ClientCredentials::jwks_json(e.jwks.to_string()),
                )
                .rules(rules);
                clients.insert(e.client_id, record);
            }
            Ok(Self(clients))
        }
    }

    impl ClientStore for FileStore {
        fn find_now(&self, client_id: &str) -> Option<Lookup> {
            Some(Ok(self.0.get(client_id).cloned()))
        }
        fn find<'a>(&'a self, client_id: &'a str) -> StoreFuture<'a> {
            Box::pin(std::future::ready(Ok(self.0.get(client_id).cloned())))
        }
    }

    /// What the handlers share.
    pub struct AppState {
        endpoint: TokenEndpoint,
        metadata: String,
    }

    /// The token server for `issuer` over the clients of `clients_json`,
    /// with a Redis replay cache at `redis` (else in memory).
    pub fn app(issuer: &str, clients_json: &str, redis: Option<&str>) -> Result<Router, String> {
        let store = FileStore::from_json(clients_json)?;
        let cache = Arc::new(ClientCache::new(Arc::new(store)));
        let mut builder = Verifier::builder(issuer, cache.registry().clone());
        if let Some(url) = redis {
            let replay = RedisReplayCache::new(url, RedisReplayConfig::new())
                .map_err(|e| format!("redis: {e}"))?;
            builder = builder.async_replay_cache(Arc::new(replay));
        }
        let verifier = builder.build().map_err(|e| e.to_string())?;
        let token_endpoint = format!("{}/token", issuer.trim_end_matches('/'));
        let metadata = ServerMetadata::for_policy(verifier.policy(), token_endpoint).to_json();
        let endpoint = TokenEndpoint::with_cache(verifier, cache).map_err(|e| e.to_string())?;
        let state = Arc::new(AppState { endpoint, metadata });
        Ok(Router::new()
            .route("/token", post(token))
            .route("/.well-known/oauth-authorization-server", get(discovery))
            .with_state(state))
    }

    async fn discovery(State(state): State<Arc<AppState>>) -> Response {
        let headers = [("content-type", "application/json".to_owned())];
        respond(200, &headers, state.metadata.clone())
    }

    async fn token(
        State(state): State<Arc<AppState>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Response {
        let authorization = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap_or("invalid"));
        let request = match TokenRequest::from_form(&body, authorization) {
            Ok(r) => r,
            Err(e) => return error(&e.token_response()),
        };
        if request.grant_type() != Some("client_credentials") {
            let e = match request.grant_type() {
                None => Error::new(ErrorKind::MissingParameter),
                Some(_) => Error::new(ErrorKind::UnsupportedGrantType),
            };
            return error(&request.error_response(&e));
        }
        match state.endpoint.authenticate_async(&request).await {
            Ok(client) => {
                let token: String = (0..32)
                    .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
                    .collect();
                let mut ok = AccessTokenResponse::bearer(token, 300);
                if let Some(scope) = request.scope() {
                    ok = ok.scope(scope);
                }
                eprintln!("token issued to {}", client.client_id());
                respond(ok.status(), &ok.headers(), ok.body())
            }
            Err(e) => {
                eprintln!("token refused: {} ({:?})", e.code(), e);
                error(&request.error_response(&e))
            }
        }
    }

    fn error(r: &client_assertion::server::ErrorResponse) -> Response {
        respond(r.status(), &r.headers(), r.body())
    }

    fn respond(status: u16, headers: &[(&'static str, String)], body: String) -> Response {
        let mut response = body.into_response();
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        for (name, value) in headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(name), value);
            }
        }
        response
    }
}

pub mod client {
    //! A `client_credentials` token request with `private_key_jwt`.

    use std::sync::Arc;

    use client_assertion::client::ServerMetadata;
    use client_assertion::PrivateKey;

    /// What a token endpoint answered.
    #[derive(Debug)]
    pub struct Answer {
        /// The HTTP status.
        pub status: u16,
        /// The JSON body.
        pub body: serde_json::Value,
    }

    /// Reads the server's metadata from `metadata_url`, for `issuer`.
    pub async fn discover(
        http: &reqwest::Client,
        metadata_url: &str,
        issuer: &str,
    ) -> Result<ServerMetadata, String> {
        let text = http
            .get(metadata_url)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        ServerMetadata::from_json_for_issuer(&text, issuer).map_err(|e| e.to_string())
    }

    /// Signs one assertion for `client_id` at this server (audience,
    /// algorithm and profile from its metadata) and returns the form
    /// parameters of a `client_credentials` request.
    pub fn form(
        metadata: &ServerMetadata,
        key: Arc<PrivateKey>,
        client_id: &str,
    ) -> Result<client_assertion::FormParams, String> {
        let signer = metadata
            .signer_builder(key, client_id)
            .and_then(|b| b.build())
            .map_err(|e| e.to_string())?;
        let assertion = signer.sign().map_err(|e| e.to_string())?;
        Ok(assertion.form_params().client_credentials())
    }

    /// POSTs `form` to the token endpoint.
    pub async fn request(
        http: &reqwest::Client,
        metadata: &ServerMetadata,
        form: &client_assertion::FormParams,
    ) -> Result<Answer, String> {
        let response = http
            .post(metadata.token_endpoint())
            .form(form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body = response.json().await.map_err(|e| e.to_string())?;
        Ok(Answer { status, body })
    }
}
