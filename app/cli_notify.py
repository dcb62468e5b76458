"""``flask send-notifications``: the notification worker (app/services/notify.py)."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext


@click.command("send-notifications")
@click.option("--loop", is_flag=True, help="Keep running: read new events and send, every --sleep seconds.")
@click.option("--sleep", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600))
@with_appcontext
def send_notifications(loop: bool, sleep: float) -> None:
    """Write the notifications of the events recorded since the last run, then send those due."""
    from app.extensions import db
    from app.services.notify import queue_from_events, send_due

    while True:
        queued = 0
        while True:
            read, written = queue_from_events()
            queued += written
            if not read:
                break
        counts = send_due()
        db.session.remove()
        if not loop:
            click.echo(f"queued {queued}; sent {counts['sent']}, to retry {counts['retry']}, "
                       f"failed {counts['failed']}, waiting for a channel {counts['waiting']}")
            return
        time.sleep(sleep)
