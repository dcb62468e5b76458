"""Delivery of the outbox to a real test portal process: events per second with two
workers, and the time from a change to its acknowledgement (p50, p95).

Creates a scratch database (PostgreSQL on the local server by default; ``--sqlite`` for one
worker on SQLite), migrates it, records ``--dossiers`` dossiers of three events each, starts
``python -m mock_portal`` and runs ``--workers`` workers until every event is acknowledged.

Run: python bench/bench_portal_delivery.py [--dossiers N] [--workers N] [--sqlite] [--server URL]
Prints figures only; nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SECRET = "bench-portal-secret"  # noqa: S105 - a scratch portal of this run only


def admin(server: str, sql: str) -> None:
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def record_dossiers(app, count: int) -> None:
    from app.extensions import db
    from app.models import Dossier, DossierStatus, Office, OfficeKind, Parcel, Role, User
    from app.services import workflow

    with app.app_context():
        tax = Office(code="BT", name="Bench tax", kind=OfficeKind.TAX, province="HCM")
        registry = Office(code="BR", name="Bench registry", kind=OfficeKind.REGISTRY, province="HCM",
                          tax_office=tax)
        officer = User(username="bench", full_name="Bench", role=Role.REGISTRY_OFFICER, office=registry)
        officer.set_password("bench-password-not-used")
        db.session.add_all([tax, registry, officer])
        db.session.flush()
        for i in range(count):
            parcel = Parcel(province="HCM", map_sheet="90", parcel_no=str(i), address=f"{i} Bench",
                            land_type="residential", area_m2=Decimal("50.00"), price_key="X", position=1,
                            registry_office_id=registry.id)
            db.session.add(parcel)
            db.session.flush()
            dossier = Dossier(code=f"HSB{i:07d}", procedure="transfer", parcel_id=parcel.id,
                              registry_office_id=registry.id, tax_office_id=tax.id, declared_price=10**9,
                              filed_by_id=officer.id, valid_on=date(2026, 12, 1), due_on=date(2026, 12, 11))
            db.session.add(dossier)
            workflow.move(dossier, DossierStatus.FILED, actor=officer)
            workflow.record(dossier, "cadastral_data_sent_to_tax", actor=officer)
            workflow.move(dossier, DossierStatus.AWAITING_CONFIRMATION, actor_label="system")
            if i % 100 == 99:
                db.session.commit()
        db.session.commit()


def run(url: str, dossiers: int, workers: int, tmp: Path) -> dict:
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import OutboxMessage
    from app.services.delivery import deliver_pass, sync_status
    from tests.stack import start_portal

    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "PORTAL_SECRET": SECRET,
                              "PORTAL_RETRY_BASE": 0.05, "PORTAL_RETRY_MAX": 0.2})
    with app.app_context():
        upgrade()
    record_dossiers(app, dossiers)
    portal = start_portal(tmp, secret=SECRET)
    app.config["PORTAL_BASE_URL"] = portal.url
    try:
        def worker():
            for _ in range(10_000):
                with app.app_context():
                    deliver_pass()
                    status = sync_status()
                if status["events"]["acknowledged"] == status["events"]["local"]:
                    return
                time.sleep(0.01)

        started = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        with app.app_context():
            rows = db.session.execute(select(OutboxMessage.created_at, OutboxMessage.acknowledged_at)).all()
            status = sync_status()
            db.engine.dispose()
        lags = sorted((ack - created).total_seconds() for created, ack in rows if ack)
        quantiles = statistics.quantiles(lags, n=20) if len(lags) > 1 else lags * 19
        return {"events": len(rows), "acknowledged": status["events"]["acknowledged"],
                "seconds": elapsed, "events_per_second": len(rows) / elapsed if elapsed else 0.0,
                "p50": statistics.median(lags) if lags else None, "p95": quantiles[18] if lags else None,
                "portal_events": __import__("requests").get(portal.url + "/api/figures", timeout=5).json()["events"]}
    finally:
        portal.stop()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sqlite", action="store_true", help="one worker on a SQLite file")
    parser.add_argument("--server", default=SERVER)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        if args.sqlite:
            args.workers = 1
            result = run(f"sqlite:///{tmp / 'bench.db'}", args.dossiers, 1, tmp)
        else:
            name = f"landpay_bench_portal_{int(time.time())}"
            admin(args.server, f'CREATE DATABASE "{name}"')
            try:
                url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
                result = run(url, args.dossiers, args.workers, tmp)
            finally:
                admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"{args.dossiers} dossiers, {result['events']} events, {args.workers} worker(s), "
          f"{'SQLite' if args.sqlite else 'PostgreSQL'}")
    print(f"  delivered {result['acknowledged']} (portal holds {result['portal_events']}) "
          f"in {result['seconds']:.2f} s: {result['events_per_second']:.0f} events/s")
    if result["p50"] is not None:
        print(f"  change to acknowledgement: p50 {result['p50']:.2f} s, p95 {result['p95']:.2f} s")
    return result


if __name__ == "__main__":
    main()
