"""Operators' commands for delivery to the national portal (docs/operations.md)."""

from __future__ import annotations

import logging
import signal
import time

import click
from flask.cli import with_appcontext


@click.command("deliver-outbox")
@with_appcontext
@click.option("--loop", is_flag=True, help="Keep delivering until stopped (SIGTERM or Ctrl-C).")
@click.option("--sleep", "pause", default=0.5, show_default=True,
              help="Seconds to wait after a pass that delivered nothing, with --loop (a change "
                   "waits at most this long before it is sent).")
@click.option("--limit", default=None, type=click.IntRange(1), help="At most this many sends per pass.")
@click.option("--archive-every", default=3600.0, show_default=True,
              help="With --loop: seconds between runs of archive-outbox (0: never).")
def deliver_outbox(loop: bool, pause: float, limit: int | None, archive_every: float) -> None:
    """Send the outbox's due events to the national portal, in order per dossier, in
    signed batches (PORTAL_BATCH_SIZE events a request).

    Without --loop: one pass, exit status 1 if any send failed (so a scheduler alerts).
    With --loop the worker also archives delivered events past their retention.
    Several workers may run at once on PostgreSQL; on SQLite run one."""
    from app.extensions import db
    from app.services.delivery import archive_delivered, deliver_pass, portal_client

    client = portal_client()
    stop = {"now": False}
    next_archive = time.monotonic()

    def _stop(_signum, _frame):
        stop["now"] = True

    if loop:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, _stop)
    while True:
        try:
            result = deliver_pass(client, limit=limit)
        except Exception:
            db.session.rollback()
            if not loop:
                raise
            click.echo("delivery pass failed; trying again after the pause", err=True)
            result = None
        if result and (result.sent or not loop):
            click.echo(f"delivered {result.delivered}, failed {result.failed}, dead letter {result.dead}")
        if not loop:
            if result.failed or result.dead:
                raise SystemExit(1)
            return
        if archive_every and time.monotonic() >= next_archive:
            next_archive = time.monotonic() + archive_every
            try:
                moved = archive_delivered()
            except Exception:
                db.session.rollback()
                # Delivery goes on; the archiving is tried again at the next interval.
                logging.getLogger(__name__).exception("archiving the outbox failed")
            else:
                if moved:
                    click.echo(f"archived {moved}")
        db.session.remove()
        if result and result.delivered and not stop["now"]:
            continue  # more may be due already: no pause while the portal takes a backlog
        deadline = time.monotonic() + pause
        while not stop["now"] and time.monotonic() < deadline:
            time.sleep(min(0.1, pause))
        if stop["now"]:
            click.echo("delivery worker stopped")
            return


@click.command("check-portal-sync")
@with_appcontext
def check_portal_sync() -> None:
    """Ask the portal which of our delivered events it holds; queue again the missing ones,
    then print the sync status."""
    import json

    from app.portal import PortalError
    from app.services.delivery import requeue_missing, sync_status

    try:
        missing = requeue_missing()
    except PortalError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"queued again: {missing}")
    click.echo(json.dumps(sync_status(), sort_keys=True))


@click.command("replay-dead-letter")
@with_appcontext
@click.argument("event_ids", nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Every event in the dead letter.")
def replay_dead_letter(event_ids: tuple[str, ...], replay_all: bool) -> None:
    """Put events of the dead letter back in the queue (by event id, or --all)."""
    from app.errors import AppError
    from app.services.delivery import replay

    if not event_ids and not replay_all:
        raise click.UsageError("give event ids or --all")
    try:
        count = replay(None) if replay_all else sum(replay(uid) for uid in event_ids)
    except AppError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"replayed: {count}")


@click.command("archive-outbox")
@with_appcontext
def archive_outbox() -> None:
    """Move delivered events older than PORTAL_OUTBOX_RETENTION_DAYS from the outbox to the
    archive table (the delivery worker with --loop does it every hour)."""
    from app.services.delivery import archive_delivered

    click.echo(f"archived {archive_delivered()}")
