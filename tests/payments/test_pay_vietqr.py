"""VietQR payloads: CRC, published examples, round trips and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.errors import InvalidQRPayload
from payments.vietqr import (
    build_payload,
    crc16_ccitt,
    parse_payload,
    qr_png,
    qr_svg,
    strip_diacritics,
)

#: Payloads published in public projects' documentation and code (as found, CRC included).
PUBLISHED = [
    (
        "00020101021138540010A00000072701240006970422011009119673630208QRIBFTTA53037045802VN"
        "63046ad9",
        "970422",
        "0911967363",
        None,
    ),
    (
        "00020101021138570010A00000072701270006970405011322082054793800208QRIBFTTA53037045802VN"
        "630497A6",
        "970405",
        "2208205479380",
        None,
    ),
    (
        "00020101021138530010A0000007270123000697041601092576788590208QRIBFTTA53037045802VN"
        "6304AE9F",
        "970416",
        "257678859",
        None,
    ),
    (
        "00020101021238570010A000000727012700069704220113VQRQABRLS04480208QRIBFTTA53037045404"
        "20005802VN6224082018f8746b181045f0a2ce63040FC0",
        "970422",
        "VQRQABRLS0448",
        2000,
    ),
]


def test_crc_check_value():
    # The standard check value of CRC-16/CCITT-FALSE.
    assert crc16_ccitt("123456789") == "29B1"
    assert crc16_ccitt("") == "FFFF"


@pytest.mark.parametrize(("payload", "bank_bin", "account", "amount"), PUBLISHED)
def test_published_examples(payload, bank_bin, account, amount):
    parsed = parse_payload(payload)
    assert (parsed["bank_bin"], parsed["account"], parsed["amount"]) == (bank_bin, account, amount)
    assert crc16_ccitt(payload[:-4]) == payload[-4:].upper()


def test_build_known_payload():
    payload = build_payload(
        bank_bin="970436",
        account="0011001932418",
        amount=12_500_000,
        purpose="Nộp thuế TB-2025-000123 đất",
        bill_number="TB-2025-000123",
    )
    assert payload == (
        "00020101021238570010A00000072701270006970436011300110019324180208QRIBFTTA"
        "53037045408125000005802VN62490114TB-2025-0001230827Nop thue TB-2025-000123 dat"
        "63047EF7"
    )


def test_static_and_card():
    payload = build_payload(
        bank_bin="970422", account="9704229999999999", amount=None, purpose="TB-1", to_card=True
    )
    parsed = parse_payload(payload)
    assert parsed["method"] == "static" and parsed["amount"] is None
    assert parsed["service"] == "QRIBFTTC" and parsed["to_card"]
    assert "5404" not in payload and payload.startswith("000201010211")


def test_strip_diacritics():
    assert strip_diacritics("Nộp thuế sử dụng đất ĐẶNG") == "Nop thue su dung dat DANG"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"bank_bin": "97042"},
        {"bank_bin": "97042a"},
        {"account": ""},
        {"account": "12 34"},
        {"amount": 0},
        {"amount": -1},
        {"amount": 1.5},
        {"amount": 10**13},
        {"purpose": "   "},
        {"purpose": "x" * 120},
        {"purpose": "付款"},
    ],
)
def test_build_refuses(kwargs):
    args = dict(bank_bin="970436", account="0011001932418", amount=1000, purpose="TB-1")
    args.update(kwargs)
    with pytest.raises(ValueError):
        build_payload(**args)


def good() -> str:
    return build_payload(bank_bin="970436", account="0011001932418", amount=5000, purpose="TB-1")


def recrc(body: str) -> str:
    return body + crc16_ccitt(body)


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("A000000727", "A000000728", "GUID"),
        ("QRIBFTTA", "QRIBFTTX", "service code"),
        ("5303704", "5303840", "currency"),
        ("5802VN", "5802US", "country"),
        ("000201", "000202", "format indicator"),
        ("010212", "010213", "initiation method"),
        ("0006970436", "00069704AB", "bank BIN"),
        ("54045000", "54040500", "amount"),
    ],
)
def test_parse_checks_required_fields(old, new, why):
    payload = good()
    assert old in payload
    with pytest.raises(InvalidQRPayload, match=why.split()[0]):
        parse_payload(recrc(payload[:-4].replace(old, new, 1)))


def test_parse_missing_fields():
    body = good()[:-4]
    for tag_value in ("5303704", "5802VN"):
        with pytest.raises(InvalidQRPayload):
            parse_payload(recrc(body.replace(tag_value, "", 1)))
    with pytest.raises(InvalidQRPayload):
        parse_payload(recrc("000201010212" + "5303704" + "5802VN" + "6304"))


@pytest.mark.parametrize("bad", ["", "6304", "0002016304FFFF", "000201" + "6304ABCD"])
def test_parse_garbage(bad):
    with pytest.raises(InvalidQRPayload):
        parse_payload(bad)


def test_crc_mismatch_and_truncation():
    payload = good()
    with pytest.raises(InvalidQRPayload, match="CRC"):
        parse_payload(payload[:-1] + ("0" if payload[-1] != "0" else "1"))
    with pytest.raises(InvalidQRPayload, match="CRC"):
        parse_payload(payload.replace("TB-1", "TB-2"))
    with pytest.raises(InvalidQRPayload):
        parse_payload(recrc(payload[:-4].replace("5802VN", "5809VN", 1)))


def test_invalid_payload_is_a_value_error():
    with pytest.raises(ValueError):
        parse_payload("nonsense")


def test_qr_png():
    assert qr_png(good()).startswith(b"\x89PNG")


def test_qr_svg():
    import xml.etree.ElementTree as ET

    root = ET.fromstring(qr_svg(good()))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None


purpose_text = st.text(
    alphabet=st.sampled_from("abcdeđĐơưăâêôáàảãạấầẩẫậ ABCXYZ0123456789-_.,"),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip())


@given(
    bank_bin=st.from_regex(r"[0-9]{6}", fullmatch=True),
    account=st.from_regex(r"[0-9A-Z]{1,19}", fullmatch=True),
    amount=st.none() | st.integers(min_value=1, max_value=10**12),
    purpose=purpose_text,
    bill=st.none() | st.from_regex(r"TB-[0-9]{4}-[0-9]{6}", fullmatch=True),
    to_card=st.booleans(),
)
def test_round_trip(bank_bin, account, amount, purpose, bill, to_card):
    payload = build_payload(
        bank_bin=bank_bin,
        account=account,
        amount=amount,
        purpose=purpose,
        bill_number=bill,
        to_card=to_card,
    )
    assert payload.isascii()
    parsed = parse_payload(payload)
    assert parsed["bank_bin"] == bank_bin and parsed["account"] == account
    assert parsed["amount"] == amount and parsed["to_card"] == to_card
    assert parsed["bill_number"] == bill
    assert parsed["purpose"] == " ".join(strip_diacritics(purpose).split())
    assert parsed["method"] == ("static" if amount is None else "dynamic")


@given(st.from_regex(r"[A-Za-z0-9 -]{0,40}", fullmatch=True), st.integers(0, 200))
def test_any_single_character_change_is_caught(text, position):
    payload = build_payload(
        bank_bin="970436", account="0011001932418", amount=5000, purpose="TB-1 " + text
    )
    pos = position % (len(payload) - 4)
    replacement = "Z" if payload[pos] != "Z" else "Y"
    changed = payload[:pos] + replacement + payload[pos + 1 :]
    with pytest.raises(InvalidQRPayload):
        parse_payload(changed)
