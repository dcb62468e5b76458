"""Refunds: requested in the caller's transaction, split by line, sent by the worker outside
any lock, idempotent at the bank, retried with backoff, and counted on the lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.refunds.conftest import duplicate


def _order(ref):
    from app.extensions import db
    from app.models import PaymentOrder

    return db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == ref))


def _later():
    return datetime.now(UTC) + timedelta(days=1)


def test_duplicate_payment_is_refunded_by_the_worker(app, payer, bank):
    from app.extensions import db
    from app.models import Refund
    from app.services.refunds import run_refund_worker

    p, counted, dup, amount = duplicate(payer)
    with app.app_context():
        assert _order(dup).needs_refund and not _order(counted).needs_refund
        outcomes = run_refund_worker()
        assert any("requested (duplicate" in line for line in outcomes), outcomes
        refunds = db.session.scalars(select(Refund)).all()
        assert [(r.payment.ref, r.amount, r.state.value, r.reason.value) for r in refunds] == \
            [(dup, amount, "succeeded", "duplicate")]
        # Money that settled no line: no line changes, the notice stays paid.
        assert [(part.notice_line_id, part.amount) for part in refunds[0].lines] == [(None, amount)]
        notice = _order(counted).notice
        assert notice.status.value == "paid" and all(line.refunded == 0 for line in notice.lines)
        # A second round requests nothing more: the duplicate is refunded once.
        assert run_refund_worker() == []
    assert bank.refunded == {dup: amount}


def test_request_refuses_more_than_the_payment_can_still_refund(app, payer, bank):
    from app.errors import Conflict, ValidationFailed
    from app.extensions import db
    from app.models import Refund
    from app.services.refunds import request_refund

    p = payer()
    ref, amount = p.start()
    with app.app_context():
        with pytest.raises(Conflict):  # not paid yet
            request_refund(_order(ref), 1, "cancelled")
    p.notify(ref, amount)
    with app.app_context():
        order = _order(ref)
        for bad, field in ((0, "amount"), (-5, "amount"), (amount + 1, "amount")):
            with pytest.raises(ValidationFailed) as info:
                request_refund(order, bad, "cancelled")
            assert field in info.value.fields
        with pytest.raises(ValidationFailed) as info:
            request_refund(order, 1, "because")
        assert "reason" in info.value.fields
        first = request_refund(order, amount - 10, "cancelled")
        db.session.commit()
        assert first.state.value == "requested"
        with pytest.raises(ValidationFailed):
            request_refund(_order(ref), 11, "cancelled")
        db.session.rollback()
        request_refund(_order(ref), 10, "correction")
        db.session.commit()
        assert db.session.scalar(select(func.sum(Refund.amount))) == amount
    assert bank.calls == 0  # requesting never calls the bank


def test_cancellation_refund_is_split_by_line_and_counted_when_the_bank_pays(app, payer, bank):
    from app.extensions import db
    from app.services.refunds import request_refund, send_pending_refunds

    p = payer()
    ref, amount = p.start()
    p.notify(ref, amount)
    with app.app_context():
        order = _order(ref)
        lines = {line.id: line.paid for line in order.notice.lines}
        refund = request_refund(order, amount, "cancelled")
        split = {part.notice_line_id: part.amount for part in refund.lines}
        assert split == {k: v for k, v in lines.items() if v}
        db.session.commit()
        notice = order.notice
        assert all(line.refunded == 0 for line in notice.lines)  # not returned yet
        send_pending_refunds()
        db.session.expire_all()
        notice = _order(ref).notice
        assert {line.id: line.refunded for line in notice.lines} == lines
        assert notice.outstanding == notice.total
    assert bank.refunded == {ref: amount}


def test_partial_refund_split_proportionally_adds_up(app, payer, bank):
    from app.services.refunds import _split

    pools = {None: 0, 1: 700, 2: 200, 3: 100}
    for amount in (1, 3, 7, 333, 999, 1000):
        split = _split(amount, pools)
        assert sum(split.values()) == amount
        assert all(0 < v <= pools[k] for k, v in split.items())
    assert _split(5, {None: 3, 1: 10}) == {None: 3, 1: 2}


def test_bank_unreachable_is_retried_with_backoff_then_succeeds(app, payer, bank):
    from app.extensions import db
    from app.models import Refund
    from app.services.refunds import send_pending_refunds

    _p, _counted, dup, amount = duplicate(payer)
    bank.unreachable = 2
    with app.app_context():
        from app.services.refunds import request_due_refunds

        request_due_refunds()
        db.session.commit()
        assert "retry" in send_pending_refunds()[0]
        refund = db.session.scalar(select(Refund))
        assert refund.state.value == "requested" and refund.attempts == 1
        assert refund.next_attempt_at > datetime.now(UTC)
        assert send_pending_refunds() == []  # not due yet: backoff
        assert "retry" in send_pending_refunds(_later())[0]
        db.session.expire_all()
        waited = db.session.scalar(select(Refund)).next_attempt_at - datetime.now(UTC)
        assert waited > timedelta(seconds=90)  # the second wait is longer than the first
        assert "refunded" in send_pending_refunds(_later())[0]
        db.session.expire_all()
        refund = db.session.scalar(select(Refund))
        assert refund.state.value == "succeeded" and refund.attempts == 3 and refund.bank_ref
    assert bank.refunded == {dup: amount}


def test_bank_refusal_fails_the_refund_and_frees_its_amount(app, payer, bank):
    from app.extensions import db
    from app.models import Refund
    from app.services.refunds import refundable, request_due_refunds, send_pending_refunds

    _p, _counted, dup, amount = duplicate(payer)
    bank.refuse.add(dup)
    with app.app_context():
        request_due_refunds()
        db.session.commit()
        assert "refused" in send_pending_refunds()[0]
        refund = db.session.scalar(select(Refund))
        assert refund.state.value == "failed" and refund.response_code == "03"
        assert refundable(_order(dup)) == {None: amount}  # may be requested again
    assert bank.refunded == {}


def test_a_refund_sent_twice_moves_money_once(app, payer, bank):
    """A worker that stopped after the bank's answer, before recording it, sends again."""
    from app.extensions import db
    from app.models import Refund
    from app.services.refunds import request_due_refunds, send_pending_refunds

    _p, _counted, dup, amount = duplicate(payer)
    with app.app_context():
        request_due_refunds()
        db.session.commit()
        refund = db.session.scalar(select(Refund))
        bank.refund(refund_ref=refund.ref, order_ref=dup, bank_ref=None, amount=amount)
        send_pending_refunds()
        assert db.session.scalar(select(Refund.state)).value == "succeeded"
    assert bank.calls == 2 and bank.refunded == {dup: amount}


