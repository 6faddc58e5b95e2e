//! Fixed vectors, recorded with the crypto crates of before the move to the
//! current stable majors (`rsa` 0.9, `ed25519-dalek` 2, `p256`/`p384` 0.14,
//! `sha2` 0.10), so that an upgrade cannot change a byte unnoticed:
//!
//! - deterministic signatures (RS256, EdDSA on every backend; ES256 and
//!   ES384 with RFC 6979 nonces on `Backend::RustCrypto`) of fixed signing
//!   inputs with the fixture keys are byte-identical;
//! - tokens signed then (PS256 and AWS-LC's ECDSA are randomized) still
//!   verify on the test backend;
//! - `kid`s (RFC 7638 thumbprints) and public JWKs of the RSA fixtures in
//!   every encoding are unchanged (`n` and `e` minimal, never padded);
//! - the PKCS#8 export of each fixture key is unchanged.
//!
//! On a mismatch the test prints every vector as computed now, in the form
//! of the tables below.

mod common;

use std::sync::Arc;

use client_assertion::time::ManualClock;
use client_assertion::{
    Algorithm, Backend, ClientRegistry, JwkSet, KeySource, PrivateKey, PublicJwk, Verifier,
};
use common::*;
use sha2::{Digest, Sha256};

const ISSUER: &str = "https://as.example.com";
const CLIENT: &str = "vector-client";
const NOW: u64 = 1_750_000_000;

/// The claims every vector signs (a valid assertion at [`NOW`]).
fn claims() -> String {
    format!(
        r#"{{"iss":"{CLIENT}","sub":"{CLIENT}","aud":"{ISSUER}","jti":"vector-jti","iat":{NOW},"nbf":{NOW},"exp":{}}}"#,
        NOW + 60
    )
}

/// The JWS signing input for `alg` and `kid`.
fn signing_input(alg: Algorithm, kid: &str) -> String {
    let header = format!(
        r#"{{"alg":"{}","kid":"{kid}","typ":"client-authentication+jwt"}}"#,
        alg.name()
    );
    format!(
        "{}.{}",
        b64url_encode(header.as_bytes()),
        b64url_encode(claims().as_bytes())
    )
}

