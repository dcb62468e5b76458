"""The full receipt (JWS) has one spelling: non-canonical base64url is refused; either kind of
receipt verifies through one entry point."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from payments.errors import InvalidReceipt
from payments.receipts import (
    ReceiptSigner,
    b64url_decode,
    build_receipt_claims,
    generate_signing_key,
    jwks,
    public_keys,
    verify_any,
    verify_receipt,
)

PAID = datetime(2026, 3, 1, 8, 31, 52, tzinfo=UTC)
SIGNER = ReceiptSigner(generate_signing_key(), "landpay-1")
KEYS = jwks([SIGNER])


def _claims(payer: str) -> dict:
    return build_receipt_claims(
        receipt_id="BL260301A1B2C3D4E5", payment_id="1", order_ref="LP260301A1B2C3D4E5",
        notice_code="TBK7M2Q9XZ", dossier_code="HSK7M2Q9XZ", payer_name=payer,
        lines=[("registration_fee", 4_500_000)], bank_ref="MB1", paid_at=PAID, issued_at=PAID,
        issuer="LandPay")


#: A payer name whose token has unused bits in every part (its length is not a multiple of 3).
CLAIMS = next(c for c in (_claims("Trần Thị Bình" + "x" * n) for n in range(3))
              if len(SIGNER.sign(c).split(".")[1]) % 4 in (2, 3))
TOKEN = SIGNER.sign(CLAIMS)


def test_strict_decoder():
    assert b64url_decode("QQ") == b"A"
    for bad in ("QQ==", "QQ=", "QR", "QW", "Q+", "Q/", "Q Q", "Q", "Q\n"):
        with pytest.raises(ValueError):
            b64url_decode(bad)


def _with_trailing_bits(part: str) -> str:
    """The same bytes, spelt with non-zero unused bits in the last character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    spare = {2: 0b1111, 3: 0b11}[len(part) % 4]
    last = alphabet.index(part[-1])
    assert last & spare == 0
    return part[:-1] + alphabet[last | 1]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_non_canonical_token_parts_are_refused(index):
    parts = TOKEN.split(".")
    assert len(parts[index]) % 4 in (2, 3)  # so each has unused bits to set
    variants = [
        _with_trailing_bits(parts[index]),
        parts[index] + "=" * (-len(parts[index]) % 4),
        parts[index].replace("-", "+").replace("_", "/") if ("-" in parts[index] or "_" in parts[index])
        else parts[index][:-1] + "+",
    ]
    for variant in variants:
        token = ".".join(parts[:index] + [variant] + parts[index + 1:])
        with pytest.raises(InvalidReceipt) as err:
            verify_receipt(token, KEYS)
        assert err.value.reason == InvalidReceipt.MALFORMED, variant


def test_verify_any_reads_both_kinds():
    assert verify_any(TOKEN, KEYS) == ("jws", CLAIMS)
    kind, claims = verify_any(SIGNER.sign_compact(CLAIMS), KEYS)
    assert kind == "compact"
    assert claims == {"receipt_id": "BL260301A1B2C3D4E5", "notice_code": "TBK7M2Q9XZ",
                      "total": 4_500_000, "currency": "VND", "paid_at": "2026-03-01T08:31:52Z",
                      "kid": "landpay-1"}


def test_verify_any_refuses_a_compact_receipt_dated_later():
    with pytest.raises(InvalidReceipt) as err:
        verify_any(SIGNER.sign_compact(CLAIMS), KEYS, now=PAID - timedelta(hours=1))
    assert err.value.reason == InvalidReceipt.NOT_YET_VALID


def test_compact_needs_a_published_key():
    other = ReceiptSigner(generate_signing_key(), "lp2603010a0b")
    keys = jwks([SIGNER, other])
    assert set(public_keys(keys)) == {"landpay-1", "lp2603010a0b"}
    assert verify_any(other.sign_compact(CLAIMS), keys)[0] == "compact"
    with pytest.raises(InvalidReceipt) as err:
        verify_any(other.sign_compact(CLAIMS), KEYS)
    assert err.value.reason == InvalidReceipt.UNKNOWN_KID
