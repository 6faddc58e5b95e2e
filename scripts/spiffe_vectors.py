#!/usr/bin/env python3
"""Writes tests/data/federation/spiffe_vectors.json with an independent
SPIFFE implementation: the `spiffe` package on PyPI (py-spiffe 0.3.2, with
PyJWT and cryptography).

    python3 -m venv /tmp/spiffe-venv
    /tmp/spiffe-venv/bin/pip install spiffe==0.3.2
    /tmp/spiffe-venv/bin/python scripts/spiffe_vectors.py

The vectors are committed; the Rust tests (tests/federation_spiffe.rs)
read them and need no network. Contents:

- "ids": candidate SPIFFE IDs with py-spiffe's verdict (SpiffeId(...)) and,
  when valid, its trust domain and path.
- "bundle": a JWT bundle document (a P-256 key with use "jwt-svid" and a
  kid, an RSA key with use "sig" under another kid, spiffe_sequence,
  spiffe_refresh_hint) and py-spiffe's parse of it (JwtBundle.parse).
- "svids": JWT-SVIDs signed with those keys by PyJWT, with py-spiffe's
  verdict from JwtSvid.parse_and_validate at their issue time ("now").
"""

import json
import pathlib
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from spiffe import JwtBundle, JwtSvid, SpiffeId, TrustDomain

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/data/federation/spiffe_vectors.json"
AUDIENCE = "https://as.example.com"

IDS = [
    "spiffe://example.org",
    "spiffe://example.org/ns/prod/sa/api",
    "spiffe://example.org/a.b-c_d/E9",
    "spiffe://example.org/ns/prod/",
    "spiffe://example.org//double",
    "spiffe://example.org/ns/../admin",
    "spiffe://example.org/ns/./x",
    "spiffe://Example.org/x",
    "spiffe://example.org:8080/x",
    "spiffe://user@example.org/x",
    "spiffe:///x",
    "spiffe://",
    "SPIFFE://example.org/x",
    "https://example.org/x",
    "spiffe://example.org/x?query",
    "spiffe://example.org/x#frag",
    "spiffe://example.org/sp ace",
    "spiffe://example.org/%41",
    "spiffe://exa$mple.org/x",
    "spiffe://example.org/ü",
    "spiffe://a_b-c.0/x",
    "spiffe://example.org/..",
    "spiffe://example.org/...",
]


def id_vector(candidate):
    try:
        sid = SpiffeId(candidate)
        return {"id": candidate, "valid": True, "trust_domain": sid.trust_domain.name, "path": sid.path}
    except Exception as err:  # py-spiffe raises SpiffeIdError / TrustDomainError
        return {"id": candidate, "valid": False, "error": type(err).__name__}


def jwk(key, kid, use):
    public = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key(), as_dict=True) if isinstance(
        key, ec.EllipticCurvePrivateKey) else jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    public["kid"] = kid
    public["use"] = use
    return public


def main():
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bundle = {
        "spiffe_sequence": 42,
        "spiffe_refresh_hint": 300,
        "keys": [jwk(ec_key, "svid-ec", "jwt-svid"), jwk(rsa_key, "plain-sig", "sig")],
    }
    td = TrustDomain("example.org")
    parsed = JwtBundle.parse(td, json.dumps(bundle).encode())
    now = int(time.time())
    base = {"sub": "spiffe://example.org/ns/prod/sa/api", "aud": [AUDIENCE], "iat": now, "exp": now + 300}
    cases = [
        ("es256_typ_jwt", ec_key, "svid-ec", "ES256", {"typ": "JWT"}, base),
        ("es256_typ_jose", ec_key, "svid-ec", "ES256", {"typ": "JOSE"}, base),
        ("es256_no_typ", ec_key, "svid-ec", "ES256", {}, base),
        ("typ_client_authentication", ec_key, "svid-ec", "ES256", {"typ": "client-authentication+jwt"}, base),
        ("use_sig_key", rsa_key, "plain-sig", "RS256", {"typ": "JWT"}, base),
        ("no_aud", ec_key, "svid-ec", "ES256", {"typ": "JWT"}, {k: v for k, v in base.items() if k != "aud"}),
        ("no_exp", ec_key, "svid-ec", "ES256", {"typ": "JWT"}, {k: v for k, v in base.items() if k != "exp"}),
        ("other_audience", ec_key, "svid-ec", "ES256", {"typ": "JWT"}, dict(base, aud=["https://other.example"])),
        ("bad_spiffe_id", ec_key, "svid-ec", "ES256", {"typ": "JWT"}, dict(base, sub="spiffe://example.org/ns/../admin")),
    ]
    svids = []
    for name, key, kid, alg, extra, claims in cases:
        headers = dict(extra, kid=kid)
        token = jwt.encode(claims, key, algorithm=alg, headers=headers)
        if "typ" not in extra:
            # PyJWT always writes typ JWT: rebuild the header without it.
            token = jwt.api_jws.PyJWS().encode(
                json.dumps(claims).encode(), key, algorithm=alg, headers={"kid": kid, "typ": None})
        try:
            JwtSvid.parse_and_validate(token, parsed, {AUDIENCE})
            verdict = {"valid": True}
        except Exception as err:
            verdict = {"valid": False, "error": type(err).__name__}
        svids.append({"name": name, "token": token, "now": now, "py_spiffe": verdict})
    out = {
        "generator": "scripts/spiffe_vectors.py with spiffe (py-spiffe) 0.3.2, PyJWT, cryptography",
        "audience": AUDIENCE,
        "ids": [id_vector(c) for c in IDS],
        "bundle": {
            "trust_domain": "example.org",
            "document": bundle,
            "py_spiffe_authorities": sorted(parsed.jwt_authorities.keys()),
        },
        "svids": svids,
    }
    OUT.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
