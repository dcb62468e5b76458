"""The background worker: one process runs every periodic job of the service, each at its own
pace, so a deployment (and ``make run``) starts one worker instead of one process per job.

Each job is a pass of an existing use case (the same function its own ``flask`` command runs);
a pass that fails is rolled back and logged, and the others go on. A job that reports more work
waiting runs again at once (the portal delivery while a backlog drains). Several workers may
run at once on PostgreSQL (every job claims its rows with ``SKIP LOCKED`` or is idempotent);
``--only`` runs some jobs, to scale one (several delivery workers) or keep one elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from app.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    #: Seconds between passes when the last pass found nothing more to do.
    every: float
    #: One pass; returns True when more work is already due (run again without waiting).
    run: Callable[[], bool]


def _deliver() -> bool:
    from app.services.delivery import deliver_pass

    return bool(deliver_pass().delivered)


def _archive() -> bool:
    from app.services.delivery import archive_delivered

    archive_delivered()
    return False


def _refunds() -> bool:
    from app.services.refunds import run_refund_worker

    for line in run_refund_worker():
        log.info("refunds: %s", line)
    return False


def _statements() -> bool:
    """Import each finished day of the last week not yet imported (a day is imported once)."""
    from app.errors import AppError
    from app.services.paying import local_day
    from app.services.reconciliation import already_imported, import_statement

    today = local_day()
    for back in range(7, 0, -1):
        day = today - timedelta(days=back)
        if not already_imported(day):
            try:
                log.info("statement: %s", import_statement(day).summary())
            except AppError as err:  # the bank cannot give it yet: tried again next round
                db.session.rollback()
                log.warning("statement of %s not imported: %s", day, err.message)
    return False


def _notifications() -> bool:
    from app.services.notify import queue_from_events, send_due

    read, _written = queue_from_events()
    send_due()
    return read > 0


def _reminders() -> bool:
    from app.services.notify import remind_due_notices

    remind_due_notices()
    return False


def _history() -> bool:
    from app.services.history import seal

    return seal() > 0


def _throttles() -> bool:
    from app.auth import purge_throttles

    purge_throttles()
    return False


def _idempotency_keys() -> bool:
    from app.api.idempotency import purge_expired

    purge_expired()
    db.session.commit()
    return False


def _pending_payments() -> bool:
    """Ask the bank about orders whose notification has not come within 15 minutes."""
    from app.services.paying import settle_pending

    for outcome in settle_pending()[1]:
        log.info("pending payment: %s", outcome)
    return False


#: Every job, in the order a pass visits them, with its pace (seconds).
JOBS: tuple[Job, ...] = (
    Job("deliver-outbox", 0.5, _deliver),
    Job("seal-history", 5, _history),
    Job("send-notifications", 5, _notifications),
    Job("send-refunds", 5, _refunds),
    Job("check-pending-payments", 300, _pending_payments),
    Job("remind-due-notices", 3600, _reminders),
    Job("import-statement", 300, _statements),
    Job("archive-outbox", 3600, _archive),
    Job("purge-throttles", 3600, _throttles),
    Job("purge-idempotency-keys", 3600, _idempotency_keys),
)


def run(jobs: tuple[Job, ...], *, stop: Callable[[], bool], once: bool = False,
        sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> dict[str, int]:
    """Run ``jobs`` until ``stop()`` (or one pass of each with ``once``); returns how many
    passes of each failed."""
    due = {job.name: clock() for job in jobs}
    failures = {job.name: 0 for job in jobs}
    while True:
        for job in jobs:
            if clock() < due[job.name]:
                continue
            try:
                more = job.run()
            except Exception:  # noqa: BLE001 - a worker outlives one bad pass (database restarting...)
                db.session.rollback()
                failures[job.name] += 1
                log.exception("%s: the pass failed; trying again later", job.name)
                more = False
            finally:
                db.session.remove()
            due[job.name] = clock() + (0 if more and not once else job.every)
            if stop():
                return failures
        if once or stop():
            return failures
        pause = max(0.0, min(due.values()) - clock())
        sleep(min(pause, 0.5))
