"""Withdrawal and rejection: the dossier ends, its notices are cancelled, what was paid is
refunded, and the parcel is free for a new dossier."""

from __future__ import annotations

from sqlalchemy import select

from tests.decisions.conftest import count, pay, token


def _dossier(code):
    from app.extensions import db
    from app.models import Dossier

    return db.session.scalar(select(Dossier).where(Dossier.code == code))


def test_withdrawal_after_payment_refunds_everything_and_frees_the_parcel(app, world):
    from app.extensions import db
    from app.models import Event, Notice, OutboxMessage, Refund

    code, notice_code = world.file_and_confirm()
    paid = pay(app, "binh", notice_code)
    client = app.test_client()
    answer = client.post(f"/api/v1/dossiers/{code}/withdraw", headers=token(client, "binh"),
                         json={"reason": "We cancelled the sale."})
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "withdrawn"
    assert body["event"]["kind"] == "dossier_withdrawn"
    assert body["event"]["data"]["reason"] == "We cancelled the sale."
    assert body["decisions_now"] == []
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        assert notice.status.value == "cancelled"
        assert [line.amount for line in notice.lines] == [0] * len(notice.lines)
        refunds = db.session.scalars(select(Refund).where(Refund.notice_id == notice.id)).all()
        assert [(r.amount, r.reason.value) for r in refunds] == [(paid, "cancelled")]
        event = db.session.scalar(select(Event).where(Event.kind == "dossier_withdrawn"))
        assert event.actor_label == "landholder" and event.to_status == "withdrawn"
        assert count(OutboxMessage, OutboxMessage.event_uid == event.uid) == 1
    # The parcel is free: a new dossier for it is filed.
    new_code = world.file()
    assert new_code != code


def test_rejection_needs_a_legal_ground_and_a_reason_and_changes_nothing_without(app, world):
    from app.extensions import db
    from app.models import Event, Notice

    code, notice_code = world.file_and_confirm()
    client = app.test_client()
    headers = token(client, "registry")
    with app.app_context():
        before = count(Event)
    for body in ({}, {"reason": "x"}, {"legal_ground": "Điều 37", "reason": "   "}):
        answer = client.post(f"/api/v1/dossiers/{code}/reject", headers=headers, json=body)
        assert answer.status_code == 422, (body, answer.get_json())
    with app.app_context():
        assert count(Event) == before
        assert _dossier(code).status.value == "awaiting_payment"
    answer = client.post(f"/api/v1/dossiers/{code}/reject", headers=headers,
                         json={"legal_ground": "Khoản 2 Điều 37 Nghị định 101/2024/NĐ-CP",
                               "reason": "The parcel is under a seizure order."})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["event"]["data"]["legal_ground"].startswith("Khoản 2")
    with app.app_context():
        assert _dossier(code).status.value == "rejected"
        assert db.session.scalar(select(Notice.status).where(Notice.code == notice_code)).value \
            == "cancelled"
    # Ended: a second rejection is a conflict, and the landholder can no longer withdraw.
    again = client.post(f"/api/v1/dossiers/{code}/reject", headers=headers,
                        json={"legal_ground": "x", "reason": "y"})
    assert again.status_code == 409
    late = client.post(f"/api/v1/dossiers/{code}/withdraw", headers=token(client, "an"),
                       json={"reason": "too late"})
    assert late.status_code == 409


def test_a_stranger_cannot_withdraw_and_a_cancelled_notice_cannot_be_paid(app, world):
    from app.errors import Conflict
    from app.extensions import db
    from app.models import Notice, User
    from app.services import paying

    code, notice_code = world.file_and_confirm()
    client = app.test_client()
    answer = client.post(f"/api/v1/dossiers/{code}/withdraw", headers=token(client, "cuong"),
                         json={"reason": "not mine"})
    assert answer.status_code == 404
    # The seller, a party of the dossier too, may withdraw it.
    answer = client.post(f"/api/v1/dossiers/{code}/withdraw", headers=token(client, "an"),
                         json={"reason": "The buyer backed out."})
    assert answer.status_code == 200
    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        buyer = db.session.scalar(select(User).where(User.username == "binh"))
        try:
            paying.start_payment(buyer, notice)
        except Conflict:
            pass
        else:  # pragma: no cover - the assertion below explains
            raise AssertionError("a cancelled notice was offered for payment")


def test_withdrawal_page_walks_the_landholder_through(app, world):
    from tests.conftest import login

    code, _notice = world.file_and_confirm()
    client = app.test_client()
    login(client, "binh")
    page = client.get(f"/decisions/dossiers/{code}").get_data(as_text=True)
    assert 'id="withdraw-form"' in page and 'id="papers-form"' not in page
    token_value = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(f"/decisions/dossiers/{code}/withdraw",
                         data={"csrf_token": token_value, "reason": ""})
    assert answer.status_code == 302
    with app.app_context():
        assert _dossier(code).status.value == "awaiting_payment"
    answer = client.post(f"/decisions/dossiers/{code}/withdraw",
                         data={"csrf_token": token_value, "reason": "Changed our minds."},
                         follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'id="withdraw-form"' not in page
    assert "Changed our minds." in page  # the history says why
    with app.app_context():
        assert _dossier(code).status.value == "withdrawn"
