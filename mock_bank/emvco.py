"""Reading a VietQR code as a banking app does: EMVCo TLV fields and the CRC, written from
docs/protocols/vietqr.md (the test bank shares no code with the merchant)."""

from __future__ import annotations

from dataclasses import dataclass


class BadPayload(ValueError):
    """The text is not a VietQR payload the app can pay; the message says why."""


def crc16(text: str) -> str:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, 4 upper-case hex digits."""
    crc = 0xFFFF
    for byte in text.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return f"{crc:04X}"


def fields(text: str) -> dict[str, str]:
    """Two-digit id, two-digit length, value; repeated ids and short values are refused."""
    out: dict[str, str] = {}
    i = 0
    while i < len(text):
        if i + 4 > len(text) or not text[i:i + 4].isdigit():
            raise BadPayload(f"broken field header at position {i}")
        tag, size = text[i:i + 2], int(text[i + 2:i + 4])
        value = text[i + 4:i + 4 + size]
        if len(value) != size:
            raise BadPayload(f"field {tag} is cut short")
        if tag in out:
            raise BadPayload(f"field {tag} is repeated")
        out[tag] = value
        i += 4 + size
    return out


@dataclass(frozen=True)
class Transfer:
    bank_bin: str
    account: str
    amount: int | None  #: None: a static code, the payer types the amount
    purpose: str
    bill_number: str


def read(payload: str) -> Transfer:
    payload = (payload or "").strip()
    if len(payload) < 12 or payload[-8:-4] != "6304":
        raise BadPayload("this is not a VietQR code (no CRC field at the end)")
    if crc16(payload[:-4]) != payload[-4:].upper():
        raise BadPayload("the code is damaged: its checksum (CRC) does not match")
    top = fields(payload)
    if top.get("00") != "01" or top.get("01") not in ("11", "12"):
        raise BadPayload("unknown payload format")
    if top.get("53") != "704" or top.get("58") != "VN":
        raise BadPayload("only transfers in VND within Vietnam are supported")
    info = fields(top.get("38", ""))
    if info.get("00") != "A000000727" or info.get("02") not in ("QRIBFTTA", "QRIBFTTC"):
        raise BadPayload("this is not a NAPAS transfer code")
    payee = fields(info.get("01", ""))
    bank_bin, account = payee.get("00", ""), payee.get("01", "")
    if len(bank_bin) != 6 or not bank_bin.isdigit() or not account:
        raise BadPayload("the payee's bank or account is missing")
    amount = None
    if "54" in top:
        if not top["54"].isdigit() or top["54"].startswith("0"):
            raise BadPayload("the amount is not whole dong")
        amount = int(top["54"])
    extra = fields(top.get("62", ""))
    return Transfer(bank_bin, account, amount, extra.get("08", ""), extra.get("01", ""))


def decode_image(data: bytes) -> str:
    """The text of the first QR code in an uploaded picture."""
    import io

    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise BadPayload("the file is not a picture") from exc
    for result in zxingcpp.read_barcodes(image):
        if result.text:
            return result.text
    raise BadPayload("no QR code found in the picture")
