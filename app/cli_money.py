"""Operators' commands for the money that arrives by transfer: the bank's daily statement."""

from __future__ import annotations

import logging
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
@with_appcontext
def import_statement_cmd(day) -> None:
    """Fetch the bank's signed statement of the collecting account for a day, match it line by
    line and open a reconciliation item for each mismatch. Safe to re-run: a day is imported
    once. `flask worker` imports each finished day of the last week by itself."""
    from app.services.paying import local_day

    target = day.date() if day else local_day() - timedelta(days=1)
    if not _import(target):
        raise SystemExit(1)
