"""HMAC-SHA512 signatures of bank-gateway messages (docs/protocols/bank-gateway.md, 1.3)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote_plus

#: Prefix of every protocol parameter; other parameters are neither signed nor read.
PREFIX = "lp_"
#: The field that carries the signature.
SIGNATURE_FIELD = "lp_secure_hash"
#: Fields never included in the canonical query.
SIGNATURE_FIELDS = frozenset({SIGNATURE_FIELD, "lp_secure_hash_type"})


def _encode(text: str) -> str:
    return quote_plus(text, safe="", encoding="utf-8")


def canonical_query(params: Mapping[str, str]) -> str:
    """The string that is signed: ``lp_`` fields, signature and empty values left out, sorted."""
    pairs = sorted(
        (name, value)
        for name, value in params.items()
        if name.startswith(PREFIX) and name not in SIGNATURE_FIELDS and value != ""
    )
    for name, value in pairs:
        if not isinstance(value, str):
            raise TypeError(f"parameter {name} must be a string, not {type(value).__name__}")
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in pairs)


def sign_params(params: Mapping[str, str], secret: str) -> str:
    """The hex HMAC-SHA512 of the canonical query, keyed with the shared secret."""
    if not secret:
        raise ValueError("the signing secret must not be empty")
    message = canonical_query(params).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha512).hexdigest()


def verify_params(params: Mapping[str, str], secret: str) -> bool:
    """True when ``params`` carry a valid signature; compares in constant time."""
    given = params.get(SIGNATURE_FIELD)
    if not isinstance(given, str) or not given:
        return False
    try:
        expected = sign_params(params, secret)
    except TypeError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii", "replace"))


def signed(params: Mapping[str, str], secret: str) -> dict[str, str]:
    """A copy of ``params`` with the signature field set."""
    out = {name: value for name, value in params.items() if name not in SIGNATURE_FIELDS}
    out[SIGNATURE_FIELD] = sign_params(out, secret)
    return out
