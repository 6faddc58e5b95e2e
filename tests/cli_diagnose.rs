//! `client-assertion inspect` and `explain` (feature `cli`): assertions of
//! each profile, each lint rule, hostile tokens (never a panic, never raw
//! control or bidi characters on the terminal), and every rejection that
//! `explain` turns into expected / found / fix, without key material.
#![cfg(feature = "cli")]

mod cli_support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use cli_support::*;
use client_assertion::time::ManualClock;
use client_assertion::{AssertionSigner, KeyType, PrivateKey};
use serde_json::Value;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// An unsigned token with this header and these claims (inspect never
/// verifies, so the signature is any base64url).
fn raw(header: &str, claims: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims),
        URL_SAFE_NO_PAD.encode([7u8; 64])
    )
}

/// Standard claims for `CLIENT` at `ISSUER`, issued now.
fn std_claims(extra: &str) -> String {
    let t = now();
    format!(
        r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"{ISSUER}","jti":"0123456789abcdef0123456789","iat":{t},"exp":{}{extra}}}"#,
        t + 60
    )
}

/// An assertion signed by `key.pem` on a clock `offset` seconds from now.
fn signed_at(s: &Scratch, offset: i64, lifetime: u64) -> String {
    let key = Arc::new(PrivateKey::from_file(s.path("key.pem")).unwrap());
    let clock = ManualClock::at_unix((now() as i64 + offset) as u64);
    AssertionSigner::builder(key, CLIENT, ISSUER)
        .clock(Arc::new(clock))
        .lifetime(Duration::from_secs(lifetime))
        .build()
        .unwrap()
        .sign()
        .unwrap()
        .into_string()
}

fn inspect(s: &Scratch, extra: &[&str], token: &str) -> (i32, Value) {
    let mut args = vec!["inspect", "--json"];
    args.extend_from_slice(extra);
    args.push("-");
    let out = s.run(&args, token.as_bytes());
    s.no_secret(&out);
    (code(&out), json(&out))
}

/// The profile report named `name`.
fn profile<'v>(report: &'v Value, name: &str) -> &'v Value {
    report["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["profile"] == name)
        .unwrap_or_else(|| panic!("no profile {name} in {report}"))
}

