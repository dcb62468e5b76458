"""Each test account's outcome, the notification, its retries and the admin record."""

from __future__ import annotations

import socket
import time

import pytest
import requests
from bankkit import (
    DELAYED_ACCOUNT,
    MERCHANT,
    OK_ACCOUNT,
    POOR_ACCOUNT,
    SECRET,
    SILENT_ACCOUNT,
    TWICE_ACCOUNT,
    checkout_params,
)

from payments.signing import verify_params


def pay(bank, account=OK_ACCOUNT, order_ref="PAY-0001", **extra):  # type: ignore[no-untyped-def]
    body = dict(checkout_params(order_ref), test_account=account, **extra)
    response = requests.post(f"{bank.url}/test/pay", data=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("account", "code", "notifications"),
    [
        (OK_ACCOUNT, "00", 1),
        (POOR_ACCOUNT, "51", 1),
        (TWICE_ACCOUNT, "00", 2),
        (SILENT_ACCOUNT, "00", 0),
    ],
)
def test_account_outcomes(bank, account, code, notifications):
    answer = pay(bank, account)
    assert answer["response_code"] == code
    assert len(bank.receiver.received) == notifications
    assert all(bank.receiver.signature_ok)
    for ipn in bank.receiver.received:
        assert ipn["lp_response_code"] == code
        assert ipn["lp_order_ref"] == "PAY-0001"
        assert ipn["lp_amount"] == "12500000"
        assert ipn["lp_merchant_id"] == MERCHANT
        assert ipn["lp_transaction_no"] == answer["transaction_no"]
    assert verify_params(answer["return_params"], SECRET)
    assert answer["return_params"]["lp_response_code"] == code
    if notifications:
        assert bank.receiver.received[0] == answer["return_params"]


def test_cancel_notifies_code_24(bank):
    answer = pay(bank, test_action="cancel")
    assert answer["response_code"] == "24"
    assert bank.receiver.received[0]["lp_response_code"] == "24"


def test_duplicate_notifications_are_separate_deliveries(bank):
    pay(bank, TWICE_ACCOUNT)
    [txn] = bank.transactions()
    assert [(n["delivery"], n["attempt"], n["trigger"]) for n in txn["notifications"]] == [
        (1, 1, "confirm"),
        (2, 1, "duplicate"),
    ]
    assert bank.receiver.received[0] == bank.receiver.received[1]


def test_delayed_notification_arrives_after_the_answer(bank):
    answer = pay(bank, DELAYED_ACCOUNT)
    assert answer["notification_mode"] == "delayed"
    assert answer["notifications"] == []
    bank.receiver.wait_for(1)
    deadline = time.monotonic() + 5
    while not bank.transactions()[0]["notifications"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert bank.transactions()[0]["notifications"][0]["trigger"] == "delayed"


def test_retries_until_answered(bank):
    bank.receiver.script = ["500", "garbage", "00"]
    answer = pay(bank)
    attempts = answer["notifications"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3]
    assert [a["http_status"] for a in attempts] == [500, 200, 200]
    assert [a["rsp_code"] for a in attempts] == [None, None, "00"]
    assert attempts[0]["error"] == "HTTP 500"
    assert attempts[1]["error"] == "answer is not JSON"
    assert len(bank.receiver.received) == 3


def test_gives_up_after_three_attempts(bank):
    bank.receiver.script = ["99", "99", "99", "00"]
    answer = pay(bank)
    assert [a["rsp_code"] for a in answer["notifications"]] == ["99", "99", "99"]
    assert len(bank.receiver.received) == 3


@pytest.mark.parametrize("final", ["00", "01", "02", "04", "97"])
def test_final_answers_stop_delivery(bank, final):
    bank.receiver.script = [final]
    answer = pay(bank)
    assert len(answer["notifications"]) == 1


def test_timeout_counts_as_no_answer(bank_factory):
    bank = bank_factory(IPN_TIMEOUT=0.3)
    bank.receiver.script = [("sleep", 0.8, "00"), "00"]
    answer = pay(bank)
    assert [a["rsp_code"] for a in answer["notifications"]] == [None, "00"]
    assert answer["notifications"][0]["error"] == "ReadTimeout"


def test_backoff_waits_between_attempts(bank_factory):
    bank = bank_factory(IPN_BACKOFF=[0.3, 0.3])
    bank.receiver.script = ["500", "500", "00"]
    started = time.monotonic()
    pay(bank)
    assert time.monotonic() - started >= 0.6


def test_unreachable_merchant_is_recorded(bank_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bank = bank_factory(notify_url=f"http://127.0.0.1:{port}/notify")
    answer = pay(bank)
    assert [a["error"] for a in answer["notifications"]] == ["ConnectionError"] * 3
    assert len(bank.transactions()[0]["notifications"]) == 3
    html = requests.get(f"{bank.url}/admin/transactions", timeout=5).text
    assert "ConnectionError" in html


def test_admin_json_records_every_attempt_and_answer(bank):
    bank.receiver.script = ["500", "00"]
    pay(bank)
    [txn] = requests.get(f"{bank.url}/admin/transactions.json", timeout=5).json()["transactions"]
    assert txn["order_ref"] == "PAY-0001" and txn["amount"] == 12_500_000
    assert txn["account"] == OK_ACCOUNT and txn["response_code"] == "00"
    first, second = txn["notifications"]
    assert first["http_status"] == 500 and first["rsp_code"] is None
    assert second["rsp_code"] == "00" and '"RspCode"' in second["response_body"]


def test_renotify_replays_the_same_signed_notification(bank):
    answer = pay(bank)
    replay = requests.post(f"{bank.url}/test/renotify/{answer['transaction_no']}", timeout=10)
    assert replay.status_code == 200
    assert replay.json()["notifications"][0]["trigger"] == "renotify"
    assert len(bank.receiver.received) == 2
    assert bank.receiver.received[0] == bank.receiver.received[1]
    deliveries = [n["delivery"] for n in bank.transactions()[0]["notifications"]]
    assert deliveries == [1, 2]
