"""Credits by transfer on both databases: exact payments, every mismatch, repeats, and the
accountant's decisions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, login
from tests.money.kit import credit, post_credit


def _notice(app, code):
    from app.extensions import db
    from app.models import Notice

    return db.session.scalar(select(Notice).where(Notice.code == code))


def _count(model, *where):
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def owed(app, world):
    _code, notice_code = world.file_and_confirm()
    with app.app_context():
        return notice_code, _notice(app, notice_code).outstanding


def test_exact_transfer_pays_the_notice_once_with_a_receipt(app, owed):
    from app.models import BankCredit, NoticeStatus, PaymentOrder, Receipt, ReconciliationItem

    code, amount = owed
    client = app.test_client()
    c = credit(f"Nop thue {code}", amount)
    assert post_credit(client, c)["RspCode"] == "00"
    assert post_credit(client, c)["RspCode"] == "00"  # the bank's retry: acknowledged, not counted again
    with app.app_context():
        notice = _notice(app, code)
        assert notice.status is NoticeStatus.PAID and notice.outstanding == 0
        order = notice.dossier and _one(PaymentOrder, PaymentOrder.notice_id == notice.id)
        assert (order.channel, order.bank_ref, order.amount) == ("transfer", c.transaction_id, amount)
        assert _count(Receipt, Receipt.payment_id == order.id) == 1
        assert _count(BankCredit) == 1
        assert _count(ReconciliationItem) == 0
        assert notice.dossier.status.value == "paid"


def _one(model, *where):
    from app.extensions import db

    rows = db.session.scalars(select(model).where(*where)).all()
    assert len(rows) == 1, rows
    return rows[0]


def test_mismatched_transfers_go_to_the_queue_and_pay_nothing(app, owed):
    from app.extensions import db
    from app.models import BankCredit, NoticeStatus, PaymentOrder, ReconciliationItem

    code, amount = owed
    client = app.test_client()
    sent = {"short": credit(code, amount - 1), "over": credit(f"nop {code.lower()}", amount + 1),
            "unknown_credit": credit("tien dat TBZZZZZZZZ", amount),
            "two codes": credit(f"{code} TBZZZZZZZZ", amount)}
    for c in sent.values():
        assert post_credit(client, c)["RspCode"] == "00"
        assert post_credit(client, c)["RspCode"] == "00"  # a retry opens nothing more
    # Not signed with our secret, or not our account: refused, nothing recorded.
    assert post_credit(client, credit(code, amount), "wrong-secret")["RspCode"] == "97"
    assert post_credit(client, credit(code, amount, account="9999999999"))["RspCode"] == "01"
    with app.app_context():
        assert _notice(app, code).status is NoticeStatus.UNPAID
        assert _count(PaymentOrder) == 0
        items = {i.transaction_id: (i.kind.value, i.amount) for i in
                 db.session.scalars(select(ReconciliationItem))}
        assert items == {
            sent["short"].transaction_id: ("short", amount - 1),
            sent["over"].transaction_id: ("over", amount + 1),
            sent["unknown_credit"].transaction_id: ("unknown_credit", amount),
            sent["two codes"].transaction_id: ("unknown_credit", amount),
        }
        assert _count(BankCredit) == 4  # the money is recorded, not lost


def test_a_transfer_to_a_paid_notice_is_a_duplicate(app, owed):
    from app.models import NoticeStatus, PaymentOrder, ReconciliationItem

    code, amount = owed
    client = app.test_client()
    post_credit(client, credit(code, amount))
    post_credit(client, credit(code, amount))
    with app.app_context():
        assert _notice(app, code).status is NoticeStatus.PAID
        assert _count(PaymentOrder) == 1
        assert _one(ReconciliationItem).kind.value == "duplicate"


def _token(client, username):
    body = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()
    return {"Authorization": f"Bearer {body['token']}"}


def _items(client, headers, **query):
    response = client.get("/api/v1/reconciliation/items", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_accountant_matches_an_unknown_credit_to_its_notice(app, owed):
    from app.models import NoticeStatus, Receipt

    code, amount = owed
    client = app.test_client()
    post_credit(client, credit("chuyen tien dat", amount))
    headers = _token(client, "accountant")
    [item] = _items(client, headers)
    url = f"/api/v1/reconciliation/items/{item['id']}/resolve"
    refused = client.post(url, headers=headers, json={"action": "match", "notice_code": code})
    assert refused.status_code == 422 and "reason" in refused.get_json()["error"]["fields"]
    wrong = client.post(url, headers=headers, json={"action": "match", "notice_code": "TBZZZZZZZZ",
                                                    "reason": "payer phoned"})
    assert wrong.status_code == 422
    done = client.post(url, headers=headers, json={"action": "match", "notice_code": code.lower(),
                                                   "reason": "Payer phoned with the notice code"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert (body["status"], body["resolved_by"], body["notice_code"]) == ("matched", "accountant", code)
    assert client.post(url, headers=headers, json={"action": "accept", "reason": "again"}).status_code == 409
    assert _items(client, headers) == []
    assert [i["id"] for i in _items(client, headers, status="resolved")] == [item["id"]]
    with app.app_context():
        notice = _notice(app, code)
        assert notice.status is NoticeStatus.PAID
        assert _count(Receipt, Receipt.notice_id == notice.id) == 1


def test_accountant_refunds_an_overpayment(app, owed):
    from app.models import NoticeStatus, PaymentOrder

    code, amount = owed
    client = app.test_client()
    post_credit(client, credit(code, amount + 500))
    headers = _token(client, "accountant")
    [item] = _items(client, headers, kind="over")
    done = client.post(f"/api/v1/reconciliation/items/{item['id']}/resolve", headers=headers,
                       json={"action": "refund", "reason": "Sent 500 dong too much; returned in full"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "refund_requested" and done.get_json()["refund_ref"]
    with app.app_context():
        held = _one(PaymentOrder)
        assert held.needs_refund and held.amount == amount + 500
        assert _notice(app, code).status is NoticeStatus.UNPAID  # the money paid nothing


def test_only_accountants_and_admins_see_the_queue(app, owed):
    client = app.test_client()
    for username, status in (("tax", 403), ("binh", 403), ("admin", 200), ("accountant", 200)):
        response = client.get("/api/v1/reconciliation/items", headers=_token(client, username))
        assert response.status_code == status, username


def test_accountant_pages_resolve_with_a_reason(app, owed):
    from app.extensions import db
    from app.models import ItemStatus, ReconciliationItem

    code, amount = owed
    client = app.test_client()
    post_credit(client, credit(code, amount - 10))
    login(client, "accountant")
    page = client.get("/accounting/").get_data(as_text=True)
    with app.app_context():
        item_id = db.session.scalar(select(ReconciliationItem.id))
    assert f"/accounting/items/{item_id}" in page
    detail = client.get(f"/accounting/items/{item_id}")
    assert detail.status_code == 200 and code in detail.get_data(as_text=True)
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/accounting/items/{item_id}")
    missing = client.post(f"/accounting/items/{item_id}/resolve",
                          data={"csrf_token": token, "action": "accept", "reason": ""})
    assert missing.status_code == 422
    done = client.post(f"/accounting/items/{item_id}/resolve",
                       data={"csrf_token": token, "action": "accept", "reason": "Payer will pay the rest"})
    assert done.status_code == 302
    with app.app_context():
        item = db.session.get(ReconciliationItem, item_id)
        assert item.status is ItemStatus.ACCEPTED and item.resolved_by.username == "accountant"


@pytest.mark.postgres
@pytest.mark.parametrize("named", [True, False])
def test_concurrent_deliveries_of_one_credit_record_it_once(pg_app, pg_world, named):
    """The bank's retries racing each other (on PostgreSQL, where rows really lock)."""
    import threading

    from app.models import BankCredit, PaymentOrder, Receipt, ReconciliationItem

    _code, notice_code = pg_world.file_and_confirm()
    with pg_app.app_context():
        amount = _notice(pg_app, notice_code).outstanding
    c = credit(notice_code if named else "no code", amount)
    barrier = threading.Barrier(4)
    answers = []

    def deliver():
        client = pg_app.test_client()
        barrier.wait()
        answers.append(post_credit(client, c)["RspCode"])

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers.count("00") >= 1 and set(answers) <= {"00", "99"}
    with pg_app.app_context():
        assert _count(BankCredit) == 1
        assert (_count(PaymentOrder), _count(Receipt), _count(ReconciliationItem)) == (
            (1, 1, 0) if named else (0, 0, 1))


