"""Validation of incoming checkout and query requests (docs sections 2 and 4)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mock_bank.config import Merchant
from mock_bank.signing import hash_matches

AMOUNT = re.compile(r"[1-9][0-9]{0,14}")
MERCHANT_ID = re.compile(r"[A-Za-z0-9]{1,32}")
REFERENCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
STAMP = re.compile(r"[0-9]{14}")
FUTURE_LEEWAY = timedelta(minutes=5)


class Refused(Exception):
    """A request the bank will not act on. ``kind`` is the machine-readable reason."""

    def __init__(self, kind: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


@dataclass(frozen=True)
class CheckoutRequest:
    merchant: Merchant
    fields: dict[str, str]  #: every lp_ field as received, signature included
    order_ref: str
    amount: int
    order_info: str
    locale: str
    return_url: str
    create_date: str
    created_at: datetime


def parse_stamp(text: str) -> datetime:
    if not STAMP.fullmatch(text):
        raise ValueError(text)
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _need(fields: Mapping[str, str], name: str, ok) -> str:  # type: ignore[no-untyped-def]
    value = fields.get(name, "")
    if not value or not ok(value):
        raise Refused("invalid_request", f"The field {name} is missing or malformed.")
    return value


def check_checkout(raw: Mapping[str, str], merchants: Mapping[str, Merchant]) -> CheckoutRequest:
    """Merchant, signature, then each field. The checkout window is checked by the caller."""
    fields = {k: v for k, v in raw.items() if k.startswith("lp_")}
    merchant = merchants.get(fields.get("lp_merchant_id", ""))
    if merchant is None:
        raise Refused("unknown_merchant", "This merchant is not registered with the bank.")
    if not hash_matches(fields, merchant.secret):
        raise Refused(
            "bad_signature",
            "The payment request's signature is missing or does not match. "
            "It may have been altered on the way.",
        )
    _need(fields, "lp_version", lambda v: v == "1")
    _need(fields, "lp_command", lambda v: v == "pay")
    _need(fields, "lp_merchant_id", MERCHANT_ID.fullmatch)
    order_ref = _need(fields, "lp_order_ref", REFERENCE.fullmatch)
    amount = _need(fields, "lp_amount", AMOUNT.fullmatch)
    _need(fields, "lp_currency", lambda v: v == "VND")
    order_info = _need(fields, "lp_order_info", lambda v: len(v) <= 255)
    locale = _need(fields, "lp_locale", lambda v: v in ("vn", "en"))
    return_url = _need(
        fields,
        "lp_return_url",
        lambda v: len(v) <= 1000 and v.startswith(("http://", "https://")) and " " not in v,
    )
    create_date = _need(fields, "lp_create_date", STAMP.fullmatch)
    try:
        created_at = parse_stamp(create_date)
    except ValueError as exc:
        raise Refused("invalid_request", "The field lp_create_date is not a valid time.") from exc
    return CheckoutRequest(
        merchant=merchant,
        fields=fields,
        order_ref=order_ref,
        amount=int(amount),
        order_info=order_info,
        locale=locale,
        return_url=return_url,
        create_date=create_date,
        created_at=created_at,
    )


def window_state(req: CheckoutRequest, now: datetime, ttl_seconds: int) -> str:
    """'open', 'future' (created too far ahead) or 'expired'."""
    if req.created_at > now + FUTURE_LEEWAY:
        return "future"
    if now - req.created_at > timedelta(seconds=ttl_seconds):
        return "expired"
    return "open"
