"""Compact receipts for printed QR codes: CBOR + COSE_Sign1 (Ed25519) + Base45."""

from __future__ import annotations

from datetime import UTC, datetime

import cbor2
import pytest
import qrcode
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.compact import (
    BASE45_ALPHABET,
    PREFIX,
    b45decode,
    b45encode,
    encode_compact,
    peek_kid,
    verify_compact,
)
from payments.errors import InvalidReceipt
from payments.receipts import ReceiptSigner, build_receipt_claims, generate_signing_key, receipt_qr

KEY = Ed25519PrivateKey.generate()
KID = "landpay-1"
KEYS = {KID: KEY.public_key()}
PAID = datetime(2026, 3, 1, 8, 31, 52, tzinfo=UTC)
#: A realistic receipt: the number and notice code as the service makes them.
FACTS = {"receipt_id": "BL260301A1B2C3D4E5", "notice_code": "TBK7M2Q9XZ", "total": 1_512_345_678,
         "paid_at": PAID}


def compact(key=KEY, kid=KID, **over) -> str:
    return encode_compact(key, kid, **{**FACTS, **over})


def test_round_trip():
    claims = verify_compact(compact(), KEYS)
    assert (claims.receipt_id, claims.notice_code, claims.total, claims.paid_at, claims.kid) == (
        "BL260301A1B2C3D4E5", "TBK7M2Q9XZ", 1_512_345_678, PAID, KID)
    assert claims.as_dict()["paid_at"] == "2026-03-01T08:31:52Z"
    assert peek_kid(compact()) == KID


def test_text_is_qr_alphanumeric_with_prefix():
    text = compact()
    assert text.startswith(PREFIX)
    assert set(text) <= set(BASE45_ALPHABET)


@pytest.mark.parametrize(("raw", "text"), [
    (b"AB", "BB8"), (b"Hello!!", "%69 VD92EX0"), (b"base-45", "UJCLQE7W581"), (b"ietf!", "QED8WEX0"),
    (b"", ""), (b"\x00\x00", "000"), (b"\xff\xff", "FGW"),
])
def test_base45_rfc9285_vectors(raw, text):
    assert b45encode(raw) == text
    assert b45decode(text) == raw


@pytest.mark.parametrize("bad", ["GGW", "GGWGGW", "A", "AB:C", "abc", "ZZ", "BB8é"])
def test_base45_is_strict(bad):
    with pytest.raises(ValueError):
        b45decode(bad)


@given(st.binary(max_size=200))
def test_base45_round_trip(data):
    assert b45decode(b45encode(data)) == data


@settings(max_examples=40, deadline=None)
@given(
    receipt_id=st.text(min_size=1, max_size=30),
    notice_code=st.text(min_size=1, max_size=30),
    total=st.integers(min_value=0, max_value=2**63),
    seconds=st.integers(min_value=0, max_value=4_102_444_800),
)
def test_round_trip_any_claims(receipt_id, notice_code, total, seconds):
    paid = datetime.fromtimestamp(seconds, UTC)
    text = compact(receipt_id=receipt_id, notice_code=notice_code, total=total, paid_at=paid)
    claims = verify_compact(text, KEYS)
    assert (claims.receipt_id, claims.notice_code, claims.total, claims.paid_at) == (
        receipt_id, notice_code, total, paid)


def test_every_changed_character_is_refused():
    text = compact()
    for i, char in enumerate(text):
        other = BASE45_ALPHABET[(BASE45_ALPHABET.index(char) + 1) % 45] if char in BASE45_ALPHABET else "A"
        with pytest.raises(InvalidReceipt):
            verify_compact(text[:i] + other + text[i + 1:], KEYS)


def test_every_changed_byte_is_refused():
    raw = b45decode(compact()[len(PREFIX):])
    for i in range(len(raw)):
        for flip in (0x01, 0x80):
            changed = raw[:i] + bytes([raw[i] ^ flip]) + raw[i + 1:]
            with pytest.raises(InvalidReceipt):
                verify_compact(PREFIX + b45encode(changed), KEYS)


def test_truncated_or_extended_is_refused():
    text = compact()
    for cut in (1, 2, 3, 30, len(text) - len(PREFIX)):
        with pytest.raises(InvalidReceipt):
            verify_compact(text[:-cut], KEYS)
    with pytest.raises(InvalidReceipt):
        verify_compact(text + "000", KEYS)


def test_wrong_key_is_refused():
    other = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidReceipt) as err:
        verify_compact(compact(key=other), KEYS)  # same kid, another key
    assert err.value.reason == InvalidReceipt.BAD_SIGNATURE
    with pytest.raises(InvalidReceipt) as err:
        verify_compact(compact(kid="landpay-9"), KEYS)  # a key nobody published
    assert err.value.reason == InvalidReceipt.UNKNOWN_KID


def _resigned(protected: dict, unprotected: dict, payload: dict, *, tag: int = 18,
              canonical: bool = True) -> str:
    """A message signed correctly but shaped as given, to test what the parser accepts."""
    from payments.compact import _sig_structure

    prot = cbor2.dumps(protected, canonical=True)
    body = cbor2.dumps(payload, canonical=True)
    sig = KEY.sign(_sig_structure(prot, body))
    message = cbor2.CBORTag(tag, [prot, unprotected, body, sig])
    return PREFIX + b45encode(cbor2.dumps(message, canonical=canonical))


GOOD_PAYLOAD = {1: "BL1", 2: "TB1", 3: 5, 4: 1_700_000_000}


