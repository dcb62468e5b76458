"""E-receipts: compact JWS with Ed25519, verified offline from a JWKS."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from payments.errors import InvalidReceipt, PaymentError
from payments.receipts import (
    ReceiptSigner,
    b64url_encode,
    build_receipt_claims,
    canonical_json,
    generate_signing_key,
    jwks,
    receipt_qr_png,
    verify_receipt,
)

PAID = datetime(2025, 3, 1, 8, 31, 52, tzinfo=UTC)
ISSUED = datetime(2025, 3, 1, 8, 32, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signer() -> ReceiptSigner:
    return ReceiptSigner(generate_signing_key(), "landpay-2025-1")


def claims(**over):  # type: ignore[no-untyped-def]
    args = dict(
        receipt_id="BL-2025-000001",
        payment_id="42",
        order_ref="PAY-20250301-0001",
        notice_code="TB-2025-000123",
        dossier_code="HS-2025-000777",
        payer_name="Nguyễn Văn An",
        lines=[
            ("registration_fee", 2_500_000),
            {"obligation": "personal_income_tax", "amount": 10_000_000},
        ],
        bank_ref="MB20250301000001",
        paid_at=PAID,
        issued_at=ISSUED,
        issuer="LandPay",
    )
    args.update(over)
    return build_receipt_claims(**args)


def test_claims_shape():
    c = claims()
    assert c["total"] == 12_500_000
    assert c["lines"][1] == {"obligation": "personal_income_tax", "amount": 10_000_000}
    assert c["paid_at"] == "2025-03-01T08:31:52Z"
    assert c["issued_at"] == "2025-03-01T08:32:00Z"
    assert c["currency"] == "VND" and c["v"] == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"lines": []},
        {"lines": [("fee", 1.5)]},
        {"lines": [("fee", -1)]},
        {"lines": [("", 1)]},
        {"total": 1},
        {"paid_at": datetime(2025, 3, 1)},
    ],
)
def test_claims_refuse_bad_input(bad):
    with pytest.raises(ValueError):
        claims(**bad)


def test_canonical_json():
    assert canonical_json({"b": 1, "a": "đ", "c": [1, {"z": 0, "y": None}]}) == (
        '{"a":"đ","b":1,"c":[1,{"y":null,"z":0}]}'.encode()
    )
    with pytest.raises(TypeError):
        canonical_json({"amount": 1.0})


def test_sign_and_verify(signer):
    token = signer.sign(claims())
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "EdDSA", "kid": "landpay-2025-1", "typ": "landpay-receipt+jwt"}
    payload = base64.urlsafe_b64decode(token.split(".")[1] + "===")
    assert payload == canonical_json(claims())
    assert "=" not in token
    assert verify_receipt(token, jwks([signer]), now=ISSUED) == claims()


def test_public_jwk(signer):
    jwk = signer.public_jwk()
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["kid"] == "landpay-2025-1"
    assert "d" not in jwk and len(base64.urlsafe_b64decode(jwk["x"] + "=")) == 32
    assert jwks([jwk | {"d": "secret"}]) == {"keys": [jwk]}
    assert "PRIVATE" not in repr(signer)


def test_key_rotation_by_kid(signer):
    new = ReceiptSigner(generate_signing_key(), "landpay-2026-1")
    keyset = jwks([signer, new.public_jwk()])
    assert verify_receipt(signer.sign(claims()), keyset)["receipt_id"] == "BL-2025-000001"
    assert verify_receipt(new.sign(claims()), keyset)["receipt_id"] == "BL-2025-000001"


def reason(token, keyset):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidReceipt) as info:
        verify_receipt(token, keyset)
    assert isinstance(info.value, PaymentError)
    return info.value.reason


def test_tampered_payload(signer):
    header, payload, sig = signer.sign(claims()).split(".")
    forged = b64url_encode(canonical_json(claims(lines=[("registration_fee", 1)])))
    assert reason(f"{header}.{forged}.{sig}", jwks([signer])) == "bad_signature"


def test_signature_by_another_key_with_same_kid(signer):
    impostor = ReceiptSigner(generate_signing_key(), signer.kid)
    assert reason(impostor.sign(claims()), jwks([signer])) == "bad_signature"


def test_unknown_kid(signer):
    other = ReceiptSigner(generate_signing_key(), "someone-else")
    assert reason(other.sign(claims()), jwks([signer])) == "unknown_kid"
    assert reason(signer.sign(claims()), {"keys": []}) == "unknown_kid"
    assert reason(signer.sign(claims()), {}) == "unknown_kid"


def forge(signer_key, header, payload):  # type: ignore[no-untyped-def]
    signing_input = (
        b64url_encode(canonical_json(header)) + "." + b64url_encode(canonical_json(payload))
    )
    return signing_input + "." + b64url_encode(signer_key.sign(signing_input.encode()))


@pytest.fixture(scope="module")
def raw_key():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key, ReceiptSigner(pem, "raw")


@pytest.mark.parametrize("alg", ["HS256", "none", "RS256", "ES256", None, "eddsa"])
def test_wrong_alg(raw_key, alg):
    key, signer = raw_key
    header = {"kid": "raw"} | ({"alg": alg} if alg else {})
    assert reason(forge(key, header, claims()), jwks([signer])) == "wrong_alg"


def test_fully_specified_ed25519_alg_is_accepted(raw_key):
    key, signer = raw_key
    token = forge(key, {"alg": "Ed25519", "kid": "raw"}, claims())
    assert verify_receipt(token, jwks([signer]))["total"] == 12_500_000


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "!!!.e30.AA", "e30.e30.AA=", "W10.e30.AA", 12],
)
def test_malformed(signer, token):
    assert reason(token, jwks([signer])) == "malformed"


def test_critical_header_is_refused(raw_key):
    key, signer = raw_key
    token = forge(key, {"alg": "EdDSA", "kid": "raw", "crit": ["exp"]}, claims())
    assert reason(token, jwks([signer])) == "malformed"


def test_payload_must_be_an_object(raw_key):
    key, signer = raw_key
    assert reason(forge(key, {"alg": "EdDSA", "kid": "raw"}, [1]), jwks([signer])) == "malformed"


def test_receipt_from_the_future(signer):
    token = signer.sign(claims())
    with pytest.raises(InvalidReceipt) as info:
        verify_receipt(token, jwks([signer]), now=ISSUED - timedelta(hours=1))
    assert info.value.reason == "not_yet_valid"
    assert verify_receipt(token, jwks([signer]), now=ISSUED - timedelta(minutes=4))


def test_signer_needs_an_ed25519_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ValueError):
        ReceiptSigner(pem, "x")


def test_generated_key_is_pkcs8_pem():
    assert generate_signing_key().startswith("-----BEGIN PRIVATE KEY-----")


def test_qr_png(signer):
    png = receipt_qr_png(signer.sign(claims()))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_joserfc_reads_our_token(signer):
    """An independent JOSE library verifies what we sign (RFC 8037 interoperability)."""
    from joserfc import jws
    from joserfc.jwk import OKPKey

    token = signer.sign(claims())
    key = OKPKey.import_key(signer.public_jwk())
    obj = jws.deserialize_compact(token, key, algorithms=["EdDSA"])
    assert json.loads(obj.payload) == claims()


#: The example of docs/protocols/e-receipt.md.
DOC_SEED = "6e3443e833818061b27dccd4b84b0c6ec144caa9b1d03cec76572ee3c2618759"
DOC_TOKEN = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6ImxhbmRwYXktZXhhbXBsZS0xIiwidHlwIjoibGFuZHBheS1yZWNlaXB0K2p3"
    "dCJ9.eyJiYW5rX3JlZiI6Ik1CMjAyNTAzMDEwMDAwMDEiLCJjdXJyZW5jeSI6IlZORCIsImRvc3NpZXJfY29kZSI"
    "6IkhTLTIwMjUtMDAwNzc3IiwiaXNzdWVkX2F0IjoiMjAyNS0wMy0wMVQwODozMjowMFoiLCJpc3N1ZXIiOiJMYW5"
    "kUGF5IiwibGluZXMiOlt7ImFtb3VudCI6MjUwMDAwMCwib2JsaWdhdGlvbiI6InJlZ2lzdHJhdGlvbl9mZWUifSx"
    "7ImFtb3VudCI6MTAwMDAwMDAsIm9ibGlnYXRpb24iOiJwZXJzb25hbF9pbmNvbWVfdGF4In1dLCJub3RpY2VfY29"
    "kZSI6IlRCLTIwMjUtMDAwMTIzIiwib3JkZXJfcmVmIjoiUEFZLTIwMjUwMzAxLTAwMDEiLCJwYWlkX2F0IjoiMjA"
    "yNS0wMy0wMVQwODozMTo1MloiLCJwYXllcl9uYW1lIjoiTmd1eWVuIFZhbiBBbiIsInBheW1lbnRfaWQiOiI0MiI"
    "sInJlY2VpcHRfaWQiOiJCTC0yMDI1LTAwMDAwMSIsInRvdGFsIjoxMjUwMDAwMCwidiI6MX0.cPSJb8eAxnQu6a6"
    "_ATLux4jatInUp38U-gHjZ8FuCP6-cd-sQ85EK1DXV98LQCUeVq0qxxyaVXafCNtgkJrdCQ"
)


def test_documented_example():
    import hashlib

    from cryptography.hazmat.primitives import serialization

    seed = hashlib.sha256(b"landpay documentation example key").digest()
    assert seed.hex() == DOC_SEED
    pem = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    signer = ReceiptSigner(pem, "landpay-example-1")
    assert signer.public_jwk()["x"] == "o9Dxxy_tbJDiNEN7T02qc86Fbi9VMRhhRBjRMjafFA0"
    example = claims(
        payer_name="Nguyen Van An",
        lines=[("registration_fee", 2_500_000), ("personal_income_tax", 10_000_000)],
    )
    assert signer.sign(example) == DOC_TOKEN
    assert verify_receipt(DOC_TOKEN, jwks([signer.public_jwk()])) == example
