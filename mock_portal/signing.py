"""Signatures of portal messages, written from docs/protocols/national-portal.md (section
"Signature"), not shared with the sender's code.

``X-Portal-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>`` with
``X-Portal-Timestamp: <Unix seconds>``; a timestamp further than the replay window from our
clock is refused.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Portal-Timestamp"
SIGNATURE_HEADER = "X-Portal-Signature"
SCHEME = "sha256="


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def check(secret: str, timestamp: str | None, signature: str | None, body: bytes,
          now: float, window: int) -> str | None:
    """None when the message is authentic and fresh, else the reason it is refused:
    ``missing_signature``, ``stale_timestamp`` or ``bad_signature``."""
    if not timestamp or not signature:
        return "missing_signature"
    if not timestamp.isdigit() or len(timestamp) > 12:
        return "stale_timestamp"
    if abs(now - int(timestamp)) > window:
        return "stale_timestamp"
    expected = expected_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("ascii", "replace")):
        return "bad_signature"
    return None