def test_a_late_transfer_brings_the_days_interest_as_the_code_asks(app, owed):
    """Forty days after the notice, its VietQR code asks the outstanding amount plus that
    day's late-payment interest (what a card payment would charge); a transfer of that amount
    pays the notice and the interest as its own line; one of the bare amount is short."""
    from datetime import timedelta

    import time_machine

    from app.models import NoticeStatus
    from app.services import paying
    from app.services.views import vietqr_payload
    from payments.vietqr import parse_payload

    code, amount = owed
    later = paying.local_day() + timedelta(days=40)
    with time_machine.travel(later, tick=False):
        with app.test_request_context():
            notice = _notice(app, code)
            interest = paying.interest_due(notice, later)
            asked = parse_payload(vietqr_payload(notice))["amount"]
        assert interest > 0 and asked == amount + interest
        client = app.test_client()
        bare = credit(f"{code}", amount, value_date=later)
        assert post_credit(client, bare)["RspCode"] == "00"
        with app.app_context():
            assert _notice(app, code).status is NoticeStatus.UNPAID  # short: to the queue
        full = credit(f"{code}", asked, value_date=later)
        assert post_credit(client, full)["RspCode"] == "00"
        with app.app_context():
            notice = _notice(app, code)
            assert notice.status is NoticeStatus.PAID
            lines = {line.obligation: line for line in notice.lines}
            assert lines["late_interest"].amount == interest and lines["late_interest"].paid == interest
