"""The bank's signed daily statement of the collecting account, and the rules that match it
against what LandPay recorded (docs/protocols/bank-transfer.md, docs/reconciliation.md).

Pure: documents and records in, findings out. The app stores the findings as reconciliation
items; deciding what each one means for the money happens here, once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from payments.errors import MalformedNotification, SignatureError

ALGORITHM = "HMAC-SHA512"
DIRECTIONS = ("credit", "debit")
CHANNELS = ("transfer", "card", "refund", "other")
_TXN_ID = re.compile(r"[A-Za-z0-9_-]{1,60}")


def canonical_json(document: Any) -> bytes:
    """The bytes that are signed: keys sorted, no spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_document(statement: Mapping[str, Any], secret: str) -> dict[str, Any]:
    """The envelope the bank sends: the statement and the HMAC-SHA512 of its canonical JSON."""
    if not secret:
        raise ValueError("the signing secret must not be empty")
    value = hmac.new(secret.encode("utf-8"), canonical_json(statement), hashlib.sha512).hexdigest()
    return {"statement": dict(statement), "signature": {"algorithm": ALGORITHM, "value": value}}


@dataclass(frozen=True)
class Line:
    """One booking on the collecting account."""

    transaction_id: str
    direction: str  #: credit (money in) or debit (money out)
    channel: str  #: transfer, card, refund or other
    amount: int  #: whole dong, positive
    purpose: str
    value_date: date
    booked_at: datetime
    counterparty_name: str = ""
    counterparty_account: str = ""
    order_ref: str = ""  #: our order reference, for card payments


@dataclass(frozen=True)
class Statement:
    bank_bin: str
    account: str
    day: date
    opening_balance: int
    closing_balance: int
    lines: tuple[Line, ...]
    signature: str
    #: The signed ``statement`` object as received: kept so the import can be re-verified.
    document: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def credits(self) -> int:
        return sum(line.amount for line in self.lines if line.direction == "credit")

    @property
    def debits(self) -> int:
        return sum(line.amount for line in self.lines if line.direction == "debit")


