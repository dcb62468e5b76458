"""Compact e-receipts for printed QR codes: CBOR claims in a COSE_Sign1 (Ed25519), Base45.

The full receipt is the JWS of :mod:`payments.receipts` (about 800 characters): a QR code
holding it is too dense for a phone camera once printed. The compact form carries only what a
person checking a paper receipt compares (receipt number, notice code, total, time paid) and
the key id, signed with the same Ed25519 keys, in the shape the EU digital COVID certificate
made familiar (RFC 9052 COSE_Sign1, RFC 9285 Base45). Base45 uses only characters of the QR
alphanumeric mode, so the code stays small (see docs/protocols/e-receipt.md).

Every decoding step is strict, so the text has exactly one valid spelling: any changed
character is refused, not silently read as the same receipt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from payments.errors import InvalidReceipt

#: Starts every compact receipt; the digit is the format version.
PREFIX = "LP1:"
#: Base45 alphabet (RFC 9285): exactly the QR code's alphanumeric characters.
BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_B45_INDEX = {char: i for i, char in enumerate(BASE45_ALPHABET)}

#: COSE algorithm ids we accept: EdDSA (RFC 9053) and Ed25519 (RFC 9864). We write EdDSA.
COSE_ALG_EDDSA = -8
COSE_ALG_ED25519 = -19
_ACCEPTED_ALGS = frozenset({COSE_ALG_EDDSA, COSE_ALG_ED25519})
_HDR_ALG, _HDR_KID = 1, 4
_COSE_SIGN1_TAG = 18

#: Claim keys in the CBOR map: small integers keep the code small.
_RECEIPT, _NOTICE, _TOTAL, _PAID_AT = 1, 2, 3, 4
#: Longer input is refused unread: a real compact receipt is about 220 characters.
MAX_COMPACT_LENGTH = 600


@dataclass(frozen=True)
class CompactClaims:
    """What a printed receipt's QR code proves."""

    receipt_id: str
    notice_code: str
    total: int
    paid_at: datetime
    kid: str

    def as_dict(self) -> dict[str, Any]:
        return {"receipt_id": self.receipt_id, "notice_code": self.notice_code,
                "total": self.total, "currency": "VND",
                "paid_at": self.paid_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "kid": self.kid}


def b45encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out.append(BASE45_ALPHABET[c] + BASE45_ALPHABET[d] + BASE45_ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out.append(BASE45_ALPHABET[c] + BASE45_ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """Strict Base45: refuses unknown characters, a dangling character and out-of-range
    groups, so each byte string has a single spelling."""
    if len(text) % 3 == 1:
        raise ValueError("base45 text has a dangling character")
    try:
        values = [_B45_INDEX[char] for char in text]
    except KeyError:
        raise ValueError("a character outside the base45 alphabet") from None
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i:i + 3]
        n = sum(v * 45**k for k, v in enumerate(group))
        if len(group) == 3:
            if n > 0xFFFF:
                raise ValueError("base45 group out of range")
            out += n.to_bytes(2, "big")
        else:
            if n > 0xFF:
                raise ValueError("base45 group out of range")
            out.append(n)
    return bytes(out)


def _sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload], canonical=True)


def encode_compact(
    private_key: Ed25519PrivateKey, kid: str, *, receipt_id: str, notice_code: str,
    total: int, paid_at: datetime,
) -> str:
    """The text to put in the printed QR code: ``LP1:`` + Base45(COSE_Sign1)."""
    if not kid or not receipt_id or not notice_code:
        raise ValueError("kid, receipt number and notice code are required")
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError("the total is a non-negative whole number of dong")
    if paid_at.tzinfo is None or paid_at.utcoffset() is None:
        raise ValueError("paid_at must be timezone-aware")
    protected = cbor2.dumps({_HDR_ALG: COSE_ALG_EDDSA, _HDR_KID: kid.encode("utf-8")},
                            canonical=True)
    payload = cbor2.dumps({_RECEIPT: receipt_id, _NOTICE: notice_code, _TOTAL: total,
                           _PAID_AT: int(paid_at.timestamp())}, canonical=True)
    signature = private_key.sign(_sig_structure(protected, payload))
    message = cbor2.CBORTag(_COSE_SIGN1_TAG, [protected, {}, payload, signature])
    return PREFIX + b45encode(cbor2.dumps(message, canonical=True))


def is_compact(text: str) -> bool:
    return isinstance(text, str) and text.strip().startswith(PREFIX)


