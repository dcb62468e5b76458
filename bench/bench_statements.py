"""SQL statements per step of one whole transfer over the API, on SQLite and PostgreSQL.

Each request of the flow (file, confirm, start payment, the bank's notification, the payment's
state, the receipt, complete) is sent through the Flask test client to an app on a scratch
database, migrated and given the test data set (offices, parcels, users, a price table), and
the statements it sends to the database are counted with a SQLAlchemy event
(``tests/perf/statements.py``). Counts, unlike times, do not vary from run to run;
``tests/perf/test_statement_budgets.py`` holds each step to its budget.

Run: python bench/bench_statements.py [--sqlite-only] [--server URL] [--show STEP]
Prints counts only; nothing here asserts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import admin  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SCRATCH = "landpay_bench_statements"




def flow_counts(url: str, lists: bool = False) -> tuple[dict, dict]:
    """Migrate the database at ``url``, give it the test data set and count one flow (and,
    with ``lists``, each list page at 10 and at 100 dossiers)."""
    import logging

    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from tests.app.conftest import add_coefficients
    from tests.conftest import World
    from tests.perf.statements import list_counts, transfer_flow

    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    world = World(app)
    add_coefficients(app, {"*": "1.0"})
    try:
        return transfer_flow(app, world), (list_counts(app, world) if lists else {})
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def main(argv: list[str] | None = None) -> dict[str, dict]:
    from tests.perf.statements import STEPS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=SERVER, help="PostgreSQL server (a scratch database is made)")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--show", metavar="STEP", help="also print the statements of this step")
    parser.add_argument("--no-lists", action="store_true", help="count the transfer only")
    args = parser.parse_args(argv)

    results: dict[str, dict] = {}
    lists: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sqlite"], lists["sqlite"] = flow_counts(f"sqlite:///{tmp}/bench.db", not args.no_lists)
    if not args.sqlite_only:
        admin(args.server, f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        admin(args.server, f'CREATE DATABASE "{SCRATCH}"')
        try:
            url = make_url(args.server).set(database=SCRATCH).render_as_string(hide_password=False)
            results["postgresql"], lists["postgresql"] = flow_counts(url, not args.no_lists)
        finally:
            admin(args.server, f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')

    names = list(results)
    print("SQL statements per step of one transfer over the API (commits in brackets)")
    print(f"{'step':<20}" + "".join(f"{name:>16}" for name in names))
    for step in STEPS:
        print(f"{step:<20}" + "".join(
            f"{len(results[n][step]):>11} ({results[n][step].commits})" for n in names))
    print(f"{'total':<20}" + "".join(
        f"{sum(len(c) for c in results[n].values()):>11} ({sum(c.commits for c in results[n].values())})"
        for n in names))
    if not args.no_lists:
        print("\nSQL statements per list page, at 10 and at 100 dossiers")
        print(f"{'page':<28}" + "".join(f"{name:>16}" for name in names))
        for page in next(iter(lists[names[0]].values())):
            print(f"{page:<28}" + "".join(
                f"{lists[n][10][page]:>9} -> {lists[n][100][page]:<4}" for n in names))
    if args.show:
        for name in names:
            print(f"\n{args.show} on {name}:")
            for statement in results[name][args.show].statements:
                print("  " + " ".join(statement.split())[:200])
    return results


if __name__ == "__main__":
    main()
