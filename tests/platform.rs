//! Platform-issued assertions read from a token file.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use client_assertion::platform::TokenFileSource;
use client_assertion::time::ManualClock;
use client_assertion::{ErrorKind, FormParams};

const NOW: u64 = 1_750_000_000;

/// A JWT-shaped token with the given `exp` (the signature is the
/// platform's business; the source never verifies it).
fn token(sub: &str, exp: u64) -> String {
    let part = |json: String| URL_SAFE_NO_PAD.encode(json);
    format!(
        "{}.{}.c2lnbmF0dXJl",
        part(r#"{"alg":"RS256","kid":"k8s"}"#.into()),
        part(format!(
            r#"{{"iss":"https://kubernetes.default.svc","sub":"{sub}","exp":{exp}}}"#
        ))
    )
}

fn write(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn presents_the_file_token_and_rereads_it_when_it_changes_or_nears_exp() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    let clock = Arc::new(ManualClock::at_unix(NOW));
    write(&path, &format!("{}\n", token("first", NOW + 3600)));
    let source = TokenFileSource::new(&path).with_clock(clock.clone());

    let first = source.token().unwrap();
    assert_eq!(first.as_str(), token("first", NOW + 3600));
    let params = first.form_params();
    assert_eq!(
        params.get("client_assertion_type"),
        Some(FormParams::CLIENT_ASSERTION_TYPE_JWT_BEARER)
    );
    assert_eq!(params.get("client_assertion"), Some(first.as_str()));
    assert!(!format!("{first:?}{source:?}").contains(first.as_str()));

    // The kubelet rotates the file: the new token is used.
    write(&path, &token("second", NOW + 7200));
    assert_eq!(
        source.token().unwrap().as_str(),
        token("second", NOW + 7200)
    );

    // Close to exp the file is read again even if its metadata looks the same.
    let near = token("third", NOW + 9000);
    clock.advance(Duration::from_secs(7200 - 30));
    write(&path, &near);
    assert_eq!(source.token().unwrap().as_str(), near);
}

#[test]
fn never_presents_an_expired_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    let clock = Arc::new(ManualClock::at_unix(NOW));
    write(&path, &token("only", NOW + 100));
    let source = TokenFileSource::new(&path).with_clock(clock.clone());
    source.token().unwrap();
    clock.advance(Duration::from_secs(100));
    assert_eq!(source.token().unwrap_err().kind(), ErrorKind::Expired);
    // A renewed file recovers.
    write(&path, &token("renewed", NOW + 3700));
    assert_eq!(
        source.token().unwrap().as_str(),
        token("renewed", NOW + 3700)
    );
}

#[test]
fn a_broken_or_missing_file_keeps_a_still_valid_token_and_fails_typed_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    let clock = Arc::new(ManualClock::at_unix(NOW));
    let source = TokenFileSource::new(&path).with_clock(clock.clone());
    assert_eq!(source.token().unwrap_err().kind(), ErrorKind::Io);
    write(&path, "not a jwt");
    assert_eq!(source.token().unwrap_err().kind(), ErrorKind::Malformed);
    let no_exp = format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode("{}"),
        URL_SAFE_NO_PAD.encode(r#"{"sub":"x"}"#)
    );
    write(&path, &no_exp);
    assert_eq!(source.token().unwrap_err().kind(), ErrorKind::MissingClaim);

    let good = token("good", NOW + 3600);
    write(&path, &good);
    assert_eq!(source.token().unwrap().as_str(), good);
    write(&path, &good[..good.len() / 2]);
    assert_eq!(source.token().unwrap().as_str(), good, "half-written file");
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        source.token().unwrap().as_str(),
        good,
        "file gone for a moment"
    );
    clock.advance(Duration::from_secs(3600));
    assert_eq!(source.token().unwrap_err().kind(), ErrorKind::Io);
}

#[test]
fn the_path_can_come_from_the_environment() {
    let var = "CLIENT_ASSERTION_TEST_TOKEN_FILE";
    assert_eq!(
        TokenFileSource::from_env(var).unwrap_err().kind(),
        ErrorKind::InvalidConfig
    );
    std::env::set_var(var, "/var/run/secrets/azure/tokens/azure-identity-token");
    assert_eq!(
        TokenFileSource::from_env(var).unwrap().path(),
        std::path::Path::new("/var/run/secrets/azure/tokens/azure-identity-token")
    );
}