fn key(file: &str) -> PrivateKey {
    PrivateKey::from_bytes(&read(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Collects mismatches and prints every computed value.
#[derive(Default)]
struct Report {
    lines: Vec<String>,
    failures: Vec<String>,
}

impl Report {
    fn check(&mut self, what: &str, got: &str, expected: &str) {
        self.lines.push(format!("    (\"{what}\", \"{got}\"),"));
        if got != expected {
            self.failures
                .push(format!("{what}: got {got}, expected {expected}"));
        }
    }

    fn finish(self) {
        if !self.failures.is_empty() {
            panic!(
                "{} mismatches:\n{}\n\ncomputed now:\n{}",
                self.failures.len(),
                self.failures.join("\n"),
                self.lines.join("\n")
            );
        }
    }
}

fn expected<'a>(table: &'a [(&str, &'a str)], what: &str) -> &'a str {
    table
        .iter()
        .find(|(name, _)| *name == what)
        .map_or("(missing)", |(_, v)| *v)
}

/// Deterministic signatures: (key fixture, algorithm) and base64url.
const SIGNATURES: &[(&str, &str)] = &[
    ("rsa2048.pkcs8.pem RS256", "TXgDyNdqVV2ZgKBxyKGxhEnSomx6L4CnKMAmJYYus3KBx4ab1igLWbo3_9W3vBiWDyYOV5sCqm7u7UF3znC9t_xPHnYeFYsS_kygCgDqMfGMcSUPsp_vVIQ0ZNIGllgtGRM2kexySk0A0CmpRLbiVJ5Ibky6J7mMvJuXK0oSjQWpmYs3BKS60fNgyKnGjUOkFI3Ngpmn03Aj88o7u2YtPRkHZEdlDF9hLs6HMycR4Tzn0Nk_FMrpf8u4WLpL1HKWqbP_M7N3N8IKhjgX0Mm3DmJLE2G0gsBzQfkX8MEIUnq2EnMs-LFu9MpAp9_guGoRsaNTVK_ADpAij1w-QwTl0Q"),
    ("rsa8192.pkcs8.pem RS256", "DL43qRM2Hryz2T1MjBso6le-kYROjw5c6PTUEdSvhAYoUHbwq3lsz9e5XK-_wUUIqTeSjZJGWnkjUb5T9IINu2vqAiRBdI4dACTn6Egc6JFbed7lgx74eq5E6r8FGdBF87uvzyVlAhi-ULyElB-aMcBVaOVH19Gexu_rSAh3TQcukObccXzXEa3auUM9y_-zW9wYPdfeQdJTt2CLRGhET9Y9c84V9npYQwf7DWNr7ny0QCYzq3LpS8ITbVykWdM2ykZm6S1VGmYwisW3UDX7Mns5aMCTkx7wAsId83WQP2EaNNd1Qc2OhbyqBYd7vwDdHSg-81z4e3-YGP4xr4CwzN0vmdizpmUedIpFNLnJLpIUkJ9HAegOcc7k5tX8JiM_d4dF9Pf0u7S3TliHR38cKXgY-_rZV4Sk-ybhgy31VlALu5K9-rKrh1QPQjokEtZRKlgrUzSpctmg4MfWPz-Yf45_NGKCNE5OIF9Go1vUaDy_-jwNc8ujwK36e_NzaX7bKjaXIYPnl3MT7gLw--OK5Ou-mSXPwuc99pKKeTzmPgvbdSUiZeIJ_JyabkHH0iYgWI---fvggLGYHQjhj_rfIPVtte8mggF0is8sU6n49wfQDN35TcFVYTzMYWXFOE3pMr4I_HeKHqDr7Y7-NGFs1oxOJJKtWL_VUEmgH3zg_zG2KDiQtHC5qf9fKdrins_5fbtYknkxH6rNbRxtBpXtbHtW13SiMe1cfq7i34_jlLyemB_5Ud7KCsb_QT1e7CxFPdyu6-GsSg85EumAixKtFX3-mslORDB3uCdNfNTmo26u7rjQ-diRXAbFbAtdEqiKWjE7Nk0RWUqSH-lz3j4HvhQCaAsS_3dDP-qt4s4Li_8YEbUiCzGqWsTekccN-9PGHabvyW8sfCUlbGM_1CQXD9VJtrkla4fTrN_tPIs86W7JvD5ubVgDvQbHwVAwS90_p_hLLx6G3-2zO-palbAP2vbsklQMW0U-IDp9uNqYBozN8kRL0dB5nFjLoyCflFwcw4d2xx0EZU1CMPGnDqKx-MId6Q5f8SguXaJ19_ajKGRnmKQ2pxFvbeUoISBREkTyimTaVltIWDuI-V5gmC-D-py4Le-MAfxN95ok8869T1ALTmQLWIQwU5QUeOjBXw2PR5UE03_9P6OQAtTXJI4pZNb7yWjnB4m2Qq05z02bt2wuvAUS-ycqHV915dJcbK_35fUK6YBu723Q7D0-C4GI-ggV9Y8_d8smSzRIl64e4MvPXF--35PG2b6kGVKz-ZJcaSK0S1F1mm86iHB1ktkFA7tG7sefWV8qKhHialo_J5blE7yu40FRPQXNLuvhct4_9jx8mqghIITEOzXzo0hc8g"),
    ("ed25519.pkcs8.pem EdDSA", "EJnBiKqH1B8UUMX8im9s7Zd4i7VODPb6N0auQKTKQbyd1rdz395ss3pWGEEWp77QdsyWhRhWSuaE8llqjoSGDQ"),
    ("p256.pkcs8.pem ES256", "9Iw95WIk8tLcB6yLCu3TSqoWpalyGgg3HDKaWaLAnGSjtATbfcOD1yoakjKr9H9NJp6-pDjApB9ezF0kT_jllQ"),
    ("p384.pkcs8.pem ES384", "Df9wDJfD4cSBJ5gjNBmCTvlVcHazy1sAlsltsexsjwn31pgbvr8LJrKs8Q4ebSaqpiBueYPBqLDvQdswEQzh6OPKDbl1OHIfVmvgwpGfTw192_f2hQ3WjsVdEi-F33T5"),
];

/// Whether `alg`'s signatures are deterministic on `backend`.
fn deterministic(alg: Algorithm, backend: Backend) -> bool {
    match alg {
        Algorithm::Rs256 | Algorithm::EdDsa => true,
        Algorithm::Es256 | Algorithm::Es384 => backend == Backend::RustCrypto,
        _ => false,
    }
}

const SIGNING: [(&str, Algorithm); 5] = [
    ("rsa2048.pkcs8.pem", Algorithm::Rs256),
    ("rsa8192.pkcs8.pem", Algorithm::Rs256),
    ("ed25519.pkcs8.pem", Algorithm::EdDsa),
    ("p256.pkcs8.pem", Algorithm::Es256),
    ("p384.pkcs8.pem", Algorithm::Es384),
];

#[test]
fn deterministic_signatures_are_byte_identical_on_every_backend() {
    let mut report = Report::default();
    for (file, alg) in SIGNING {
        for &backend in Backend::available() {
            if !deterministic(alg, backend) {
                continue;
            }
            let key = key(file).with_backend(backend).unwrap();
            let input = signing_input(alg, key.kid());
            let sig = key.sign(alg, input.as_bytes()).unwrap();
            let what = format!("{file} {}", alg.name());
            report.check(&what, &b64url_encode(&sig), expected(SIGNATURES, &what));
        }
    }
    report.finish();
}

/// Tokens signed before the upgrade, randomized ones included: (key
/// fixture, algorithm, backend) and the compact JWS.
const TOKENS: &[(&str, &str)] = &[
    ("rsa2048.pkcs8.pem PS256 rust-crypto", "eyJhbGciOiJQUzI1NiIsImtpZCI6Ii1hOFVSWW9saV9PVnU5NVYtc2ZaZHJhMXN6VHFheWhMSjZRZXRveXhkeVkiLCJ0eXAiOiJjbGllbnQtYXV0aGVudGljYXRpb24rand0In0.eyJpc3MiOiJ2ZWN0b3ItY2xpZW50Iiwic3ViIjoidmVjdG9yLWNsaWVudCIsImF1ZCI6Imh0dHBzOi8vYXMuZXhhbXBsZS5jb20iLCJqdGkiOiJ2ZWN0b3ItanRpIiwiaWF0IjoxNzUwMDAwMDAwLCJuYmYiOjE3NTAwMDAwMDAsImV4cCI6MTc1MDAwMDA2MH0.RH9CZISUBKvHknosACrNL9dJDRJMPSc2Z0pPVCOZCd1KfI7KNIcWOSTN0-71KPpULpe4kL4LI70wyWG7sg-6IsZzpZUscHxLruCc9pB1KfuGCE_Z5xQqDfaZ45rx7qR3MJjdI1Fn9dshGmcRloPgb3vwZEAV96FsejEOqkdo9Zvwzkcgr7dzbDf6OJ0T1fsUxmE0TXeciaW38oRkgMM54jg_0t6wbcXP8XByHx-phskwx73YRbK4OeXJFQyob3BlKMjvOv9ZwGHuwWEzwKK08V8Z8WNvEXaNymb0FLeSoAg653nfvChRnDH2SoETFNBuMkTOO5cBSX7vIXXerXhBaw"),
    ("rsa8192.pkcs8.pem PS256 rust-crypto", "eyJhbGciOiJQUzI1NiIsImtpZCI6IjNwMkJBN1lmMFhsd1pGbDNuOWM5TXBuUXhOZUV2OWZtV1FLOHhHOFZxY2ciLCJ0eXAiOiJjbGllbnQtYXV0aGVudGljYXRpb24rand0In0.eyJpc3MiOiJ2ZWN0b3ItY2xpZW50Iiwic3ViIjoidmVjdG9yLWNsaWVudCIsImF1ZCI6Imh0dHBzOi8vYXMuZXhhbXBsZS5jb20iLCJqdGkiOiJ2ZWN0b3ItanRpIiwiaWF0IjoxNzUwMDAwMDAwLCJuYmYiOjE3NTAwMDAwMDAsImV4cCI6MTc1MDAwMDA2MH0.SaFpwx1shQd_7coKZGMV5FSOsh3u-dAHrW-L1krOuiOaLZ5XA-4j-ApTIW43hMkSP9vXcI7D8VNCGYwAF1CjdP1noq7coyFekdR0sIbCV-uCEqYfaKwanHMHzJZwvuEuYSlfuFq_MhJD3g1OXjww1-rIl_bzFXHCxoPEdlg_tneFK5UmPsuLbbFX-i8_TvLE2vP3lWt_wr7H6_Hf7DXxaK7FO1xvpktyi65ZzlD8jg-b8MlHQZtOALH7-7nrp2i7Jb4sa8Rf-kdB8Oe7KuRo5hzCdRykMR1YJGXxoOKMnBG0g946jHd1YBtXV1qqKsy9Wnh-xBHN5pIymVCEIdJYwna91PDjgXglUXd5KBnONfO9ENhcpFE-mkeNY7kErfOlCSB4j20blxOP4Ep9acYxsyVGKc2LnMsUy9-FybzjDQ6IJpRFlTVd_5iWwx2aXVRmNOapbUGIdSBYod7lky1iSUwHE0aWA2_AihEnY950KMAR5sq4reUyk8YhB_-GlzJmfAzS4YTxQ16AT9e0663__O3w6Izd0LhKVBLfz7pteF9UDtMxk02e-DTix61u23fcw2q3oWUdV3aLE1QoFHDoaEEOWfHYj6QizwO_bKHgLgi-175d_Pu7CjwknatMmyTt-mij9RMHr_oEUgWPyDA9J_pzb1h3wu5vufM1mhnrnhNiuX0g21_m16bVSGtNsU1RT61fnHFvLCbFoMD-2ZICEcu0AcGqzDH1rlT5YIXgkhB2E1DCrDwaDDqSyy4S27_grXTwgVjEu_Sl3ldNqqDmwZixrQmHQVzzFp35bLjGU5jDTmjy8nUlqS6dmfuTQceZqErCN_u7eKzAaBQgUDCGPlI6AVWhQr5EbaoKm50q2BqEJjkTbjbKyLmqjsy2xQygp7vuC0NHmaZjZUTiARy06ewA1OfN0873fMdd6xOYF_nj2lV3OREBTVZFNkQ_KyxAref71FPVty6ELM9AP_beIl6DWPyG9zje9KbA06qC8BAQHgxS_ucqPa0KcziCHtueczewo-fWEcZNGxOIYyg5crrR5wxpa_Q6hz0KC3pGNLA1vAzQzi1s95g322Ser3D5iPo5u0eLRvssFedOQJI0GAcVOWuc-ruYtMunMDt-aiZ2d6MPD8pzwpzJSwsr5chRQMBo0WHGhX_MSX_K8RqqcZ_PAnP-5LlbnpAC_paYNY0R-ypsGmt_K6U9m-0cCKmpc92sJwBZ3yEshsr0gbECx3_UI5fUAYq9uaiztgrRHftJW7v_XSrXJk_KZU7UFurKmO4e6c5oVh1G8cDDgLF2aTCPz0103LiFRB1RVtRxCctFQYROwoeg-y0E5W7O0dkQiGnzYDLTX4moOhMrWEs6VQ"),
    ("p256.pkcs8.pem ES256 rust-crypto", "eyJhbGciOiJFUzI1NiIsImtpZCI6IjhnY2dyLWZ0ZVVvdFdvM0xFWDByd1hyZllONWVhUHNCUzZEMGpzX0RxdHMiLCJ0eXAiOiJjbGllbnQtYXV0aGVudGljYXRpb24rand0In0.eyJpc3MiOiJ2ZWN0b3ItY2xpZW50Iiwic3ViIjoidmVjdG9yLWNsaWVudCIsImF1ZCI6Imh0dHBzOi8vYXMuZXhhbXBsZS5jb20iLCJqdGkiOiJ2ZWN0b3ItanRpIiwiaWF0IjoxNzUwMDAwMDAwLCJuYmYiOjE3NTAwMDAwMDAsImV4cCI6MTc1MDAwMDA2MH0.9Iw95WIk8tLcB6yLCu3TSqoWpalyGgg3HDKaWaLAnGSjtATbfcOD1yoakjKr9H9NJp6-pDjApB9ezF0kT_jllQ"),
];

const TOKEN_KEYS: [(&str, Algorithm, Backend); 3] = [
    ("rsa2048.pkcs8.pem", Algorithm::Ps256, Backend::RustCrypto),
    ("rsa8192.pkcs8.pem", Algorithm::Ps256, Backend::RustCrypto),
    ("p256.pkcs8.pem", Algorithm::Es256, Backend::RustCrypto),
];

/// A verifier on the test backend for `key`, at [`NOW`].
fn verifier(key: &PrivateKey) -> Verifier {
    let registry = Arc::new(ClientRegistry::with_backend(backend()));
    registry
        .register(CLIENT, &JwkSet::from_keys([key.public_jwk()]))
        .unwrap();
    Verifier::builder(ISSUER, registry)
        .clock(Arc::new(ManualClock::at_unix(NOW)))
        .build()
        .unwrap()
}

#[test]
fn tokens_signed_before_the_upgrade_still_verify() {
    let mut report = Report::default();
    for (file, alg, signed_on) in TOKEN_KEYS {
        let key = key(file);
        let what = format!("{file} {} {signed_on}", alg.name());
        let pinned = expected(TOKENS, &what);
        let v = verifier(&key);
        if pinned == "(missing)" {
            // Record a token made now, for the table.
            let signing = key.clone_key().with_backend(signed_on).unwrap();
            let input = signing_input(alg, key.kid());
            let sig = signing.sign(alg, input.as_bytes()).unwrap();
            let token = format!("{input}.{}", b64url_encode(&sig));
            v.dangerous().verify_without_replay_check(&token).unwrap();
            report.check(&what, &token, pinned);
            continue;
        }
        report.check(&what, pinned, pinned);
        let ok = v
            .dangerous()
            .verify_without_replay_check(pinned)
            .unwrap_or_else(|e| panic!("{what} on {}: {e:?}", backend()));
        assert_eq!(ok.algorithm(), alg);
        // One flipped signature bit is refused.
        let mut bad = pinned.as_bytes().to_vec();
        let last = bad.len() - 2;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        assert!(v.dangerous().verify_without_replay_check(&bad).is_err());
    }
    report.finish();
}

/// `kid`s (RFC 7638 thumbprints) and public JWK JSON of the RSA fixtures.
const KIDS: &[(&str, &str)] = &[
    (
        "rsa2048.pkcs8.pem kid",
        "-a8URYoli_OVu95V-sfZdra1szTqayhLJ6QetoyxdyY",
    ),
    (
        "rsa2048.pkcs8.pem jwk sha256",
        "daf907b4555cac666abfc1e4a131439f11d7245669ff9abe89e4635faf81ef40",
    ),
    (
        "rsa2048.pkcs1.pem kid",
        "-a8URYoli_OVu95V-sfZdra1szTqayhLJ6QetoyxdyY",
    ),
    (
        "rsa2048.pkcs1.pem jwk sha256",
        "daf907b4555cac666abfc1e4a131439f11d7245669ff9abe89e4635faf81ef40",
    ),
    (
        "rsa2048.pkcs8.der kid",
        "-a8URYoli_OVu95V-sfZdra1szTqayhLJ6QetoyxdyY",
    ),
    (
        "rsa2048.pkcs8.der jwk sha256",
        "daf907b4555cac666abfc1e4a131439f11d7245669ff9abe89e4635faf81ef40",
    ),
    (
        "rsa2048.pkcs1.der kid",
        "-a8URYoli_OVu95V-sfZdra1szTqayhLJ6QetoyxdyY",
    ),
    (
        "rsa2048.pkcs1.der jwk sha256",
        "daf907b4555cac666abfc1e4a131439f11d7245669ff9abe89e4635faf81ef40",
    ),
    (
        "rsa2048.jwk.json kid",
        "-a8URYoli_OVu95V-sfZdra1szTqayhLJ6QetoyxdyY",
    ),
    (
        "rsa2048.jwk.json jwk sha256",
        "daf907b4555cac666abfc1e4a131439f11d7245669ff9abe89e4635faf81ef40",
    ),
    (
        "rsa8192.pkcs8.pem kid",
        "3p2BA7Yf0XlwZFl3n9c9MpnQxNeEv9fmWQK8xG8Vqcg",
    ),
    (
        "rsa8192.pkcs8.pem jwk sha256",
        "7e900def06c4db2e228893ef5dbc33e4410f8a8d044d3d8c59d3156a73f4bfb8",
    ),
    (
        "rsa2048.spki.pem kid",
        "-a8URYoli_OVu95V-sfZdra1szTqayhLJ6QetoyxdyY",
    ),
    (
        "rsa8192.spki.pem kid",
        "3p2BA7Yf0XlwZFl3n9c9MpnQxNeEv9fmWQK8xG8Vqcg",
    ),
    (
        "rsa8192.pkcs1-public.pem kid",
        "3p2BA7Yf0XlwZFl3n9c9MpnQxNeEv9fmWQK8xG8Vqcg",
    ),
    (
        "rsa2048 padded n and e kid",
        "-a8URYoli_OVu95V-sfZdra1szTqayhLJ6QetoyxdyY",
    ),
];

#[test]
fn rsa_kids_and_public_jwks_are_unchanged_in_every_encoding() {
    let mut report = Report::default();
    let private = [
        "rsa2048.pkcs8.pem",
        "rsa2048.pkcs1.pem",
        "rsa2048.pkcs8.der",
        "rsa2048.pkcs1.der",
        "rsa2048.jwk.json",
        "rsa8192.pkcs8.pem",
    ];
    for file in private {
        let key = key(file);
        report.check(
            &format!("{file} kid"),
            key.kid(),
            expected(KIDS, &format!("{file} kid")),
        );
        let jwk = key.public_jwk().to_json();
        let what = format!("{file} jwk sha256");
        report.check(
            &what,
            &hex(&Sha256::digest(jwk.as_bytes())),
            expected(KIDS, &what),
        );
    }
    for file in [
        "rsa2048.spki.pem",
        "rsa8192.spki.pem",
        "rsa8192.pkcs1-public.pem",
    ] {
        let jwk = PublicJwk::from_pem(&read_str(file)).unwrap();
        report.check(
            &format!("{file} kid"),
            jwk.kid(),
            expected(KIDS, &format!("{file} kid")),
        );
    }
    // A JWK whose `n` has a leading zero byte and whose `e` is padded: the
    // key (and so its thumbprint) is the minimal encoding's.
    let public = read_json("rsa2048.public.jwk.json");
    let mut n = b64url(public["n"].as_str().unwrap());
    n.insert(0, 0);
    let padded = serde_json::json!({
        "kty": "RSA",
        "n": b64url_encode(&n),
        "e": b64url_encode(&[0, 1, 0, 1]),
    });
    let jwk = PublicJwk::from_json(&padded.to_string());
    let got = jwk.map_or_else(|e| format!("error {}", e.kind()), |j| j.kid().to_owned());
    report.check(
        "rsa2048 padded n and e kid",
        &got,
        expected(KIDS, "rsa2048 padded n and e kid"),
    );
    report.finish();
    assert_eq!(
        expected(KIDS, "rsa2048.pkcs8.pem kid"),
        expected_thumbprint("rsa2048"),
        "the pinned kid is the independently computed thumbprint"
    );
}

/// SHA-256 of each fixture key's PKCS#8 PEM export.
const EXPORTS: &[(&str, &str)] = &[
    (
        "rsa2048.pkcs1.der pkcs8 sha256",
        "250ea0d20e9d57519910d542be37af1d489d3d2ed9af9901ac09f2456279e868",
    ),
    (
        "rsa2048.jwk.json pkcs8 sha256",
        "250ea0d20e9d57519910d542be37af1d489d3d2ed9af9901ac09f2456279e868",
    ),
    (
        "rsa8192.pkcs8.pem pkcs8 sha256",
        "7f27d4efdc3f5ca1f293fd1fe23c3a9ac9f3e439df9a1014941a1abd1faf5ff6",
    ),
    (
        "ed25519.pkcs8.pem pkcs8 sha256",
        "6bc704eb539e26b8d112166616d4ae97924abf145472a20f836735b20c001d38",
    ),
    (
        "p256.sec1.pem pkcs8 sha256",
        "3f5d9c9a9b1f0714c79f68d6c260941e8b20f5e53f7dd69b1ee3c59b5e2f55e9",
    ),
    (
        "p384.jwk.json pkcs8 sha256",
        "ae568192eec4a37996b7f07a033d837fcc24ed1eb791bbff0f41cc722614cc8d",
    ),
];

#[test]
fn pkcs8_exports_are_unchanged() {
    let mut report = Report::default();
    for file in [
        "rsa2048.pkcs1.der",
        "rsa2048.jwk.json",
        "rsa8192.pkcs8.pem",
        "ed25519.pkcs8.pem",
        "p256.sec1.pem",
        "p384.jwk.json",
    ] {
        let pem = key(file).to_pkcs8_pem().unwrap();
        let what = format!("{file} pkcs8 sha256");
        report.check(
            &what,
            &hex(&Sha256::digest(pem.as_bytes())),
            expected(EXPORTS, &what),
        );
    }
    report.finish();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
