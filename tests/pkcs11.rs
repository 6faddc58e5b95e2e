//! The PKCS#11 key source against a real SoftHSM2 token.
//!
//! The tests create a throw-away token in a directory of their own (their
//! own `SOFTHSM2_CONF`, set before the module is first initialised in this
//! process) and remove it when the last test is done. They run one at a
//! time (SoftHSM2 state is process-wide). If SoftHSM2 is not installed they
//! fail: `scripts/softhsm.sh` installs it.
#![cfg(feature = "pkcs11")]

use std::path::Path;
use std::sync::Arc;

use client_assertion::client::{KeyRing, Pkcs11KeyFactory, RotationPolicy};
use client_assertion::keys::pkcs11::cryptoki::context::{CInitializeArgs, CInitializeFlags};
use client_assertion::keys::pkcs11::cryptoki::mechanism::Mechanism;
use client_assertion::keys::pkcs11::cryptoki::object::{Attribute, AttributeType, ObjectClass};
use client_assertion::keys::pkcs11::{self, Pin, Pkcs11Error, Pkcs11Key, Pkcs11KeyBuilder};
use client_assertion::time::ManualClock;
use client_assertion::KeyMetadata;
use client_assertion::{
    jwk_set, Algorithm, AssertionSigner, ClientRegistry, Error, ErrorKind, KeySource, KeyType,
    Verifier,
};

#[path = "common/softhsm.rs"]
mod softhsm;

use softhsm::{Suite, MODULE, USER_PIN};

const TOKEN: &str = "client-assertion-test";
const CLIENT: &str = "pkcs11-client";
const AUDIENCE: &str = "https://as.example.com";

/// The number of `#[test]` functions in this file (checked by
/// `the_test_count_is_current`): the last one to finish removes the token
/// directory.
const TESTS: usize = 21;

static SUITE: Suite = Suite::new("softhsm", TOKEN, TESTS);

/// Waits for the previous test; makes the token on first use.
fn setup() -> softhsm::Guard {
    SUITE.enter().0
}

fn builder(label: &str) -> Pkcs11KeyBuilder {
    Pkcs11Key::builder(MODULE)
        .token_label(TOKEN)
        .pin(Pin::new(USER_PIN))
        .key_label(label)
}

fn pkcs11_error(err: &Error) -> &Pkcs11Error {
    Pkcs11Error::from_error(err).unwrap_or_else(|| panic!("no Pkcs11Error behind {err:?}"))
}

fn verifier(key: &dyn KeySource) -> Verifier {
    let registry = Arc::new(ClientRegistry::new());
    registry.register(CLIENT, &jwk_set([key])).unwrap();
    Verifier::builder(AUDIENCE, registry).build().unwrap()
}

/// Verifies with jsonwebtoken (aws-lc-rs), from our public JWK's JSON.
fn verify_independently(key: &dyn KeySource, token: &str, alg: Algorithm) {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(&key.public_jwk().to_json()).unwrap();
    let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let alg = match alg {
        Algorithm::Es256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::Es384 => jsonwebtoken::Algorithm::ES384,
        Algorithm::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        Algorithm::Rs256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::Ps256 => jsonwebtoken::Algorithm::PS256,
        other => panic!("unexpected {other}"),
    };
    let mut validation = jsonwebtoken::Validation::new(alg);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[CLIENT]);
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &decoding, &validation)
        .unwrap_or_else(|e| panic!("jsonwebtoken rejects the {alg:?} assertion: {e}"));
    assert_eq!(data.claims["sub"], CLIENT);
    assert_eq!(data.header.kid.as_deref(), Some(&*key.kid()));
}

