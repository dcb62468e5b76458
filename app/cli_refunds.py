"""The refund worker's command (docs/refunds.md); `flask worker` runs it in a loop."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("send-refunds")
@with_appcontext
def send_refunds() -> None:
    """Request the refund of duplicate payments and overpayments, then send every due refund
    to the bank and record its answer; a bank that cannot be reached is tried again later.

    One pass; exit status 1 if a refund failed for good in it (so a scheduler alerts). Safe to
    run while another pass runs: the bank refunds each reference once."""
    from app.services.refunds import run_refund_worker

    outcomes = run_refund_worker()
    for line in outcomes:
        click.echo(line)
    if any("failed" in line or "refused" in line for line in outcomes):
        raise SystemExit(1)
