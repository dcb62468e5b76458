"""Delivering the outbox to the national public service portal
(docs/protocols/national-portal.md).

Each message is sent in its own transaction: claimed under a row lock (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several workers share the work and never send one row at once;
SQLite has one worker), posted, and marked with the portal's answer. A dossier's messages
go in order: a message is not sent while an earlier one of its dossier is undelivered.
A failure waits longer each time (exponential backoff); after ``PORTAL_MAX_ATTEMPTS``
failures the message is dead until an administrator replays it. The portal keeps each
event id once, so a repeat (after a crash between its acknowledgement and our commit)
changes nothing there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Dossier, OutboxMessage
from app.models.base import utcnow
from app.portal import Acknowledgement, PortalClient, PortalError

log = logging.getLogger(__name__)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
#: The allowed changes of a message's delivery state.
TRANSITIONS = {
    (PENDING, DELIVERED),  # acknowledged
    (PENDING, PENDING),  # failed, tried again later
    (PENDING, DEAD),  # failed too often
    (DEAD, PENDING),  # replayed by an administrator
    (DELIVERED, PENDING),  # the portal does not hold it: queued again
}
#: How many ids the completeness check asks the portal about at once.
LOOKUP_BATCH = 500


def portal_client() -> PortalClient:
    cfg = current_app.config
    return PortalClient(cfg["PORTAL_BASE_URL"], cfg["PORTAL_SECRET"], cfg["PORTAL_TIMEOUT"])


def _change(message: OutboxMessage, new: str, **fields) -> None:
    """The one place a message's delivery state changes."""
    if (message.state, new) not in TRANSITIONS:
        raise Conflict(f"an outbox message in state {message.state} cannot become {new}")
    message.state = new
    for name, value in fields.items():
        setattr(message, name, value)


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure: base, 2 x base, 4 x base... capped."""
    cfg = current_app.config
    return min(cfg["PORTAL_RETRY_BASE"] * 2 ** (attempts - 1), cfg["PORTAL_RETRY_MAX"])


def _next_claim(started: datetime):
    """The first message due at ``started`` with no undelivered earlier one of its dossier."""
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        earlier.dossier_id == OutboxMessage.dossier_id,
        earlier.id < OutboxMessage.id,
        earlier.state != DELIVERED,
    )
    return (
        select(OutboxMessage)
        .where(OutboxMessage.state == PENDING,
               or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= started),
               ~blocked)
        .order_by(OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )


def record_delivery(message: OutboxMessage, ack: Acknowledgement) -> None:
    _change(message, DELIVERED, delivered_at=utcnow(), acknowledged_at=ack.received_at,
            next_attempt_at=None)


def record_failure(message: OutboxMessage, error: str) -> str:
    attempts = message.attempts + 1
    if attempts >= current_app.config["PORTAL_MAX_ATTEMPTS"]:
        _change(message, DEAD, attempts=attempts, last_error=error[:500], next_attempt_at=None)
        log.warning("outbox message %s is dead after %d attempts: %s", message.event_uid, attempts, error)
        return DEAD
    _change(message, PENDING, attempts=attempts, last_error=error[:500],
            next_attempt_at=utcnow() + timedelta(seconds=backoff(attempts)))
    return PENDING


def deliver_next(client: PortalClient, started: datetime) -> str | None:
    """Send the next due message and record the answer (one transaction). Returns
    ``delivered``, ``pending`` (failed, will be retried), ``dead``, or None when nothing is due."""
    message = db.session.scalars(_next_claim(started)).first()
    if message is None:
        db.session.rollback()
        return None
    payload = dict(message.payload)
    if db.engine.dialect.name == "sqlite":
        # One worker on SQLite: end the read transaction so the web app can write meanwhile.
        db.session.commit()
    try:
        ack = client.send_event(payload)
    except PortalError as err:
        outcome = record_failure(message, str(err))
    else:
        record_delivery(message, ack)
        outcome = DELIVERED
    db.session.commit()
    return outcome


@dataclass
class PassResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    @property
    def sent(self) -> int:
        return self.delivered + self.failed + self.dead


def deliver_pass(client: PortalClient | None = None, limit: int | None = None) -> PassResult:
    """Send every message due now, each at most once in this pass."""
    client = client or portal_client()
    started = utcnow()
    result = PassResult()
    while limit is None or result.sent < limit:
        outcome = deliver_next(client, started)
        if outcome is None:
            break
        if outcome == DELIVERED:
            result.delivered += 1
        elif outcome == DEAD:
            result.dead += 1
        else:
            result.failed += 1
    return result


def replay(event_uid: str | None = None) -> int:
    """Put dead messages (one, or all when ``event_uid`` is None) back in the queue, with
    their attempts counted from zero. One transaction."""
    query = select(OutboxMessage).where(OutboxMessage.state == DEAD).with_for_update()
    if event_uid is not None:
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.event_uid == event_uid))
        if message is None:
            raise NotFound(_("No such event in the outbox."))
        if message.state != DEAD:
            raise Conflict(_("Only an event in the dead letter can be replayed."))
        query = query.where(OutboxMessage.id == message.id)
    messages = db.session.scalars(query.order_by(OutboxMessage.id)).all()
    for message in messages:
        _change(message, PENDING, attempts=0, next_attempt_at=None)
    db.session.commit()
    return len(messages)


def requeue_missing(client: PortalClient | None = None) -> int:
    """Ask the portal which delivered event ids it holds; queue again those it does not.
    One transaction; returns how many were queued again."""
    client = client or portal_client()
    last_id, missing = 0, []
    while True:
        batch = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.event_uid)
            .where(OutboxMessage.state == DELIVERED, OutboxMessage.id > last_id)
            .order_by(OutboxMessage.id).limit(LOOKUP_BATCH)
        ).all()
        if not batch:
            break
        held = client.held([uid for _id, uid in batch])
        missing += [row_id for row_id, uid in batch if uid not in held]
        last_id = batch[-1][0]
    for message in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(missing)).with_for_update()
    ):
        if message.state == DELIVERED:
            _change(message, PENDING, attempts=0, next_attempt_at=None, delivered_at=None,
                    acknowledged_at=None, last_error="not held by the portal")
    db.session.commit()
    return len(missing)


def sync_status() -> dict:
    """How much of what we hold the portal has acknowledged."""
    undelivered = exists().where(OutboxMessage.dossier_id == Dossier.id, OutboxMessage.state != DELIVERED)
    counts = dict(db.session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ).all())
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.state != DELIVERED)
    )
    if isinstance(oldest, str):  # SQLite gives the aggregate back as text
        oldest = datetime.fromisoformat(oldest)
    return {
        "dossiers": {
            "local": db.session.scalar(select(func.count()).select_from(Dossier)),
            "acknowledged": db.session.scalar(select(func.count()).select_from(Dossier).where(~undelivered)),
        },
        "events": {"local": sum(counts.values()), "acknowledged": counts.get(DELIVERED, 0)},
        "dead_letter": counts.get(DEAD, 0),
        "oldest_unacknowledged_at": oldest.isoformat() if oldest else None,
    }


def dead_letters(limit: int = 200) -> list[dict]:
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.state == DEAD).order_by(OutboxMessage.id).limit(limit)
    ).all()
    return [{"event_id": m.event_uid, "dossier_code": m.payload.get("dossier_code"),
             "kind": m.payload.get("kind"), "attempts": m.attempts, "last_error": m.last_error,
             "created_at": m.created_at.isoformat()} for m in rows]