def test_check_pending_payments_still_flags_and_the_worker_refunds(app, payer, bank):
    """A payment found paid by the status query after another paid the notice."""
    from app.services.refunds import run_refund_worker

    p = payer()
    first, amount = p.start()
    second, _ = p.start()
    p.notify(second, amount)
    # The bank's query now reports the first as paid (a lost notification).
    from tests.app.bank import notification

    real = bank.real

    class Answering:
        def __init__(self):
            self.params = notification(first, amount)

        def __call__(self, order_ref, **_kw):
            return real.parse_notification(self.params) if order_ref == first else None

    bank.query = Answering()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["check-pending-payments", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _order(first).needs_refund
        assert any(first in line or "duplicate" in line for line in run_refund_worker())
    assert bank.refunded == {first: amount}


def test_send_refunds_command(app, payer, bank):
    _p, _c, dup, amount = duplicate(payer)
    result = app.test_cli_runner().invoke(args=["send-refunds"])
    assert result.exit_code == 0, result.output
    assert "requested (duplicate" in result.output and "refunded" in result.output
    assert bank.refunded == {dup: amount}


def test_refunds_show_on_the_notice_and_receipt_pages(app, world, payer, bank):
    from app.services.refunds import run_refund_worker
    from tests.conftest import login

    p, counted, dup, amount = duplicate(payer)
    with app.app_context():
        run_refund_worker()
        receipt = _order(counted).receipt.number
    client = app.test_client()
    login(client, "binh")
    page = client.get(f"/me/notices/{p.notice_code}").get_data(as_text=True)
    assert 'id="refunds"' in page and dup in page and "refund-succeeded" in page
    page = client.get(f"/me/receipts/{receipt}").get_data(as_text=True)
    assert "757-2801" in page  # each line with its budget classification
    assert 'id="refunds"' not in page  # the counted payment itself was not refunded


def test_overpayment_surplus_is_refunded_and_not_receipted(app, payer, bank):
    from app.extensions import db
    from app.services.refunds import run_refund_worker

    p = payer()
    ref, owed = p.start()
    with app.app_context():  # an order for more than the notice owes (e.g. owed fell meanwhile)
        _order(ref).amount = owed + 1_000
        db.session.commit()
    assert p.notify(ref, owed + 1_000) == "00"
    with app.app_context():
        order = _order(ref)
        assert order.receipt.claims["total"] == owed and order.notice.status.value == "paid"
        outcomes = run_refund_worker()
        assert any("requested (overpayment, 1000 dong)" in line for line in outcomes), outcomes
    assert bank.refunded == {ref: 1_000}
