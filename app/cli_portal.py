"""Operators' commands for delivery to the national portal (docs/operations.md)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("deliver-outbox")
@with_appcontext
@click.option("--limit", default=None, type=click.IntRange(1), help="At most this many sends.")
def deliver_outbox(limit: int | None) -> None:
    """Send the outbox's due events to the national portal, in order per dossier, in signed
    batches (PORTAL_BATCH_SIZE events a request). One pass; exit status 1 if any send failed
    (so a scheduler alerts). `flask worker` runs it continuously; several workers may run at
    once on PostgreSQL, one on SQLite."""
    from app.services.delivery import deliver_pass

    result = deliver_pass(limit=limit)
    click.echo(f"delivered {result.delivered}, failed {result.failed}, dead letter {result.dead}")
    if result.failed or result.dead:
        raise SystemExit(1)


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
    archive table (`flask worker` does it every hour)."""
    from app.services.delivery import archive_delivered

    click.echo(f"archived {archive_delivered()}")
