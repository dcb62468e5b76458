"""``flask seal-history`` and ``flask verify-history``: the tamper-evident history
(app/services/history.py)."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext


@click.command("seal-history")
@click.option("--loop", is_flag=True, help="Keep running, sealing new events every --sleep seconds.")
@click.option("--sleep", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600))
@with_appcontext
def seal_history(loop: bool, sleep: float) -> None:
    """Seal the events recorded since the last run into the hash chain and sign its head."""
    from app.extensions import db
    from app.services.history import seal

    while True:
        total = 0
        while sealed := seal():
            total += sealed
        db.session.remove()
        if not loop:
            click.echo(f"sealed {total} events")
            return
        time.sleep(sleep)


@click.command("verify-history")
@with_appcontext
def verify_history() -> None:
    """Recompute the hash chain and check every signed head; exit 1 on any problem."""
    from app.services.history import verify

    checked, problems = verify()
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{checked} events checked, {len(problems)} problems")
    if problems:
        raise SystemExit(1)