fn round_trip(label: &str, key_type: KeyType, alg: Option<Algorithm>) {
    let _t = setup();
    let mut b = builder(label);
    if let Some(alg) = alg {
        b = b.algorithm(alg);
    }
    let key = Arc::new(b.generate(key_type).unwrap());
    let alg = alg.unwrap_or(key_type.algorithms()[0]);
    assert_eq!(key.key_type(), key_type);
    assert_eq!(key.kid(), key.public_jwk().thumbprint());
    assert!(key.algorithms().contains(&alg));

    let verifier = verifier(&*key);
    let signer = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
        .build()
        .unwrap();
    for _ in 0..3 {
        let assertion = signer.sign().unwrap();
        assert_eq!(assertion.algorithm(), alg);
        let verified = verifier.verify(assertion.as_str()).unwrap();
        assert_eq!(verified.client_id(), CLIENT);
        assert_eq!(verified.kid(), key.kid());
        assert_eq!(verified.algorithm(), alg);
        verify_independently(&*key, assertion.as_str(), alg);
    }

    // Opened again by label alone: the same key.
    let reopened = builder(label).open().unwrap();
    assert_eq!(reopened.kid(), key.kid());
    assert_eq!(reopened.id(), key.id());
}

#[test]
fn es256_round_trip() {
    round_trip("es256", KeyType::P256, None);
}

#[test]
fn es384_round_trip() {
    round_trip("es384", KeyType::P384, None);
}

#[test]
fn eddsa_round_trip() {
    round_trip("eddsa", KeyType::Ed25519, None);
}

#[test]
fn rs256_round_trip() {
    round_trip("rs256", KeyType::Rsa, None);
}

#[test]
fn ps256_round_trip() {
    round_trip("ps256", KeyType::Rsa, Some(Algorithm::Ps256));
}

#[test]
fn rsa_key_signs_both_rs256_and_ps256_unless_restricted() {
    let _t = setup();
    let key = Arc::new(builder("rsa-both").generate_rsa(3072).unwrap());
    assert_eq!(key.algorithms(), &[Algorithm::Rs256, Algorithm::Ps256]);
    let verifier = verifier(&*key);
    for alg in [Algorithm::Rs256, Algorithm::Ps256] {
        let signer = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
            .algorithm(alg)
            .build()
            .unwrap();
        let assertion = signer.sign().unwrap();
        assert_eq!(
            verifier.verify(assertion.as_str()).unwrap().algorithm(),
            alg
        );
        verify_independently(&*key, assertion.as_str(), alg);
    }
    // Restricted to PS256: RS256 is refused, and the JWK says so.
    let ps = builder("rsa-both")
        .algorithm(Algorithm::Ps256)
        .open()
        .unwrap();
    assert_eq!(ps.public_jwk().algorithm(), Some(Algorithm::Ps256));
    let err = ps.sign(Algorithm::Rs256, b"x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed);
}

#[test]
fn generated_private_key_never_leaves_the_token() {
    let _t = setup();
    let key = builder("not-extractable")
        .key_id(b"ne-1".to_vec())
        .generate(KeyType::P256)
        .unwrap();
    assert_eq!(key.id(), b"ne-1");

    let ctx = pkcs11::context(MODULE).unwrap();
    let session = ctx
        .open_ro_session(key.slot_id().try_into().unwrap())
        .unwrap();
    // Our key source keeps the application logged in.
    let handles = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(b"not-extractable".to_vec()),
        ])
        .unwrap();
    assert_eq!(handles.len(), 1);
    let attrs = session
        .get_attributes(
            handles[0],
            &[
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
                AttributeType::Token,
                AttributeType::Private,
                AttributeType::Id,
            ],
        )
        .unwrap();
    for expected in [
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::AlwaysSensitive(true),
        Attribute::NeverExtractable(true),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Id(b"ne-1".to_vec()),
    ] {
        assert!(
            attrs.contains(&expected),
            "{expected:?} missing in {attrs:?}"
        );
    }
    // CKA_VALUE cannot be read: the token answers CKR_ATTRIBUTE_SENSITIVE,
    // so no value comes back.
    let value = session
        .get_attributes(handles[0], &[AttributeType::Value])
        .unwrap();
    assert!(
        value.is_empty(),
        "the private value was readable: {value:?}"
    );
    // Nor can it be wrapped out.
    let info = session.get_attribute_info(handles[0], &[AttributeType::Value]);
    assert!(
        !matches!(
            info.as_deref(),
            Ok([client_assertion::keys::pkcs11::cryptoki::object::AttributeInfo::Available(_)])
        ),
        "CKA_VALUE reported as available: {info:?}"
    );

    // The same key's public half, through our JWK, is on the token.
    let jwk = key.public_jwk();
    assert_eq!(jwk.key_type(), KeyType::P256);
    assert!(!jwk.to_json().contains("\"d\""));
}

