"""Paying a notice: the bank's notification is the truth, checked in order (signature,
order, amount, final state); duplicates end in one payment and one receipt."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tests.app.bank import TEST_SECRET, notification
from tests.conftest import login, post_form


def start(app, world, username="binh"):
    """File, confirm and start paying a notice; returns (order ref, amount, notice code)."""
    from app.extensions import db
    from app.models import Notice
    from app.services import paying

    _code, notice_code = world.file_and_confirm()
    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        order, _url = paying.start_payment(world.user(username), notice)
        return order.ref, order.amount, notice_code


def close_and_check(order):
    """As if the order's bank page had closed and the bank had been asked after that."""
    from datetime import UTC, datetime, timedelta

    order.checked_at = datetime.now(UTC)
    order.open_until = order.checked_at - timedelta(seconds=1)


def counts(app):
    from app.extensions import db
    from app.models import PaymentOrder, Receipt

    with app.app_context():
        succeeded = db.session.scalar(
            select(func.count()).select_from(PaymentOrder).where(PaymentOrder.status == "succeeded")
        )
        receipts = db.session.scalar(select(func.count()).select_from(Receipt))
        return succeeded, receipts


def status_of(app, ref):
    from app.extensions import db
    from app.models import PaymentOrder

    with app.app_context():
        return db.session.scalar(select(PaymentOrder.status).where(PaymentOrder.ref == ref)).value


def logged(app):
    from app.extensions import db
    from app.models import BankNotification

    with app.app_context():
        return [(n.order_ref, n.answer_code) for n in db.session.scalars(select(BankNotification).order_by(BankNotification.id))]


# (case, how to spoil the notification, expected RspCode)
REFUSALS = [
    ("bad signature", lambda p: {**p, "lp_secure_hash": "0" * 128}, "97"),
    ("missing signature", lambda p: {k: v for k, v in p.items() if k != "lp_secure_hash"}, "97"),
    ("signed with another secret", None, "97"),
    ("unknown order", "unknown", "01"),
    ("wrong amount", "amount", "04"),
    ("pay date two days ahead", "future", "97"),
    ("pay date before the order", "past", "97"),
]


def _with_pay_date(params: dict, moment) -> dict:
    from payments.signing import signed

    kept = {k: v for k, v in params.items() if k != "lp_secure_hash"}
    return signed({**kept, "lp_pay_date": moment.strftime("%Y%m%d%H%M%S")}, TEST_SECRET)


@pytest.mark.parametrize("case, spoil, code", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refused_notifications_change_nothing_and_are_logged(app, world, case, spoil, code):
    ref, amount, _notice = start(app, world)
    if spoil is None:
        params = notification(ref, amount, secret="another-secret")
    elif spoil == "unknown":
        params = notification("LPNOSUCHORDER", amount)
    elif spoil == "amount":
        params = notification(ref, amount - 1)
    elif spoil in ("future", "past"):
        from datetime import UTC, datetime, timedelta

        shift = timedelta(days=2) if spoil == "future" else -timedelta(days=1)
        params = _with_pay_date(notification(ref, amount), datetime.now(UTC) + shift)
    else:
        params = spoil(notification(ref, amount))
    answer = app.test_client().post("/bank/notify", data=params).get_json()
    assert answer["RspCode"] == code
    assert status_of(app, ref) == "started"
    assert counts(app) == (0, 0)
    assert logged(app)[-1][1] == code


def test_declined_payment_can_be_retried(app, world):
    ref, amount, notice = start(app, world)
    answer = app.test_client().post("/bank/notify", data=notification(ref, amount, code="51")).get_json()
    assert answer["RspCode"] == "00"  # a processed failure is still acknowledged
    assert status_of(app, ref) == "failed"
    buyer = app.test_client()
    login(buyer, "binh")
    page = buyer.get(f"/me/notices/{notice}").get_data(as_text=True)
    assert 'id="pay"' in page
    response = post_form(buyer, f"/me/notices/{notice}", f"/me/notices/{notice}/pay")
    assert response.status_code == 303
    from app.extensions import db
    from app.models import PaymentOrder

    with app.app_context():
        refs = db.session.scalars(select(PaymentOrder.ref).order_by(PaymentOrder.id)).all()
    assert len(refs) == 2
    second = refs[1]
    assert app.test_client().post("/bank/notify", data=notification(second, amount)).get_json()["RspCode"] == "00"
    assert counts(app) == (1, 1)


def test_same_notification_twice_in_a_row_gives_one_payment(app, world):
    ref, amount, _notice = start(app, world)
    params = notification(ref, amount)
    client = app.test_client()
    first = client.post("/bank/notify", data=params).get_json()
    second = client.post("/bank/notify", data=params).get_json()
    assert first["RspCode"] == "00"
    assert second["RspCode"] == "02"
    assert counts(app) == (1, 1)


def test_late_failure_after_success_is_ignored(app, world):
    ref, amount, _notice = start(app, world)
    client = app.test_client()
    assert client.post("/bank/notify", data=notification(ref, amount)).get_json()["RspCode"] == "00"
    assert client.post("/bank/notify", data=notification(ref, amount, code="51")).get_json()["RspCode"] == "02"
    assert status_of(app, ref) == "succeeded"


def test_money_is_conserved_per_line(app, world):
    from app.extensions import db
    from app.models import Notice

    ref, amount, notice_code = start(app, world)
    assert app.test_client().post("/bank/notify", data=notification(ref, amount)).get_json()["RspCode"] == "00"
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        for line in notice.lines:
            assert line.amount == line.paid - line.refunded + line.outstanding
            assert line.outstanding == 0
        assert sum(line.paid for line in notice.lines) == amount


def test_return_page_shows_state_but_changes_nothing(app, world):
    from payments.signing import signed

    ref, amount, _notice = start(app, world)
    buyer = app.test_client()
    login(buyer, "binh")
    params = signed({"lp_version": "1", "lp_merchant_id": "LANDPAY", "lp_order_ref": ref,
                     "lp_amount": str(amount), "lp_response_code": "00",
                     "lp_transaction_no": "MB1", "lp_pay_date": "20261127100000"}, TEST_SECRET)
    page = buyer.get("/me/bank-return", query_string=params)
    assert page.status_code == 200
    assert 'data-status="started"' in page.get_data(as_text=True)
    assert status_of(app, ref) == "started"  # only the notification marks it paid
    bad = {**params, "lp_secure_hash": "0" * 128}
    assert buyer.get("/me/bank-return", query_string=bad).status_code == 404


@pytest.mark.postgres
def test_concurrent_duplicate_notifications_give_one_payment(pg_app, pg_world):
    """The same notification delivered by several connections at once, on PostgreSQL."""
    ref, amount, _notice = start(pg_app, pg_world)
    params = notification(ref, amount)
    answers = []
    barrier = threading.Barrier(4)

    def deliver():
        client = pg_app.test_client()
        barrier.wait()
        answers.append(client.post("/bank/notify", data=params).get_json()["RspCode"])

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers) == ["00", "02", "02", "02"]
    assert counts(pg_app) == (1, 1)


