"""E-receipts: compact JWS signed with Ed25519 (RFC 8037), verifiable offline from a JWKS.

See docs/protocols/e-receipt.md. Implemented with ``cryptography`` directly so that the signed
bytes are exactly the canonical JSON and the accepted algorithms are under our control.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import qrcode
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from payments.compact import encode_compact, is_compact, verify_compact
from payments.errors import InvalidReceipt

#: The algorithm we write; RFC 8037's name.
SIGNING_ALG = "EdDSA"
#: Algorithms we accept: RFC 8037's, and the fully specified name of RFC 9864.
ACCEPTED_ALGS = frozenset({"EdDSA", "Ed25519"})
TOKEN_TYPE = "landpay-receipt+jwt"  # noqa: S105  (a media type, not a secret)
CLAIMS_VERSION = 1
#: How far in the future a receipt's issue time may be (clock skew between machines).
CLOCK_SKEW = timedelta(minutes=5)

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8. Floats are refused: amounts are whole dong."""
    _refuse_floats(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("receipt claims must not contain floats")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("receipt claim keys must be strings")
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url (RFC 7515 section 2): no padding, no character outside the alphabet,
    and zero trailing bits, so each byte string has a single spelling and a changed
    character can never pass as the same token."""
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(data) != text:
        raise ValueError("base64url with non-zero trailing bits")
    return data


def generate_signing_key() -> str:
    """A new Ed25519 private key as PKCS#8 PEM. Keep it secret; publish its public JWK."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _public_jwk(public_key: Ed25519PublicKey, kid: str) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url_encode(raw),
        "kid": kid,
        "alg": SIGNING_ALG,
        "use": "sig",
    }