#[test]
fn many_threads_sign_at_once() {
    const THREADS: usize = 2;
    const PER_THREAD: usize = 1000;
    let _t = setup();
    let key = Arc::new(builder("threads").generate(KeyType::P256).unwrap());
    let signer = Arc::new(
        AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
            .build()
            .unwrap(),
    );
    let verifier = Arc::new(verifier(&*key));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let signer = signer.clone();
            let verifier = verifier.clone();
            std::thread::spawn(move || {
                for _ in 0..PER_THREAD {
                    let assertion = signer.sign().unwrap();
                    verifier.verify(assertion.as_str()).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("a signing thread failed");
    }
    assert!(key.open_sessions() <= key.max_sessions());
    assert!(key.open_sessions() >= 1);
}

#[test]
fn wrong_pin_is_a_typed_error() {
    let _t = setup();
    builder("pin-check").generate(KeyType::P256).unwrap();
    // Every key source of this test binary is dropped by now, so the token
    // is logged out and C_Login checks the PIN.
    let err = Pkcs11Key::builder(MODULE)
        .token_label(TOKEN)
        .pin(Pin::new("000000"))
        .key_label("pin-check")
        .open()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyAccessDenied);
    assert!(
        matches!(pkcs11_error(&err), Pkcs11Error::PinIncorrect { rv } if rv == "CKR_PIN_INCORRECT"),
        "{err:?}"
    );
}

#[test]
fn missing_token_is_a_typed_error() {
    let _t = setup();
    let err = Pkcs11Key::builder(MODULE)
        .token_label("no-such-token")
        .pin(Pin::new(USER_PIN))
        .key_label("x")
        .open()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyUnavailable);
    assert_eq!(
        pkcs11_error(&err),
        &Pkcs11Error::TokenNotFound {
            label: "no-such-token".into()
        }
    );
    let err = Pkcs11Key::builder(MODULE)
        .slot(987_654)
        .pin(Pin::new(USER_PIN))
        .key_label("x")
        .open()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyUnavailable);
    assert_eq!(
        pkcs11_error(&err),
        &Pkcs11Error::SlotNotFound { slot: 987_654 }
    );
}

#[test]
fn missing_key_is_a_typed_error() {
    let _t = setup();
    let err = builder("no-such-key").open().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyNotFound);
    assert_eq!(
        pkcs11_error(&err),
        &Pkcs11Error::KeyNotFound {
            label: Some("no-such-key".into()),
            id: None
        }
    );
    // And a label that exists, twice: ambiguous; generation refuses it too.
    builder("twice")
        .key_id(b"t1".to_vec())
        .generate(KeyType::P256)
        .unwrap();
    let err = builder("twice")
        .key_id(b"t2".to_vec())
        .generate(KeyType::P256)
        .unwrap_err();
    assert!(
        matches!(pkcs11_error(&err), Pkcs11Error::KeyExists { .. }),
        "{err:?}"
    );
}

#[test]
fn wrong_module_path_is_a_typed_error() {
    let _t = setup();
    for module in ["/nonexistent/libsofthsm2.so", "/etc/hostname"] {
        let err = Pkcs11Key::builder(module)
            .token_label(TOKEN)
            .pin(Pin::new(USER_PIN))
            .key_label("x")
            .open()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KeyBackend);
        assert!(
            matches!(pkcs11_error(&err), Pkcs11Error::ModuleLoad { path, .. } if path == Path::new(module)),
            "{err:?}"
        );
    }
}

#[test]
fn key_type_not_matching_the_algorithm_is_a_typed_error() {
    let _t = setup();
    builder("mismatch").generate(KeyType::P384).unwrap();
    let err = builder("mismatch")
        .algorithm(Algorithm::Es256)
        .open()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed);
    assert_eq!(
        pkcs11_error(&err),
        &Pkcs11Error::KeyTypeMismatch {
            requested: Algorithm::Es256,
            found: KeyType::P384
        }
    );
    // Generation checks it before touching the token.
    let err = builder("mismatch-2")
        .algorithm(Algorithm::Rs256)
        .generate(KeyType::Ed25519)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlgorithmNotAllowed);
}

