"""Anyone may pay: a person without an account opens a notice with its code and the citizen
id of a party who owes it, sees what is due, and pays it at the bank or by VietQR.

Two things keep this from becoming a way to learn about other people's notices:

* a wrong code and a right code with a wrong citizen id fail with one and the same answer;
* failed look-ups are counted per client address and per notice code in the database (the
  login throttle's table and locking, ``app.auth``), and after too many the look-up is
  refused for a while, whatever is asked.

What is shown is what a payer needs and no more: the amounts and why, the due dates, the late
interest for today; the party paid for only with a partly masked name, nobody else at all.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from app.auth import _lock_throttles
from app.errors import NotFound, TooManyRequests, ValidationFailed
from app.extensions import db
from app.models import Notice, NoticeStatus, Party, PaymentOrder
from app.services import paying
from app.services.views import late_interest_today, vietqr_payload

#: Failed look-ups allowed within WINDOW, per client address and per notice code; the next
#: look-up is then refused until WINDOW has passed. A notice code is tried far less often
#: than an address may legitimately try several codes (a family paying for its members).
FAILURES_PER_ADDRESS = 10
FAILURES_PER_CODE = 5
WINDOW = timedelta(minutes=15)

#: Notice codes are short upper-case letters and digits; citizen ids 12 digits (an
#: organisation's tax code 10 or 13 with a dash). Anything else fails before any query.
_CODE_RE = re.compile(r"[A-Z0-9-]{1,30}")
_CITIZEN_ID_RE = re.compile(r"[0-9]{9,13}(-[0-9]{3})?")


class TooManyLookups(TooManyRequests):
    code = "too_many_attempts"

    def __init__(self, retry_after: int):
        super().__init__(_("Too many attempts to open a notice. Please wait %(minutes)s minutes and "
                           "try again.", minutes=max(1, math.ceil(retry_after / 60))))
        self.retry_after = retry_after


def not_found() -> NotFound:
    """The one answer for a wrong code and for a right code with a wrong citizen id."""
    return NotFound(_("No unpaid notice matches this code and citizen id. Check both and try again."))


@dataclass
class Found:
    notice: Notice
    party: Party


def clean_code(code: str | None) -> str:
    return (code or "").strip().upper()


def clean_citizen_id(citizen_id: str | None) -> str:
    return (citizen_id or "").strip().replace(" ", "")


def check_input(code: str | None, citizen_id: str | None) -> tuple[str, str]:
    """The code and citizen id, cleaned; ValidationFailed naming the fields when absent."""
    code, citizen_id = clean_code(code), clean_citizen_id(citizen_id)
    missing = {}
    if not code:
        missing["code"] = _("Required.")
    if not citizen_id:
        missing["citizen_id"] = _("Required.")
    if missing:
        raise ValidationFailed(_("Give the notice code and the payer's citizen id."), fields=missing)
    return code, citizen_id


def _keys(code: str) -> dict[str, int]:
    """Throttle keys (hashed, apart from the login's) and the failures each allows."""
    address = request.remote_addr or "-"
    return {
        hashlib.sha256(f"public-pay|address|{address}".encode()).hexdigest(): FAILURES_PER_ADDRESS,
        hashlib.sha256(f"public-pay|notice|{code}".encode()).hexdigest(): FAILURES_PER_CODE,
    }


def _match(code: str, citizen_id: str) -> Found | None:
    if not _CODE_RE.fullmatch(code) or not _CITIZEN_ID_RE.fullmatch(citizen_id):
        return None
    notice = db.session.scalar(select(Notice).where(Notice.code == code))
    if notice is None or notice.status is not NoticeStatus.UNPAID:
        return None
    for party in notice.payers:
        if party.citizen_id == citizen_id:
            return Found(notice, party)
    return None


def find(code: str | None, citizen_id: str | None) -> Found:
    """The unpaid notice with this code owed by the party with this citizen id.

    Raises ValidationFailed (nothing given), NotFound (the one answer for every mismatch,
    counted) or TooManyLookups (with the seconds to wait). Commits the count."""
    code, citizen_id = check_input(code, citizen_id)
    limits = _keys(code)
    now = datetime.now(UTC)
    # The client's address first: an address already refused adds no row for the code it
    # tries, so guessing codes cannot grow the throttle table.
    address_key = next(iter(limits))
    address = _lock_throttles([address_key])[address_key]
    if address.blocked_until and address.blocked_until > now:
        db.session.commit()
        raise TooManyLookups(math.ceil((address.blocked_until - now).total_seconds()))
    throttles = _lock_throttles(sorted(limits))
    until = [t.blocked_until for t in throttles.values() if t.blocked_until and t.blocked_until > now]
    if until:
        db.session.commit()
        raise TooManyLookups(math.ceil((max(until) - now).total_seconds()))
    found = _match(code, citizen_id)
    if found is not None:
        db.session.commit()
        return found
    for key, throttle in throttles.items():
        if throttle.updated_at is None or throttle.updated_at <= now - WINDOW or throttle.blocked_until:
            # A new window: failures older than it, or before the last refusal, are forgiven.
            throttle.failures, throttle.blocked_until = 0, None
        throttle.failures += 1
        throttle.updated_at = now
        if throttle.failures >= limits[key]:
            throttle.blocked_until = now + WINDOW
    db.session.commit()
    raise not_found()


def mask_name(full_name: str) -> str:
    """A name shown partly: the given name (the last word, as Vietnamese names are written)
    whole, the others by their first letter: "Trần Thị Bình" -> "T. T. Bình"."""
    words = full_name.split()
    if not words:
        return ""
    return " ".join([w[0] + "." for w in words[:-1]] + [words[-1]])


def due_json(found: Found) -> dict:
    """What the payer needs to see, nothing more: no other party, no citizen id, no address."""
    n = found.notice
    interest = late_interest_today(n)
    payload = vietqr_payload(n)
    return {
        "code": n.code,
        "status": n.status.value,
        "paid_for": mask_name(found.party.full_name),
        "total": n.total,
        "outstanding": n.outstanding,
        "due_on": n.due_on.isoformat() if n.due_on else None,
        "late_interest_today": interest,
        "amount_due_today": interest["amount_due_today"] if interest else n.outstanding,
        "lines": [
            {
                "obligation": line.obligation,
                "amount": line.amount,
                "paid": line.paid,
                "outstanding": line.outstanding,
                "due_on": line.due_on.isoformat() if line.due_on else None,
                "installments": [{"due_on": p["due_on"], "amount": p["amount"]}
                                 for p in line.installments or ()],
                "explanation": {"vi": line.info("explanation_vi"), "en": line.info("explanation_en")},
                "legal_basis": line.info("legal_basis"),
            }
            for line in n.lines
        ],
        "vietqr": {
            "payload": payload,
            "bank_bin": current_app.config.get("VIETQR_ACQUIRER_ID"),
            "account": current_app.config.get("VIETQR_ACCOUNT"),
            "amount": n.outstanding,
            "purpose": n.code,
        } if payload else None,
    }


# --- paying -----------------------------------------------------------------------------------

_SALT = "public-pay-order"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def order_token(order: PaymentOrder) -> str:
    """The signed reference of a payment made without an account: whoever holds it (the
    payer's browser, sent back by the bank) may see that payment and its receipt, nobody
    else can make one up."""
    return _serializer().dumps(order.ref)


def order_for_token(token: str) -> PaymentOrder:
    try:
        ref = _serializer().loads(token)
    except BadSignature:
        raise NotFound(_("This payment is not known.")) from None
    order = db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == ref,
                                                          PaymentOrder.created_by_id.is_(None)))
    if order is None:
        raise NotFound(_("This payment is not known."))
    return order


