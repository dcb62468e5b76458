"""A failed refund waits for a person: the worker never asks again under a new reference (a
new reference escapes the bank's idempotency, so money returned once could go back twice), and
a refund whose outcome is unknown keeps its money counted as given back. And a correction is
taken from the money that settled the lines, not from a duplicate awaiting its own refund."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

import tax_calc
from payments.errors import GatewayError
from tests.conftest import PASSWORD
from tests.refunds.conftest import duplicate


def _order(ref):
    from app.extensions import db
    from app.models import PaymentOrder

    return db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == ref))


def test_a_refused_refund_is_not_requested_again_by_the_worker(app, payer, bank):
    from app.extensions import db
    from app.models import Refund
    from app.services.refunds import refundable, run_refund_worker

    _p, _counted, dup, amount = duplicate(payer)
    bank.refuse.add(dup)
    with app.app_context():
        assert any("refused" in line for line in run_refund_worker())
        for _ in range(3):
            assert run_refund_worker() == []
        refunds = db.session.scalars(select(Refund)).all()
        assert [(r.state.value, r.response_code) for r in refunds] == [("failed", "03")]
        # The bank said no: the money is still the payment's, for a person to send back.
        assert refundable(_order(dup)) == {None: amount}
    assert bank.calls == 1 and bank.refunded == {}


def test_a_refund_whose_answers_were_all_lost_is_never_made_twice(app, payer, bank):
    from app.extensions import db
    from app.models import Refund
    from app.services.refunds import (
        MAX_ATTEMPTS,
        refundable,
        run_refund_worker,
        send_pending_refunds,
    )

    _p, _counted, dup, amount = duplicate(payer)
    real_refund = bank.refund
    lost = {"answers": MAX_ATTEMPTS}

    def answer_lost(**kwargs):
        result = real_refund(**kwargs)  # the bank returns the money...
        if lost["answers"]:
            lost["answers"] -= 1
            raise GatewayError("bank refund failed: ReadTimeout")  # ...and the answer is lost
        return result

    bank.refund = answer_lost
    with app.app_context():
        run_refund_worker()
        later = datetime.now(UTC)
        for _ in range(MAX_ATTEMPTS - 1):
            later += timedelta(hours=7)
            send_pending_refunds(later)
        refund = db.session.scalar(select(Refund))
        assert refund.state.value == "failed" and refund.response_code is None
        assert refundable(_order(dup)) == {}  # it may have been made: nothing is offered again
        assert run_refund_worker() == []
        assert db.session.scalar(select(Refund.id).where(Refund.id != refund.id)) is None
    assert bank.refunded == {dup: amount}


def test_a_lowered_assessment_is_refunded_from_the_payment_that_settled_it(app, world, payer, bank):
    """The notice was paid twice and the duplicate is not refunded yet when a tax officer
    lowers the assessment: the correction comes from the counted payment, the duplicate goes
    back whole, and no line is left owing."""
    from app.extensions import db
    from app.models import Assessment, Notice, NoticeLine, Refund
    from app.services.refunds import run_refund_worker

    p, counted, dup, amount = duplicate(payer)
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == p.notice_code))
        assessment = db.session.scalar(select(Assessment).where(Assessment.dossier_id == notice.dossier_id)
                                       .order_by(Assessment.id.desc()).limit(1))
        assessment_id, case = assessment.id, dict(assessment.case)
    case["declared_price"] = int(case["declared_price"] * 0.9)
    lower = tax_calc.assess(case).total
    assert lower < amount
    client = app.test_client()
    body = client.post("/api/v1/tokens", json={"username": "tax", "password": PASSWORD}).get_json()
    answer = client.post(f"/api/v1/assessments/{assessment_id}/adjust",
                         headers={"Authorization": f"Bearer {body['token']}"},
                         json={"changes": {"declared_price": case["declared_price"]},
                               "reason": "Price below comparable sales"})
    assert answer.status_code == 201, answer.get_json()
    with app.app_context():
        run_refund_worker()
        refunds = db.session.scalars(select(Refund).order_by(Refund.id)).all()
        assert sorted((r.payment.ref, r.amount, r.state.value) for r in refunds) == sorted(
            [(counted, amount - lower, "succeeded"), (dup, amount, "succeeded")])
        lines = db.session.scalars(select(NoticeLine)).all()
        assert all(line.outstanding >= 0 for line in lines), [(line.id, line.outstanding) for line in lines]
        assert all(line.amount == line.paid - line.refunded + line.outstanding for line in lines)
    assert bank.refunded == {counted: amount - lower, dup: amount}
