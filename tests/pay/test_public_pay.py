"""Anyone may pay: the look-up, the identical failures, the rate limit, paying at the bank
and by VietQR without an account, the receipt naming payer and beneficiary."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from app.services import public_pay
from app.services.public_pay import FAILURES_PER_ADDRESS, FAILURES_PER_CODE, WINDOW, mask_name
from tests.app.bank import notification
from tests.conftest import csrf_token

LOOKUP = "/api/v1/public/notices/lookup"


def lookup(client, code, citizen_id, address="10.0.0.1"):
    return client.post(LOOKUP, json={"code": code, "citizen_id": citizen_id},
                       environ_base={"REMOTE_ADDR": address})


def notify(app, ref):
    from app.extensions import db
    from app.models import PaymentOrder

    with app.app_context():
        amount = db.session.scalar(select(PaymentOrder.amount).where(PaymentOrder.ref == ref))
    answer = app.test_client().post("/bank/notify", data=notification(ref, amount))
    assert answer.get_json()["RspCode"] == "00", answer.get_data(as_text=True)


# --- what is shown ----------------------------------------------------------------------------


def test_lookup_shows_what_is_due_and_nothing_more(app, world, unpaid):
    code, citizen_id = unpaid
    answer = lookup(app.test_client(), code.lower(), f" {citizen_id} ")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    due = answer.get_json()
    assert due["code"] == code and due["status"] == "unpaid"
    assert due["paid_for"] == "T. T. Bình"
    assert due["outstanding"] == sum(line["outstanding"] for line in due["lines"]) > 0
    assert due["amount_due_today"] == due["outstanding"] and due["late_interest_today"] is None
    for line in due["lines"]:
        assert line["explanation"]["vi"] and line["explanation"]["en"] and line["legal_basis"]
        assert line["installments"] and all(p["due_on"] for p in line["installments"])
    assert due["vietqr"]["payload"] and due["vietqr"]["amount"] == due["outstanding"]
    text = answer.get_data(as_text=True)
    # No citizen id, no full name of anyone, no address, no dossier.
    for secret in (citizen_id, world.seller_party[1], "Trần Thị Bình", "Nguyễn Văn An", "Lê Lợi", "HS"):
        assert secret not in text


def test_late_interest_for_today_is_added_when_overdue(app, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    due = lookup(client, code, citizen_id).get_json()
    first_due = min(p["due_on"] for line in due["lines"] for p in line["installments"])
    later = datetime.fromisoformat(first_due).replace(tzinfo=UTC) + timedelta(days=40)
    with time_machine.travel(later, tick=False):
        late = lookup(client, code, citizen_id).get_json()
    interest = late["late_interest_today"]
    assert interest is not None and interest["amount"] > 0 and interest["legal_basis"]
    assert late["amount_due_today"] == late["outstanding"] + interest["amount"]


# --- no enumeration ---------------------------------------------------------------------------


def test_wrong_code_and_wrong_citizen_id_get_the_same_answer(app, world, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    wrong_code = lookup(client, "TB" + "9" * 10, citizen_id)
    wrong_id = lookup(client, code, "079070000003")  # a real party, of no side of this notice
    seller = lookup(client, code, world.seller_party[1])  # a party of the dossier, not of the notice
    assert wrong_code.status_code == wrong_id.status_code == seller.status_code == 404
    assert wrong_code.get_data() == wrong_id.get_data() == seller.get_data()
    assert wrong_code.headers.get("Content-Type") == wrong_id.headers.get("Content-Type")


def _strip_csrf(html: str) -> str:
    """The page without its CSRF tokens (signed with the second they were made in)."""
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r"\1", html)


def test_the_page_fails_alike_and_does_not_echo_what_was_typed(app, world, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    answers = []
    for asked_code, asked_id in ((code[:-1] + ("Y" if code.endswith("X") else "X"), citizen_id), (code, "079070000003")):
        token = csrf_token(client, "/pay/")
        answers.append(client.post("/pay/", data={"code": asked_code, "citizen_id": asked_id,
                                                  "csrf_token": token}))
    assert [a.status_code for a in answers] == [404, 404]
    first, second = (_strip_csrf(a.get_data(as_text=True)) for a in answers)
    assert first == second
    assert code not in first and citizen_id not in first and "079070000003" not in first


def test_the_page_form_needs_its_csrf_token(app, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    assert client.post("/pay/", data={"code": code, "citizen_id": citizen_id}).status_code == 400
    assert client.post("/pay/start", data={"code": code, "citizen_id": citizen_id,
                                           "payer_name": "X"}).status_code == 400


# --- the rate limit ---------------------------------------------------------------------------


def test_an_address_is_refused_after_too_many_failures_then_allowed_again(app, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        for i in range(FAILURES_PER_ADDRESS):
            # Each failure on another code, so only the address's count is reached.
            assert lookup(client, f"TB{i:010d}", citizen_id).status_code == 404
        refused = lookup(client, code, citizen_id)  # even the right pair is refused now
        assert refused.status_code == 429
        assert refused.get_json()["error"]["code"] == "too_many_attempts"
        assert 0 < int(refused.headers["Retry-After"]) <= WINDOW.total_seconds()
        assert lookup(client, code, citizen_id, address="10.0.0.2").status_code == 200  # another address
        clock.shift(WINDOW - timedelta(seconds=5))
        assert lookup(client, code, citizen_id).status_code == 429
        clock.shift(timedelta(seconds=6))
        assert lookup(client, code, citizen_id).status_code == 200


def test_a_notice_code_is_refused_after_too_many_failures_from_any_address(app, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        for i in range(FAILURES_PER_CODE):
            assert lookup(client, code, f"0790700000{i:02d}", address=f"10.1.0.{i}").status_code == 404
        refused = lookup(client, code, citizen_id, address="10.2.0.1")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        # The same limit on a code that does not exist: the refusal tells nothing either.
        for i in range(FAILURES_PER_CODE):
            lookup(client, "TB0000000000", citizen_id, address=f"10.3.0.{i}")
        ghost = lookup(client, "TB0000000000", citizen_id, address="10.2.0.2")
        assert ghost.status_code == 429 and ghost.get_json() == refused.get_json()
        clock.shift(WINDOW + timedelta(seconds=1))
        assert lookup(client, code, citizen_id, address="10.2.0.1").status_code == 200


def test_a_refused_payment_is_not_kept_for_its_idempotency_key(app, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    url = f"/api/v1/public/notices/{code}/payments"
    body = {"citizen_id": citizen_id, "payer_name": "Phạm Văn Hùng"}
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        for i in range(FAILURES_PER_CODE):
            lookup(client, code, f"0790700002{i:02d}", address=f"10.4.0.{i}")
        refused = client.post(url, json=body, headers={"Idempotency-Key": "k-429"})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        clock.shift(WINDOW + timedelta(seconds=1))
        again = client.post(url, json=body, headers={"Idempotency-Key": "k-429"})
        assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers


def test_the_page_says_when_to_come_back(app, unpaid):
    code, _citizen_id = unpaid
    client = app.test_client()
    with time_machine.travel(datetime.now(UTC), tick=False):
        for i in range(FAILURES_PER_CODE + 1):
            token = csrf_token(client, "/pay/")
            answer = client.post("/pay/", data={"code": code, "citizen_id": f"0790700001{i:02d}",
                                                "csrf_token": token})
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) > 0
    # The message says in how many minutes to come back (in the page's language).
    minutes = str(int(WINDOW.total_seconds() // 60))
    assert re.search(r'id="pay-error">[^<]*\b' + minutes + r"\b", answer.get_data(as_text=True))


# --- paying -----------------------------------------------------------------------------------


def test_someone_without_an_account_pays_on_the_page_and_gets_the_receipt(app, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    token = csrf_token(client, "/pay/")
    due = client.post("/pay/", data={"code": code, "citizen_id": citizen_id, "csrf_token": token})
    html = due.get_data(as_text=True)
    assert due.status_code == 200 and code in html and "T. T. Bình" in html
    assert due.headers["Cache-Control"] == "no-store"
    assert 'id="vietqr-image" src="data:image/svg+xml;base64,' in html
    pay_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    started = client.post("/pay/start", data={"code": code, "citizen_id": citizen_id,
                                              "payer_name": "  Phạm   Văn Hùng ", "csrf_token": pay_token})
    assert started.status_code == 303, started.get_data(as_text=True)[:500]
    assert started.headers["Location"].startswith(app.config["BANK_BASE_URL"])
    from urllib.parse import parse_qs, urlsplit

    return_url = parse_qs(urlsplit(started.headers["Location"]).query)["lp_return_url"][0]
    path = urlsplit(return_url).path
    assert path.startswith("/pay/payments/")
    from app.extensions import db
    from app.models import PaymentOrder

    with app.app_context():
        order = db.session.scalar(select(PaymentOrder))
        ref = order.ref
        assert order.created_by_id is None and order.payer_name == "Phạm Văn Hùng"
        assert order.paid_for.citizen_id == citizen_id
    waiting = client.get(path)
    assert waiting.status_code == 200 and 'data-status="started"' in waiting.get_data(as_text=True)
    notify(app, ref)
    page = app.test_client().get(path).get_data(as_text=True)  # no session needed
    assert 'data-status="succeeded"' in page and "Phạm Văn Hùng" in page
    receipt = app.test_client().get(path + "/receipt")
    text = receipt.get_data(as_text=True)
    assert receipt.status_code == 200
    assert re.search(r'id="receipt-payer">Phạm Văn Hùng<', text)
    assert re.search(r'id="receipt-paid-for">[^<]*Trần Thị Bình', text)
    # A made-up or altered reference opens nothing.
    assert app.test_client().get("/pay/payments/" + path.rsplit("/", 1)[1][:-2] + "xx").status_code == 404
    assert app.test_client().get("/pay/payments/" + ref).status_code == 404


def test_the_api_pays_and_a_retry_with_the_same_key_replays(app, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    body = {"citizen_id": citizen_id, "payer_name": "Công ty TNHH Minh Phát"}
    headers = {"Idempotency-Key": "pay-once-1"}
    first = client.post(f"/api/v1/public/notices/{code}/payments", json=body, headers=headers)
    assert first.status_code == 201, first.get_data(as_text=True)
    again = client.post(f"/api/v1/public/notices/{code}/payments", json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["ref"] == first.get_json()["ref"]
    other = client.post(f"/api/v1/public/notices/{code}/payments", json={**body, "payer_name": "B"},
                        headers=headers)
    assert other.status_code == 422 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    payment = first.get_json()
    assert payment["payer_name"] == "Công ty TNHH Minh Phát" and payment["paid_for"] == "T. T. Bình"
    notify(app, payment["ref"])
    state = client.get(payment["status_url"]).get_json()
    assert state["status"] == "succeeded"
    assert state["receipt"]["payer_name"] == "Công ty TNHH Minh Phát"
    assert "Trần Thị Bình" in state["receipt"]["paid_for"]
    # Paid: the notice is no longer found, with the one failure answer.
    assert lookup(client, code, citizen_id).status_code == 404


def test_paying_needs_a_name_and_the_right_citizen_id(app, unpaid):
    code, citizen_id = unpaid
    client = app.test_client()
    url = f"/api/v1/public/notices/{code}/payments"
    no_name = client.post(url, json={"citizen_id": citizen_id, "payer_name": "  "})
    assert no_name.status_code == 422 and "payer_name" in no_name.get_json()["error"]["fields"]
    wrong = client.post(url, json={"citizen_id": "079070000003", "payer_name": "X"})
    assert wrong.status_code == 404
    assert wrong.get_json() == lookup(client, code, "079070000003").get_json()
    from app.extensions import db
    from app.models import PaymentOrder

    with app.app_context():
        assert db.session.scalar(select(PaymentOrder.id)) is None


# --- the masked name --------------------------------------------------------------------------


@given(st.lists(st.text(alphabet="abcdeghiklmnopqrstuvxyĐđÂâÊêÔôƠơƯư", min_size=2, max_size=8),
                min_size=1, max_size=5))
def test_a_masked_name_keeps_the_given_name_and_initials_only(words):
    masked = mask_name(" ".join(words))
    parts = masked.split(" ")
    assert parts[-1] == words[-1]
    assert parts[:-1] == [w[0] + "." for w in words[:-1]]
    for word in words[:-1]:
        assert word not in parts[:-1]


def test_an_order_token_is_bound_to_the_secret(app):
    from itsdangerous import URLSafeSerializer

    with app.test_request_context():
        forged = URLSafeSerializer("another-secret", salt="public-pay-order").dumps("LP000")
        with pytest.raises(public_pay.NotFound):
            public_pay.order_for_token(forged)


def test_refused_look_ups_add_no_rows_and_idle_rows_are_purged(app, world):
    """Guessing codes from one address: once the address is refused, further codes add no
    throttle rows; rows idle for a day that block nothing are purged by the worker."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select

    from app.auth import purge_throttles
    from app.extensions import db
    from app.models import LoginThrottle

    client = app.test_client()
    statuses = [client.post("/api/v1/public/notices/lookup",
                            json={"code": f"TBZZ{i:06d}", "citizen_id": "079000000001"}).status_code
                for i in range(60)]
    assert statuses.count(429) >= 45
    with app.app_context():
        rows = db.session.scalar(select(func.count()).select_from(LoginThrottle))
        assert rows <= 12  # the address and the codes tried before it was refused
        assert purge_throttles(datetime.now(UTC) + timedelta(hours=1)) == 0  # touched within a day
        # A day later the rows are idle and block nothing (the refusal lasted 15 minutes).
        assert purge_throttles(datetime.now(UTC) + timedelta(days=2)) == rows
        assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 0
