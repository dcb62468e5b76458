"""VietQR payloads (NAPAS profile of the EMVCo merchant-presented QR), docs/protocols/vietqr.md."""

from __future__ import annotations

import io
import re
import unicodedata

import qrcode
from qrcode.image.svg import SvgPathImage

from payments.errors import InvalidQRPayload

NAPAS_GUID = "A000000727"
SERVICE_TO_ACCOUNT = "QRIBFTTA"
SERVICE_TO_CARD = "QRIBFTTC"
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
STATIC = "11"
DYNAMIC = "12"

_BIN = re.compile(r"[0-9]{6}")
_ACCOUNT = re.compile(r"[0-9A-Za-z]{1,19}")
_AMOUNT = re.compile(r"[1-9][0-9]{0,12}")


def crc16_ccitt(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of the UTF-8 bytes, 4 upper-case hex."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return f"{crc:04X}"


def strip_diacritics(text: str) -> str:
    """Vietnamese text as plain ASCII: ``Nộp thuế đất`` -> ``Nop thue dat``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def clean_purpose(purpose: str) -> str:
    """Diacritics removed, whitespace collapsed; only printable ASCII is allowed."""
    text = " ".join(strip_diacritics(purpose).split())
    if not text:
        raise ValueError("the purpose must not be empty")
    if any(not (32 <= ord(ch) < 127) for ch in text):
        raise ValueError("the purpose has characters a banking app cannot show")
    return text


def build_payload(
    *,
    bank_bin: str,
    account: str,
    amount: int | None,
    purpose: str,
    bill_number: str | None = None,
    to_card: bool = False,
) -> str:
    """The text to put in the QR code. ``amount`` None makes a static code (payer types it)."""
    if not _BIN.fullmatch(bank_bin):
        raise ValueError("bank_bin is 6 digits")
    if not _ACCOUNT.fullmatch(account):
        raise ValueError("account is 1 to 19 letters or digits")
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError("amount is a positive whole number of dong")
        if not _AMOUNT.fullmatch(str(amount)):
            raise ValueError("amount is too large")
    beneficiary = _field("00", bank_bin) + _field("01", account)
    merchant_info = (
        _field("00", NAPAS_GUID)
        + _field("01", beneficiary)
        + _field("02", SERVICE_TO_CARD if to_card else SERVICE_TO_ACCOUNT)
    )
    additional = ""
    if bill_number:
        additional += _field("01", clean_purpose(bill_number))
    additional += _field("08", clean_purpose(purpose))
    body = (
        _field("00", "01")
        + _field("01", STATIC if amount is None else DYNAMIC)
        + _field("38", merchant_info)
        + _field("53", CURRENCY_VND)
        + (_field("54", str(amount)) if amount is not None else "")
        + _field("58", COUNTRY_VN)
        + _field("62", additional)
        + "6304"
    )
    return body + crc16_ccitt(body)


def _split(data: str, where: str) -> dict[str, str]:
    """ID-length-value fields of ``data``; a repeated or truncated field is an error."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        head = data[pos : pos + 4]
        if len(head) < 4 or not head.isdigit():
            raise InvalidQRPayload(f"{where}: truncated field at position {pos}")
        tag, length = head[:2], int(head[2:])
        value = data[pos + 4 : pos + 4 + length]
        if len(value) != length:
            raise InvalidQRPayload(f"{where}: field {tag} is shorter than its length")
        if tag in fields:
            raise InvalidQRPayload(f"{where}: field {tag} appears twice")
        fields[tag] = value
        pos += 4 + length
    return fields


def parse_payload(payload: str) -> dict[str, object]:
    """Check and read a VietQR payload. Raises :class:`InvalidQRPayload` (a ValueError)."""
    if not isinstance(payload, str) or len(payload) < 8:
        raise InvalidQRPayload("payload too short")
    if payload[-8:-4] != "6304":
        raise InvalidQRPayload("the payload does not end with the CRC field 63")
    expected = crc16_ccitt(payload[:-4])
    if payload[-4:].upper() != expected:
        raise InvalidQRPayload("CRC mismatch")
    top = _split(payload, "payload")
    if list(top)[-1] != "63":
        raise InvalidQRPayload("field 63 must be last")
    if top.get("00") != "01":
        raise InvalidQRPayload("field 00 (format indicator) must be 01")
    method = top.get("01")
    if method not in (STATIC, DYNAMIC):
        raise InvalidQRPayload("field 01 (initiation method) must be 11 or 12")
    if "38" not in top:
        raise InvalidQRPayload("field 38 (NAPAS merchant information) is missing")
    info = _split(top["38"], "field 38")
    if info.get("00") != NAPAS_GUID:
        raise InvalidQRPayload("field 38-00 must be the NAPAS GUID A000000727")
    beneficiary = _split(info.get("01", ""), "field 38-01")
    bank_bin, account = beneficiary.get("00", ""), beneficiary.get("01", "")
    if not _BIN.fullmatch(bank_bin):
        raise InvalidQRPayload("field 38-01-00 (bank BIN) must be 6 digits")
    if not account:
        raise InvalidQRPayload("field 38-01-01 (account or card) is missing")
    service = info.get("02")
    if service not in (SERVICE_TO_ACCOUNT, SERVICE_TO_CARD):
        raise InvalidQRPayload("field 38-02 (service code) must be QRIBFTTA or QRIBFTTC")
    if top.get("53") != CURRENCY_VND:
        raise InvalidQRPayload("field 53 (currency) must be 704")
    if top.get("58") != COUNTRY_VN:
        raise InvalidQRPayload("field 58 (country) must be VN")
    amount: int | None = None
    if "54" in top:
        if not _AMOUNT.fullmatch(top["54"]):
            raise InvalidQRPayload("field 54 (amount) must be whole dong")
        amount = int(top["54"])
    additional = _split(top.get("62", ""), "field 62")
    return {
        "method": "static" if method == STATIC else "dynamic",
        "bank_bin": bank_bin,
        "account": account,
        "service": service,
        "to_card": service == SERVICE_TO_CARD,
        "currency": top["53"],
        "amount": amount,
        "country": top["58"],
        "purpose": additional.get("08"),
        "bill_number": additional.get("01"),
        "crc": top["63"],
        "fields": top,
    }


def qr_png(payload: str) -> bytes:
    """A PNG QR code of the payload, error correction M as banking apps expect."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=6)
    qr.add_data(payload)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()


def qr_svg(payload: str) -> bytes:
    """The same QR code as :func:`qr_png`, as a standalone SVG document (one path)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, image_factory=SvgPathImage)
    qr.add_data(payload)
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()