def test_the_test_builder_makes_valid_messages():
    assert verify_compact(_resigned({1: -8, 4: KID.encode()}, {}, GOOD_PAYLOAD), KEYS).total == 5
    assert verify_compact(_resigned({1: -19, 4: KID.encode()}, {}, GOOD_PAYLOAD), KEYS).total == 5


@pytest.mark.parametrize(("protected", "unprotected", "payload", "tag", "reason"), [
    ({1: -7, 4: KID.encode()}, {}, GOOD_PAYLOAD, 18, InvalidReceipt.WRONG_ALG),  # ES256
    ({1: -8, 4: KID.encode(), 2: 1}, {}, GOOD_PAYLOAD, 18, InvalidReceipt.MALFORMED),
    ({1: -8}, {4: KID.encode()}, GOOD_PAYLOAD, 18, InvalidReceipt.MALFORMED),
    ({1: -8, 4: KID.encode()}, {}, GOOD_PAYLOAD, 98, InvalidReceipt.MALFORMED),
    ({1: -8, 4: KID.encode()}, {}, {1: "BL1", 2: "TB1", 3: 5}, 18, InvalidReceipt.MALFORMED),
    ({1: -8, 4: KID.encode()}, {}, {**GOOD_PAYLOAD, 3: -5}, 18, InvalidReceipt.MALFORMED),
    ({1: -8, 4: KID.encode()}, {}, {**GOOD_PAYLOAD, 3: "5"}, 18, InvalidReceipt.MALFORMED),
])
def test_signed_but_malformed_is_refused(protected, unprotected, payload, tag, reason):
    with pytest.raises(InvalidReceipt) as err:
        verify_compact(_resigned(protected, unprotected, payload, tag=tag), KEYS)
    assert err.value.reason == reason


def test_non_canonical_cbor_is_refused():
    """The same message with a needlessly long integer head: same meaning, other bytes."""
    good = b45decode(compact()[len(PREFIX):])
    assert good[0] == 0xD2  # tag 18 in one byte
    long_tag = bytes([0xD8, 18]) + good[1:]
    with pytest.raises(InvalidReceipt) as err:
        verify_compact(PREFIX + b45encode(long_tag), KEYS)
    assert "canonical" in str(err.value)


def test_overlong_or_foreign_text_is_refused():
    for text in ("", "HC1:ABC", PREFIX + "0" * 900, "eyJ.eyJ.sig", None):
        with pytest.raises(InvalidReceipt):
            verify_compact(text, KEYS)


def test_encode_refuses_bad_facts():
    for over in ({"total": -1}, {"total": True}, {"receipt_id": ""},
                 {"paid_at": datetime(2026, 3, 1)}):  # noqa: DTZ001 - naive on purpose
        with pytest.raises(ValueError):
            compact(**over)


# --- QR size --------------------------------------------------------------------------------

#: The printed code's QR version at error correction M: 49 x 49 modules for a realistic
#: receipt (totals under 2^32 dong), 53 x 53 at most for any total and a kid of 12 characters.
TYPICAL_MAX_VERSION = 8
WORST_MAX_VERSION = 9


def _claims(total: int) -> dict:
    return build_receipt_claims(
        receipt_id="BL260301A1B2C3D4E5", payment_id="12345", order_ref="LP260301A1B2C3D4E5",
        notice_code="TBK7M2Q9XZ", dossier_code="HSK7M2Q9XZ", payer_name="Trần Thị Bình",
        paid_for=["Trần Thị Bình", "Nguyễn Văn An"],
        parties={"procedure": "transfer", "transferors": ["Nguyễn Văn An"],
                 "transferees": ["Trần Thị Bình"], "holders": []},
        lines=[("registration_fee", 4_500_000), ("personal_income_tax", total - 4_500_000)],
        bank_ref="MB8F3A2C91D0E4", paid_at=PAID, issued_at=PAID, issuer="LandPay", total=total)


def test_printed_qr_is_small():
    signer = ReceiptSigner(generate_signing_key(), "landpay-1")
    claims = _claims(4_000_000_000)
    small = receipt_qr(signer.sign_compact(claims))
    full = receipt_qr(signer.sign(claims))
    assert small.version <= TYPICAL_MAX_VERSION
    assert small.error_correction == qrcode.constants.ERROR_CORRECT_M
    assert full.version >= small.version + 8  # what the compact form is for


def test_printed_qr_is_bounded_for_any_total_and_kid():
    signer = ReceiptSigner(generate_signing_key(), "lp261128abcd")  # 12 characters
    assert receipt_qr(signer.sign_compact(_claims(2**63))).version <= WORST_MAX_VERSION


def test_documented_example():
    """docs/protocols/e-receipt.md shows the compact receipt of its example key: it is the one
    we make, and it verifies."""
    import hashlib
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocols" / "e-receipt.md").read_text()
    documented = re.search(r"^(LP1:\S.*)$", doc, re.MULTILINE).group(1)
    key = Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(b"landpay documentation example key").digest())
    made = encode_compact(key, "landpay-example-1", receipt_id="BL-2025-000001",
                          notice_code="TB-2025-000123", total=12_500_000,
                          paid_at=datetime(2025, 3, 1, 8, 31, 52, tzinfo=UTC))
    assert made == documented
    claims = verify_compact(documented, {"landpay-example-1": key.public_key()})
    assert (claims.receipt_id, claims.total, int(claims.paid_at.timestamp())) == (
        "BL-2025-000001", 12_500_000, 1740817912)
