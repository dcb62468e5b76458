"""``flask send-notifications``: one pass of the notification job (app/services/notify.py);
`flask worker` runs it continuously."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("send-notifications")
@with_appcontext
def send_notifications() -> None:
    """Write the notifications of the events recorded since the last run, then send those due."""
    from app.services.notify import queue_from_events, send_due

    queued = 0
    while True:
        read, written = queue_from_events()
        queued += written
        if not read:
            break
    counts = send_due()
    click.echo(f"queued {queued}; sent {counts['sent']}, to retry {counts['retry']}, "
               f"failed {counts['failed']}, waiting for a channel {counts['waiting']}")


@click.command("remind-due-notices")
@with_appcontext
def remind_due_notices_cmd() -> None:
    """Remind the payers of unpaid notices due within three days, and tell them the day after a
    due date has passed; each reminder once (`flask worker` runs it hourly)."""
    from app.services.notify import remind_due_notices

    click.echo(f"reminders written: {remind_due_notices()}")

