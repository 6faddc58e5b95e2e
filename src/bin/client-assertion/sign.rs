//! `sign`: one client assertion, as the `sign` example mints it (the compact
//! JWS alone on stdout), plus `--profile`, `--grant --subject` (an RFC 7523
//! §2.1 authorization grant) and `--form` (the url-encoded token request
//! body instead of the bare JWS).

use std::sync::Arc;
use std::time::Duration;

use client_assertion::keys::{CertificateChain, CertificateHeaders};
use client_assertion::{Algorithm, AssertionSigner, KeySource};

use crate::common::{unix, Failure, Outcome, Pkcs11Args, Pkcs11Key, ProfileArgs};
use crate::jwks::load_key;

const EXAMPLES: &str = "\
Examples:
  client-assertion sign --key key.pem --client-id my-client --audience https://as.example.com
  client-assertion sign --key key.pem --client-id my-client --audience https://as.example.com --form
  client-assertion sign --key rsa.pem --cert cert.pem --client-id APP-ID \\
      --profile entra-id --tenant contoso.onmicrosoft.com
  client-assertion sign --key key.pem --client-id issuer-app --grant --subject alice \\
      --audience https://as.example.com";

/// `sign` flags.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// The private key file (PKCS#8, SEC1 or PKCS#1 PEM, DER, or a private JWK); `-` for stdin.
    #[arg(long, value_name = "FILE")]
    key: Option<String>,
    #[command(flatten)]
    pkcs11: Pkcs11Args,
    /// The client id, written as iss and sub (with --grant: iss only).
    #[arg(long, value_name = "ID")]
    client_id: String,
    /// The aud claim: the authorization server's issuer identifier (a
    /// profile with a token endpoint audience sets it).
    #[arg(long, value_name = "AUD")]
    audience: Option<String>,
    /// ES256, ES384, EdDSA, RS256 or PS256 (default: the key's, or the profile's).
    #[arg(long, value_name = "ALG")]
    alg: Option<String>,
    /// exp - iat in seconds (default 60, at most 3600).
    #[arg(long, value_name = "SECS")]
    lifetime: Option<u64>,
    /// The key's X.509 certificate (PEM chain leaf first, or DER): adds x5t#S256.
    #[arg(long, value_name = "FILE")]
    cert: Option<String>,
    /// With --cert, also write the chain as x5c.
    #[arg(long, requires = "cert")]
    x5c: bool,
    #[command(flatten)]
    profile: ProfileArgs,
    /// Mint an RFC 7523 §2.1 authorization grant (iss = --client-id, sub = --subject).
    #[arg(long, requires = "subject")]
    grant: bool,
    /// The grant's subject (the principal), with --grant.
    #[arg(long, value_name = "SUB", requires = "grant")]
    subject: Option<String>,
    /// Print the application/x-www-form-urlencoded token request body instead of the JWS.
    #[arg(long)]
    form: bool,
}

pub(crate) fn run(args: Args, json: bool) -> Result<Outcome, Failure> {
    let profile = args.profile.profile()?;
    if args.grant && profile.is_some() {
        return Err(Failure::usage(
            "--profile applies to client authentication, not to --grant",
        ));
    }
    let audience = match (&args.audience, profile.as_ref().and_then(|p| p.audience())) {
        (Some(aud), _) => aud.clone(),
        (None, Some(_)) => String::new(),
        (None, None) => return Err(Failure::usage("--audience AUD is required")),
    };
    let location = key_location(&args)?;
    // The algorithm name is checked before the key is read, so that
    // `--alg none` or `--alg HS256` is refused whatever the key.
    let alg = args
        .alg
        .as_deref()
        .map(Algorithm::from_name)
        .transpose()
        .map_err(|e| Failure::error("--alg", &e))?;
    let key = match location {
        KeyLocation::File(path) => Arc::new(load_key(path)?) as Arc<dyn KeySource>,
        KeyLocation::Pkcs11(pkcs11) => pkcs11.open()?,
    };
    let mut builder = match &args.subject {
        Some(subject) if args.grant => {
            AssertionSigner::grant_builder(key, &args.client_id, subject, audience)
        }
        _ => AssertionSigner::builder(key, &args.client_id, audience),
    };
    if let Some(alg) = alg {
        builder = builder.algorithm(alg);
    }
    if let Some(secs) = args.lifetime {
        builder = builder.lifetime(Duration::from_secs(secs));
    }
    if let Some(path) = &args.cert {
        let chain = CertificateChain::from_file(path).map_err(|e| Failure::error(path, &e))?;
        builder = builder.certificate(chain);
        if args.x5c {
            builder =
                builder.certificate_headers(CertificateHeaders::X5T_S256 | CertificateHeaders::X5C);
        }
    }
    if let Some(profile) = profile {
        builder = builder.profile(profile);
    }
    let signer = builder.build().map_err(|e| Failure::error("", &e))?;
    let assertion = signer.sign().map_err(|e| Failure::error("", &e))?;
    let mut form = assertion.form_params();
    if !args.grant {
        form = form.with_client_id(&args.client_id);
    }
    let body = form.to_urlencoded();
    if json {
        let report = serde_json::json!({
            "ok": true,
            "assertion": assertion.as_str(),
            "form": body,
            "jti": assertion.jti(),
            "kid": assertion.kid(),
            "alg": assertion.algorithm().name(),
            "aud": signer.audience(),
            "iat": unix(assertion.issued_at()),
            "exp": unix(assertion.expires_at()),
        });
        crate::common::print_json(&report);
    } else if args.form {
        println!("{body}");
    } else {
        println!("{}", assertion.as_str());
    }
    Ok(Outcome::Ok)
}

/// Where the signing key is.
enum KeyLocation<'a> {
    File(&'a str),
    Pkcs11(Pkcs11Key),
}

fn key_location(args: &Args) -> Result<KeyLocation<'_>, Failure> {
    match (&args.key, args.pkcs11.key()?) {
        (Some(path), None) => Ok(KeyLocation::File(path)),
        (None, Some(pkcs11)) => Ok(KeyLocation::Pkcs11(pkcs11)),
        (None, None) => Err(Failure::usage("--key FILE (or a PKCS#11 key) is required")),
        (Some(_), Some(_)) => Err(Failure::usage(
            "--key and the --pkcs11-* flags exclude each other",
        )),
    }
}