def check_payer_name(payer_name: str | None) -> str:
    name = " ".join((payer_name or "").split())
    if not name:
        raise ValidationFailed(_("Give your name: it is printed on the receipt."),
                               fields={"payer_name": _("Required.")})
    if len(name) > 200:
        raise ValidationFailed(_("Invalid input."), fields={"payer_name": _("At most 200 characters.")})
    return name


def start(code: str | None, citizen_id: str | None, payer_name: str | None) -> tuple[PaymentOrder, str]:
    """Start a bank payment of the notice for its party, by a person without an account."""
    name = check_payer_name(payer_name)
    found = find(code, citizen_id)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return paying.start_payment(
        None, found.notice, payer_name=name, paid_for=found.party,
        return_url=lambda order: base + url_for("pay.payment", token=order_token(order)),
    )


def payment_json(order: PaymentOrder, token: str) -> dict:
    receipt = order.receipt
    return {
        "ref": order.ref,
        "notice_code": order.notice.code,
        "amount": order.amount,
        "status": order.status.value,
        "payer_name": order.payer_name,
        "paid_for": mask_name(order.paid_for.full_name) if order.paid_for else None,
        "created_at": order.created_at.isoformat(),
        "finished_at": order.finished_at.isoformat() if order.finished_at else None,
        "status_url": url_for("api.public_payment", token=token),
        "receipt": {"number": receipt.number, "kid": receipt.kid, "token": receipt.token,
                    "payer_name": receipt.claims.get("payer_name"),
                    "paid_for": receipt.claims.get("paid_for")} if receipt else None,
    }
