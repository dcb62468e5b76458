"""Delivering the outbox to the national public service portal
(docs/protocols/national-portal.md).

Messages go in batches, one transaction each: claimed under row locks (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several workers share the work and never send one row at once;
SQLite has one worker), posted in one signed request, and each marked with the portal's
answer for it. A dossier's messages go in order: only the first undelivered message of a
dossier (its head) can be claimed, the messages right behind it ride in the same batch, and
the portal takes a batch in order and stops a dossier at its first refusal.
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
from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.orm import aliased

from app.errors import Conflict, NotFound
from app.extensions import db
from app.models import Dossier, OutboxArchive, OutboxMessage
from app.models.base import utcnow
from app.portal import BATCH_MAX, Acknowledgement, PortalClient, PortalError

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


def _due(started: datetime):
    return or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= started)


def _claim_heads(started: datetime, limit: int, after_id: int = 0):
    """Up to ``limit`` messages due at ``started`` that have no undelivered earlier message
    of their dossier (each the head of its dossier's queue), locked, skipping those another
    worker holds. Only a head can be claimed, so two workers never hold one dossier."""
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        earlier.dossier_id == OutboxMessage.dossier_id,
        earlier.id < OutboxMessage.id,
        earlier.state != DELIVERED,
    )
    return (
        select(OutboxMessage)
        .where(OutboxMessage.state == PENDING, OutboxMessage.id > after_id, _due(started), ~blocked)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )


def _claim_followers(heads: list[OutboxMessage], started: datetime, room: int) -> list[OutboxMessage]:
    """The messages right behind each claimed head, in order, up to the first that is not
    pending or not due (at most ``room`` in all): they may travel in the same batch because
    the portal takes a batch in order and stops a dossier at its first refusal.

    Locked without SKIP LOCKED: a message hidden by someone else's lock could be the one
    that must stop the chain. Nothing waits long here: no other worker can hold a message
    of a dossier whose head we hold, and a replay holds only dead messages, briefly."""
    by_dossier = {m.dossier_id: m.id for m in heads if m.dossier_id is not None}
    if not by_dossier or room <= 0:
        return []
    rows = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.dossier_id.in_(by_dossier), OutboxMessage.state != DELIVERED,
               OutboxMessage.id > min(by_dossier.values()))
        .order_by(OutboxMessage.dossier_id, OutboxMessage.id)
        .with_for_update(of=OutboxMessage)
    ).all()
    taken: list[OutboxMessage] = []
    stopped: set[int] = set()
    for message in rows:
        dossier_id = message.dossier_id
        if message.id <= by_dossier[dossier_id] or dossier_id in stopped:
            continue
        due = message.next_attempt_at is None or message.next_attempt_at <= started
        if message.state != PENDING or not due or len(taken) >= room:
            stopped.add(dossier_id)
            continue
        taken.append(message)
    return taken


def record_deliveries(acknowledged: list[tuple[OutboxMessage, Acknowledgement]]) -> None:
    """Many deliveries in one statement: each change is checked like ``_change``, then one
    executemany UPDATE writes them (the ORM's per-object bookkeeping costs more than the
    database at a thousand rows a second)."""
    if not acknowledged:
        return
    for message, _ack in acknowledged:
        if (message.state, DELIVERED) not in TRANSITIONS:
            raise Conflict(f"an outbox message in state {message.state} cannot become {DELIVERED}")
    now = utcnow()
    by_time: dict[datetime, list[int]] = {}
    for message, ack in acknowledged:  # a batch's new events share one acknowledgement time
        by_time.setdefault(ack.received_at, []).append(message.id)
    for received_at, ids in by_time.items():
        db.session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids))
            .values(state=DELIVERED, delivered_at=now, acknowledged_at=received_at, next_attempt_at=None)
            .execution_options(synchronize_session=False))


def record_failure(message: OutboxMessage, error: str) -> str:
    attempts = message.attempts + 1
    if attempts >= current_app.config["PORTAL_MAX_ATTEMPTS"]:
        _change(message, DEAD, attempts=attempts, last_error=error[:500], next_attempt_at=None)
        log.warning("outbox message %s is dead after %d attempts: %s", message.event_uid, attempts, error)
        return DEAD
    _change(message, PENDING, attempts=attempts, last_error=error[:500],
            next_attempt_at=utcnow() + timedelta(seconds=backoff(attempts)))
    return PENDING


@dataclass
class PassResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    #: The highest id claimed as a head: the next claim of the pass starts after it.
    last_head_id: int = 0

    @property
    def sent(self) -> int:
        return self.delivered + self.failed + self.dead

    def count(self, outcome: str) -> None:
        if outcome == DELIVERED:
            self.delivered += 1
        elif outcome == DEAD:
            self.dead += 1
        else:
            self.failed += 1


def deliver_batch(client: PortalClient, started: datetime, size: int,
                  most: int = BATCH_MAX, after_id: int = 0) -> PassResult | None:
    """Claim the due heads of up to ``size`` dossiers and the due messages right behind
    them (at most ``most`` messages in all), send them in one request and record each answer
    (one transaction). None when nothing is due.

    A failure is charged to the first unacknowledged message of each dossier only: the
    ones behind it were not taken by the portal and wait, unchanged, behind it."""
    most = min(most, BATCH_MAX)
    heads = db.session.scalars(_claim_heads(started, min(size, most), after_id)).all()
    if not heads:
        db.session.rollback()
        return None
    followers = _claim_followers(heads, started, most - len(heads))
    batch = sorted([*heads, *followers], key=lambda m: m.id)
    payloads = [dict(m.payload) for m in batch]
    if db.engine.dialect.name == "sqlite":
        # One worker on SQLite: end the read transaction so the web app can write meanwhile.
        db.session.commit()
    result = PassResult(last_head_id=heads[-1].id)
    try:
        answers = client.send_batch(payloads)
    except PortalError as err:
        for message in heads:
            result.count(record_failure(message, str(err)))
    else:
        stopped: set[object] = set()
        acknowledged: list[tuple[OutboxMessage, Acknowledgement]] = []
        for message, answer in zip(batch, answers, strict=True):
            key = message.dossier_id if message.dossier_id is not None else ("row", message.id)
            if key in stopped:
                continue
            if isinstance(answer, Acknowledgement):
                acknowledged.append((message, answer))
                result.count(DELIVERED)
            else:
                stopped.add(key)
                result.count(record_failure(message, answer.error))
        record_deliveries(acknowledged)
    db.session.commit()
    return result


def deliver_pass(client: PortalClient | None = None, limit: int | None = None,
                 batch_size: int | None = None) -> PassResult:
    """Send every message due now, each at most once in this pass, in batches."""
    client = client or portal_client()
    size = min(batch_size or current_app.config.get("PORTAL_BATCH_SIZE", 200), BATCH_MAX)
    started = utcnow()
    result = PassResult()
    after_id = 0
    while limit is None or result.sent < limit:
        # Each claim goes on from the last head claimed, so a pass reads the queue once
        # instead of from its start every time (where updated rows leave dead index entries
        # until vacuum); a last sweep from the start picks up what became a head behind it.
        done = deliver_batch(client, started, size, BATCH_MAX if limit is None else limit - result.sent,
                             after_id)
        if done is None:
            if after_id == 0:
                break
            after_id = 0
            continue
        after_id = done.last_head_id
        result.delivered += done.delivered
        result.failed += done.failed
        result.dead += done.dead
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
    """How much of what we hold the portal has acknowledged (archived events count: only
    delivered ones are archived).

    Only the messages not yet delivered (pending, dead: the backlog, kept small by the
    worker) are read row by row, through the index on the state; what is acknowledged is
    the rest. The totals are exact counts (a highest id is not one: ids have gaps), which
    read no table row where the tables' visibility is current: PostgreSQL answers
    ``count(*)`` from the narrowest index (an index-only scan)."""
    backlog = (OutboxMessage.state.in_((PENDING, DEAD)),)
    counts = dict(db.session.execute(
        select(OutboxMessage.state, func.count()).where(*backlog).group_by(OutboxMessage.state)
    ).all())
    waiting_dossiers, oldest = db.session.execute(
        select(func.count(OutboxMessage.dossier_id.distinct()), func.min(OutboxMessage.created_at))
        .where(*backlog)
    ).one()
    if isinstance(oldest, str):  # SQLite gives the aggregate back as text
        oldest = datetime.fromisoformat(oldest)
    dossiers = db.session.scalar(select(func.count()).select_from(Dossier))
    events = db.session.scalar(select(func.count()).select_from(OutboxMessage)) \
        + db.session.scalar(select(func.count()).select_from(OutboxArchive))
    undelivered = counts.get(PENDING, 0) + counts.get(DEAD, 0)
    return {
        "dossiers": {"local": dossiers, "acknowledged": dossiers - waiting_dossiers},
        "events": {"local": events, "acknowledged": events - undelivered},
        "dead_letter": counts.get(DEAD, 0),
        "oldest_unacknowledged_at": oldest.isoformat() if oldest else None,
    }


def dead_letter_json(m: OutboxMessage) -> dict:
    return {"event_id": m.event_uid, "dossier_code": m.payload.get("dossier_code"),
            "kind": m.payload.get("kind"), "attempts": m.attempts, "last_error": m.last_error,
            "created_at": m.created_at.isoformat()}


#: Rows moved per transaction by the archiving, so no transaction holds many locks long.
ARCHIVE_CHUNK = 2000
_ARCHIVED_COLUMNS = ("id", "event_uid", "destination", "payload", "dossier_id", "created_at",
                     "delivered_at", "acknowledged_at", "attempts", "last_error")


def archive_delivered(now: datetime | None = None, chunk: int = ARCHIVE_CHUNK) -> int:
    """Move delivered messages older than ``PORTAL_OUTBOX_RETENTION_DAYS`` (by their
    delivery time) to the archive table; returns how many. Each chunk is one transaction
    (insert into the archive, delete from the outbox), so a row is never in both or neither.
    Only delivered rows move, so no dossier's order of delivery can change."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["PORTAL_OUTBOX_RETENTION_DAYS"])
    moved = 0
    while True:
        rows = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.state == DELIVERED, OutboxMessage.delivered_at < cutoff)
            .order_by(OutboxMessage.id).limit(chunk)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        ).all()
        if not rows:
            db.session.rollback()
            return moved
        archived_at = utcnow()
        db.session.execute(insert(OutboxArchive), [
            {**{name: getattr(m, name) for name in _ARCHIVED_COLUMNS}, "archived_at": archived_at}
            for m in rows
        ])
        ids = [m.id for m in rows]
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids))
                           .execution_options(synchronize_session=False))
        db.session.commit()
        moved += len(rows)
        if len(rows) < chunk:
            return moved