def test_late_success_of_an_expired_attempt_is_kept_and_flagged_for_refund(app, world):
    """The payer left a checkout page open, paid again in a new attempt, then confirmed the
    old page too: the bank took the money twice. Nothing is lost: the second payment is
    recorded, flagged for refund, and the notice is paid once with one receipt."""
    from app.extensions import db
    from app.models import Event, Notice, PaymentOrder
    from app.services import paying

    first, amount, notice_code = start(app, world)
    with app.app_context():
        order = db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == first))
        order.status = "expired"  # what a retry does when the bank has no transaction yet
        # ... and the bank was asked again after its page closed (no query needed any more).
        close_and_check(order)
        db.session.commit()
    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        second, _url = paying.start_payment(world.user("binh"), notice)
        second = second.ref
    client = app.test_client()
    assert client.post("/bank/notify", data=notification(second, amount)).get_json()["RspCode"] == "00"
    assert client.post("/bank/notify", data=notification(first, amount)).get_json()["RspCode"] == "00"
    with app.app_context():
        orders = {o.ref: o for o in db.session.scalars(select(PaymentOrder))}
        assert orders[second].status.value == "succeeded" and not orders[second].needs_refund
        assert orders[first].status.value == "succeeded" and orders[first].needs_refund
        notice = db.session.scalar(select(Notice))
        assert sum(line.paid for line in notice.lines) == notice.total
        kinds = [e.kind for e in db.session.scalars(select(Event))]
        assert "duplicate_payment_received" in kinds
    assert counts(app) == (2, 1)


@pytest.mark.parametrize("ref, signed_ok, code", [
    ("L" * 60, True, "01"),   # a long reference the protocol allows, signed: unknown order
    ("L" * 500, False, "97"),  # an unsigned flood: refused, stored bounded
])
def test_odd_references_get_a_protocol_answer_not_an_error(app, world, ref, signed_ok, code):
    from app.extensions import db
    from app.models import BankNotification

    params = notification(ref, 1000) if signed_ok else {"lp_order_ref": ref, "lp_amount": "1000",
                                                          **{f"lp_x{i}": "y" * 5000 for i in range(50)}}
    response = app.test_client().post("/bank/notify", data=params)
    assert response.status_code == 200 and response.get_json()["RspCode"] == code
    with app.app_context():
        stored = db.session.scalar(select(BankNotification))
        assert len(stored.params) <= 20 and all(len(v) <= 128 for v in stored.params.values())
        assert stored.order_ref is None or len(stored.order_ref) <= 64


