"""Anyone may pay, over real HTTP: the web app and the mock bank as separate processes
(tests/stack.py). A person without an account opens a notice on /pay, pays on the bank's
checkout page, comes back to the result without logging in, and the signed receipt names
who paid and for whom; the same through the public API."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from tests.e2e.test_flow_http import PAYS, file_dossier, pay_at_bank
from tests.stack import BACKENDS, stack_database, start_stack

pytestmark = pytest.mark.e2e

BUYER_ID = "079085000002"  # Trần Thị Bình, who owes the notice (the contract puts it all on her)
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("public-pay-stack")
    running = start_stack(tmp, stack_database(request.param, tmp, "public_pay"))
    yield running
    running.stop()


def until(fetch, done, timeout=15):
    """The bank notifies a moment after the browser comes back: ask again until it has."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_someone_without_an_account_pays_on_the_page(stack):
    _dossier, notice = file_dossier(stack)
    web = requests.Session()
    form = web.get(f"{stack.app_url}/pay/", timeout=10)
    assert form.status_code == 200
    due = web.post(f"{stack.app_url}/pay/", timeout=10, data={
        "code": notice, "citizen_id": BUYER_ID, "csrf_token": CSRF.search(form.text).group(1)})
    assert due.status_code == 200 and notice in due.text and "T. T. Bình" in due.text
    started = web.post(f"{stack.app_url}/pay/start", timeout=30, allow_redirects=False, data={
        "code": notice, "citizen_id": BUYER_ID, "payer_name": "Phạm Văn Hùng",
        "csrf_token": CSRF.search(due.text).group(1)})
    assert started.status_code == 303, started.text[:500]

    # At the bank: its checkout page and form, as a browser submits them.
    bank = requests.Session()
    checkout = bank.get(started.headers["Location"], timeout=10)
    fields = dict(parse_qsl(urlsplit(started.headers["Location"]).query))
    back = bank.post(f"{stack.bank_url}/checkout", timeout=30, allow_redirects=False, data={
        **fields, "csrf_token": CSRF.search(checkout.text).group(1), "account": PAYS, "confirm": "Pay"})
    assert back.status_code == 302, back.text[:500]
    return_url = back.headers["Location"]
    assert return_url.startswith(f"{stack.app_url}/pay/payments/")

    # Back, in a fresh browser without any cookie: the signed reference is enough.
    page = until(lambda: requests.get(return_url, timeout=10).text,
                 lambda text: 'data-status="succeeded"' in text)
    assert 'data-status="succeeded"' in page and "Phạm Văn Hùng" in page
    receipt_path = re.search(r'id="receipt-link" href="([^"]+)"', page).group(1)
    receipt = requests.get(stack.app_url + receipt_path, timeout=10).text
    assert re.search(r'id="receipt-payer">Phạm Văn Hùng<', receipt)
    assert re.search(r'id="receipt-paid-for">[^<]*Trần Thị Bình', receipt)


def test_someone_without_an_account_pays_through_the_api(stack):
    _dossier, notice = file_dossier(stack)
    api = f"{stack.app_url}/api/v1/public"
    due = requests.post(f"{api}/notices/lookup", json={"code": notice, "citizen_id": BUYER_ID}, timeout=10)
    assert due.status_code == 200 and due.json()["paid_for"] == "T. T. Bình"
    wrong = requests.post(f"{api}/notices/lookup", json={"code": notice, "citizen_id": "079070000003"},
                          timeout=10)
    unknown = requests.post(f"{api}/notices/lookup", json={"code": "TB0000000000", "citizen_id": BUYER_ID},
                            timeout=10)
    assert wrong.status_code == unknown.status_code == 404 and wrong.content == unknown.content

    body = {"citizen_id": BUYER_ID, "payer_name": "Công ty TNHH Minh Phát"}
    headers = {"Idempotency-Key": "e2e-public-1"}
    payment = requests.post(f"{api}/notices/{notice}/payments", json=body, headers=headers, timeout=30)
    assert payment.status_code == 201, payment.text
    retry = requests.post(f"{api}/notices/{notice}/payments", json=body, headers=headers, timeout=30)
    assert retry.json()["ref"] == payment.json()["ref"] and retry.headers["Idempotent-Replayed"] == "true"

    paid = pay_at_bank(stack, payment.json()["redirect_url"], PAYS)
    assert paid["response_code"] == "00"
    status_url = stack.app_url + payment.json()["status_url"]
    state = until(lambda: requests.get(status_url, timeout=10).json(), lambda s: s["status"] == "succeeded")
    assert state["status"] == "succeeded"
    checked = requests.post(f"{stack.app_url}/api/v1/receipts/verify",
                            json={"token": state["receipt"]["token"]}, timeout=10).json()
    assert checked["valid"] is True
    assert checked["claims"]["payer_name"] == "Công ty TNHH Minh Phát"
    assert "Trần Thị Bình" in checked["claims"]["paid_for"]
    assert checked["claims"]["notice_code"] == notice
