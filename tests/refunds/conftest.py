"""Refund fixtures: a bank that records refunds in memory, and paid notices to refund."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from payments.errors import GatewayError
from payments.gateway import EXTENSION_KEY, RefundResult
from tests.app.bank import notification
from tests.app.conftest import world  # noqa: F401, F811  (the world with its province's coefficients)


class FakeBank:
    """The real client for everything signed, a quiet status query (the payer never confirmed
    at the bank), and refunds kept in memory with the real bank's idempotency by reference."""

    def __init__(self, real):
        self.real = real
        self.refunds: dict[str, RefundResult] = {}
        self.refunded: dict[str, int] = {}  #: per order reference
        self.unreachable = 0  #: the next this many refund calls time out
        self.refuse: set[str] = set()  #: order references whose refunds the bank refuses
        self.calls = 0

    def query(self, order_ref, **_kw):
        return None

    def refund(self, *, refund_ref, order_ref, bank_ref, amount, now=None):
        self.calls += 1
        if self.unreachable:
            self.unreachable -= 1
            raise GatewayError("bank refund failed: ReadTimeout")
        if refund_ref in self.refunds:
            return self.refunds[refund_ref]
        if order_ref in self.refuse:
            return RefundResult(refund_ref, amount, False, None, "03", None, {})
        result = RefundResult(refund_ref, amount, True, "RN" + secrets.token_hex(5).upper(), "00",
                              datetime.now(UTC), {})
        self.refunds[refund_ref] = result
        self.refunded[order_ref] = self.refunded.get(order_ref, 0) + amount
        return result

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def bank(app):
    from app.services.paying import gateway

    with app.app_context():
        fake = FakeBank(gateway())
    app.extensions[EXTENSION_KEY] = fake
    return fake


class Payer:
    """Start orders for a notice and have the bank notify them paid."""

    def __init__(self, app, world, notice_code):  # noqa: F811
        self.app, self.world, self.notice_code = app, world, notice_code
        self.client = app.test_client()

    def start(self, username="binh"):
        from app.extensions import db
        from app.models import Notice
        from app.services import paying

        with self.app.test_request_context():
            notice = db.session.scalar(select(Notice).where(Notice.code == self.notice_code))
            order, _url = paying.start_payment(self.world.user(username), notice)
            return order.ref, order.amount

    def notify(self, ref, amount, **kw):
        response = self.client.post("/bank/notify", data=notification(ref, amount, **kw))
        assert response.status_code == 200
        return response.get_json()["RspCode"]


@pytest.fixture
def payer(app, world, bank):  # noqa: F811
    def make(parcel=None):
        _code, notice_code = world.file_and_confirm(parcel=parcel or world.add_parcel())
        return Payer(app, world, notice_code)

    return make


def duplicate(payer) -> tuple:
    """A notice paid twice: the first order expired, then paid late at the bank after a
    second order paid the notice. Returns (payer, counted ref, duplicate ref, amount)."""
    p = payer()
    first, amount = p.start()
    second, amount2 = p.start()  # the first is asked about, not at the bank: expired
    assert amount == amount2
    assert p.notify(second, amount) == "00"
    assert p.notify(first, amount) == "00"  # the bank took the old page's money anyway
    return p, second, first, amount
