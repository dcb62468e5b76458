"""Notifications that reach people: a mail (or a text message) when a notice is issued, a
payment is received, a dossier is completed, or a step of theirs will be late.

Two steps, each its own transaction, run by the worker (``flask send-notifications``):
``queue_from_events`` reads the events recorded since the last run (a cursor), decides who is
told what, writes one ``Notification`` per user and channel (unique per event: reading an event
twice never sends twice) and moves the cursor; ``send_due`` sends the pending ones through a
channel, retrying failures with a growing wait. The message is written in the user's language
from the templates in ``app/templates/notify/<lang>/``. Links open the page after login.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

import requests
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import (
    DossierParty,
    Event,
    Notice,
    NoticeStatus,
    Notification,
    NotificationCursor,
    Role,
    User,
)

log = logging.getLogger(__name__)

#: Event kind -> message template (``notify/<lang>/<template>.txt``) and whom it concerns:
#: "payers" (the parties on the payer side of the dossier's unpaid notices) or "parties" (every
#: party of the dossier).
MESSAGES: dict[str, tuple[str, str]] = {
    "notice_issued": ("notice_issued", "payers"),
    "additional_notice_issued": ("notice_issued", "payers"),
    "payment_confirmed": ("payment_received", "parties"),
    "dossier_completed": ("dossier_completed", "parties"),
    "step_late_reason": ("step_late", "parties"),
}

#: Attempts before a notification is given up as failed, and the first wait between them.
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)


class Channel(Protocol):
    """A way to reach a person: ``send`` raises ``OSError`` (or a ``requests`` error) when the
    message was not accepted."""

    name: str

    def send(self, address: str, subject: str, body: str, language: str) -> None: ...


class EmailChannel:
    """Mail through an SMTP relay (with STARTTLS and a login when configured)."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, *, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 10):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls, self.timeout = username, password, starttls, timeout

    def send(self, address: str, subject: str, body: str, language: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = address
        message["Subject"] = subject
        message.set_content(body)
        message["Content-Language"] = language  # after set_content, which clears Content-* headers
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


class SmsChannel:
    """Text messages through an SMS gateway's HTTP API (POST ``{"to", "text"}``)."""

    name = "sms"

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, address: str, subject: str, body: str, language: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        answer = requests.post(self.url, json={"to": address, "text": f"{subject}\n{body}"[:1000]},
                               headers=headers, timeout=self.timeout)
        answer.raise_for_status()


def channels() -> dict[str, Channel]:
    """The channels configured for this deployment (none configured: notifications wait)."""
    config = current_app.config
    found: dict[str, Channel] = {}
    if config.get("SMTP_HOST"):
        found["email"] = EmailChannel(
            config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), config["MAIL_FROM"],
            username=config.get("SMTP_USERNAME"), password=config.get("SMTP_PASSWORD"),
            starttls=bool(config.get("SMTP_STARTTLS")))
    if config.get("SMS_GATEWAY_URL"):
        found["sms"] = SmsChannel(config["SMS_GATEWAY_URL"], token=config.get("SMS_GATEWAY_TOKEN"))
    return found


def _concerned(event: Event, who: str) -> list[tuple[User, Notice | None]]:
    """The landholders an event concerns, each with the notice the message is about (if any)."""
    dossier_parties = db.session.scalars(select(DossierParty).where(DossierParty.dossier_id == event.dossier_id)).all()
    if who == "payers":
        notices = db.session.scalars(select(Notice).where(
            Notice.dossier_id == event.dossier_id, Notice.status == NoticeStatus.UNPAID)).all()
        wanted = {(p.party_id): n for n in notices for p in dossier_parties if p.role == n.payer_role}
    else:
        wanted = {p.party_id: None for p in dossier_parties}
    if not wanted:
        return []
    users = db.session.scalars(select(User).where(
        User.party_id.in_(wanted), User.role == Role.LANDHOLDER, User.active.is_(True)).order_by(User.id)).all()
    return [(user, wanted[user.party_id]) for user in users]


