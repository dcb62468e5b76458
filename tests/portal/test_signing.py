"""The portal signature: the sender (app/portal.py) and the test portal
(mock_portal/signing.py) are written apart from the protocol document; each must accept
what the other signs and refuse every kind of tampering."""

from __future__ import annotations

import pytest

from app.portal import encode, signature, signed_headers, verify
from mock_portal.signing import check, expected_signature

SECRET = "shared-secret"
NOW = 1_800_000_000
BODY = encode({"event_id": "e1", "dossier_code": "HS1", "kind": "dossier_filed"})


def _case(name):
    headers = signed_headers(SECRET, BODY, now=NOW)
    ts, sig, body, now, secret = headers["X-Portal-Timestamp"], headers["X-Portal-Signature"], BODY, NOW, SECRET
    if name == "bad signature":
        sig = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    elif name == "old timestamp":
        now = NOW + 301
    elif name == "future timestamp":
        now = NOW - 301
    elif name == "altered body":
        body = BODY.replace(b"HS1", b"HS2")
    elif name == "timestamp changed":
        ts = str(NOW + 1)
    elif name == "other secret":
        secret = "another-secret"
    elif name == "missing signature":
        sig = ""
    elif name == "not a number":
        ts = "12a"
    elif name == "upper-case scheme":
        sig = sig.upper()
    return ts, sig, body, now, secret


CASES = [
    ("good", None),
    ("at the edge of the window", None),
    ("bad signature", "bad_signature"),
    ("old timestamp", "stale_timestamp"),
    ("future timestamp", "stale_timestamp"),
    ("altered body", "bad_signature"),
    ("timestamp changed", "bad_signature"),
    ("other secret", "bad_signature"),
    ("missing signature", "missing_signature"),
    ("not a number", "stale_timestamp"),
    ("upper-case scheme", "bad_signature"),
]


@pytest.mark.parametrize("name, refusal", CASES)
def test_signature_table(name, refusal):
    ts, sig, body, now, secret = _case(name)
    if name == "at the edge of the window":
        now = NOW + 300
    assert check(secret, ts, sig, body, now, 300) == refusal
    assert verify(secret, ts, sig, body, now=now, window=300) is (refusal is None)


def test_both_sides_compute_the_same_signature():
    assert signature(SECRET, str(NOW), BODY) == expected_signature(SECRET, str(NOW), BODY)
    assert signature(SECRET, str(NOW), BODY).startswith("sha256=")
    assert len(signature(SECRET, str(NOW), BODY)) == len("sha256=") + 64


def test_the_body_is_canonical():
    assert encode({"b": 1, "a": "Trần"}) == '{"a":"Trần","b":1}'.encode()


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError):
        signature("", str(NOW), BODY)
