"""``flask worker``: every periodic job in one process (app/worker.py)."""

from __future__ import annotations

import signal

import click
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--only", default=None, help="Comma-separated job names to run (default: all).")
@click.option("--once", is_flag=True, help="One pass of each job, then exit (1 if a pass failed).")
@with_appcontext
def worker(only: str | None, once: bool) -> None:
    """Run the background jobs: portal delivery, history sealing, notifications, refunds,
    pending-payment checks, statement import, outbox archiving."""
    from app.worker import JOBS, run

    names = {job.name for job in JOBS}
    wanted = set(only.split(",")) if only else names
    unknown = wanted - names
    if unknown:
        raise click.BadParameter(f"unknown job(s) {', '.join(sorted(unknown))}; jobs: {', '.join(sorted(names))}",
                                 param_hint="--only")
    stopping = {"now": False}

    def _stop(_signum, _frame):
        stopping["now"] = True

    if not once:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, _stop)
    jobs = tuple(job for job in JOBS if job.name in wanted)
    click.echo(f"worker: {', '.join(job.name for job in jobs)}")
    failures = run(jobs, stop=lambda: stopping["now"], once=once)
    if once:
        for name, count in failures.items():
            if count:
                click.echo(f"{name}: the pass failed", err=True)
        if any(failures.values()):
            raise SystemExit(1)
    click.echo("worker stopped")
