"""Operators' commands for the money that arrives by transfer: the bank's daily statement."""

from __future__ import annotations

import logging
import time as clock
from datetime import date, timedelta

import click
from flask.cli import with_appcontext

from app.extensions import db

log = logging.getLogger(__name__)


def _import(day: date) -> bool:
    """Import one day; False when the bank could not give it (tried again later)."""
    from app.errors import AppError
    from app.services.reconciliation import import_statement

    try:
        click.echo(import_statement(day).summary())
        return True
    except AppError as err:
        db.session.rollback()
        click.echo(f"{day}: {err.message}", err=True)
        return False


@click.command("import-statement")
@click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The statement's day (local, Asia/Ho_Chi_Minh); default: yesterday.")
@click.option("--loop", is_flag=True, help="Keep running: import each finished day not yet imported.")
@click.option("--days-back", default=7, show_default=True, type=click.IntRange(1, 366),
              help="With --loop: how many past days to look at.")
@click.option("--sleep", "pause", default=300.0, show_default=True, type=click.FloatRange(0.1),
              help="With --loop: seconds between rounds.")
@with_appcontext
def import_statement_cmd(day, loop: bool, days_back: int, pause: float) -> None:
    """Fetch the bank's signed statement of the collecting account for a day, match it line by
    line and open a reconciliation item for each mismatch. Safe to re-run: a day is imported once."""
    from app.services.paying import local_day
    from app.services.reconciliation import already_imported

    if not loop:
        target = day.date() if day else local_day() - timedelta(days=1)
        if not _import(target):
            raise SystemExit(1)
        return
    while True:
        today = local_day()
        try:
            for back in range(days_back, 0, -1):
                target = today - timedelta(days=back)
                if not already_imported(target):
                    _import(target)
        except Exception:  # noqa: BLE001 - a worker outlives one bad round (database restarting...)
            db.session.rollback()
            log.exception("statement import round failed; trying again next round")
        db.session.remove()
        clock.sleep(pause)
