"""Transfers between accounts, the signed credit notification to a collecting account's owner
(retried until acknowledged), and the signed daily statement (docs/protocols/bank-transfer.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import select

from mock_bank.config import Collecting
from mock_bank.models import CreditAttempt, Customer, Entry, RefundTransfer, Transaction, utcnow
from mock_bank.signing import with_hash

log = logging.getLogger(__name__)
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


class TransferRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def local_day(moment: datetime) -> str:
    return moment.astimezone(LOCAL).date().isoformat()


def new_transaction_id(moment: datetime) -> str:
    return "FT" + moment.strftime("%Y%m%d") + secrets.token_hex(5).upper()


def transfer(db: Any, config: dict[str, Any], customer: Customer, *, to_bin: str, to_account: str,
             amount: int, purpose: str, moment: datetime) -> Entry:
    """Debit the customer and book the credit; the caller commits, then notifies."""
    if amount <= 0:
        raise TransferRefused("The amount must be more than zero.")
    if to_bin != config["BANK_BIN"]:
        raise TransferRefused("Transfers to other banks are not possible in the test bank.")
    if to_account == customer.account:
        raise TransferRefused("You cannot transfer to your own account.")
    if customer.balance < amount:
        raise TransferRefused("Insufficient funds.")
    payee = db.scalar(select(Customer).where(Customer.account == to_account))
    if payee is None and to_account not in config["COLLECTING"]:
        raise TransferRefused("The payee's account does not exist at this bank.")
    customer.balance -= amount
    if payee is not None:
        payee.balance += amount
    entry = Entry(
        transaction_id=new_transaction_id(moment), direction="credit", channel="transfer",
        from_account=customer.account, from_name=customer.name, to_bin=to_bin,
        to_account=to_account, amount=amount, purpose=purpose[:255],
        value_date=local_day(moment), booked_at=moment,
        notify="notify" if to_account in config["COLLECTING"] else "none",
    )
    db.add(entry)
    return entry


def credit_fields(entry: Entry, config: dict[str, Any]) -> dict[str, str]:
    collecting: Collecting = config["COLLECTING"][entry.to_account]
    secret = config["MERCHANTS"][collecting.merchant_id].secret
    return with_hash({
        "lp_version": "1",
        "lp_type": "credit",
        "lp_transaction_id": entry.transaction_id,
        "lp_bank_bin": entry.to_bin,
        "lp_account": entry.to_account,
        "lp_amount": str(entry.amount),
        "lp_purpose": entry.purpose,
        "lp_payer_name": entry.from_name,
        "lp_payer_account": entry.from_account,
        "lp_value_date": entry.value_date.replace("-", ""),
        "lp_booked_at": entry.booked_at.astimezone(UTC).strftime("%Y%m%d%H%M%S"),
    }, secret)


def _attempt(url: str, body: dict[str, str], timeout: float) -> dict[str, Any]:
    outcome: dict[str, Any] = {"http_status": None, "rsp_code": None, "error": None}
    try:
        response = requests.post(url, data=body, timeout=timeout)
    except requests.RequestException as exc:
        outcome["error"] = type(exc).__name__
        return outcome
    outcome["http_status"] = response.status_code
    try:
        code = response.json().get("RspCode")
    except (ValueError, AttributeError):
        code = None
    if response.status_code != 200 or not isinstance(code, str):
        outcome["error"] = f"HTTP {response.status_code}, no RspCode"
        return outcome
    outcome["rsp_code"] = code[:10]
    return outcome


def deliver(config: dict[str, Any], make_session: Any, entry_id: int, attempts: int | None = None) -> bool:
    """Send the credit notification until the owner answers 00 or the attempts run out; every
    attempt is recorded. True when acknowledged (now or before)."""
    backoff = list(config["CREDIT_BACKOFF"]) or [0.0]
    total = attempts or max(1, int(config["CREDIT_ATTEMPTS"]))
    for number in range(total):
        with make_session() as db:
            entry = db.get(Entry, entry_id)
            if entry is None or entry.acknowledged_at is not None:
                return entry is not None
            body = credit_fields(entry, config)
            url = config["COLLECTING"][entry.to_account].credit_url
        outcome = _attempt(url, body, float(config["CREDIT_TIMEOUT"]))
        with make_session() as db:
            db.add(CreditAttempt(entry_id=entry_id, **outcome))
            if outcome["rsp_code"] == "00":
                db.get(Entry, entry_id).acknowledged_at = utcnow()
            db.commit()
        log.info("credit %s attempt %s: %s", entry_id, number + 1, outcome["rsp_code"] or outcome["error"])
        if outcome["rsp_code"] == "00":
            return True
        if number + 1 < total:
            time.sleep(backoff[min(number, len(backoff) - 1)])
    return False


def deliver_in_background(config: dict[str, Any], make_session: Any, entry_id: int) -> threading.Thread:
    """Deliver the new credit, then try once more each older one still unacknowledged: a
    merchant that was down for a while gets every credit when it is back."""

    def run() -> None:
        deliver(config, make_session, entry_id)
        with make_session() as db:
            older = [i for i in unacknowledged(db) if i != entry_id]
        for other in older:
            deliver(config, make_session, other, attempts=1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def unacknowledged(db: Any) -> list[int]:
    return list(db.scalars(select(Entry.id).where(Entry.notify == "notify", Entry.acknowledged_at.is_(None))))


# -- statements ---------------------------------------------------------------------------------


def canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lines_until(db: Any, config: dict[str, Any], account: str, day: date, *, before: bool) -> list[dict]:
    """The account's bookings of ``day`` (or of every day before it): transfers in and out, the
    checkout page's successful card payments to the account's merchant, and its refunds."""
    merchant_id = config["COLLECTING"][account].merchant_id
    lines: list[dict] = []

    def keep(moment: datetime) -> bool:
        booked = moment.astimezone(LOCAL).date()
        return booked < day if before else booked == day

    for e in db.scalars(select(Entry).where((Entry.to_account == account) | (Entry.from_account == account))):
        if keep(e.booked_at):
            incoming = e.to_account == account
            lines.append({
                "transaction_id": e.transaction_id, "direction": "credit" if incoming else "debit",
                "channel": e.channel, "amount": e.amount, "purpose": e.purpose,
                "value_date": e.value_date, "booked_at": _stamp(e.booked_at),
                "counterparty_name": e.from_name if incoming else "",
                "counterparty_account": e.from_account if incoming else e.to_account,
            })
    for t in db.scalars(select(Transaction).where(Transaction.merchant_id == merchant_id,
                                                  Transaction.response_code == "00")):
        if keep(t.pay_date):
            lines.append({
                "transaction_id": t.transaction_no, "direction": "credit", "channel": "card",
                "amount": t.amount, "purpose": t.order_info, "value_date": local_day(t.pay_date),
                "booked_at": _stamp(t.pay_date), "counterparty_name": "",
                "counterparty_account": t.account or "", "order_ref": t.order_ref,
            })
    for r in db.scalars(select(RefundTransfer).where(RefundTransfer.merchant_id == merchant_id)):
        if keep(r.refund_date):
            lines.append({
                "transaction_id": r.refund_no, "direction": "debit", "channel": "refund",
                "amount": r.amount, "purpose": f"Refund {r.refund_ref}", "value_date": local_day(r.refund_date),
                "booked_at": _stamp(r.refund_date), "counterparty_name": "",
                "counterparty_account": r.account or "",
            })
    lines.sort(key=lambda line: (line["booked_at"], line["transaction_id"]))
    return lines


def _balance(lines: list[dict]) -> int:
    return sum(line["amount"] if line["direction"] == "credit" else -line["amount"] for line in lines)


def statement(db: Any, config: dict[str, Any], account: str, day: date, now: datetime) -> dict[str, Any]:
    """The signed statement of ``account`` for the local day ``day``: every booking of that day."""
    collecting: Collecting = config["COLLECTING"][account]
    secret = config["MERCHANTS"][collecting.merchant_id].secret
    lines = _lines_until(db, config, account, day, before=False)
    opening = _balance(_lines_until(db, config, account, day, before=True))
    document = {
        "version": "1", "bank_bin": config["BANK_BIN"], "account": account, "date": day.isoformat(),
        "currency": "VND", "opening_balance": opening, "closing_balance": opening + _balance(lines),
        "generated_at": _stamp(now), "lines": lines,
    }
    signature = hmac.new(secret.encode("utf-8"), canonical(document), hashlib.sha512).hexdigest()
    return {"statement": document, "signature": {"algorithm": "HMAC-SHA512", "value": signature}}
