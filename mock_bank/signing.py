"""Message signatures, written from the protocol document (section 1.3), not shared code."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

HASH_FIELD = "lp_secure_hash"
_LEFT_OUT = {"lp_secure_hash", "lp_secure_hash_type"}
_UNRESERVED = "-._~"


def _form_encode(text: str) -> str:
    # Space as "+", unreserved bytes kept, everything else %XX (upper-case hex).
    return "+".join(quote(part, safe=_UNRESERVED) for part in text.split(" "))


def signing_string(fields: Mapping[str, str]) -> str:
    kept = [
        (k, v) for k, v in fields.items() if k.startswith("lp_") and k not in _LEFT_OUT and v != ""
    ]
    kept.sort(key=lambda kv: kv[0].encode("ascii"))
    return "&".join(_form_encode(k) + "=" + _form_encode(v) for k, v in kept)


def compute_hash(fields: Mapping[str, str], secret: str) -> str:
    return hmac.new(
        secret.encode("utf-8"), signing_string(fields).encode("utf-8"), hashlib.sha512
    ).hexdigest()


def hash_matches(fields: Mapping[str, str], secret: str) -> bool:
    given = fields.get(HASH_FIELD) or ""
    expected = compute_hash(fields, secret)
    return hmac.compare_digest(expected, given.lower())


def with_hash(fields: Mapping[str, str], secret: str) -> dict[str, str]:
    out = {k: v for k, v in fields.items() if k not in _LEFT_OUT}
    out[HASH_FIELD] = compute_hash(out, secret)
    return out
