"""The whole flow over HTTP against separate processes: the web app (with its own
database) and the mock bank (with its own), from filing to completion."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from app.cli import DEMO_PASSWORD
from payments.receipts import verify_receipt

pytestmark = pytest.mark.e2e

PAYS = "9704000000000018"
DECLINES = "9704000000000026"
NOTIFIES_TWICE = "9704000000000034"
NEVER_NOTIFIES = "9704000000000042"


class Api:
    def __init__(self, base: str, username: str):
        self.base = base
        self.session = requests.Session()
        response = self.session.post(f"{base}/api/v1/tokens", json={"username": username, "password": DEMO_PASSWORD},
                                     timeout=10)
        assert response.status_code == 201, response.text
        self.session.headers["Authorization"] = "Bearer " + response.json()["token"]

    def get(self, path):
        return self.session.get(self.base + "/api/v1" + path, timeout=10)

    def post(self, path, json=None):
        return self.session.post(self.base + "/api/v1" + path, json=json, timeout=30)


def file_dossier(stack, price=60_000_000_000) -> tuple[str, str]:
    registry = Api(stack.app_url, "registry")
    parcels = registry.get("/parcels").json()["items"]
    # A residential parcel of An's with no open dossier (a parcel has one open dossier at a
    # time; the demo's agricultural garden is for the change of use).
    parcel = next(p for p in parcels
                  if p["holder"]["citizen_id"] == "079080000001" and p["open_dossier"] is None
                  and p["land_type"] == "residential")
    created = registry.post("/dossiers", {
        "parcel_id": parcel["id"],
        "transferor": parcel["holder"],
        "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"},
        "declared_price": price,
        # One notice, the buyer's (by default the seller owes the income tax on their own).
        "tax_payer_clause": "buyer_pays_all",
    })
    assert created.status_code == 201, created.text
    dossier = created.json()
    if dossier["status"] == "awaiting_confirmation":
        tax = Api(stack.app_url, "tax")
        confirmed = tax.post(f"/assessments/{dossier['assessment']['id']}/confirm")
        assert confirmed.status_code == 201, confirmed.text
        notice = confirmed.json()["code"]
    else:
        notice = dossier["notice"]["code"]
    return dossier["code"], notice


def pay_at_bank(stack, redirect_url: str, account: str) -> dict:
    """What the payer does on the bank's checkout page, through the bank's test hook."""
    assert redirect_url.startswith(stack.bank_url + "/checkout?")
    params = dict(parse_qsl(urlsplit(redirect_url).query))
    response = requests.post(f"{stack.bank_url}/test/pay", data={**params, "test_account": account}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_transfer_filed_assessed_paid_confirmed_completed(stack):
    code, notice = file_dossier(stack)
    buyer = Api(stack.app_url, "binh")
    shown = buyer.get(f"/notices/{notice}").json()
    assert shown["status"] == "unpaid"
    assert all(line["explanation"]["vi"] and line["legal_basis"] for line in shown["lines"])

    payment = buyer.post(f"/notices/{notice}/payments").json()
    bank = pay_at_bank(stack, payment["redirect_url"], PAYS)
    assert bank["response_code"] == "00"
    assert [n["rsp_code"] for n in bank["notifications"]] == ["00"]

    # The browser's return only displays; the state was set by the notification.
    state = buyer.get(f"/payments/{payment['ref']}").json()
    assert state["status"] == "succeeded" and state["bank_ref"] == bank["transaction_no"]
    receipt = buyer.get(f"/receipts/{state['receipt_number']}").json()
    jwks = requests.get(f"{stack.app_url}/.well-known/jwks.json", timeout=10).json()
    claims = verify_receipt(receipt["token"], jwks)  # offline: the published key alone
    assert claims["notice_code"] == notice and claims["total"] == shown["total"]

    registry = Api(stack.app_url, "registry")
    proof = registry.get(f"/dossiers/{code}").json()
    assert proof["status"] == "paid" and proof["payments"][0]["receipt_number"] == state["receipt_number"]
    done = registry.post(f"/dossiers/{code}/complete")
    assert done.status_code == 200 and done.json()["status"] == "completed"
    kinds = [e["kind"] for e in registry.get(f"/dossiers/{code}").json()["events"]]
    assert kinds[0] == "dossier_filed" and kinds[-1] == "dossier_completed"
    assert "payment_confirmed" in kinds


def test_declined_then_retried(stack):
    _code, notice = file_dossier(stack)
    buyer = Api(stack.app_url, "binh")
    first = buyer.post(f"/notices/{notice}/payments").json()
    declined = pay_at_bank(stack, first["redirect_url"], DECLINES)
    assert declined["response_code"] == "51"
    assert buyer.get(f"/payments/{first['ref']}").json()["status"] == "failed"
    second = buyer.post(f"/notices/{notice}/payments").json()
    assert second["ref"] != first["ref"]
    pay_at_bank(stack, second["redirect_url"], PAYS)
    assert buyer.get(f"/notices/{notice}").json()["status"] == "paid"


def test_bank_notifying_twice_gives_one_payment_and_one_receipt(stack):
    _code, notice = file_dossier(stack)
    buyer = Api(stack.app_url, "binh")
    payment = buyer.post(f"/notices/{notice}/payments").json()
    bank = pay_at_bank(stack, payment["redirect_url"], NOTIFIES_TWICE)
    answers = sorted(n["rsp_code"] for n in bank["notifications"])
    assert answers == ["00", "02"]
    replay = requests.post(f"{stack.bank_url}/test/renotify/{bank['transaction_no']}", timeout=30).json()
    assert [n["rsp_code"] for n in replay["notifications"]] == ["02"]
    shown = buyer.get(f"/notices/{notice}").json()
    assert shown["status"] == "paid" and shown["outstanding"] == 0
    assert sum(line["paid"] for line in shown["lines"]) == shown["total"]


def test_missing_notification_is_settled_by_query_before_a_retry(stack):
    """The bank took the money but never notified: a retry asks the bank first, so the
    notice is not paid twice."""
    _code, notice = file_dossier(stack)
    buyer = Api(stack.app_url, "binh")
    payment = buyer.post(f"/notices/{notice}/payments").json()
    bank = pay_at_bank(stack, payment["redirect_url"], NEVER_NOTIFIES)
    assert bank["response_code"] == "00" and bank["notifications"] == []
    assert buyer.get(f"/payments/{payment['ref']}").json()["status"] == "started"
    retry = buyer.post(f"/notices/{notice}/payments")
    assert retry.status_code == 409, retry.text
    assert buyer.get(f"/payments/{payment['ref']}").json()["status"] == "succeeded"
    assert buyer.get(f"/notices/{notice}").json()["status"] == "paid"


def test_worker_records_a_payment_whose_notification_never_came(stack):
    """The scheduled `flask check-pending-payments` asks the bank and records the payment."""
    import subprocess
    import sys

    from tests.stack import ROOT

    _code, notice = file_dossier(stack)
    buyer = Api(stack.app_url, "binh")
    payment = buyer.post(f"/notices/{notice}/payments").json()
    pay_at_bank(stack, payment["redirect_url"], NEVER_NOTIFIES)
    assert buyer.get(f"/payments/{payment['ref']}").json()["status"] == "started"
    done = subprocess.run([sys.executable, "-m", "flask", "check-pending-payments", "--older-than", "0"],
                          cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{payment['ref']}: paid at the bank, recorded" in done.stdout
    state = buyer.get(f"/payments/{payment['ref']}").json()
    assert state["status"] == "succeeded" and state["receipt_number"]
    assert buyer.get(f"/notices/{notice}").json()["status"] == "paid"


def _signed_success(payment: dict) -> dict:
    from datetime import UTC, datetime

    from payments.signing import signed
    from tests.stack import SECRET

    return signed({
        "lp_version": "1", "lp_merchant_id": "LANDPAY", "lp_order_ref": payment["ref"],
        "lp_amount": str(payment["amount"]), "lp_order_info": "Thanh toan",
        "lp_response_code": "00", "lp_transaction_no": "MB" + payment["ref"][2:],
        "lp_pay_date": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
    }, SECRET)


def _deliver_at_once(urls: list[str], params: dict) -> list[tuple[int, str | None]]:
    """Post the notification to each URL from its own thread, all released together."""
    import threading

    answers: list[tuple[int, str | None]] = []
    barrier = threading.Barrier(len(urls))

    def deliver(url):
        barrier.wait()
        response = requests.post(url + "/bank/notify", data=params, timeout=60)
        try:
            code = response.json().get("RspCode")
        except ValueError:
            code = None
        answers.append((response.status_code, code))

    threads = [threading.Thread(target=deliver, args=(url,)) for url in urls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return answers


def _one_payment_one_receipt(stack, code: str, notice: str) -> None:
    buyer = Api(stack.app_url, "binh")
    shown = buyer.get(f"/notices/{notice}").json()
    assert shown["status"] == "paid" and sum(line["paid"] for line in shown["lines"]) == shown["total"]
    dossier = Api(stack.app_url, "registry").get(f"/dossiers/{code}").json()
    payments = dossier["payments"]
    assert [p["status"] for p in payments] == ["succeeded"] and payments[0]["receipt_number"]
    kinds = [e["kind"] for e in dossier["events"]]
    assert "duplicate_payment_received" not in kinds  # nothing flagged for refund
    assert kinds.count("payment_confirmed") == 1


def test_ten_copies_of_a_notification_at_once_give_one_payment(stack):
    """The same signed notification posted ten times at the same moment to one server (on
    SQLite too, the embedded default): one payment, one receipt, nothing flagged for refund,
    and every answer one the protocol defines for it, never an error."""
    code, notice = file_dossier(stack)
    buyer = Api(stack.app_url, "binh")
    payment = buyer.post(f"/notices/{notice}/payments").json()
    answers = _deliver_at_once([stack.app_url] * 10, _signed_success(payment))
    assert sorted(answers) == [(200, "00")] + [(200, "02")] * 9, answers
    _one_payment_one_receipt(stack, code, notice)


def test_two_web_processes_given_the_same_notification_at_once(stack, tmp_path):
    """Several web processes share one PostgreSQL database: the same notification delivered
    to two of them at the same moment still ends in one payment and one receipt. SQLite is
    the single-process default: there one process takes all the copies."""
    import subprocess
    import sys

    from tests.stack import ROOT, free_port, wait_for

    second = None
    urls = [stack.app_url] * 6
    if stack.env["DATABASE_URL"].startswith("postgresql"):
        port = free_port()
        log = tmp_path / "second-app.log"
        second = subprocess.Popen(
            [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "8",
             "--call", "app:create_app"],
            cwd=ROOT, env=stack.env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        second_url = f"http://127.0.0.1:{port}"
        wait_for(second_url + "/healthz", second, log)
        urls = [stack.app_url, second_url] * 3
    try:
        code, notice = file_dossier(stack)
        buyer = Api(stack.app_url, "binh")
        payment = buyer.post(f"/notices/{notice}/payments").json()
        answers = _deliver_at_once(urls, _signed_success(payment))
        assert sorted(answers) == [(200, "00")] + [(200, "02")] * 5, answers
        _one_payment_one_receipt(stack, code, notice)
    finally:
        if second is not None:
            second.terminate()
            second.wait(10)
