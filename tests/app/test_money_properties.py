"""Money is conserved, whatever the bank sends and in whatever order: for every notice,
per line, assessed = paid - refunded + outstanding; one counted payment, one receipt."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.app.bank import notification

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["paid", "declined", "wrong_amount", "bad_signature", "retry"]),
        st.integers(0, 3),  # which of the orders so far
    ),
    min_size=1,
    max_size=8,
)


class NoTransactionAtTheBank:
    """The bank's status query answering "no such transaction" (the payer never confirmed)."""

    def __init__(self, real):
        self.real = real

    def query(self, order_ref):
        return None

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def quiet_bank(monkeypatch):
    from app.services import paying

    real = paying.gateway
    monkeypatch.setattr(paying, "gateway", lambda: NoTransactionAtTheBank(real()))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_money_is_conserved_whatever_the_bank_sends(app, world, quiet_bank, actions):
    from app.extensions import db
    from app.models import Notice, PaymentOrder, Receipt
    from app.services import paying

    # A parcel of its own per example: a parcel has one open dossier at a time.
    _code, notice_code = world.file_and_confirm(parcel=world.add_parcel())
    client = app.test_client()

    def new_order():
        with app.test_request_context():
            notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
            order, _url = paying.start_payment(world.user("binh"), notice)
            return order.ref, order.amount

    orders = [new_order()]
    for action, which in actions:
        if action == "retry":
            try:
                orders.append(new_order())
            except Exception as err:  # already paid: a clear refusal, nothing changed
                assert type(err).__name__ == "Conflict"
            continue
        ref, amount = orders[which % len(orders)]
        if action == "paid":
            params = notification(ref, amount)
        elif action == "declined":
            params = notification(ref, amount, code="51")
        elif action == "wrong_amount":
            params = notification(ref, amount + 1)
        else:
            params = notification(ref, amount, secret="forged")
        assert client.post("/bank/notify", data=params).status_code == 200

    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        mine = db.session.scalars(select(PaymentOrder).where(PaymentOrder.notice_id == notice.id)).all()
        counted = [o for o in mine if o.status.value == "succeeded" and not o.needs_refund]
        receipts = db.session.scalars(select(Receipt).where(Receipt.notice_id == notice.id)).all()
        for line in notice.lines:
            assert line.amount == line.paid - line.refunded + line.outstanding
            assert line.outstanding >= 0 and line.paid >= 0
        assert len(counted) <= 1
        assert len(receipts) == len(counted)
        assert sum(line.paid for line in notice.lines) == sum(o.amount for o in counted)
        assert (notice.status.value == "paid") == (notice.outstanding == 0) == (len(counted) == 1)