def _int(value: Any, name: str, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (positive and value <= 0):
        raise MalformedNotification(f"{name} must be a whole number of dong")
    return value


def _text(value: Any, name: str, limit: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise MalformedNotification(f"{name} must be text of at most {limit} characters")
    return value


def _line(raw: Any, n: int) -> Line:
    if not isinstance(raw, dict):
        raise MalformedNotification(f"line {n} is not an object")
    try:
        value_date = date.fromisoformat(raw.get("value_date", ""))
        booked_at = datetime.fromisoformat(str(raw.get("booked_at", "")).replace("Z", "+00:00"))
    except (TypeError, ValueError) as exc:
        raise MalformedNotification(f"line {n}: value_date or booked_at is not a date") from exc
    if booked_at.tzinfo is None:
        raise MalformedNotification(f"line {n}: booked_at needs a time zone")
    txn = raw.get("transaction_id")
    if not isinstance(txn, str) or not _TXN_ID.fullmatch(txn):
        raise MalformedNotification(f"line {n}: transaction_id is malformed")
    if raw.get("direction") not in DIRECTIONS or raw.get("channel") not in CHANNELS:
        raise MalformedNotification(f"line {n}: direction or channel is unknown")
    return Line(
        transaction_id=txn, direction=raw["direction"], channel=raw["channel"],
        amount=_int(raw.get("amount"), f"line {n} amount", positive=True),
        purpose=_text(raw.get("purpose"), f"line {n} purpose"),
        value_date=value_date, booked_at=booked_at.astimezone(UTC),
        counterparty_name=_text(raw.get("counterparty_name"), f"line {n} counterparty_name", 120),
        counterparty_account=_text(raw.get("counterparty_account"), f"line {n} counterparty_account", 40),
        order_ref=_text(raw.get("order_ref"), f"line {n} order_ref", 64),
    )


def parse_statement(envelope: Any, secret: str) -> Statement:
    """Check the signature, then the document. Raises SignatureError or MalformedNotification."""
    if not isinstance(envelope, dict) or not isinstance(envelope.get("statement"), dict):
        raise MalformedNotification("the statement envelope is malformed")
    signature = envelope.get("signature")
    given = signature.get("value") if isinstance(signature, dict) else None
    if not isinstance(given, str) or signature.get("algorithm") != ALGORITHM:
        raise SignatureError("the statement is not signed with HMAC-SHA512")
    expected = sign_document(envelope["statement"], secret)["signature"]["value"]
    if not hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii", "replace")):
        raise SignatureError("the statement's signature does not match")
    doc = envelope["statement"]
    if doc.get("version") != "1":
        raise MalformedNotification("statement version must be 1")
    try:
        day = date.fromisoformat(doc.get("date", ""))
    except (TypeError, ValueError) as exc:
        raise MalformedNotification("statement date is not a date") from exc
    raw_lines = doc.get("lines")
    if not isinstance(raw_lines, list):
        raise MalformedNotification("statement lines must be a list")
    lines = tuple(_line(raw, n) for n, raw in enumerate(raw_lines, 1))
    opening = _int(doc.get("opening_balance"), "opening_balance")
    closing = _int(doc.get("closing_balance"), "closing_balance")
    statement = Statement(
        bank_bin=_text(doc.get("bank_bin"), "bank_bin", 6), account=_text(doc.get("account"), "account", 19),
        day=day, opening_balance=opening, closing_balance=closing, lines=lines, signature=given.lower(),
        document=doc,
    )
    if opening + statement.credits - statement.debits != closing:
        raise MalformedNotification("opening balance + credits - debits is not the closing balance")
    return statement


# -- matching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """Money LandPay knows of, keyed by the bank's transaction id: a credit notification
    received, a card payment counted, or a refund sent."""

    transaction_id: str
    amount: int
    value_date: date
    direction: str = "credit"


class LineKind(StrEnum):
    MATCHED = "matched"  #: a record with the same id, amount and day
    NEW = "new"  #: no record: a credit never notified (or a debit we did not order)
    AMOUNT_DIFFERS = "amount_differs"  #: a record with the same id and another amount
    OTHER_DAY = "other_day"  #: same id and amount, but counted on another day
    DUPLICATE_LINE = "duplicate_line"  #: the id appeared earlier on this statement


@dataclass(frozen=True)
class LineMatch:
    index: int
    line: Line
    kind: LineKind
    record: Record | None


@dataclass(frozen=True)
class Matching:
    lines: tuple[LineMatch, ...]
    #: Records counted for the statement's day that no statement line shows.
    missing: tuple[Record, ...]


def match_statement(
    day: date,
    lines: Iterable[Line],
    records: Mapping[str, Record],
    counted_on_day: Iterable[Record],
    shown_elsewhere: Iterable[str] = (),
) -> Matching:
    """Every line to a record and every record counted on ``day`` to a line.

    ``records`` holds every record whose transaction id appears on the statement (looked up by
    the caller); ``counted_on_day`` the records whose value date is ``day``; ``shown_elsewhere``
    the ids already shown on another day's statement (so not missing: that day had them late).
    """
    out: list[LineMatch] = []
    seen: Counter[str] = Counter()
    for index, line in enumerate(lines):
        seen[line.transaction_id] += 1
        record = records.get(line.transaction_id)
        if seen[line.transaction_id] > 1:
            kind = LineKind.DUPLICATE_LINE
        elif record is None or record.direction != line.direction:
            kind, record = LineKind.NEW, None
        elif record.amount != line.amount:
            kind = LineKind.AMOUNT_DIFFERS
        elif record.value_date != day or line.value_date != day:
            kind = LineKind.OTHER_DAY
        else:
            kind = LineKind.MATCHED
        out.append(LineMatch(index, line, kind, record))
    elsewhere = set(shown_elsewhere)
    missing = tuple(r for r in counted_on_day
                    if r.transaction_id not in seen and r.transaction_id not in elsewhere)
    return Matching(tuple(out), missing)


# -- asking the bank ----------------------------------------------------------------------------


def statement_request(*, merchant_id: str, account: str, day: date, secret: str,
                      now: datetime | None = None) -> dict[str, str]:
    """The signed query parameters of ``GET /api/statement``."""
    from payments.signing import signed

    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return signed({
        "lp_version": "1", "lp_command": "statement", "lp_merchant_id": merchant_id,
        "lp_account": account, "lp_date": day.strftime("%Y%m%d"),
        "lp_request_date": moment.strftime("%Y%m%d%H%M%S"),
    }, secret)


def fetch_statement(base_url: str, *, merchant_id: str, account: str, day: date, secret: str,
                    timeout: float = 10.0, session: Any = None) -> Statement:
    """Ask the bank for a day's statement and check it. Raises GatewayError when the bank cannot
    give it (unreachable, not ready, refused), SignatureError or MalformedNotification when
    what came back cannot be trusted."""
    import requests

    from payments.errors import GatewayError

    http = session or requests
    params = statement_request(merchant_id=merchant_id, account=account, day=day, secret=secret)
    try:
        response = http.get(base_url.rstrip("/") + "/api/statement", params=params, timeout=timeout)
    except requests.RequestException as exc:
        raise GatewayError(f"the bank could not be reached ({type(exc).__name__})") from exc
    if response.status_code != 200:
        try:
            message = response.json().get("message", "")
        except ValueError:
            message = ""
        raise GatewayError(f"the bank answered HTTP {response.status_code} {message}".strip())
    try:
        envelope = response.json()
    except ValueError as exc:
        raise MalformedNotification("the statement is not JSON") from exc
    statement = parse_statement(envelope, secret)
    if statement.day != day or statement.account != account:
        raise MalformedNotification("the bank sent the statement of another day or account")
    return statement
