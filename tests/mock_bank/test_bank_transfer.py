"""The test bank's banking app: VietQR codes read by its own EMVCo code, transfers, the signed
credit notification with retries, and the signed daily statement."""

from __future__ import annotations

import io
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from bankkit import MERCHANT, SECRET, csrf_token

from mock_bank import emvco
from mock_bank.config import Collecting
from payments.credits import parse_credit
from payments.statements import parse_statement, statement_request
from payments.vietqr import build_payload, qr_png

ACCOUNT = "0011001932418"
PAYLOAD = build_payload(bank_bin="970436", account=ACCOUNT, amount=1_250_000, purpose="TBK7QM2X9A",
                        bill_number="TBK7QM2X9A")


def test_reads_what_landpay_writes():
    t = emvco.read(PAYLOAD)
    assert (t.bank_bin, t.account, t.amount, t.purpose, t.bill_number) == (
        "970436", ACCOUNT, 1_250_000, "TBK7QM2X9A", "TBK7QM2X9A")
    static = emvco.read(build_payload(bank_bin="970436", account=ACCOUNT, amount=None, purpose="x"))
    assert static.amount is None


@pytest.mark.parametrize("text, why", [
    (PAYLOAD[:-1] + ("0" if PAYLOAD[-1] != "0" else "1"), "checksum"),
    (PAYLOAD.replace("1250000", "9250000"), "checksum"),
    ("hello", "not a VietQR"),
    ("", "not a VietQR"),
])
def test_refuses_damaged_codes(text, why):
    with pytest.raises(emvco.BadPayload, match=why):
        emvco.read(text)


def test_decodes_an_uploaded_picture():
    assert emvco.decode_image(qr_png(PAYLOAD)) == PAYLOAD
    with pytest.raises(emvco.BadPayload):
        emvco.decode_image(b"not a picture")


@pytest.fixture
def wired(bank):
    """The bank with LandPay's collecting account notified to the merchant's receiver."""
    cfg = bank.app.extensions["mock_bank"]["config"]
    cfg["COLLECTING"] = {ACCOUNT: Collecting(ACCOUNT, MERCHANT, cfg["MERCHANTS"][MERCHANT].notify_url)}
    cfg["CREDIT_BACKOFF"] = [0.05]
    return bank


def _login(client, username="lan"):
    token = csrf_token(client.get("/app/login").get_data(as_text=True))
    response = client.post("/app/login", data={"csrf_token": token, "username": username,
                                                "password": "bank-test-2026"})
    assert response.status_code == 302


def _pay(client, *, payload=None, image=None):
    token = csrf_token(client.get("/app/").get_data(as_text=True))
    data = {"csrf_token": token, "payload": payload or ""}
    if image is not None:
        data["image"] = (io.BytesIO(image), "qr.png")
    confirm = client.post("/app/scan", data=data, content_type="multipart/form-data")
    if confirm.status_code != 200:
        return confirm
    page = confirm.get_data(as_text=True)
    assert ACCOUNT in page and "1.250.000" in page and "TBK7QM2X9A" in page
    return client.post("/app/transfer", data={"csrf_token": csrf_token(page), "payload": PAYLOAD})


def _ledger(bank):
    return bank.app.test_client().get("/test/ledger").get_json()


def test_a_transfer_debits_the_customer_and_is_notified_signed_until_acknowledged(wired):
    wired.receiver.script = ["99", "500"]  # LandPay busy twice, then acknowledges
    client = wired.app.test_client()
    _login(client)
    done = _pay(client, image=qr_png(PAYLOAD))
    assert done.status_code == 302 and "done=FT" in done.headers["Location"]
    wired.receiver.wait_for(3)
    credit = parse_credit(wired.receiver.received[-1], SECRET)
    assert (credit.account, credit.amount, credit.purpose, credit.payer_account) == (
        ACCOUNT, 1_250_000, "TBK7QM2X9A", "1012345678")
    assert {p["lp_transaction_id"] for p in wired.receiver.received} == {credit.transaction_id}
    # The bank records the third answer just after LandPay's receiver sent it.
    deadline = time.monotonic() + 5
    while not (ledger := _ledger(wired))["entries"][0]["acknowledged"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ledger["balances"]["lan"] == 5_000_000_000 - 1_250_000
    [entry] = ledger["entries"]
    assert entry["acknowledged"] and [a["rsp_code"] for a in entry["attempts"]] == ["99", None, "00"]


@pytest.mark.parametrize("username, payload, status", [
    ("nga", PAYLOAD, 422),  # insufficient funds
    ("lan", build_payload(bank_bin="970436", account="777", amount=5, purpose="x"), 422),  # no such payee
    ("lan", build_payload(bank_bin="970415", account=ACCOUNT, amount=5, purpose="x"), 422),  # other bank
])
def test_refused_transfers_move_nothing(wired, username, payload, status):
    client = wired.app.test_client()
    _login(client, username)
    token = csrf_token(client.get("/app/").get_data(as_text=True))
    page = client.post("/app/scan", data={"csrf_token": token, "payload": payload}).get_data(as_text=True)
    response = client.post("/app/transfer", data={"csrf_token": csrf_token(page), "payload": payload})
    assert response.status_code == status
    assert _ledger(wired)["entries"] == []


def test_wrong_password_and_damaged_paste_are_refused(wired):
    client = wired.app.test_client()
    token = csrf_token(client.get("/app/login").get_data(as_text=True))
    assert client.post("/app/login", data={"csrf_token": token, "username": "lan",
                                           "password": "nope"}).status_code == 401
    _login(client)
    token = csrf_token(client.get("/app/").get_data(as_text=True))
    assert client.post("/app/scan", data={"csrf_token": token, "payload": PAYLOAD[:-2] + "00"}).status_code == 422


def test_the_daily_statement_is_signed_and_complete(wired):
    yesterday = (datetime.now(UTC) - timedelta(days=1)).astimezone(UTC)
    hook = wired.app.test_client()
    first = hook.post("/test/credit", json={"amount": 700, "purpose": "TBK7QM2X9A",
                                            "booked_at": yesterday.isoformat()}).get_json()
    silent = hook.post("/test/credit", json={"amount": 300, "purpose": "x", "notify": False,
                                             "booked_at": yesterday.isoformat()}).get_json()
    hook.post("/test/credit", json={"amount": 50, "direction": "debit", "booked_at": yesterday.isoformat()})
    assert first["acknowledged"] and not silent["acknowledged"]
    day = date.fromisoformat(_local_day(yesterday))
    params = statement_request(merchant_id=MERCHANT, account=ACCOUNT, day=day, secret=SECRET)
    response = requests.get(wired.url + "/api/statement", params=params, timeout=5)
    assert response.status_code == 200
    statement = parse_statement(response.json(), SECRET)
    assert sorted((line.direction, line.amount) for line in statement.lines) == [
        ("credit", 300), ("credit", 700), ("debit", 50)]
    assert statement.closing_balance - statement.opening_balance == 950
    bad = statement_request(merchant_id=MERCHANT, account=ACCOUNT, day=day, secret="wrong")
    assert requests.get(wired.url + "/api/statement", params=bad, timeout=5).status_code == 403
    today = statement_request(merchant_id=MERCHANT, account=ACCOUNT, day=date.fromisoformat(
        _local_day(datetime.now(UTC))), secret=SECRET)
    assert requests.get(wired.url + "/api/statement", params=today, timeout=5).status_code == 409


def _local_day(moment):
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
