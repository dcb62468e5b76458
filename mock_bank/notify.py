"""Delivering notifications (IPN) to merchants, with bounded retries (docs section 3.3)."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import requests
from sqlalchemy import func, select

from mock_bank.config import Merchant
from mock_bank.models import Notification, Transaction, utcnow
from mock_bank.signing import with_hash

log = logging.getLogger(__name__)

#: Answers after which retrying would not change anything.
FINAL_ANSWERS = frozenset({"00", "02", "01", "04", "97"})


def result_fields(txn: Transaction, merchant: Merchant) -> dict[str, str]:
    """The signed result parameters shared by the browser return and the notification."""
    return with_hash(
        {
            "lp_version": "1",
            "lp_merchant_id": txn.merchant_id,
            "lp_order_ref": txn.order_ref,
            "lp_amount": str(txn.amount),
            "lp_order_info": txn.order_info,
            "lp_response_code": txn.response_code,
            "lp_transaction_no": txn.transaction_no,
            "lp_pay_date": txn.pay_date.strftime("%Y%m%d%H%M%S"),
        },
        merchant.secret,
    )


def _one_attempt(url: str, body: dict[str, str], timeout: float) -> dict[str, Any]:
    outcome: dict[str, Any] = {"http_status": None, "response_body": None, "rsp_code": None}
    try:
        response = requests.post(url, data=body, timeout=timeout)
    except requests.RequestException as exc:
        outcome["error"] = f"{type(exc).__name__}"
        return outcome
    outcome["http_status"] = response.status_code
    outcome["response_body"] = response.text[:1000]
    if response.status_code != 200:
        outcome["error"] = f"HTTP {response.status_code}"
        return outcome
    try:
        answer = json.loads(response.text)
    except ValueError:
        outcome["error"] = "answer is not JSON"
        return outcome
    code = answer.get("RspCode") if isinstance(answer, dict) else None
    if not isinstance(code, str):
        outcome["error"] = "answer has no RspCode"
        return outcome
    outcome["rsp_code"] = code[:10]
    outcome["error"] = None
    return outcome


def deliver(
    config: dict[str, Any], make_session: Any, transaction_id: int, trigger: str
) -> list[dict]:
    """One delivery: up to IPN_ATTEMPTS attempts, each recorded. Returns the attempts."""
    with make_session() as db:
        txn = db.get(Transaction, transaction_id)
        if txn is None:
            return []
        merchant: Merchant = config["MERCHANTS"][txn.merchant_id]
        body = result_fields(txn, merchant)
        delivery = (
            db.scalar(
                select(func.max(Notification.delivery)).where(
                    Notification.transaction_id == transaction_id
                )
            )
            or 0
        ) + 1
    attempts: list[dict] = []
    backoff: list[float] = list(config["IPN_BACKOFF"])
    for number in range(1, max(1, int(config["IPN_ATTEMPTS"])) + 1):
        if number > 1:
            pause = backoff[min(number - 2, len(backoff) - 1)] if backoff else 0
            time.sleep(pause)
        sent_at = utcnow()
        outcome = _one_attempt(merchant.notify_url, body, float(config["IPN_TIMEOUT"]))
        with make_session() as db:
            row = Notification(
                transaction_id=transaction_id,
                delivery=delivery,
                attempt=number,
                trigger=trigger,
                url=merchant.notify_url,
                sent_at=sent_at,
                **outcome,
            )
            db.add(row)
            db.commit()
            attempts.append(row.as_dict())
        log.info("IPN %s attempt %s: %s", transaction_id, number, outcome.get("rsp_code"))
        if outcome["rsp_code"] in FINAL_ANSWERS:
            break
    return attempts


def deliver_later(
    config: dict[str, Any], make_session: Any, transaction_id: int, delay: float
) -> threading.Timer:
    timer = threading.Timer(delay, deliver, args=(config, make_session, transaction_id, "delayed"))
    timer.daemon = True
    timer.start()
    return timer