def _render(template: str, language: str, **context) -> tuple[str, str]:
    """Subject (the template's first line) and body, in ``language``."""
    with force_locale(language):
        text = render_template(f"notify/{language}/{template}.txt", **context)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def _write(key: str, user: User, template: str, **context) -> int:
    """Write ``user``'s notification (each channel they chose) of what ``key`` names, once:
    returns how many rows were written (0 when they were written before)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    notice = context.get("notice")
    link = f"{base}/me/notices/{notice.code}" if notice is not None else f"{base}/me/"
    language = user.language if user.language in ("vi", "en") else "vi"
    subject, body = _render(template, language, user=user, link=link, help_link=f"{base}/help/", **context)
    written = 0
    for channel, address in (("email", user.email if user.notify_by_email else None),
                             ("sms", user.phone if user.notify_by_sms else None)):
        if not address:
            continue
        exists = db.session.scalar(select(Notification.id).where(
            Notification.event_uid == key, Notification.user_id == user.id, Notification.channel == channel))
        if exists is None:
            db.session.add(Notification(event_uid=key, user_id=user.id, channel=channel,
                                        address=address, subject=subject[:300], body=body))
            written += 1
    return written


def queue_from_events(limit: int = 500) -> tuple[int, int]:
    """Write the notifications of up to ``limit`` events recorded since the last call; commits
    once. Returns how many events were read and how many notifications written."""
    cursor = db.session.get(NotificationCursor, "events", with_for_update=True)
    if cursor is None:
        cursor = NotificationCursor(name="events", last_event_id=0)
        db.session.add(cursor)
        db.session.flush()
    events = db.session.scalars(select(Event).where(Event.id > cursor.last_event_id)
                                .order_by(Event.id).limit(limit)).all()
    written = 0
    for event in events:
        cursor.last_event_id = event.id
        if event.kind not in MESSAGES:
            continue
        template, who = MESSAGES[event.kind]
        for user, notice in _concerned(event, who):
            written += _write(event.uid, user, template, dossier=event.dossier, notice=notice, event=event)
    db.session.commit()
    return len(events), written


#: Days before a notice's due date when its payers are reminded.
REMIND_BEFORE = 3


def remind_due_notices(today: date | None = None) -> int:
    """Remind the payers of every unpaid notice due within ``REMIND_BEFORE`` days, and tell them
    the day after a due date has passed (late-payment interest runs from then). Each reminder
    is written once per notice, due date and kind; commits once. Returns how many were written."""
    from app.services.paying import local_day

    today = today or local_day()
    notices = db.session.scalars(select(Notice).where(
        Notice.status == NoticeStatus.UNPAID, Notice.due_on.is_not(None),
        Notice.due_on <= today + timedelta(days=REMIND_BEFORE),
        Notice.due_on >= today - timedelta(days=1))).all()
    written = 0
    for notice in notices:
        if notice.outstanding <= 0:
            continue
        kind = "notice_due_soon" if notice.due_on >= today else "notice_overdue"
        key = f"{kind}:{notice.code}:{notice.due_on.isoformat()}"
        party_ids = [p.id for p in notice.payers]
        users = db.session.scalars(select(User).where(
            User.party_id.in_(party_ids), User.role == Role.LANDHOLDER, User.active.is_(True))).all()
        for user in users:
            written += _write(key, user, kind, notice=notice, dossier=notice.dossier, today=today)
    db.session.commit()
    return written


def send_due(limit: int = 100, *, now: datetime | None = None) -> dict[str, int]:
    """Send the pending notifications whose time has come; commits after each one so a crash
    never sends one twice on the next run (at most the one in flight). Without the channel a
    notification needs, it stays pending."""
    now = now or datetime.now(UTC)
    available = channels()
    counts = {"sent": 0, "retry": 0, "failed": 0, "waiting": 0}
    due = db.session.scalars(select(Notification).where(
        Notification.status == "pending", Notification.next_attempt_at <= now)
        .order_by(Notification.id).limit(limit)).all()
    for note in due:
        channel = available.get(note.channel)
        if channel is None:
            counts["waiting"] += 1
            continue
        language = note.user.language if note.user and note.user.language in ("vi", "en") else "vi"
        try:
            channel.send(note.address, note.subject, note.body, language)
        except (OSError, smtplib.SMTPException, requests.RequestException) as err:
            note.attempts += 1
            note.last_error = f"{type(err).__name__}: {err}"[:300]
            if note.attempts >= MAX_ATTEMPTS:
                note.status = "failed"
                counts["failed"] += 1
            else:
                note.next_attempt_at = now + FIRST_RETRY * (2 ** (note.attempts - 1))
                counts["retry"] += 1
            log.warning("notification %s by %s not sent (attempt %s): %s", note.id, note.channel,
                        note.attempts, type(err).__name__)
        else:
            note.status, note.sent_at = "sent", datetime.now(UTC)
            note.attempts += 1
            counts["sent"] += 1
        db.session.commit()
    return counts
