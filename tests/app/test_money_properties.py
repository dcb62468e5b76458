"""Money is conserved, whatever the bank sends, in whatever order, and whatever is refunded:
for every notice and line, assessed = paid - refunded + outstanding, each side read from its
own rows (the assessment, the payments' split, the refunds' split, the notice's line); one
counted payment, one receipt; and the bank's books equal LandPay's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.app.bank import notification
from tests.refunds.conftest import FakeBank

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["paid", "declined", "wrong_amount", "bad_signature", "retry",
                         "refund", "worker", "bank_down"]),
        st.integers(0, 3),  # which of the orders so far
        st.integers(1, 100),  # for a refund: the percentage of what can still be refunded
    ),
    min_size=1,
    max_size=10,
)


def _install_bank(app) -> FakeBank:
    from app.services.paying import gateway
    from payments.gateway import EXTENSION_KEY

    with app.app_context():
        fake = FakeBank(gateway())
    app.extensions[EXTENSION_KEY] = fake
    return fake


def _books(notice_id):
    """Each side of the equation from its own rows."""
    from app.extensions import db
    from app.models import AssessmentLine, NoticeLine, PaymentOrder
    from app.models.refunds import PaymentLine, Refund, RefundLine

    def per_line(query):
        return {line_id: int(total) for line_id, total in db.session.execute(query)}

    lines = db.session.scalars(select(NoticeLine).where(NoticeLine.notice_id == notice_id)).all()
    ids = [line.id for line in lines]
    assessed = per_line(select(NoticeLine.id, AssessmentLine.amount)
                        .join(AssessmentLine, AssessmentLine.id == NoticeLine.assessment_line_id)
                        .where(NoticeLine.id.in_(ids)))
    paid = per_line(select(PaymentLine.notice_line_id, func.sum(PaymentLine.amount))
                    .join(PaymentOrder, PaymentOrder.id == PaymentLine.payment_id)
                    .where(PaymentLine.notice_line_id.in_(ids), PaymentOrder.status == "succeeded")
                    .group_by(PaymentLine.notice_line_id))
    refunded = per_line(select(RefundLine.notice_line_id, func.sum(RefundLine.amount))
                        .join(Refund, Refund.id == RefundLine.refund_id)
                        .where(RefundLine.notice_line_id.in_(ids), Refund.state == "succeeded")
                        .group_by(RefundLine.notice_line_id))
    return lines, assessed, paid, refunded


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_money_is_conserved_whatever_the_bank_sends(app, world, actions):
    from app.errors import ValidationFailed
    from app.extensions import db
    from app.models import Notice, PaymentOrder, Receipt
    from app.models.refunds import Refund
    from app.services import paying
    from app.services.refunds import (
        refundable,
        request_refund,
        run_refund_worker,
        send_pending_refunds,
    )

    bank = _install_bank(app)
    # A parcel of its own per example: a parcel has one open dossier at a time.
    _code, notice_code = world.file_and_confirm(parcel=world.add_parcel())
    client = app.test_client()
    taken: dict[str, int] = {}  # what the bank took, per order: paid once, however notified

    def new_order():
        with app.test_request_context():
            notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
            order, _url = paying.start_payment(world.user("binh"), notice)
            return order.ref, order.amount

    orders = [new_order()]
    for action, which, percent in actions:
        if action == "retry":
            try:
                orders.append(new_order())
            except Exception as err:  # already paid: a clear refusal, nothing changed
                assert type(err).__name__ == "Conflict"
            continue
        if action == "bank_down":
            bank.unreachable += 1
            continue
        if action == "worker":
            with app.app_context():
                run_refund_worker()
            continue
        ref, amount = orders[which % len(orders)]
        if action == "refund":
            with app.app_context():
                order = db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == ref))
                left = sum(refundable(order).values())
                if order.status.value != "succeeded" or left == 0:
                    continue
                try:
                    request_refund(order, max(1, left * percent // 100), "cancelled")
                    db.session.commit()
                except ValidationFailed:  # pragma: no cover - within bounds by construction
                    raise
            continue
        if action == "paid":
            params = notification(ref, amount)
        elif action == "declined":
            params = notification(ref, amount, code="51")
        elif action == "wrong_amount":
            params = notification(ref, amount + 1)
        else:
            params = notification(ref, amount, secret="forged")
        answer = client.post("/bank/notify", data=params)
        # The endpoint always answers 200; what it decided is the answer code.
        assert answer.status_code == 200
        expected = {"paid": {"00", "02"}, "declined": {"00", "02"}, "wrong_amount": {"04", "02"},
                    "forged": {"97"}}[action if action in ("paid", "declined", "wrong_amount") else "forged"]
        assert answer.get_json()["RspCode"] in expected, (action, answer.get_json())
        if action == "paid" and answer.get_json()["RspCode"] == "00":
            taken[ref] = amount

    # The worker runs until nothing is due: duplicates and overpayments are given back.
    bank.unreachable = 0
    with app.app_context():
        run_refund_worker()
        send_pending_refunds(datetime.now(UTC) + timedelta(days=30))

    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        lines, assessed, paid, refunded = _books(notice.id)
        for line in lines:
            if line.assessment_line_id is None:  # late interest: assessed when it was paid
                continue
            assert assessed[line.id] == paid.get(line.id, 0) - refunded.get(line.id, 0) + line.outstanding
            assert line.outstanding >= 0
        mine = db.session.scalars(select(PaymentOrder).where(PaymentOrder.notice_id == notice.id)).all()
        succeeded = {o.ref: o.amount for o in mine if o.status.value == "succeeded"}
        counted = [o for o in mine if o.status.value == "succeeded" and not o.needs_refund]
        receipts = db.session.scalars(select(Receipt).where(Receipt.notice_id == notice.id)).all()
        assert len(counted) <= 1
        assert len(receipts) == len(counted)
        assert (notice.status.value == "paid") == (notice.outstanding == 0)
        # The bank's books equal ours: what it took, and what it gave back, order by order.
        assert succeeded == taken
        refunds = db.session.scalars(select(Refund).where(Refund.notice_id == notice.id)).all()
        assert all(r.state.value == "succeeded" for r in refunds)
        ours: dict[str, int] = {}
        for r in refunds:
            ours[r.payment.ref] = ours.get(r.payment.ref, 0) + r.amount
        assert ours == bank.refunded
        # Net money kept equals what the lines hold: nothing kept that settled no line.
        kept = sum(taken.values()) - sum(bank.refunded.values())
        assert kept == sum(paid.values()) - sum(refunded.values())
        duplicates = [o for o in mine if o.needs_refund]
        assert all(bank.refunded.get(o.ref) == o.amount for o in duplicates)