/// The codes of a profile's failed rules.
fn codes(p: &Value) -> Vec<String> {
    p["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

/// The level of `rule` (first finding) in a profile report.
fn level(p: &Value, rule: &str) -> String {
    p["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .and_then(|r| r["level"].as_str())
        .unwrap_or("absent")
        .to_owned()
}

#[test]
fn inspect_assertions_of_each_profile() {
    let s = Scratch::new();
    // The default (rfc7523bis) signer.
    let token = s.sign(&[]);
    let (status, report) = inspect(&s, &[], &token);
    assert_eq!(status, 0);
    assert_eq!(report["verified"], false);
    assert_eq!(report["claims"]["iss"], CLIENT);
    assert!(report.get("signature").is_none());
    let names: Vec<&str> = report["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["profile"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "default",
            "rfc7523bis",
            "fapi2",
            "entra_id",
            "legacy_token_endpoint"
        ]
    );
    for name in ["default", "rfc7523bis", "fapi2", "legacy_token_endpoint"] {
        assert_eq!(profile(&report, name)["verdict"], "passes", "{name}");
    }
    let entra = profile(&report, "entra_id");
    assert_eq!(
        codes(entra),
        [
            "type_not_allowed",
            "algorithm_not_allowed",
            "audience_mismatch"
        ]
    );
    assert_eq!(level(entra, "header"), "warn");

    // FAPI 2.0 with an RSA key: PS256.
    let rsa = data("rsa2048.pkcs8.pem");
    let out = s.run(
        &[
            "sign",
            "--key",
            &rsa,
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
            "--profile",
            "fapi2",
        ],
        b"",
    );
    let fapi = stdout(&out).trim().to_owned();
    let (status, report) = inspect(&s, &["--profile", "fapi2", "--audience", ISSUER], &fapi);
    assert_eq!(status, 0);
    assert_eq!(report["profiles"].as_array().unwrap().len(), 1);
    assert_eq!(profile(&report, "fapi2")["verdict"], "passes");
    // An RS256 token fails FAPI 2.0 (and only the alg rule).
    let rs256 = s.run(
        &[
            "sign",
            "--key",
            &rsa,
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
        ],
        b"",
    );
    let (status, report) = inspect(&s, &["--profile", "fapi2"], stdout(&rs256).trim());
    assert_eq!(status, 1);
    assert_eq!(codes(profile(&report, "fapi2")), ["algorithm_not_allowed"]);

    // Entra ID: tenant endpoint audience, x5t#S256, PS256, typ JWT.
    let out = s.run(
        &[
            "sign",
            "--key",
            &data("certs/entra.key.pem"),
            "--cert",
            &data("certs/entra.cert.pem"),
            "--client-id",
            "app",
            "--profile",
            "entra-id",
            "--tenant",
            "contoso",
        ],
        b"",
    );
    let entra = stdout(&out).trim().to_owned();
    let (status, report) = inspect(
        &s,
        &["--profile", "entra-id", "--tenant", "contoso"],
        &entra,
    );
    assert_eq!(status, 0, "{report}");
    let (status, report) = inspect(
        &s,
        &["--profile", "entra-id", "--tenant", "fabrikam"],
        &entra,
    );
    assert_eq!(status, 1);
    assert_eq!(codes(profile(&report, "entra_id")), ["audience_mismatch"]);
    let (_, all) = inspect(&s, &[], &entra);
    assert_eq!(profile(&all, "entra_id")["verdict"], "passes");
    assert!(codes(profile(&all, "rfc7523bis")).contains(&"type_not_allowed".to_owned()));

    // Legacy: the token endpoint as audience; rfc7523bis warns that it
    // looks like one, and rejects its typ.
    let out = s.run(
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            CLIENT,
            "--profile",
            "legacy",
            "--token-endpoint",
            "https://as.example.com/oauth2/token",
        ],
        b"",
    );
    let legacy = stdout(&out).trim().to_owned();
    let (status, report) = inspect(&s, &[], &legacy);
    assert_eq!(status, 0);
    assert_eq!(
        profile(&report, "legacy_token_endpoint")["verdict"],
        "passes"
    );
    let bis = profile(&report, "rfc7523bis");
    assert_eq!(codes(bis), ["type_not_allowed"]);
    assert_eq!(level(bis, "aud"), "warn");
    // With the server's issuer given, the audience is compared exactly.
    let (_, exact) = inspect(
        &s,
        &["--profile", "rfc7523bis", "--audience", ISSUER],
        &legacy,
    );
    assert_eq!(
        codes(profile(&exact, "rfc7523bis")),
        ["type_not_allowed", "audience_mismatch"]
    );
}

#[test]
fn inspect_rules_one_by_one() {
    let s = Scratch::new();
    let t = now();
    let es = r#"{"alg":"ES256","kid":"k","typ":"client-authentication+jwt"}"#;
    let cases: Vec<(String, &str, &str)> = vec![
        (signed_at(&s, -3600, 60), "exp", "expired"),
        (signed_at(&s, 120, 60), "iat", "not_yet_valid"),
        (signed_at(&s, -400, 3600), "age", "lifetime_too_long"),
        (
            raw(
                es,
                &format!(
                    r#"{{"iss":"c","sub":"c","aud":"a","jti":"0123456789abcdef","iat":{t},"exp":{}}}"#,
                    t + 7200
                ),
            ),
            "lifetime",
            "lifetime_too_long",
        ),
        (
            raw(
                es,
                &std_claims("").replace(&format!(r#""aud":"{ISSUER}""#), r#""aud":["x"]"#),
            ),
            "aud",
            "audience_mismatch",
        ),
        (
            raw(
                es,
                &std_claims("").replace(r#""sub":"my-client""#, r#""sub":"other""#),
            ),
            "sub",
            "subject_mismatch",
        ),
        (
            raw(
                es,
                &std_claims("").replace(r#""jti":"0123456789abcdef0123456789","#, ""),
            ),
            "jti",
            "missing_claim",
        ),
        (
            raw(
                es,
                &std_claims("").replace("0123456789abcdef0123456789", &"j".repeat(300)),
            ),
            "jti",
            "invalid_claim",
        ),
        (
            raw(es, &std_claims("").replace(r#""iss":"my-client","#, "")),
            "iss",
            "missing_claim",
        ),
        (
            raw(
                es,
                &format!(
                    r#"{{"iss":"c","sub":"c","aud":"a","jti":"0123456789abcdef","iat":{t},"exp":"soon"}}"#
                ),
            ),
            "exp",
            "invalid_claim",
        ),
        (
            raw(r#"{"alg":"ES256","crit":["b64"]}"#, &std_claims("")),
            "header",
            "header_not_allowed",
        ),
        (
            raw(r#"{"alg":"ES256","jwk":{"kty":"EC"}}"#, &std_claims("")),
            "header",
            "header_not_allowed",
        ),
        (
            raw(r#"{"alg":"ES256","jku":"https://evil"}"#, &std_claims("")),
            "header",
            "header_not_allowed",
        ),
        (
            raw(r#"{"alg":"none"}"#, &std_claims("")),
            "alg",
            "algorithm_not_allowed",
        ),
        (
            raw(r#"{"alg":"HS256"}"#, &std_claims("")),
            "alg",
            "algorithm_not_allowed",
        ),
        (raw(r#"{"kid":"k"}"#, &std_claims("")), "alg", "malformed"),
        (
            raw(r#"{"alg":"ES256","typ":"at+jwt"}"#, &std_claims("")),
            "typ",
            "type_not_allowed",
        ),
        (
            raw(r#"{"alg":"ES256","kid":7}"#, &std_claims("")),
            "kid",
            "malformed",
        ),
        (
            raw(es, &format!("{{\"pad\":\"{}\"}}", "x".repeat(9000))),
            "size",
            "too_large",
        ),
    ];
    for (token, rule, code_) in cases {
        let (status, report) = inspect(&s, &["--profile", "rfc7523bis"], &token);
        assert_eq!(status, 1, "{rule}: {report}");
        let p = profile(&report, "rfc7523bis");
        assert!(codes(p).contains(&code_.to_owned()), "{rule} {code_}: {p}");
        assert_eq!(level(p, rule), "fail", "{rule}: {p}");
    }
    // Warnings pass: a short jti, iat a few seconds ahead, no kid.
    let short = raw(
        r#"{"alg":"ES256","typ":"client-authentication+jwt"}"#,
        &std_claims("").replace("0123456789abcdef0123456789", "abc"),
    );
    let (status, report) = inspect(&s, &["--profile", "rfc7523bis"], &short);
    assert_eq!(status, 0, "{report}");
    let p = profile(&report, "rfc7523bis");
    assert_eq!(level(p, "jti"), "warn");
    assert_eq!(level(p, "kid"), "warn");
    // --jwks: an unknown kid; a registered kid of another key type.
    let (_, report) = inspect(
        &s,
        &["--profile", "rfc7523bis", "--jwks", "jwks.json"],
        &raw(es, &std_claims("")),
    );
    assert_eq!(level(profile(&report, "rfc7523bis"), "kid"), "fail");
    let kid = PrivateKey::from_file(s.path("key.pem"))
        .unwrap()
        .kid()
        .to_owned();
    let rs = format!(r#"{{"alg":"RS256","kid":"{kid}","typ":"client-authentication+jwt"}}"#);
    let (_, report) = inspect(
        &s,
        &["--profile", "rfc7523bis", "--jwks", "jwks.json"],
        &raw(&rs, &std_claims("")),
    );
    let p = profile(&report, "rfc7523bis");
    assert_eq!(codes(p), ["algorithm_not_allowed"]);
    // Text mode shows the verdict and fixes.
    let out = s.run(
        &["inspect", "--profile", "rfc7523bis", "-"],
        signed_at(&s, -3600, 60).as_bytes(),
    );
    expect(&out, 1);
    let text = stdout(&out);
    assert!(
        text.contains("rfc7523bis: rejected (expired, lifetime_too_long)"),
        "{text}"
    );
    assert!(text.contains("fix: mint a fresh assertion"), "{text}");
}

#[test]
fn inspect_hostile_tokens_fail_cleanly() {
    let s = Scratch::new();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bidi = raw(
        r#"{"alg":"ES256","kid":"a\u202eb\u001b[31m"}"#,
        &std_claims(r#","note":"\u200b\u0007""#),
    );
    let malformed: Vec<String> = vec![
        "".into(),
        "a.b".into(),
        "a.b.c.d".into(),
        "a.b.c.d.e".into(),
        "!!!.e30.e30".into(),
        "e30=.e30.e30".into(),
        format!("{}.e30.e30", URL_SAFE_NO_PAD.encode("[]")),
        format!("{}.e30.e30", URL_SAFE_NO_PAD.encode("{} x")),
        format!(
            "{}.e30.e30",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","alg":"none"}"#)
        ),
        format!(
            "e30.{}.e30",
            URL_SAFE_NO_PAD.encode(format!(r#"{{"x":{deep}}}"#))
        ),
        format!("e30.{}.e30", URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x00])),
        format!("e30.e30.{}", "%".repeat(10)),
    ];
    for token in &malformed {
        let (status, report) = inspect(&s, &[], token);
        assert_eq!(status, 1, "{token:.60}: {report}");
        assert_eq!(report["error"]["code"], "malformed", "{token:.60}");
        assert!(report["error"]["message"].as_str().unwrap().len() < 400);
    }
    // Too much input, not UTF-8.
    let out = s.run(&["inspect", "-"], &vec![b'a'; 2 << 20]);
    expect(&out, 1);
    let out = s.run(&["inspect", "-"], &[0xff, 0xfe, b'.', b'x']);
    expect(&out, 1);
    // Control and bidi characters never reach the terminal raw.
    for args in [&["inspect", "-"][..], &["inspect", "--json", "-"][..]] {
        let out = s.run(args, bidi.as_bytes());
        let text = stdout(&out);
        for c in ['\u{202e}', '\u{1b}', '\u{200b}', '\u{7}'] {
            assert!(!text.contains(c), "{c:?} printed raw: {text}");
        }
    }
    let (_, report) = inspect(&s, &[], &bidi);
    assert_eq!(
        report["header"]["kid"], "a\u{202e}b\u{1b}[31m",
        "JSON keeps the value"
    );
    // A token that is far too large but well formed: reported, not refused.
    let big = raw(
        r#"{"alg":"ES256"}"#,
        &format!("{{\"x\":\"{}\"}}", "y".repeat(200_000)),
    );
    let (status, report) = inspect(&s, &[], &big);
    assert_eq!(status, 1);
    assert!(codes(profile(&report, "default")).contains(&"too_large".to_owned()));
}

/// Runs `explain --json` on `token` with extra verifier flags.
fn explain(s: &Scratch, extra: &[&str], token: &str) -> (i32, Value, String) {
    let mut args = vec!["explain", "--json"];
    args.extend(s.verifier_args());
    args.extend_from_slice(extra);
    args.push("-");
    let out = s.run(&args, token.as_bytes());
    s.no_secret(&out);
    let report = json(&out);
    let mut text_args = args.clone();
    text_args.remove(1);
    let text = s.run(&text_args, token.as_bytes());
    s.no_secret(&text);
    assert_eq!(code(&text), code(&out));
    (code(&out), report, stdout(&text))
}

#[test]
fn explain_accepts_a_good_assertion() {
    let s = Scratch::new();
    let token = s.sign(&[]);
    let (status, report, text) = explain(&s, &[], &token);
    assert_eq!(status, 0, "{report}");
    assert_eq!(report["result"], "accepted");
    assert_eq!(report["client_id"], CLIENT);
    assert!(text.starts_with("accepted: client my-client"), "{text}");
}

#[test]
fn explain_every_rejection() {
    let s = Scratch::new();
    let kid = PrivateKey::from_file(s.path("key.pem"))
        .unwrap()
        .kid()
        .to_owned();
    let impostor = Arc::new(PrivateKey::generate(KeyType::P256).unwrap().with_kid(kid));
    let forged = AssertionSigner::builder(impostor, CLIENT, ISSUER)
        .build()
        .unwrap()
        .sign()
        .unwrap();
    let stranger = Arc::new(PrivateKey::generate(KeyType::P256).unwrap());
    let unknown = AssertionSigner::builder(stranger, CLIENT, ISSUER)
        .build()
        .unwrap()
        .sign()
        .unwrap();
    let other_client = s.run(
        &[
            "sign",
            "--key",
            "key.pem",
            "--client-id",
            "someone-else",
            "--audience",
            ISSUER,
        ],
        b"",
    );
    let cases: Vec<(String, Vec<&str>, &str, &str)> = vec![
        (
            s.sign(&["--audience", "https://as.example.com/token"]),
            vec![],
            "audience_mismatch",
            "--audience https://as.example.com",
        ),
        (
            signed_at(&s, -3600, 60),
            vec![],
            "expired",
            "fresh assertion",
        ),
        (signed_at(&s, 120, 60), vec![], "not_yet_valid", "clock"),
        (
            s.sign(&[]),
            vec!["--max-lifetime", "30"],
            "lifetime_too_long",
            "--lifetime 30",
        ),
        (
            signed_at(&s, -400, 3600),
            vec![],
            "lifetime_too_long",
            "right after minting",
        ),
        (
            s.sign(&["--grant", "--subject", "alice"]),
            vec![],
            "subject_mismatch",
            "iss and sub",
        ),
        (
            s.sign(&["--grant", "--subject", CLIENT]),
            vec!["--profile", "rfc7523bis"],
            "type_not_allowed",
            "typ client-authentication+jwt",
        ),
        (
            s.sign(&[]),
            vec!["--alg", "PS256"],
            "algorithm_not_allowed",
            "PS256",
        ),
        (
            forged.into_string(),
            vec![],
            "bad_signature",
            "did not make this signature",
        ),
        (unknown.into_string(), vec![], "unknown_key", "register"),
        (
            stdout(&other_client).trim().to_owned(),
            vec![],
            "unknown_client",
            "client id",
        ),
        ("x.y".into(), vec![], "malformed", "exactly as signed"),
    ];
    for (token, extra, code_, fix) in cases {
        let (status, report, text) = explain(&s, &extra, &token);
        assert_eq!(status, 1, "{code_}: {report}");
        assert_eq!(report["result"], "rejected");
        assert_eq!(report["code"], code_, "{report}");
        assert_eq!(report["oauth_error"], "invalid_client");
        assert!(report["detail"].as_str().unwrap().starts_with(code_));
        let findings = report["findings"].as_array().unwrap();
        assert!(!findings.is_empty(), "{code_}");
        let fixes: String = findings
            .iter()
            .map(|f| f["fix"].as_str().unwrap_or(""))
            .collect();
        assert!(fixes.contains(fix), "{code_}: fix {fixes:?} lacks {fix:?}");
        for f in findings {
            assert!(f["expected"].as_str().is_some_and(|e| !e.is_empty()), "{f}");
            assert!(f["found"].as_str().is_some_and(|e| !e.is_empty()), "{f}");
        }
        for label in [
            &format!("rejected: {code_}")[..],
            "the client sees: invalid_client",
            "operator detail:",
            "expected:",
            "found:",
            "fix:",
        ] {
            assert!(text.contains(label), "{code_}: {label} missing in {text}");
        }
    }
    // The verifier's near miss (the audience is the token endpoint) is shown.
    let (_, report, text) = explain(
        &s,
        &[],
        &s.sign(&["--audience", "https://as.example.com/token"]),
    );
    let near_miss = report["near_miss"].as_str().unwrap_or_default();
    assert!(near_miss.contains("token endpoint"), "{report}");
    assert!(text.contains("near miss: "), "{text}");
    // The operator detail the error carries is shown in full.

    let (_, report, _) = explain(&s, &["--max-lifetime", "30"], &s.sign(&[]));
    assert!(
        report["detail"]
            .as_str()
            .unwrap()
            .contains("exp - iat exceeds the maximum lifetime"),
        "{report}"
    );
}
