//! Crypto backends: each key and each registry picks its own, both
//! backends interoperate (sign with one, verify with the other, every
//! algorithm), both refuse the same hostile signatures, and a process that
//! uses both (and jsonwebtoken on aws-lc-rs) at once never panics.
//!
//! The whole suite also runs on AWS-LC with
//! `CLIENT_ASSERTION_TEST_BACKEND=aws-lc cargo test --all-features`.

mod common;

use client_assertion::{Backend, ClientRegistry, KeyType, PrivateKey};

/// The backend named by `CLIENT_ASSERTION_TEST_BACKEND` is compiled in:
/// asking for `aws-lc` without `--features aws-lc-rs` fails here (and in
/// every test that signs or verifies), never silently on RustCrypto.
#[test]
fn the_backend_under_test_is_compiled_in() {
    let backend = common::backend();
    assert!(Backend::available().contains(&backend), "{backend}");
    if std::env::var(common::BACKEND_VAR).as_deref() == Ok("aws-lc") {
        assert_eq!(backend.name(), "aws-lc");
    }
    assert_eq!(common::registry().backend(), backend);
    let key = common::on_backend(PrivateKey::generate(KeyType::Ed25519).unwrap());
    assert_eq!(key.backend(), backend);
}

#[test]
fn rust_crypto_is_the_default_everywhere() {
    assert_eq!(Backend::default(), Backend::RustCrypto);
    assert_eq!(Backend::available()[0], Backend::RustCrypto);
    assert_eq!(ClientRegistry::new().backend(), Backend::RustCrypto);
    assert_eq!(ClientRegistry::default().backend(), Backend::RustCrypto);
    let pem = common::read_str("p256.pkcs8.pem");
    for key in [
        PrivateKey::generate(KeyType::P256).unwrap(),
        PrivateKey::from_pem(&pem).unwrap(),
        PrivateKey::from_bytes(pem.as_bytes()).unwrap(),
        PrivateKey::from_jwk(&common::read_str("p256.jwk.json")).unwrap(),
        PrivateKey::from_der(&common::read("p256.pkcs8.der")).unwrap(),
        PrivateKey::from_file(common::data("p256.sec1.pem")).unwrap(),
    ] {
        assert_eq!(key.backend(), Backend::RustCrypto);
        assert_eq!(key.clone_key().backend(), Backend::RustCrypto);
    }
    let e = "boringssl".parse::<Backend>().unwrap_err();
    assert_eq!(e.kind(), client_assertion::ErrorKind::InvalidConfig);
    #[cfg(not(feature = "aws-lc-rs"))]
    assert_eq!(
        "aws-lc".parse::<Backend>().unwrap_err().kind(),
        client_assertion::ErrorKind::InvalidConfig
    );
}