@pytest.mark.postgres
def test_two_orders_of_one_notice_paid_at_once(pg_app, pg_world):
    """An expired attempt and a new one reported paid at the same moment: both answered,
    one counts, the other is kept for refund; no error, no deadlock."""
    from app.extensions import db
    from app.models import Notice, PaymentOrder
    from app.services import paying

    first, amount, notice_code = start(pg_app, pg_world)
    with pg_app.app_context():
        order = db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == first))
        order.status = "expired"
        close_and_check(order)
        db.session.commit()
    with pg_app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        second = paying.start_payment(pg_world.user("binh"), notice)[0].ref
    answers = []
    barrier = threading.Barrier(2)

    def deliver(ref):
        client = pg_app.test_client()
        barrier.wait()
        response = client.post("/bank/notify", data=notification(ref, amount))
        answers.append((response.status_code, response.get_json()["RspCode"]))

    threads = [threading.Thread(target=deliver, args=(ref,)) for ref in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [(200, "00"), (200, "00")]
    with pg_app.app_context():
        orders = db.session.scalars(select(PaymentOrder)).all()
        assert sorted(o.needs_refund for o in orders) == [False, True]
        notice = db.session.scalar(select(Notice))
        assert sum(line.paid for line in notice.lines) == notice.total
    assert counts(pg_app) == (2, 1)


@pytest.mark.postgres
def test_two_officers_completing_at_once_record_one_completion(pg_app, pg_world):
    from app.extensions import db
    from app.models import Event
    from app.services.dossiers import complete_dossier
    from app.services.scoping import get_dossier

    ref, amount, _notice = start(pg_app, pg_world)
    pg_app.test_client().post("/bank/notify", data=notification(ref, amount))
    with pg_app.app_context():
        code = db.session.scalar(select(Event.dossier_id))
        from app.models import Dossier

        code = db.session.get(Dossier, code).code
    results = []
    barrier = threading.Barrier(2)

    def complete():
        with pg_app.app_context():
            officer = pg_world.user("registry")
            dossier = get_dossier(officer, code)
            barrier.wait()
            try:
                complete_dossier(officer, dossier)
                results.append("done")
            except Exception as err:  # the loser is refused by the state machine
                db.session.rollback()
                results.append(type(err).__name__)

    threads = [threading.Thread(target=complete) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["Conflict", "done"]
    with pg_app.app_context():
        kinds = [e.kind for e in db.session.scalars(select(Event))]
        assert kinds.count("dossier_completed") == 1


def test_which_orders_are_still_to_be_asked_about(app, world):
    from datetime import UTC, datetime, timedelta

    from app.extensions import db
    from app.models import PaymentOrder
    from app.services import paying

    ref, _amount, _notice = start(app, world)
    with app.app_context():
        order = db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == ref))
        assert paying.unsettled_orders() == [order.id]  # still at the bank
        order.status = "expired"
        db.session.commit()
        assert paying.unsettled_orders() == [order.id]  # its page may still be paid
        order.checked_at = order.open_until - timedelta(minutes=1)
        db.session.commit()
        assert paying.unsettled_orders() == [order.id]  # asked, but before the page closed
        close_and_check(order)
        db.session.commit()
        assert paying.unsettled_orders() == []  # asked after the page closed: settled
        assert paying.unsettled_orders(started_before=datetime.now(UTC) - timedelta(hours=1)) == []


def test_worker_goes_on_when_the_bank_cannot_answer_about_one_order(app, world, monkeypatch):
    from app.extensions import db
    from app.models import Notice, PaymentOrder
    from app.services import paying
    from payments.errors import GatewayError

    first, _amount, _notice = start(app, world)
    with app.app_context():
        db.session.scalar(select(PaymentOrder)).status = "failed"  # let the notice be paid again
        db.session.commit()
    with app.test_request_context():
        notice = db.session.scalar(select(Notice))
        second = paying.start_payment(world.user("binh"), notice)[0].ref
    with app.app_context():
        db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == first)).status = "started"
        db.session.commit()
    real = paying.gateway

    class Flaky:
        def query(self, ref):
            if ref == first:
                raise GatewayError("timed out")
            return None

        def __getattr__(self, name):
            return getattr(real(), name)

    monkeypatch.setattr(paying, "gateway", Flaky)
    result = app.test_cli_runner().invoke(args=["check-pending-payments", "--older-than", "0"])
    assert result.exit_code == 1
    assert f"{second}: not at the bank, expired" in result.output
    assert "2 pending payment(s) checked, 1 not answered" in result.output
    assert status_of(app, first) == "started" and status_of(app, second) == "expired"


def test_success_reported_for_a_failed_order_is_kept_for_reconciliation(app, world):
    from app.extensions import db
    from app.models import Event

    ref, amount, _notice = start(app, world)
    client = app.test_client()
    assert client.post("/bank/notify", data=notification(ref, amount, code="51")).get_json()["RspCode"] == "00"
    assert client.post("/bank/notify", data=notification(ref, amount)).get_json()["RspCode"] == "02"
    with app.app_context():
        kinds = [e.kind for e in db.session.scalars(select(Event))]
    assert "payment_to_reconcile" in kinds
    assert status_of(app, ref) == "failed"
