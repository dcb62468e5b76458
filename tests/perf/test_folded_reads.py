"""Reads folded into a locking statement keep their meaning: starting a payment still asks
the bank about an earlier attempt of the notice first (no lock held meanwhile), and locks
the notice in one statement only when there is none."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.errors import Conflict
from tests.app.test_payments import start
from tests.perf.statements import counting


def _gateway_answering(paying, answers: dict):
    real = paying.gateway

    class Bank:
        asked: list[str] = []

        def query(self, ref):
            Bank.asked.append(ref)
            return answers.get(ref)

        def __getattr__(self, name):
            return getattr(real(), name)

    return Bank


def test_an_earlier_attempt_paid_at_the_bank_is_recorded_before_paying_again(app, world, monkeypatch):
    from app.extensions import db
    from app.models import Notice, PaymentOrder, Receipt
    from app.services import paying
    from payments.gateway import BankResult

    first, amount, notice_code = start(app, world)
    paid = BankResult(order_ref=first, amount=amount, succeeded=True, bank_ref="B1",
                      response_code="00", paid_at=datetime.now(UTC), raw={})
    bank = _gateway_answering(paying, {first: paid})
    monkeypatch.setattr(paying, "gateway", bank)
    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        with pytest.raises(Conflict):
            paying.start_payment(world.user("binh"), notice)
    assert bank.asked == [first]
    with app.app_context():
        orders = db.session.scalars(select(PaymentOrder)).all()
        assert [(o.ref, o.status.value) for o in orders] == [(first, "succeeded")]
        assert db.session.scalar(select(Notice).where(Notice.code == notice_code)).status.value == "paid"
        assert len(db.session.scalars(select(Receipt)).all()) == 1


def test_an_earlier_attempt_not_at_the_bank_expires_and_a_new_one_starts(app, world, monkeypatch):
    from app.extensions import db
    from app.models import Notice, PaymentOrder
    from app.services import paying

    first, _amount, notice_code = start(app, world)
    bank = _gateway_answering(paying, {})
    monkeypatch.setattr(paying, "gateway", bank)
    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        second = paying.start_payment(world.user("binh"), notice)[0].ref
    assert bank.asked == [first]
    # Asked now, the first is not asked about again.
    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == second)).status = "failed"
        paying.start_payment(world.user("binh"), notice)
    assert bank.asked == [first, first]  # expired, its page still open: still to be asked
    with app.app_context():
        statuses = {o.ref: o.status.value for o in db.session.scalars(select(PaymentOrder))}
        assert statuses[first] == "expired" and statuses[second] == "failed"
        assert sorted(statuses.values()).count("started") == 1


def test_without_an_earlier_attempt_the_notice_is_locked_in_the_first_statement(app, world, monkeypatch):
    from app.extensions import db
    from app.models import Notice
    from app.services import paying

    _code, notice_code = world.file_and_confirm()
    bank = _gateway_answering(paying, {})
    monkeypatch.setattr(paying, "gateway", bank)
    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        user = world.user("binh")
        with counting(db.engine) as count:
            paying.start_payment(user, notice)
    assert bank.asked == []
    reads = [" ".join(s.split()) for s in count.statements if s.lstrip().startswith("SELECT")]
    assert not [s for s in reads if s.startswith("SELECT payment_orders.id")], reads
    assert reads[0].startswith("SELECT notices.") and "NOT (EXISTS (SELECT * FROM payment_orders" in reads[0]


def test_a_filings_transferees_are_looked_up_in_one_statement(app, world):
    """Filing for several transferees reads the known ones in one statement, whatever their
    number; a known person is reused, a new one added once."""
    from app.auth import issue_token
    from app.extensions import db
    from app.models import Dossier, Party

    with app.app_context():
        token = issue_token(world.user("registry"))[0]
        engine = db.engine
        known_before = db.session.scalar(select(Party.id).where(Party.citizen_id == world.buyer_party[1]))
    assert known_before is not None
    transferees = [
        {"full_name": world.buyer_party[0], "citizen_id": world.buyer_party[1], "share": "1/3"},
        {"full_name": "Đỗ Thị Hoa", "citizen_id": "079301000111", "share": "1/3"},
        {"full_name": "Phan Văn Khánh", "citizen_id": "079301000222", "share": "1/3"},
    ]
    with counting(engine) as count:
        response = app.test_client().post(
            "/api/v1/dossiers", headers={"Authorization": f"Bearer {token}"}, json={
                "parcel_id": world.parcel_id,
                "transferor": {"full_name": world.seller_party[0], "citizen_id": world.seller_party[1]},
                "transferees": transferees,
                "declared_price": 12_000_000_000, "tax_payer_clause": "buyer_pays_all"})
    assert response.status_code == 201, response.get_data(as_text=True)
    lookups = [s for s in count.statements if " ".join(s.split()).startswith("SELECT parties.")]
    assert len(lookups) == 1, lookups
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == response.get_json()["code"]))
        got = [(p.party.citizen_id, p.party.full_name, p.share_text) for p in dossier.parties_in("transferee")]
        assert got == [(t["citizen_id"], t["full_name"], "1/3") for t in transferees]
        assert dossier.parties_in("transferee")[0].party.id == known_before
        assert db.session.scalar(select(Party.id).where(Party.citizen_id == "079301000111")) is not None