#[test]
fn rsa_below_2048_bits_is_refused() {
    let _t = setup();
    assert_eq!(
        builder("rsa-1024").generate_rsa(1024).unwrap_err().kind(),
        ErrorKind::WeakKey
    );
    // A weak key put on the token by other means is refused when opened.
    let ctx = pkcs11::context(MODULE).unwrap();
    let opener = builder("es-probe").generate(KeyType::P256).unwrap();
    let session = ctx
        .open_rw_session(opener.slot_id().try_into().unwrap())
        .unwrap();
    session
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::ModulusBits(1024.into()),
                Attribute::PublicExponent(vec![1, 0, 1]),
                Attribute::Label(b"rsa-1024".to_vec()),
                Attribute::Id(b"weak".to_vec()),
            ],
            &[
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Sign(true),
                Attribute::Label(b"rsa-1024".to_vec()),
                Attribute::Id(b"weak".to_vec()),
            ],
        )
        .unwrap();
    drop(session);
    assert_eq!(
        builder("rsa-1024").open().unwrap_err().kind(),
        ErrorKind::WeakKey
    );
}

#[test]
fn signing_survives_a_lost_session_and_a_logout() {
    let _t = setup();
    let key = Arc::new(builder("recovery").generate(KeyType::P256).unwrap());
    let verifier = verifier(&*key);
    let signer = AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
        .build()
        .unwrap();
    verifier.verify(signer.sign().unwrap().as_str()).unwrap();
    let ctx = pkcs11::context(MODULE).unwrap();

    // 1. Logged out behind the key source's back (C_Logout applies to every
    //    session of the application): the next signature logs in again.
    {
        let session = ctx
            .open_ro_session(key.slot_id().try_into().unwrap())
            .unwrap();
        session.logout().unwrap();
    }
    verifier.verify(signer.sign().unwrap().as_str()).unwrap();

    // 2. Every session closed behind its back: C_Finalize closes all sessions
    //    of the application; C_Initialize brings the module back. Session
    //    handles and the key's object handle are now stale.
    ctx.clone().finalize().unwrap();
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    for _ in 0..3 {
        verifier.verify(signer.sign().unwrap().as_str()).unwrap();
    }

    // 3. Finalised and left so: the key source initialises the module again.
    ctx.clone().finalize().unwrap();
    verifier.verify(signer.sign().unwrap().as_str()).unwrap();

    // 4. Several sessions in the pool (two threads signed at once), then a
    //    reset while both threads keep signing.
    let sign_in_two_threads = |n: usize| {
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..n {
                        verifier.verify(signer.sign().unwrap().as_str()).unwrap();
                    }
                });
            }
        })
    };
    sign_in_two_threads(100);
    ctx.clone().finalize().unwrap();
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .unwrap();
    sign_in_two_threads(100);
    assert!(key.open_sessions() <= key.max_sessions());
}

#[test]
fn a_key_destroyed_behind_the_back_is_a_typed_error() {
    let _t = setup();
    let key = builder("destroyed").generate(KeyType::P256).unwrap();
    key.sign(Algorithm::Es256, b"before").unwrap();
    let ctx = pkcs11::context(MODULE).unwrap();
    let session = ctx
        .open_rw_session(key.slot_id().try_into().unwrap())
        .unwrap();
    for handle in session
        .find_objects(&[Attribute::Label(b"destroyed".to_vec())])
        .unwrap()
    {
        session.destroy_object(handle).unwrap();
    }
    drop(session);
    // The handle is stale; looking the key up again finds nothing.
    let err = key.sign(Algorithm::Es256, b"after").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyNotFound);
    assert!(
        matches!(
            pkcs11_error(&err),
            Pkcs11Error::KeyNotFound { label: Some(label), id: Some(id) }
                if label == "destroyed" && id == key.id()
        ),
        "{err:?}"
    );
}

