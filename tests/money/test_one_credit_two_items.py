"""One transfer, two items: the bank's notification opens one (a purpose naming no notice) and
the statement that lists it a day late opens another (counted, missing from its day). Whatever
the accountants decide on either, in turn or at the same moment, the money is used once. Also
the edges of the queue's API and of a day's import run twice at once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.money.kit import SECRET, credit, post_credit, statement

DAY = date(2026, 11, 20)


def _count(model, *where):
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _one_credit_two_items(app, world):
    """Two unpaid notices, and one transfer naming neither with two open items on it."""
    from app.extensions import db
    from app.models import Notice, ReconciliationItem
    from app.services.reconciliation import import_statement
    from payments.statements import parse_statement

    n1 = world.file_and_confirm(parcel=world.add_parcel())[1]
    n2 = world.file_and_confirm(parcel=world.add_parcel())[1]
    with app.app_context():
        owed = db.session.scalar(select(Notice).where(Notice.code == n1)).outstanding
    money = credit("tien thue dat", owed, value_date=DAY, booked_at=datetime(2026, 11, 20, 5, tzinfo=UTC))
    assert post_credit(app.test_client(), money)["RspCode"] == "00"
    with app.app_context():
        import_statement(DAY, parse_statement(statement(DAY, []), SECRET))
        items = db.session.scalars(select(ReconciliationItem).where(
            ReconciliationItem.transaction_id == money.transaction_id).order_by(ReconciliationItem.id)).all()
        assert [i.kind.value for i in items] == ["unknown_credit", "missing_from_statement"]
        assert items[0].credit_id == items[1].credit_id is not None
        return n1, n2, items[0].id, items[1].id


def _accountant():
    from app.extensions import db
    from app.models import User

    return db.session.scalar(select(User).where(User.username == "accountant"))


def test_money_sent_back_by_hand_cannot_also_pay_a_notice(app, world):
    from app.errors import Conflict
    from app.extensions import db
    from app.models import Notice, NoticeStatus, PaymentOrder
    from app.services.reconciliation import resolve

    n1, _n2, first, second = _one_credit_two_items(app, world)
    with app.test_request_context():
        done = resolve(first, _accountant(), action="refund", reason="The payer asked for it back")
        assert done.status.value == "refund_requested" and "outside LandPay" in done.detail
    with app.test_request_context():
        with pytest.raises(Conflict):
            resolve(second, _accountant(), action="match", reason="The payer phoned", notice_code=n1)
        with pytest.raises(Conflict):
            resolve(second, _accountant(), action="refund", reason="Send it back again")
        assert db.session.scalar(select(Notice.status).where(Notice.code == n1)) is NoticeStatus.UNPAID
        assert _count(PaymentOrder) == 0
        # Accepting it as explained moves no money: it stays possible.
        assert resolve(second, _accountant(), action="accept", reason="Same transfer").status.value == "accepted"


def test_matched_money_cannot_be_sent_back_by_the_other_item(app, world):
    from app.errors import Conflict
    from app.models import PaymentOrder
    from app.services.reconciliation import resolve

    n1, _n2, first, second = _one_credit_two_items(app, world)
    with app.test_request_context():
        resolve(second, _accountant(), action="match", reason="The payer phoned", notice_code=n1)
    with app.test_request_context():
        with pytest.raises(Conflict):
            resolve(first, _accountant(), action="refund", reason="The payer asked for it back")
        assert _count(PaymentOrder) == 1


@pytest.mark.postgres
def test_two_accountants_match_one_credit_to_two_notices_at_once(pg_app, pg_world, monkeypatch):
    """Each holds the lock of its own item and notice; the credit's lock makes the second wait
    and then refuse, as it would one after the other (409, not a failed insert)."""
    from app.errors import Conflict
    from app.extensions import db
    from app.models import Notice, PaymentOrder
    from app.services import reconciliation

    n1, n2, first, second = _one_credit_two_items(pg_app, pg_world)
    barrier = threading.Barrier(2, timeout=20)
    match = reconciliation._match

    def both_inside(*args, **kwargs):
        barrier.wait()  # both items are locked, neither decision has looked at the credit
        return match(*args, **kwargs)

    monkeypatch.setattr(reconciliation, "_match", both_inside)
    outcomes = []

    def act(item_id, code):
        try:
            with pg_app.test_request_context():
                reconciliation.resolve(item_id, _accountant(), action="match", reason="The payer phoned",
                                       notice_code=code)
            outcomes.append("matched")
        except Conflict:
            outcomes.append("conflict")
        except Exception as exc:  # noqa: BLE001 - any other error is the failure shown
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=act, args=pair) for pair in ((first, n1), (second, n2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert sorted(outcomes) == ["conflict", "matched"], outcomes
    with pg_app.app_context():
        statuses = [db.session.scalar(select(Notice.status).where(Notice.code == c)) for c in (n1, n2)]
        assert sorted(s.value for s in statuses) == ["paid", "unpaid"]
        assert _count(PaymentOrder) == 1


@pytest.mark.postgres
def test_one_day_imported_twice_at_once_is_imported_once(pg_app, pg_world, monkeypatch):
    from app.models import BankStatement
    from app.services import reconciliation
    from payments.statements import parse_statement

    barrier = threading.Barrier(2, timeout=20)
    match_statement = reconciliation.match_statement

    def both_checked(*args, **kwargs):
        barrier.wait()  # both found the day not imported yet
        return match_statement(*args, **kwargs)

    monkeypatch.setattr(reconciliation, "match_statement", both_checked)
    parsed = parse_statement(statement(DAY, []), SECRET)
    outcomes = []

    def run():
        try:
            with pg_app.app_context():
                outcomes.append(reconciliation.import_statement(DAY, parsed).already)
        except Exception as exc:  # noqa: BLE001 - any error is the failure shown
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(40)
    assert sorted(outcomes, key=repr) == [False, True], outcomes
    with pg_app.app_context():
        assert _count(BankStatement) == 1


def test_an_item_id_beyond_the_database_range_is_not_found(app, world):
    client = app.test_client()
    body = client.post("/api/v1/tokens", json={"username": "accountant", "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    for item_id in ("99999999999999999999", "2147483648"):
        response = client.post(f"/api/v1/reconciliation/items/{item_id}/resolve", headers=headers,
                               json={"action": "accept", "reason": "Explained by the bank"})
        assert response.status_code == 404, (item_id, response.status_code)
    response = client.post("/api/v1/reconciliation/items/2147483647/resolve", headers=headers,
                           json={"action": "accept", "reason": "Explained by the bank"})
    assert response.status_code == 404 and response.get_json()["error"]
