"""``flask seal-history`` and ``flask verify-history``: the tamper-evident history
(app/services/history.py)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("seal-history")
@with_appcontext
def seal_history() -> None:
    """Seal the events recorded since the last run into the hash chain and sign its head
    (`flask worker` does it every few seconds)."""
    from app.services.history import seal

    total = 0
    while sealed := seal():
        total += sealed
    click.echo(f"sealed {total} events")


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
