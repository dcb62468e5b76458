"""Delivery of the outbox to a real test portal process: events per second with two
workers, and the time from a dossier's change to the portal's acknowledgement (p50, p95).

Creates a scratch database (PostgreSQL on the local server by default; ``--sqlite`` for one
worker on SQLite), migrates it, starts ``python -m mock_portal`` and measures in two phases:

1. Backlog: ``--dossiers`` dossiers of three events each are recorded, then ``--workers``
   worker processes deliver them all; events per second = events / time to drain.
2. Steady state: on top of that history, a writer process changes ``--live`` more dossiers
   (three events each, one transaction per dossier) at up to ``--rate`` dossiers a second
   while the workers run as ``flask worker`` runs the delivery job; the lag of each of
   those events from its creation to the portal's acknowledgement gives p50 and p95.

Run: python bench/bench_portal_delivery.py [--dossiers N] [--workers N] [--live N] [--rate R]
     [--batch N] [--sqlite] [--server URL]
Prints figures only; nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import admin  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-portal-secret"  # noqa: S105 - a scratch portal of this run only




def make_app(url: str, portal_url: str = "http://127.0.0.1:9", batch: int = 200):
    from app import create_app

    return create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "PORTAL_SECRET": SECRET,
                               "PORTAL_BASE_URL": portal_url, "PORTAL_BATCH_SIZE": batch,
                               "PORTAL_RETRY_BASE": 0.05, "PORTAL_RETRY_MAX": 0.2})


def _offices(app):
    from app.extensions import db
    from app.models import Office, OfficeKind, Role, User

    with app.app_context():
        officer = db.session.scalar(select(User).where(User.username == "bench"))
        if officer is None:
            tax = Office(code="BT", name="Bench tax", kind=OfficeKind.TAX, province="HCM")
            registry = Office(code="BR", name="Bench registry", kind=OfficeKind.REGISTRY, province="HCM",
                              tax_office=tax)
            officer = User(username="bench", full_name="Bench", role=Role.REGISTRY_OFFICER, office=registry)
            officer.set_password("bench-password-not-used")
            db.session.add_all([tax, registry, officer])
            db.session.commit()
        return officer.id


def record_dossiers(app, first: int, count: int, per_commit: int = 100, rate: float | None = None) -> None:
    """Dossiers ``first`` .. ``first + count - 1``, each with three events written by the
    workflow (filed, sent to tax, waiting for an officer). With ``rate``: one transaction
    per dossier, paced to at most ``rate`` dossiers a second."""
    from app.extensions import db
    from app.models import Dossier, DossierStatus, Parcel, User
    from app.services import workflow

    officer_id = _offices(app)
    started = time.perf_counter()
    with app.app_context():
        officer = db.session.get(User, officer_id)
        for n, i in enumerate(range(first, first + count)):
            if rate:
                wait = started + n / rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            parcel = Parcel(province="HCM", map_sheet="90", parcel_no=str(i), address=f"{i} Bench",
                            land_type="residential", area_m2=Decimal("50.00"), price_key="X", position=1,
                            registry_office_id=officer.office_id)
            db.session.add(parcel)
            db.session.flush()
            dossier = Dossier(code=f"HSB{i:07d}", procedure="transfer", parcel_id=parcel.id,
                              registry_office_id=officer.office_id, tax_office_id=officer.office.tax_office_id,
                              declared_price=10**9, filed_by_id=officer.id, valid_on=date(2026, 12, 1),
                              due_on=date(2026, 12, 11))
            db.session.add(dossier)
            workflow.move(dossier, DossierStatus.FILED, actor=officer)
            workflow.record(dossier, "cadastral_data_sent_to_tax", actor=officer)
            workflow.move(dossier, DossierStatus.AWAITING_CONFIRMATION, actor_label="system")
            if rate or n % per_commit == per_commit - 1:
                db.session.commit()
        db.session.commit()


def _writer(url: str, first: int, count: int, rate: float) -> None:
    record_dossiers(make_app(url), first, count, rate=rate)


def _worker(url: str, portal_url: str, batch: int, stop: Path, idle_sleep: float) -> None:
    """A delivery worker as ``flask worker`` runs its delivery job: passes back to back while
    there is work, a short sleep when there is none; stops when the file ``stop`` exists
    and nothing is left to send."""
    from app.extensions import db
    from app.services.delivery import deliver_pass, portal_client

    app = make_app(url, portal_url, batch)
    go = stop.with_name("go")
    stop.with_name(f"ready-{id(app)}-{time.monotonic_ns()}").touch()
    while not go.exists():  # the clock starts when every worker is ready
        time.sleep(0.01)
    with app.app_context():
        client = portal_client()
        while True:
            result = deliver_pass(client)
            db.session.remove()
            if result.sent == 0:
                if stop.exists():
                    return
                time.sleep(idle_sleep)


def _spawn(role: str, **kwargs) -> subprocess.Popen:
    """This script again, in its own process (a worker or the writer)."""
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--role", role,  # noqa: S603
                             json.dumps(kwargs, default=str)], cwd=ROOT)


def _counts(app) -> tuple[int, int]:
    from app.extensions import db
    from app.models import OutboxMessage

    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        done = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.state == "delivered"))
        db.session.remove()
    return total, done


def _wait_all_delivered(app, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        total, done = _counts(app)
        if total == done:
            return
        time.sleep(0.05)
    raise RuntimeError(f"not delivered within {timeout:.0f} s: {_counts(app)}")


def _quantiles(lags: list[float]) -> tuple[float | None, float | None]:
    if not lags:
        return None, None
    if len(lags) == 1:
        return lags[0], lags[0]
    return statistics.median(lags), statistics.quantiles(lags, n=20)[18]


def run(url: str, dossiers: int, workers: int, tmp: Path, live: int = 0, rate: float = 100.0,
        batch: int = 200, idle_sleep: float = 0.5) -> dict:
    import requests
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models import OutboxMessage
    from tests.stack import start_portal

    app = make_app(url, batch=batch)
    with app.app_context():
        upgrade()
    record_dossiers(app, 0, dossiers)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Autovacuum analyses a table that grew this much within a minute or so; the
            # bench does not wait for it, so the planner sees the backlog's true size.
            db.session.execute(text("ANALYZE outbox"))
            db.session.commit()
        backlog_last_id = db.session.scalar(select(func.max(OutboxMessage.id))) or 0
        db.session.remove()
    portal = start_portal(tmp, secret=SECRET)
    stop = tmp / "stop-workers"
    procs: list[subprocess.Popen] = []
    try:
        procs += [_spawn("worker", url=url, portal_url=portal.url, batch=batch, stop=stop,
                         idle_sleep=idle_sleep) for _ in range(workers)]
        while len(list(tmp.glob("ready-*"))) < workers:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a worker failed to start")
            time.sleep(0.05)
        started = time.perf_counter()
        (tmp / "go").touch()
        _wait_all_delivered(app, timeout=600)
        drain_seconds = time.perf_counter() - started
        live_seconds = 0.0
        if live:
            live_started = time.perf_counter()
            if _spawn("writer", url=url, first=dossiers, count=live, rate=rate).wait() != 0:
                raise RuntimeError("the writer failed")
            live_seconds = time.perf_counter() - live_started
            _wait_all_delivered(app, timeout=120)
        stop.touch()
        for p in procs:
            p.wait(30)
        with app.app_context():
            rows = db.session.execute(
                select(OutboxMessage.id, OutboxMessage.created_at, OutboxMessage.acknowledged_at)
            ).all()
            acknowledged = sum(1 for _id, _c, ack in rows if ack)
            db.engine.dispose()
        live_rows = [(created, ack) for row_id, created, ack in rows if ack and row_id > backlog_last_id]
        live_lags = sorted((ack - created).total_seconds() for created, ack in live_rows)
        if len(live_rows) > 1:  # the rate the writer reached, from its own timestamps
            live_seconds = (max(c for c, _a in live_rows) - min(c for c, _a in live_rows)).total_seconds()
        p50, p95 = _quantiles(live_lags)
        backlog_events = sum(1 for row_id, _c, _a in rows if row_id <= backlog_last_id)
        return {"events": len(rows), "acknowledged": acknowledged, "backlog_events": backlog_events,
                "seconds": drain_seconds,
                "events_per_second": backlog_events / drain_seconds if drain_seconds else 0.0,
                "live_events": len(live_lags), "live_seconds": live_seconds,
                "live_rate": (len(live_lags) / live_seconds) if live_seconds else 0.0,
                "p50": p50, "p95": p95,
                "portal_events": requests.get(portal.url + "/api/figures", timeout=5).json()["events"]}
    finally:
        stop.touch()
        for p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(5)
        portal.stop()


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--role"]:
        kwargs = json.loads(argv[2])
        if argv[1] == "worker":
            import os

            args = (kwargs["url"], kwargs["portal_url"], int(kwargs["batch"]), Path(kwargs["stop"]),
                    float(kwargs["idle_sleep"]))
            if os.environ.get("BENCH_PROFILE"):  # a profile of each worker, to see where time goes
                import cProfile

                cProfile.runctx("_worker(*args)", globals(), {"args": args},
                                f"{os.environ['BENCH_PROFILE']}.{os.getpid()}")
            else:
                _worker(*args)
        else:
            _writer(kwargs["url"], int(kwargs["first"]), int(kwargs["count"]), float(kwargs["rate"]))
        return {}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1000, help="dossiers in the backlog (3 events each)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--live", type=int, default=0,
                        help="dossiers changed while the workers run, for the lag (default: a tenth of --dossiers)")
    parser.add_argument("--rate", type=float, default=100.0, help="at most this many live dossiers a second")
    parser.add_argument("--batch", type=int, default=200, help="events per request (PORTAL_BATCH_SIZE)")
    parser.add_argument("--sleep", type=float, default=0.5,
                        help="a worker's pause after a pass that sent nothing (deliver-outbox --sleep)")
    parser.add_argument("--sqlite", action="store_true", help="one worker on a SQLite file")
    parser.add_argument("--server", default=SERVER)
    args = parser.parse_args(argv)
    live = args.live or max(1, args.dossiers // 10)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        if args.sqlite:
            args.workers = 1
            result = run(f"sqlite:///{tmp / 'bench.db'}", args.dossiers, 1, tmp, live, args.rate, args.batch,
                         args.sleep)
        else:
            name = f"landpay_bench_portal_{int(time.time())}"
            admin(args.server, f'CREATE DATABASE "{name}"')
            try:
                url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
                result = run(url, args.dossiers, args.workers, tmp, live, args.rate, args.batch, args.sleep)
            finally:
                admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"{args.dossiers} dossiers + {live} live, {result['events']} events, {args.workers} worker(s), "
          f"batches of {args.batch}, idle sleep {args.sleep} s, {'SQLite' if args.sqlite else 'PostgreSQL'}")
    print(f"  backlog: delivered {result['backlog_events']} in {result['seconds']:.2f} s: "
          f"{result['events_per_second']:.0f} events/s")
    print(f"  live: {result['live_events']} events written at {result['live_rate']:.0f} events/s; "
          f"acknowledged {result['acknowledged']} in all (portal holds {result['portal_events']})")
    if result["p50"] is not None:
        print(f"  change to acknowledgement: p50 {result['p50']:.2f} s, p95 {result['p95']:.2f} s")
    return result


if __name__ == "__main__":
    main()
