"""The refund worker's command (docs/refunds.md)."""

from __future__ import annotations

import signal
import time

import click
from flask.cli import with_appcontext


@click.command("send-refunds")
@with_appcontext
@click.option("--loop", is_flag=True, help="Keep going until stopped (SIGTERM or Ctrl-C).")
@click.option("--sleep", "pause", default=30.0, show_default=True,
              help="Seconds to wait between passes with --loop.")
def send_refunds(loop: bool, pause: float) -> None:
    """Request the refund of duplicate payments and overpayments, then send every due refund
    to the bank and record its answer; a bank that cannot be reached is tried again later.

    Without --loop: one pass, exit status 1 if a refund failed for good in it (so a scheduler
    alerts). Safe to run while another pass runs: the bank refunds each reference once."""
    from app.extensions import db
    from app.services.refunds import run_refund_worker

    stop = {"now": False}

    def _stop(_signum, _frame):
        stop["now"] = True

    if loop:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, _stop)
    while True:
        try:
            outcomes = run_refund_worker()
        except Exception:
            db.session.rollback()
            if not loop:
                raise
            click.echo("refund pass failed; trying again after the pause", err=True)
            outcomes = []
        for line in outcomes:
            click.echo(line)
        db.session.remove()
        if not loop:
            if any("failed" in line or "refused" in line for line in outcomes):
                raise SystemExit(1)
            return
        deadline = time.monotonic() + pause
        while not stop["now"] and time.monotonic() < deadline:
            time.sleep(min(0.1, pause))
        if stop["now"]:
            click.echo("refund worker stopped")
            return
