"""Notifications reach people: a notice issued, a payment received, a dossier completed are each
told once, in the person's language, through a real SMTP conversation with the mail sink (and
its SMS gateway); failures are retried, then given up; the contact page sets where they go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from app.contact import normalise_phone
from app.extensions import db
from app.models import Notification, User
from tests.app.bank import notification
from tests.conftest import login, post_form


def _contact(app, username, **values):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        for key, value in values.items():
            setattr(user, key, value)
        db.session.commit()


def _queue(app):
    from app.services.notify import queue_from_events

    with app.app_context():
        return queue_from_events()


def _send(app, **kwargs):
    from app.services.notify import send_due

    with app.app_context():
        return send_due(**kwargs)


def _notes(app):
    with app.app_context():
        return [(n.user.username, n.channel, n.address, n.subject, n.body, n.status)
                for n in db.session.scalars(select(Notification).order_by(Notification.id))]


@pytest.fixture
def smtp(app, sink):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink["smtp_port"],
                      SMS_GATEWAY_URL=sink["url"] + "/api/sms")
    return sink


def test_the_payer_is_told_of_the_notice_once_in_their_language(app, world, smtp):
    _contact(app, "binh", email="binh@example.vn", language="vi")
    _contact(app, "an", email="an@example.vn", language="en")
    _code, notice = world.file_and_confirm()
    read, written = _queue(app)
    assert read > 0
    notes = _notes(app)
    # The buyer owes this notice (the default payer clause puts every line on the buyer in the
    # demo world's notice); the seller is not asked to pay it.
    payers = {n[0] for n in notes}
    assert "binh" in payers
    binh = next(n for n in notes if n[0] == "binh")
    assert binh[1] == "email" and binh[2] == "binh@example.vn"
    assert notice in binh[3] and "thông báo nộp tiền" in binh[3]
    assert f"/me/notices/{notice}" in binh[4]
    assert _queue(app) == (0, 0)  # read once: nothing new, nothing twice
    assert _send(app)["sent"] == written
    mails = requests.get(smtp["url"] + "/api/messages", timeout=5).json()["items"]
    to_binh = [m for m in mails if "binh@example.vn" in m["to"]]
    assert len(to_binh) == 1
    assert to_binh[0]["language"] == "vi" and f"/me/notices/{notice}" in to_binh[0]["text"]
    assert all(n[5] == "sent" for n in _notes(app))
    assert _send(app)["sent"] == 0  # nothing is sent twice


def test_payment_and_completion_reach_both_parties_and_sms_too(app, world, smtp):
    _contact(app, "binh", email="binh@example.vn", phone="0912345678", notify_by_sms=True, language="en")
    _contact(app, "an", email="an@example.vn")
    code, notice = world.file_and_confirm()
    buyer = app.test_client()
    login(buyer, "binh")
    post_form(buyer, f"/me/notices/{notice}", f"/me/notices/{notice}/pay")
    from app.models import PaymentOrder

    with app.app_context():
        order = db.session.scalar(select(PaymentOrder))
        ref, amount = order.ref, order.amount
    assert app.test_client().post("/bank/notify", data=notification(ref, amount)).get_json()["RspCode"] == "00"
    registry = app.test_client()
    login(registry, "registry")
    post_form(registry, f"/registry/dossiers/{code}", f"/registry/dossiers/{code}/complete")
    _queue(app)
    subjects = {(n[0], n[1]): n[3] for n in _notes(app) if "complete" in n[3] or "hoàn thành" in n[3]}
    assert set(subjects) == {("binh", "email"), ("binh", "sms"), ("an", "email")}
    assert "is complete" in subjects[("binh", "email")] and "hoàn thành" in subjects[("an", "email")]
    assert _send(app)["failed"] == 0
    texts = requests.get(smtp["url"] + "/api/sms", timeout=5).json()["items"]
    assert {t["to"] for t in texts} == {"0912345678"}
    assert any("payment received" in t["text"] for t in texts)


def test_a_failing_relay_is_retried_with_growing_waits_then_given_up(app, world):
    from tests.stack import free_port

    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nothing listens there
    _contact(app, "binh", email="binh@example.vn")
    world.file_and_confirm()
    _queue(app)
    now = datetime.now(UTC)
    waits = []
    for _attempt in range(5):
        counts = _send(app, now=now)
        assert counts["sent"] == 0
        with app.app_context():
            note = db.session.scalar(select(Notification).where(Notification.channel == "email"))
            if note.status == "failed":
                break
            waits.append(note.next_attempt_at - now)
            assert _send(app, now=now)["retry"] == 0  # not due again before its time
            now = note.next_attempt_at
    assert waits == sorted(waits) and waits[0] == timedelta(minutes=1) and len(set(waits)) == len(waits)
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.channel == "email"))
        assert note.status == "failed" and note.attempts == 5 and "ConnectionRefusedError" in note.last_error


def test_without_a_channel_notifications_wait(app, world):
    app.config.update(SMTP_HOST=None, SMS_GATEWAY_URL=None)
    _contact(app, "binh", email="binh@example.vn")
    world.file_and_confirm()
    _queue(app)
    assert _send(app)["waiting"] >= 1
    assert {n[5] for n in _notes(app)} == {"pending"}


def test_no_contact_details_no_notification(app, world):
    world.file_and_confirm()
    read, written = _queue(app)
    assert read > 0 and written == 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id))) == 0


@pytest.mark.parametrize(("typed", "stored"), [
    ("0912345678", "0912345678"), ("0912 345 678", "0912345678"), ("+84912345678", "0912345678"),
    ("091.234.5678", "0912345678"), ("0312345678", "0312345678"),
    ("0212345678", None), ("091234567", None), ("09123456789", None), ("０９１２３４５６７８", None),
    ("+1 202 555 0100", None), ("", None),
])
def test_mobile_numbers(typed, stored):
    assert normalise_phone(typed) == stored


def test_the_contact_page_saves_and_refuses_bad_input(app, world):
    client = app.test_client()
    login(client, "binh")
    bad = post_form(client, "/me/contact", "/me/contact",
                    {"email": "not-an-address", "phone": "12345", "notify_by_sms": "y", "language": "en"})
    assert bad.status_code == 422
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "binh"))
        assert user.email is None and user.phone is None and user.language == "vi"
    good = post_form(client, "/me/contact", "/me/contact",
                     {"email": "binh@example.vn", "phone": "0912 345 678", "notify_by_email": "y",
                      "notify_by_sms": "y", "language": "en"})
    assert good.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "binh"))
        assert (user.email, user.phone, user.language, user.notify_by_sms) == (
            "binh@example.vn", "0912345678", "en", True)
    page = client.get("/me/contact").get_data(as_text=True)
    assert 'value="binh@example.vn"' in page


def test_payers_are_reminded_before_the_due_date_and_told_after_it_once(app, world):
    """Three days before a notice falls due its payers get a reminder, the day after it passed
    a notice that interest runs; each once, whatever the worker's rounds; nothing for a paid
    notice or for someone who does not owe it."""
    from datetime import timedelta

    from app.models import Notice
    from app.services.notify import remind_due_notices

    _contact(app, "binh", email="binh@example.vn", language="en")
    _contact(app, "an", email="an@example.vn")
    _code, notice_code = world.file_and_confirm()
    with app.app_context():
        due = db.session.scalar(select(Notice.due_on).where(Notice.code == notice_code))
        assert remind_due_notices(due - timedelta(days=10)) == 0  # not yet
        assert remind_due_notices(due - timedelta(days=3)) == 1
        assert remind_due_notices(due - timedelta(days=2)) == 0  # once per due date
        assert remind_due_notices(due + timedelta(days=1)) == 1
        assert remind_due_notices(due + timedelta(days=1)) == 0
    notes = [n for n in _notes(app) if notice_code in n[3]]
    assert [(n[0], n[1]) for n in notes] == [("binh", "email"), ("binh", "email")]  # the buyer owes it
    assert "is due by" in notes[0][3] and "past its due date" in notes[1][3]
    assert f"/me/notices/{notice_code}" in notes[0][4] and "0.03% a day" in notes[1][4]