class ReceiptSigner:
    """Signs receipts with one Ed25519 key, named by ``kid`` in each token's header."""

    def __init__(self, private_key_pem: str, kid: str) -> None:
        key = serialization.load_pem_private_key(private_key_pem.encode("ascii"), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the receipt signing key must be an Ed25519 key")
        if not kid:
            raise ValueError("kid must not be empty")
        self._key = key
        self.kid = kid

    def __repr__(self) -> str:
        return f"ReceiptSigner(kid={self.kid!r})"

    def sign(self, claims: Mapping[str, Any]) -> str:
        """A compact JWS ``header.payload.signature`` over the canonical JSON of ``claims``."""
        header = {"alg": SIGNING_ALG, "kid": self.kid, "typ": TOKEN_TYPE}
        signing_input = (
            b64url_encode(canonical_json(header)) + "." + b64url_encode(canonical_json(claims))
        )
        signature = self._key.sign(signing_input.encode("ascii"))
        return signing_input + "." + b64url_encode(signature)

    def public_jwk(self) -> dict[str, str]:
        return _public_jwk(self._key.public_key(), self.kid)

    def sign_compact(self, claims: Mapping[str, Any]) -> str:
        """The printed QR code's text for a receipt's claims (see :mod:`payments.compact`)."""
        return encode_compact(
            self._key, self.kid, receipt_id=claims["receipt_id"],
            notice_code=claims["notice_code"], total=claims["total"],
            paid_at=parse_time(claims["paid_at"]),
        )


def jwks(signers_or_public_jwks: Iterable[ReceiptSigner | Mapping[str, Any]]) -> dict[str, Any]:
    """The JWK set to publish: ``{"keys": [...]}`` (public keys only)."""
    keys = []
    for item in signers_or_public_jwks:
        if isinstance(item, ReceiptSigner):
            keys.append(item.public_jwk())
        else:
            jwk = {k: v for k, v in item.items() if k != "d"}  # never publish a private part
            keys.append(jwk)
    return {"keys": keys}


def _find_key(jwk_set: Mapping[str, Any], kid: str) -> Ed25519PublicKey:
    keys = jwk_set.get("keys") if isinstance(jwk_set, Mapping) else None
    for jwk in keys if isinstance(keys, list) else []:
        if not isinstance(jwk, Mapping) or jwk.get("kid") != kid:
            continue
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        try:
            raw = b64url_decode(str(jwk.get("x", "")))
            return Ed25519PublicKey.from_public_bytes(raw)
        except (ValueError, binascii.Error):
            continue
    raise InvalidReceipt(InvalidReceipt.UNKNOWN_KID, f"no Ed25519 key with kid {kid!r}")


def public_keys(jwk_set: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 keys of a JWK set by key id (for compact receipts, which name a kid)."""
    keys = jwk_set.get("keys") if isinstance(jwk_set, Mapping) else None
    out: dict[str, Ed25519PublicKey] = {}
    for jwk in keys if isinstance(keys, list) else []:
        kid = jwk.get("kid") if isinstance(jwk, Mapping) else None
        if isinstance(kid, str) and kid and kid not in out:
            try:
                out[kid] = _find_key(jwk_set, kid)
            except InvalidReceipt:
                continue
    return out


def verify_any(
    token: str, jwk_set: Mapping[str, Any], *, now: datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """Verify either kind of receipt: ``("compact", claims)`` for a printed QR code's text,
    ``("jws", claims)`` for the full signed receipt. Raises :class:`InvalidReceipt`."""
    if is_compact(token):
        claims = verify_compact(token, public_keys(jwk_set)).as_dict()
        if now is not None and parse_time(claims["paid_at"]) > now + CLOCK_SKEW:
            raise InvalidReceipt(InvalidReceipt.NOT_YET_VALID, "the receipt is dated later")
        return "compact", claims
    return "jws", verify_receipt(token, jwk_set, now=now)


#: Far above any real receipt (about 1,000 characters); longer input is refused unread.
MAX_TOKEN_LENGTH = 8000


def verify_receipt(
    token: str, jwks: Mapping[str, Any], *, now: datetime | None = None
) -> dict[str, Any]:
    """The claims of a valid receipt, or :class:`InvalidReceipt` with the reason.

    Needs no network: the caller passes the published key set.
    """
    malformed = InvalidReceipt.MALFORMED
    if not isinstance(token, str):
        raise InvalidReceipt(malformed, "the receipt is not text")
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidReceipt(malformed, "the receipt is too long")
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise InvalidReceipt(malformed, "a receipt has three dot-separated parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload_bytes = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise InvalidReceipt(malformed, "the receipt is not valid base64url JSON") from exc
    if not isinstance(header, dict):
        raise InvalidReceipt(malformed, "the receipt header is not an object")
    if "crit" in header:
        raise InvalidReceipt(malformed, "critical header extensions are not supported")
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGS:
        raise InvalidReceipt(InvalidReceipt.WRONG_ALG, f"algorithm {alg!r} is not accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidReceipt(InvalidReceipt.UNKNOWN_KID, "the receipt names no key")
    public_key = _find_key(jwks, kid)
    try:
        public_key.verify(signature, (parts[0] + "." + parts[1]).encode("ascii"))
    except InvalidSignature as exc:
        raise InvalidReceipt(InvalidReceipt.BAD_SIGNATURE, "the signature does not match") from exc
    try:
        claims = json.loads(payload_bytes.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidReceipt(malformed, "the receipt payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise InvalidReceipt(malformed, "the receipt payload is not an object")
    issued = claims.get("issued_at")
    if issued is not None and now is not None:
        try:
            issued_at = parse_time(issued)
        except (TypeError, ValueError) as exc:
            raise InvalidReceipt(malformed, "issued_at is not a UTC time") from exc
        if issued_at > now + CLOCK_SKEW:
            raise InvalidReceipt(InvalidReceipt.NOT_YET_VALID, "the receipt is dated later")
    return claims


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``, to the second."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def build_receipt_claims(
    *,
    receipt_id: str,
    payment_id: str,
    order_ref: str,
    notice_code: str,
    dossier_code: str,
    payer_name: str,
    lines: Sequence[tuple[str, int] | Mapping[str, Any]],
    bank_ref: str | None,
    paid_at: datetime,
    issued_at: datetime,
    issuer: str,
    total: int | None = None,
    paid_for: Sequence[str] | None = None,
    parties: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The claims of one receipt. ``lines`` are (obligation, amount) pairs or mappings with
    those keys; amounts are whole dong. ``total``, if given, must equal the sum of the lines.
    ``payer_name`` is who paid; ``paid_for``, if given, the names of those whose notice it
    is; ``parties``, if given, the dossier's parties (plain names by role)."""
    out_lines = []
    for line in lines:
        if isinstance(line, Mapping):
            obligation, amount = line["obligation"], line["amount"]
        else:
            obligation, amount = line
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ValueError("line amounts are non-negative whole dong")
        if not obligation:
            raise ValueError("every line names its obligation")
        out_line = {"obligation": str(obligation), "amount": amount}
        if isinstance(line, Mapping):  # the line's treasury classification, when it has one
            out_line.update({key: str(line[key]) for key in ("budget_code", "treasury_account")
                             if line.get(key)})
        out_lines.append(out_line)
    if not out_lines:
        raise ValueError("a receipt has at least one line")
    computed = sum(line["amount"] for line in out_lines)
    if total is not None and total != computed:
        raise ValueError(f"total {total} differs from the sum of the lines {computed}")
    claims = {
        "v": CLAIMS_VERSION,
        "receipt_id": receipt_id,
        "payment_id": payment_id,
        "order_ref": order_ref,
        "notice_code": notice_code,
        "dossier_code": dossier_code,
        "payer_name": payer_name,
        "currency": "VND",
        "lines": out_lines,
        "total": computed,
        "bank_ref": bank_ref,
        "paid_at": format_time(paid_at),
        "issued_at": format_time(issued_at),
        "issuer": issuer,
    }
    if paid_for is not None:
        claims["paid_for"] = [str(name) for name in paid_for]
    if parties is not None:
        claims["parties"] = {str(k): v if isinstance(v, str) else [str(n) for n in v]
                             for k, v in parties.items()}
    return claims


def receipt_qr(text: str) -> qrcode.QRCode:
    """The QR code of a receipt text, error correction M. A compact receipt (Base45) is
    written in alphanumeric mode, which is why it stays small; other text in byte mode."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=4)
    qr.add_data(text if is_compact(text) else text.encode("utf-8"), optimize=0)
    qr.make(fit=True)
    return qr


def receipt_qr_png(text: str, *, box_size: int = 4) -> bytes:
    """A PNG of :func:`receipt_qr`."""
    qr = receipt_qr(text)
    qr.box_size = box_size
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()