#[test]
fn sessions_are_bounded_and_reused() {
    let _t = setup();
    let key = Arc::new(
        builder("bounded")
            .max_sessions(1)
            .generate(KeyType::Ed25519)
            .unwrap(),
    );
    let signer = Arc::new(
        AssertionSigner::builder(key.clone(), CLIENT, AUDIENCE)
            .build()
            .unwrap(),
    );
    let verifier = Arc::new(verifier(&*key));
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                for _ in 0..50 {
                    verifier.verify(signer.sign().unwrap().as_str()).unwrap();
                }
            });
        }
    });
    assert_eq!(key.open_sessions(), 1);
}

#[test]
fn debug_never_shows_the_pin() {
    let _t = setup();
    let pin = Pin::new(USER_PIN);
    assert_eq!(format!("{pin:?}"), "Pin([redacted])");
    let b = builder("debug");
    let shown = format!("{b:?}");
    assert!(!shown.contains(USER_PIN), "{shown}");
    let key = b.generate(KeyType::P256).unwrap();
    for shown in [format!("{key:?}"), format!("{key:#?}")] {
        assert!(!shown.contains(USER_PIN), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
        assert!(shown.contains(key.kid()), "{shown}");
    }
    // Errors neither.
    let err = Pkcs11Key::builder(MODULE)
        .token_label(TOKEN)
        .pin(Pin::new("999999"))
        .key_label("debug")
        .open();
    if let Err(err) = err {
        assert!(!format!("{err:?} {err}").contains("999999"));
    }
}

#[test]
fn pin_is_read_from_env_or_file() {
    let _t = setup();
    std::env::set_var("CLIENT_ASSERTION_TEST_PIN", USER_PIN);
    let key = Pkcs11Key::builder(MODULE)
        .token_label(TOKEN)
        .pin(Pin::from_env("CLIENT_ASSERTION_TEST_PIN").unwrap())
        .key_label("from-env")
        .generate(KeyType::P256)
        .unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), format!("{USER_PIN}\n")).unwrap();
    let by_file = Pkcs11Key::builder(MODULE)
        .slot(key.slot_id())
        .pin(Pin::from_file(file.path()).unwrap())
        .key_id(key.id().to_vec())
        .open()
        .unwrap();
    assert_eq!(by_file.kid(), key.kid());
    assert_eq!(by_file.label(), Some("from-env"));

    let err = Pin::from_env("CLIENT_ASSERTION_TEST_PIN_UNSET").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(matches!(
        pkcs11_error(&err),
        Pkcs11Error::PinUnavailable { .. }
    ));
    let err = Pin::from_file("/nonexistent/pin").unwrap_err();
    assert!(matches!(
        pkcs11_error(&err),
        Pkcs11Error::PinUnavailable { .. }
    ));
}

#[test]
fn a_key_ring_rotates_to_keys_generated_on_the_token() {
    let _t = setup();
    let clock = Arc::new(ManualClock::at_unix(1_700_000_000));
    let day = std::time::Duration::from_secs(86_400);
    let factory = Pkcs11KeyFactory::new(KeyType::P256, "ring", || {
        Ok(Pkcs11Key::builder(MODULE)
            .token_label(TOKEN)
            .pin(Pin::new(USER_PIN)))
    });
    let ring = Arc::new(
        KeyRing::new(
            RotationPolicy::new(day).lead_time(day / 4),
            Arc::new(factory),
            clock.clone(),
        )
        .unwrap(),
    );
    let first = ring.kid().into_owned();
    clock.advance(day * 3 / 4);
    ring.tick().unwrap();
    clock.advance(day / 4);
    ring.tick().unwrap();
    let signer = AssertionSigner::builder(ring.clone(), CLIENT, AUDIENCE)
        .clock(clock.clone())
        .build()
        .unwrap();
    let assertion = signer.sign().unwrap();
    assert_ne!(assertion.kid(), first, "rotated to the token's second key");
    let registry = Arc::new(ClientRegistry::new());
    registry
        .register_jwks_json(CLIENT, ring.jwks().as_str())
        .unwrap();
    Verifier::builder(AUDIENCE, registry)
        .clock(clock)
        .build()
        .unwrap()
        .verify(assertion.as_str())
        .unwrap();
}

#[test]
fn the_test_count_is_current() {
    let _t = setup();
    let source = include_str!("pkcs11.rs");
    assert_eq!(source.matches("\n#[test]\n").count(), TESTS);
}
