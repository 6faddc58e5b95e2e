//! `client-assertion keygen`, `jwks` and `sign` with a key on a PKCS#11
//! token (features `cli` and `pkcs11`): a throw-away SoftHSM2 token
//! (`scripts/softhsm.sh` installs SoftHSM2), the PIN from the environment
//! or a file and never on argv, and the failures (wrong PIN, a label in
//! use, no such key) exiting 1 without echoing the PIN.
#![cfg(all(feature = "cli", feature = "pkcs11"))]

mod cli_support;

use std::path::Path;
use std::process::{Command, Output};

use cli_support::*;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const TOKEN: &str = "client-assertion-cli";
const PIN: &str = "fedcba123456";

/// Runs the binary with this token's `SOFTHSM2_CONF` and `CLI_PIN` set.
fn run_hsm(conf: &Path, dir: &Path, args: &[&str], pin: &str) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("SOFTHSM2_CONF", conf)
        .env("CLI_PIN", pin)
        .output()
        .unwrap();
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!all.contains("panicked"), "{all}");
    assert!(
        !all.contains(PIN) && !all.contains("0000wrong"),
        "a PIN was printed: {all}"
    );
    out
}

#[test]
fn keygen_jwks_sign_verify_on_a_token() {
    assert!(Path::new(MODULE).exists(), "SoftHSM2 is missing");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tokens")).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.path().join("tokens").display()
        ),
    )
    .unwrap();
    let init = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            TOKEN,
            "--so-pin",
            "abcdef654321",
            "--pin",
            PIN,
        ])
        .output()
        .expect("softhsm2-util runs");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    std::fs::write(dir.path().join("pin.txt"), format!("{PIN}\n")).unwrap();
    let key = |label: &'static str| {
        vec![
            "--pkcs11-module",
            MODULE,
            "--pkcs11-token",
            TOKEN,
            "--pkcs11-key",
            label,
        ]
    };
    let d = dir.path();

    let mut args = vec!["keygen", "--json", "--type", "p256"];
    args.extend(key("cli-key"));
    args.extend(["--pin-env", "CLI_PIN"]);
    let out = run_hsm(&conf, d, &args, PIN);
    expect(&out, 0);
    let made = json(&out);
    assert_eq!(made["token"], TOKEN);
    assert_eq!(made["label"], "cli-key");
    let kid = made["kid"].as_str().unwrap().to_owned();
    // The same label again: refused.
    let out = run_hsm(&conf, d, &args, PIN);
    expect(&out, 1);

    // jwks with the PIN from a file; the kid is the one keygen reported.
    let mut args = vec!["jwks"];
    args.extend(key("cli-key"));
    args.extend(["--pin-file", "pin.txt"]);
    let out = run_hsm(&conf, d, &args, "");
    expect(&out, 0);
    let set: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(set["keys"][0]["kid"], kid.as_str());
    std::fs::write(d.join("jwks.json"), &out.stdout).unwrap();

    // sign on the token, verify against the published set.
    let mut args = vec!["sign", "--client-id", CLIENT, "--audience", ISSUER];
    args.extend(key("cli-key"));
    args.extend(["--pin-env", "CLI_PIN"]);
    let out = run_hsm(&conf, d, &args, PIN);
    expect(&out, 0);
    let token = stdout(&out);
    let verify = run_in(
        d,
        &[
            "verify",
            "--jwks",
            "jwks.json",
            "--client-id",
            CLIENT,
            "--audience",
            ISSUER,
        ],
        token.as_bytes(),
    );
    expect(&verify, 0);
    assert!(stdout(&verify).starts_with("ok "));

    // Failures: a wrong PIN, an unset PIN variable, no such key.
    let out = run_hsm(&conf, d, &args, "0000wrong");
    expect(&out, 1);
    let mut json_args = args.clone();
    json_args.insert(1, "--json");
    let out = run_hsm(&conf, d, &json_args, "");
    expect(&out, 1);
    assert_eq!(json(&out)["error"]["code"], "invalid_config");
    let mut args = vec!["jwks", "--json"];
    args.extend(key("no-such-key"));
    args.extend(["--pin-env", "CLI_PIN"]);
    let out = run_hsm(&conf, d, &args, PIN);
    expect(&out, 1);
    assert_eq!(json(&out)["error"]["code"], "key_not_found");
    // The PKCS#11 flags are all or none, with exactly one PIN source.
    for bad in [
        &["jwks", "--pkcs11-module", MODULE][..],
        &[
            "jwks",
            "--pkcs11-module",
            MODULE,
            "--pkcs11-token",
            TOKEN,
            "--pkcs11-key",
            "k",
        ][..],
        &[
            "keygen",
            "--type",
            "p256",
            "--pkcs11-module",
            MODULE,
            "--pkcs11-token",
            TOKEN,
            "--pkcs11-key",
            "k",
            "--pin-env",
            "CLI_PIN",
            "--pin-file",
            "pin.txt",
        ][..],
    ] {
        expect(&run_hsm(&conf, d, bad, PIN), 2);
    }
}