def _strict_loads(data: bytes) -> Any:
    """Decode CBOR and insist it is the one canonical encoding of what it holds."""
    try:
        value = cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError) as exc:
        raise InvalidReceipt(InvalidReceipt.MALFORMED, "the receipt is not valid CBOR") from exc
    try:
        again = cbor2.dumps(value, canonical=True)
    except (cbor2.CBOREncodeError, TypeError, ValueError) as exc:
        raise InvalidReceipt(InvalidReceipt.MALFORMED, "the receipt is not valid CBOR") from exc
    if again != data:
        raise InvalidReceipt(InvalidReceipt.MALFORMED, "the receipt is not canonical CBOR")
    return value


def peek_kid(text: str) -> str:
    """The key id a compact receipt names, without checking anything else."""
    return _parse(text)[1]


def _parse(text: str) -> tuple[bytes, str, bytes, bytes]:
    malformed = InvalidReceipt.MALFORMED
    if not isinstance(text, str):
        raise InvalidReceipt(malformed, "the receipt is not text")
    text = text.strip()
    if len(text) > MAX_COMPACT_LENGTH:
        raise InvalidReceipt(malformed, "the receipt is too long")
    if not text.startswith(PREFIX):
        raise InvalidReceipt(malformed, f"a compact receipt starts with {PREFIX}")
    try:
        raw = b45decode(text[len(PREFIX):])
    except ValueError as exc:
        raise InvalidReceipt(malformed, f"the receipt is not valid base45: {exc}") from exc
    message = _strict_loads(raw)
    if (not isinstance(message, cbor2.CBORTag) or message.tag != _COSE_SIGN1_TAG
            or not isinstance(message.value, list | tuple) or len(message.value) != 4):
        raise InvalidReceipt(malformed, "the receipt is not a COSE_Sign1 message")
    protected, unprotected, payload, signature = message.value
    if not all(isinstance(part, bytes) for part in (protected, payload, signature)):
        raise InvalidReceipt(malformed, "the receipt is not a COSE_Sign1 message")
    if not isinstance(unprotected, Mapping) or len(unprotected) != 0:
        raise InvalidReceipt(malformed, "unprotected header parameters are not accepted")
    header = _strict_loads(protected)
    if not isinstance(header, Mapping) or set(header) != {_HDR_ALG, _HDR_KID}:
        raise InvalidReceipt(malformed, "the receipt header must hold exactly alg and kid")
    if header[_HDR_ALG] not in _ACCEPTED_ALGS:
        raise InvalidReceipt(InvalidReceipt.WRONG_ALG,
                             f"algorithm {header[_HDR_ALG]!r} is not accepted")
    kid_bytes = header[_HDR_KID]
    try:
        kid = kid_bytes.decode("utf-8") if isinstance(kid_bytes, bytes) else ""
    except UnicodeDecodeError:
        kid = ""
    if not kid:
        raise InvalidReceipt(InvalidReceipt.UNKNOWN_KID, "the receipt names no key")
    return protected, kid, payload, signature


def verify_compact(text: str, public_keys: Mapping[str, Ed25519PublicKey]) -> CompactClaims:
    """The claims of a valid compact receipt, or :class:`InvalidReceipt`. ``public_keys``
    maps each key id that may have signed (active or retired, never revoked) to its key."""
    protected, kid, payload, signature = _parse(text)
    public_key = public_keys.get(kid)
    if public_key is None:
        raise InvalidReceipt(InvalidReceipt.UNKNOWN_KID, f"no Ed25519 key with kid {kid!r}")
    try:
        public_key.verify(signature, _sig_structure(protected, payload))
    except InvalidSignature as exc:
        raise InvalidReceipt(InvalidReceipt.BAD_SIGNATURE, "the signature does not match") from exc
    claims = _strict_loads(payload)
    malformed = InvalidReceipt.MALFORMED
    if not isinstance(claims, Mapping) or set(claims) != {_RECEIPT, _NOTICE, _TOTAL, _PAID_AT}:
        raise InvalidReceipt(malformed, "the receipt claims are incomplete")
    receipt_id, notice_code, total, paid = (claims[k] for k in (_RECEIPT, _NOTICE, _TOTAL, _PAID_AT))
    if not (isinstance(receipt_id, str) and isinstance(notice_code, str)
            and type(total) is int and total >= 0 and type(paid) is int and paid >= 0):
        raise InvalidReceipt(malformed, "the receipt claims have the wrong types")
    return CompactClaims(receipt_id=receipt_id, notice_code=notice_code, total=total,
                         paid_at=datetime.fromtimestamp(paid, UTC), kid=kid)