/// Even RSA moduli and exponents are never valid RSA keys; both backends
/// refuse them at registration (the checks are the crate's, before any
/// backend sees the key; AWS-LC alone would refuse only the signatures).
#[test]
fn even_rsa_modulus_or_exponent_is_refused_at_registration() {
    let jwk = common::read_json("rsa2048.public.jwk.json");
    let n = common::b64url(jwk["n"].as_str().unwrap());
    for backend in Backend::available() {
        let registry = ClientRegistry::with_backend(*backend);
        let mut even_n = n.clone();
        *even_n.last_mut().unwrap() &= 0xfe;
        for (n, e) in [(even_n, vec![1, 0, 1]), (n.clone(), vec![1, 0, 0])] {
            let mut bad = jwk.clone();
            bad["n"] = common::b64url_encode(&n).into();
            bad["e"] = common::b64url_encode(&e).into();
            let err = registry
                .register_jwks_json("c", &format!(r#"{{"keys":[{bad}]}}"#))
                .unwrap_err();
            assert_eq!(
                err.kind(),
                client_assertion::ErrorKind::UnsupportedKey,
                "{backend}: {err:?}"
            );
        }
        registry
            .register_jwks_json("c", &format!(r#"{{"keys":[{jwk}]}}"#))
            .unwrap();
    }
}

#[cfg(feature = "aws-lc-rs")]
mod both {
    use std::sync::Arc;
    use std::time::Duration;

    use client_assertion::time::ManualClock;
    use client_assertion::{
        jwk_set, Algorithm, AssertionSigner, Backend, ClientRegistry, Error, KeySource, KeyType,
        PrivateKey, VerifiedAssertion, Verifier,
    };
    use num_bigint::BigUint;
    use serde_json::json;
    use sha2::{Digest, Sha512};

    use crate::common::{self, b64url_encode as b64, KEYS};

    const ISSUER: &str = "https://as.example.com";
    const CLIENT: &str = "backend-client";
    const NOW: u64 = 1_750_000_000;

    /// `base64url(header) '.' base64url(claims)`.
    fn signing_input(header: &str, claims: &str) -> String {
        format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()))
    }

    /// Good claims for `client` at `now` (60 s lifetime).
    fn claims_for(client: &str, jti: &str, now: u64) -> serde_json::Value {
        json!({
            "iss": client, "sub": client, "aud": ISSUER, "jti": jti,
            "iat": now, "nbf": now, "exp": now + 60,
        })
    }

    const BOTH: [Backend; 2] = [Backend::RustCrypto, Backend::AwsLc];

    /// The fixture key `name` on `backend`.
    fn fixture(name: &str, backend: Backend) -> PrivateKey {
        PrivateKey::from_file(common::data(&format!("{name}.pkcs8.pem")))
            .unwrap()
            .with_backend(backend)
            .unwrap()
    }

    /// A verifier on `backend` for `key`'s public JWK, at [`NOW`].
    fn verifier(backend: Backend, key: &dyn KeySource) -> Verifier {
        let registry = Arc::new(ClientRegistry::with_backend(backend));
        registry.register(CLIENT, &jwk_set([key])).unwrap();
        assert_eq!(registry.backend(), backend);
        Verifier::builder(ISSUER, registry)
            .clock(Arc::new(ManualClock::at_unix(NOW)))
            .build()
            .unwrap()
    }

    fn check(v: &Verifier, token: &str) -> Result<VerifiedAssertion, Error> {
        v.dangerous().verify_without_replay_check(token)
    }

    #[test]
    fn with_backend_changes_nothing_but_the_signing_code() {
        for (name, _, _) in KEYS {
            let rc = fixture(name, Backend::RustCrypto);
            let aws = fixture(name, Backend::AwsLc);
            assert_eq!(aws.backend(), Backend::AwsLc);
            assert_eq!(aws.kid(), rc.kid());
            assert_eq!(aws.public_jwk(), rc.public_jwk());
            assert_eq!(aws.algorithms(), rc.algorithms());
            assert_eq!(*aws.to_pkcs8_pem().unwrap(), *rc.to_pkcs8_pem().unwrap());
            let debug = format!("{aws:?}");
            assert!(debug.contains("AwsLc"), "{debug}");
            assert!(debug.contains("elided"), "{debug}");
            // An explicit copy keeps the backend and signs on its own.
            let copy = aws.clone_key();
            assert_eq!(copy.backend(), Backend::AwsLc);
            drop(aws);
            let v = verifier(Backend::RustCrypto, &rc);
            for alg in copy.algorithms() {
                let header = json!({"alg": alg.name(), "kid": copy.kid()}).to_string();
                let claims = claims_for(CLIENT, "copy", NOW).to_string();
                let input = signing_input(&header, &claims);
                let sig = copy.sign(*alg, input.as_bytes()).unwrap();
                check(&v, &format!("{input}.{}", b64(&sig))).unwrap();
            }
            // And back.
            let back = copy.with_backend(Backend::RustCrypto).unwrap();
            assert_eq!(back.backend(), Backend::RustCrypto);
            // The algorithm restriction survives a backend change.
            let pinned = fixture(name, Backend::RustCrypto)
                .with_algorithm(rc.algorithms()[0])
                .unwrap()
                .with_backend(Backend::AwsLc)
                .unwrap();
            assert_eq!(pinned.algorithms(), &rc.algorithms()[..1]);
            if let Some(other) = rc.algorithms().get(1) {
                assert_eq!(
                    pinned.sign(*other, b"x").unwrap_err().kind(),
                    client_assertion::ErrorKind::AlgorithmNotAllowed
                );
            }
        }
        // Generated keys convert too (RSA 2048 from the fixture above).
        for key_type in [KeyType::P256, KeyType::P384, KeyType::Ed25519] {
            let key = PrivateKey::generate(key_type)
                .unwrap()
                .with_backend(Backend::AwsLc)
                .unwrap();
            let sig = key.sign(key.algorithms()[0], b"input").unwrap();
            assert!(!sig.is_empty());
        }
    }

    /// Every algorithm: signed on one backend, verified on both, by an
    /// `AssertionSigner` and a `Verifier`, and by jsonwebtoken.
    #[test]
    fn sign_with_one_backend_verify_with_the_other_every_algorithm() {
        let clock = Arc::new(ManualClock::at_unix(NOW));
        let mut checked = 0;
        for (name, key_type, _) in KEYS {
            for &alg in key_type.algorithms() {
                for signing in BOTH {
                    let key = Arc::new(fixture(name, signing).with_algorithm(alg).unwrap());
                    let signer = AssertionSigner::builder(key.clone(), CLIENT, ISSUER)
                        .clock(clock.clone())
                        .lifetime(Duration::from_secs(60))
                        .build()
                        .unwrap();
                    let a = signer.sign().unwrap();
                    let jws = common::split(a.as_str());
                    assert_eq!(jws.header["alg"], alg.name());
                    let sig_len = match alg {
                        Algorithm::Es256 | Algorithm::EdDsa => 64,
                        Algorithm::Es384 => 96,
                        _ => 256,
                    };
                    assert_eq!(jws.signature.len(), sig_len, "{alg} on {signing}");
                    common::jwt_verify(
                        a.as_str(),
                        &common::decoding_key_from_jwk(&key.public_jwk()),
                        alg,
                    )
                    .unwrap_or_else(|e| panic!("jsonwebtoken: {alg} signed on {signing}: {e}"));
                    for verifying in BOTH {
                        let v = verifier(verifying, &*key);
                        let ok = v.verify(a.as_str()).unwrap_or_else(|e| {
                            panic!("{alg} signed on {signing}, verified on {verifying}: {e:?}")
                        });
                        assert_eq!(ok.algorithm(), alg);
                        assert_eq!(ok.kid(), key.kid());
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 5 * 2 * 2);
    }

    /// Ed25519 and RSASSA-PKCS1-v1_5 are deterministic: both backends make
    /// the very same signature. ECDSA (RFC 6979 vs random nonces) and PSS
    /// (random salt) differ, and still verify across.
    #[test]
    fn deterministic_algorithms_give_byte_identical_signatures() {
        let input = signing_input(r#"{"alg":"x"}"#, r#"{"n":1}"#);
        for (name, alg, identical) in [
            ("ed25519", Algorithm::EdDsa, true),
            ("rsa2048", Algorithm::Rs256, true),
            ("rsa2048", Algorithm::Ps256, false),
            ("p256", Algorithm::Es256, false),
            ("p384", Algorithm::Es384, false),
        ] {
            let [a, b] =
                BOTH.map(|backend| fixture(name, backend).sign(alg, input.as_bytes()).unwrap());
            assert_eq!(a == b, identical, "{alg}");
        }
    }

    /// A hostile signature and whether it verifies (the same on both).
    struct Case {
        what: String,
        signature: Vec<u8>,
        accepted: bool,
    }

    fn case(what: impl Into<String>, signature: Vec<u8>, ok: bool) -> Case {
        Case {
            what: what.into(),
            signature,
            accepted: ok,
        }
    }

    /// Big-endian `v` as exactly `len` bytes (`None` if it does not fit).
    fn be(v: &BigUint, len: usize) -> Option<Vec<u8>> {
        let bytes = v.to_bytes_be();
        (bytes.len() <= len).then(|| {
            let mut out = vec![0; len - bytes.len()];
            out.extend_from_slice(&bytes);
            out
        })
    }

    fn hex(s: &str) -> BigUint {
        BigUint::parse_bytes(s.as_bytes(), 16).unwrap()
    }

    /// Generic mutations of any valid signature.
    fn mangled(good: &[u8]) -> Vec<Case> {
        let n = good.len();
        let flip = |i: usize| {
            let mut s = good.to_vec();
            s[i] ^= 0x01;
            s
        };
        vec![
            case("empty", vec![], false),
            case("truncated by one byte", good[..n - 1].to_vec(), false),
            case("first half only", good[..n / 2].to_vec(), false),
            case("a zero byte appended", [good, &[0]].concat(), false),
            case("a zero byte prepended", [&[0], good].concat(), false),
            case("first bit flipped", flip(0), false),
            case("middle bit flipped", flip(n / 2), false),
            case("last bit flipped", flip(n - 1), false),
            case("all zero", vec![0; n], false),
            case("all ones", vec![0xff; n], false),
            case("doubled", good.repeat(2), false),
        ]
    }

    fn ecdsa_cases(alg: Algorithm, good: &[u8], order: &BigUint) -> Vec<Case> {
        let half = good.len() / 2;
        let (r, s) = (&good[..half], &good[half..]);
        let s_int = BigUint::from_bytes_be(s);
        let twin = be(&(order - &s_int), half).unwrap();
        let order_bytes = be(order, half).unwrap();
        let der = match alg {
            Algorithm::Es256 => p256::ecdsa::Signature::from_slice(good)
                .unwrap()
                .to_der()
                .as_bytes()
                .to_vec(),
            _ => p384::ecdsa::Signature::from_slice(good)
                .unwrap()
                .to_der()
                .as_bytes()
                .to_vec(),
        };
        let mut cases = mangled(good);
        cases.extend([
            case("DER-encoded (r, s)", der, false),
            case("(s, r) swapped", [s, r].concat(), false),
            case("r = 0", [&vec![0; half][..], s].concat(), false),
            case("s = 0", [r, &vec![0; half][..]].concat(), false),
            case("r = n", [&order_bytes[..], s].concat(), false),
            case("s = n", [r, &order_bytes[..]].concat(), false),
            case(
                "s + n (r || s with s not reduced)",
                [r, &be(&(&s_int + order), half + 1).unwrap()[..]].concat(),
                false,
            ),
            // ECDSA is malleable: (r, n - s) is the same signature for every
            // mainstream verifier, both of ours included. Harmless here:
            // replay protection is keyed on `jti`, not on signature bytes.
            case("high-S twin (r, n - s)", [r, &twin[..]].concat(), true),
        ]);
        cases
    }

    /// An Ed25519 signature by the fixture key whose `R` is the encoding
    /// `r` of the identity and `S = k * a` (`k = H(r || A || M)`): with the
    /// canonical `r`, valid under the cofactorless equation
    /// (`[S]B = R + [k]A`) but refused by strict verifiers. Only the key's
    /// owner can make one. Returns the signature and the public key.
    fn ed25519_identity_r(input: &[u8], r: [u8; 32]) -> (Vec<u8>, [u8; 32]) {
        let jwk = common::read_json("ed25519.jwk.json");
        let seed = common::b64url(jwk["d"].as_str().unwrap());
        let public = common::b64url(jwk["x"].as_str().unwrap());
        let h = Sha512::digest(&seed);
        let mut a = [0u8; 32];
        a.copy_from_slice(&h[..32]);
        a[0] &= 248;
        a[31] &= 127;
        a[31] |= 64;
        let l = hex("1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed");
        let k = Sha512::new()
            .chain_update(r)
            .chain_update(&public)
            .chain_update(input)
            .finalize();
        let s = (BigUint::from_bytes_le(&k) * BigUint::from_bytes_le(&a)) % &l;
        let mut s_bytes = s.to_bytes_le();
        s_bytes.resize(32, 0);
        let public: [u8; 32] = public.try_into().unwrap();
        ([&r[..], &s_bytes[..]].concat(), public)
    }

    fn ed25519_cases(good: &[u8], input: &[u8]) -> Vec<Case> {
        let l = hex("1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed");
        let s = BigUint::from_bytes_le(&good[32..]);
        let mut s_plus_l = (s + &l).to_bytes_le();
        s_plus_l.resize(32, 0);
        // The identity (0, 1): canonically, with y = p + 1, and with the
        // sign bit of x = 0 set.
        let mut canonical = [0u8; 32];
        canonical[0] = 1;
        let mut y_plus_p = [0xffu8; 32];
        y_plus_p[0] = 0xee;
        y_plus_p[31] = 0x7f;
        let mut signed_zero = canonical;
        signed_zero[31] = 0x80;
        let (identity_r, public) = ed25519_identity_r(input, canonical);
        // The forged-looking signature really satisfies the cofactorless
        // equation: non-strict verifiers (dalek's `verify`, raw AWS-LC)
        // accept it; strict ones refuse it.
        let dalek = ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap();
        let sig = ed25519_dalek::Signature::from_slice(&identity_r).unwrap();
        use ed25519_dalek::Verifier as _;
        assert!(dalek.verify(input, &sig).is_ok(), "cofactorless-valid");
        assert!(
            dalek.verify_strict(input, &sig).is_err(),
            "strictly invalid"
        );
        let raw_aws_lc =
            aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ED25519, public);
        assert!(
            raw_aws_lc.verify(input, &identity_r).is_ok(),
            "AWS-LC alone accepts a small-order R"
        );
        let mut cases = mangled(good);
        // Non-canonical encodings of R: refused by AWS-LC itself (it
        // compares the canonical encoding of the recomputed R).
        for (what, r) in [
            ("non-canonical R (identity, y = p + 1), S = k * a", y_plus_p),
            ("non-canonical R (identity, x = -0), S = k * a", signed_zero),
        ] {
            let (sig, _) = ed25519_identity_r(input, r);
            assert!(raw_aws_lc.verify(input, &sig).is_err(), "{what}");
            cases.push(case(what, sig, false));
        }
        cases.extend([
            case(
                "non-canonical S (S + L)",
                [&good[..32], &s_plus_l[..]].concat(),
                false,
            ),
            case("small-order R (the identity), S = k * a", identity_r, false),
            case(
                "R and S swapped",
                [&good[32..], &good[..32]].concat(),
                false,
            ),
        ]);
        cases
    }

    fn rsa_cases(good: &[u8], n: &BigUint) -> Vec<Case> {
        let len = good.len();
        let s = BigUint::from_bytes_be(good);
        let mut cases = mangled(good);
        cases.push(case("s = n", be(n, len).unwrap(), false));
        cases.push(case(
            "s = n - 1",
            be(&(n - BigUint::from(1u8)), len).unwrap(),
            false,
        ));
        if let Some(unreduced) = be(&(&s + n), len) {
            // Same length, same value mod n: RFC 8017 requires s < n.
            cases.push(case("s + n (not reduced)", unreduced, false));
        }
        cases
    }

    /// The hostile signatures, each checked by a verifier on each backend:
    /// both return the same result, and the expected one.
    #[test]
    fn both_backends_refuse_the_same_hostile_signatures() {
        let p256_n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        let p384_n = hex("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973");
        let rsa_jwk = common::read_json("rsa2048.public.jwk.json");
        let rsa_n = BigUint::from_bytes_be(&common::b64url(rsa_jwk["n"].as_str().unwrap()));
        let mut total = 0;
        let mut unreduced_rsa = 0;
        for (name, key_type, _) in KEYS {
            for &alg in key_type.algorithms() {
                let key = fixture(name, Backend::RustCrypto);
                let verifiers = BOTH.map(|b| verifier(b, &key));
                // A fresh jti per token; several tries for RSA so that some
                // signature leaves room for s + n in the same length.
                for attempt in 0..8 {
                    let header = json!({"alg": alg.name(), "kid": key.kid()}).to_string();
                    let claims = claims_for(CLIENT, &format!("h-{alg}-{attempt}"), NOW);
                    let input = signing_input(&header, &claims.to_string());
                    let good = key.sign(alg, input.as_bytes()).unwrap();
                    let mut cases = vec![case("the valid signature", good.clone(), true)];
                    cases.extend(match alg {
                        Algorithm::Es256 => ecdsa_cases(alg, &good, &p256_n),
                        Algorithm::Es384 => ecdsa_cases(alg, &good, &p384_n),
                        Algorithm::EdDsa => ed25519_cases(&good, input.as_bytes()),
                        _ => rsa_cases(&good, &rsa_n),
                    });
                    // The right signature under the wrong algorithm name.
                    let other = match alg {
                        Algorithm::Rs256 => Some(Algorithm::Ps256),
                        Algorithm::Ps256 => Some(Algorithm::Rs256),
                        _ => None,
                    };
                    for (what, header_alg) in [("same", alg)]
                        .into_iter()
                        .chain(other.map(|o| ("other", o)))
                    {
                        for c in &cases {
                            let header = json!({"alg": header_alg.name(), "kid": key.kid()});
                            let input = signing_input(&header.to_string(), &claims.to_string());
                            let token = format!("{input}.{}", b64(&c.signature));
                            let results = verifiers
                                .each_ref()
                                .map(|v| check(v, &token).map(|_| ()).map_err(|e| e.kind()));
                            assert_eq!(
                                results[0], results[1],
                                "{alg} {}, {what} alg: rust-crypto vs aws-lc",
                                c.what
                            );
                            let expected = c.accepted && header_alg == alg;
                            assert_eq!(
                                results[0].is_ok(),
                                expected,
                                "{alg} {} with the {what} alg: {:?}",
                                c.what,
                                results[0]
                            );
                            if let Err(kind) = results[0] {
                                assert_eq!(
                                    kind,
                                    client_assertion::ErrorKind::BadSignature,
                                    "{alg} {}",
                                    c.what
                                );
                            }
                            if c.what.starts_with("s + n (not") {
                                unreduced_rsa += 1;
                            }
                            total += 1;
                        }
                    }
                    if !matches!(alg, Algorithm::Rs256 | Algorithm::Ps256) {
                        break;
                    }
                }
            }
        }
        assert!(unreduced_rsa > 0, "no RSA signature left room for s + n");
        assert!(total > 150, "{total}");
    }

    /// Keys of both backends, registries of both backends and jsonwebtoken
    /// on aws-lc-rs, all at once on several threads: no global backend, no
    /// panic, every assertion verified by every verifier.
    #[test]
    fn a_process_using_both_backends_at_once_never_panics() {
        let keys: Vec<Arc<PrivateKey>> = KEYS
            .iter()
            .flat_map(|(name, _, _)| BOTH.map(|b| Arc::new(fixture(name, b))))
            .collect();
        let verifiers: Vec<Verifier> = BOTH
            .iter()
            .map(|&b| {
                let registry = Arc::new(ClientRegistry::with_backend(b));
                for (i, k) in keys.iter().enumerate() {
                    registry
                        .register(format!("client-{i}"), &jwk_set([&**k]))
                        .unwrap();
                }
                Verifier::builder(ISSUER, registry).build().unwrap()
            })
            .collect();
        let jwt_key =
            jsonwebtoken::EncodingKey::from_ed_pem(&common::read("ed25519.pkcs8.pem")).unwrap();
        let jwt_dec = common::decoding_key_from_spki("ed25519", KeyType::Ed25519);
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (keys, verifiers, jwt_key, jwt_dec) = (&keys, &verifiers, &jwt_key, &jwt_dec);
                scope.spawn(move || {
                    for round in 0..3 {
                        for (i, key) in keys.iter().enumerate() {
                            let client = format!("client-{i}");
                            let a = AssertionSigner::builder(key.clone(), &client, ISSUER)
                                .build()
                                .unwrap()
                                .sign()
                                .unwrap();
                            for v in verifiers {
                                let ok = v.verify(a.as_str()).unwrap();
                                assert_eq!(ok.client_id(), client);
                            }
                        }
                        let claims =
                            json!({"sub": format!("{t}-{round}"), "exp": 4_000_000_000u64});
                        let token = jsonwebtoken::encode(
                            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA),
                            &claims,
                            jwt_key,
                        )
                        .unwrap();
                        let decoded =
                            common::jwt_verify(&token, jwt_dec, Algorithm::EdDsa).unwrap();
                        assert_eq!(decoded.claims, claims);
                    }
                });
            }
        });
    }
}

/// Key sources that load or create keys themselves take a backend too, and
/// keep it across reloads and rotations.
#[cfg(feature = "aws-lc-rs")]
mod sources {
    use std::sync::Arc;
    use std::time::Duration;

    use client_assertion::client::{DirectoryKeyRing, KeyRing, MemoryKeyFactory, RotationPolicy};
    use client_assertion::time::ManualClock;
    use client_assertion::{AssertionSigner, Backend, FileKey, KeySource, KeyType, PrivateKey};

    fn pem(key_type: KeyType) -> String {
        PrivateKey::generate(key_type)
            .unwrap()
            .to_pkcs8_pem()
            .unwrap()
            .to_string()
    }

    #[test]
    fn file_key_signs_with_its_backend_across_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, pem(KeyType::Rsa)).unwrap();
        let key = FileKey::open(&path)
            .unwrap()
            .with_backend(Backend::AwsLc)
            .unwrap();
        assert_eq!(key.current().backend(), Backend::AwsLc);
        std::fs::write(&path, pem(KeyType::P256)).unwrap();
        key.reload();
        assert_eq!(key.current().backend(), Backend::AwsLc);
        AssertionSigner::builder(Arc::new(key), "c", "https://as.example")
            .build()
            .unwrap()
            .sign()
            .unwrap();
    }

    #[test]
    fn key_factories_and_directory_rings_take_a_backend() {
        let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
        let day = Duration::from_secs(86_400);
        let ring = KeyRing::new(
            RotationPolicy::new(day),
            Arc::new(MemoryKeyFactory::new(KeyType::Ed25519).backend(Backend::AwsLc)),
            clock.clone(),
        )
        .unwrap();
        ring.sign(client_assertion::Algorithm::EdDsa, b"x").unwrap();

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key-1.pem"), pem(KeyType::P256)).unwrap();
        let ring = DirectoryKeyRing::open_with(dir.path(), clock)
            .unwrap()
            .with_backend(Backend::AwsLc)
            .unwrap();
        let signature = ring.sign(client_assertion::Algorithm::Es256, b"x").unwrap();
        assert_eq!(signature.len(), 64);
        assert!(ring.problems().is_empty());
    }
}
