"""The annual batch's write path (one for both databases): straight into the tables, under a
lock on the tax year, so a batch written by another run meanwhile is never written twice."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select

from tests.app.test_annual_tax import add_parcel, add_price, add_quotas
from tests.conftest import World


@pytest.fixture
def parcels(app):
    return _parcels(app)


@pytest.fixture
def pg_parcels(pg_app):
    return _parcels(pg_app)


def _parcels(app):
    world = World(app)
    with app.app_context():
        from app.extensions import db

        add_quotas(db, [("HCM-INNER", "160")])
        add_price(db, "SMALL-ALLEY", 1_000_000)
        ids = [add_parcel(db, n, "600.50", "Q3-VO-VAN-TAN") for n in range(1, 4)]
        db.session.commit()
    return world, ids


def test_notices_go_straight_into_their_tables_with_copy_on_postgresql(app, parcels):
    """PostgreSQL: COPY into annual_tax_notices, notices and notice_lines, nothing staged
    in a temporary table; SQLite: one executemany INSERT per table."""
    from app.extensions import db
    from app.services.annual_tax import run_annual_tax

    seen = []
    with app.app_context():
        def record(_conn, _cursor, statement, _params, _context, _executemany):
            seen.append(" ".join(statement.split())[:60])

        dialect = db.engine.dialect.name
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            summary = run_annual_tax(2027, batch_size=100)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
    assert summary.notices_created == 5 and summary.payable_issued == 5
    writes = [s for s in seen if s.startswith(("INSERT", "COPY", "CREATE"))]
    if dialect == "postgresql":
        # COPY goes through the driver's cursor, not SQLAlchemy: no INSERT seen at all.
        assert [s for s in writes if "annual_tax_runs" not in s] == []
    else:
        assert sorted(s.split(" (")[0] for s in writes if "annual_tax_runs" not in s) == [
            "INSERT INTO annual_tax_notices", "INSERT INTO notice_lines", "INSERT INTO notices"]


@pytest.mark.postgres
def test_a_batch_waits_for_another_run_writing_the_same_year(pg_app, pg_parcels):
    """Another run holds the year's lock and writes the first parcel's notice; the batch
    waits, then sees it and writes only the others (no duplicate, no error)."""
    from app.extensions import db
    from app.models import AnnualTaxNotice
    from app.services.annual_tax import _lock_year, run_annual_tax

    _world, ids = pg_parcels
    with pg_app.app_context():
        holder = _holder(ids[0])
        conn = db.engine.connect()
        _lock_year(conn, 2027)
        conn.execute(AnnualTaxNotice.__table__.insert().values(
            code=f"NN2027-{ids[0]:09d}", parcel_id=ids[0], holder_id=holder, amount=1, exempt=False,
            price_table_version="other run", quota_m2=160, quota_version="other run",
            tax_year=2027, rule_version="other run", due_on="2027-10-31"))
        done = {}

        def batch():
            with pg_app.app_context():
                try:
                    done["summary"] = run_annual_tax(2027, batch_size=100)
                except Exception as err:  # noqa: BLE001 - reported below
                    done["error"] = err

        runner = threading.Thread(target=batch)
        runner.start()
        time.sleep(1.5)  # the batch has read, assessed and now waits on the year's lock
        assert runner.is_alive()
        conn.commit()
        conn.close()
        runner.join(30)
    assert "error" not in done, done.get("error")
    summary = done["summary"]
    assert (summary.notices_created, summary.notices_existing) == (4, 1)
    with pg_app.app_context():
        rows = db.session.execute(select(AnnualTaxNotice.parcel_id, func.count())
                                  .group_by(AnnualTaxNotice.parcel_id)).all()
        assert {count for _pid, count in rows} == {1}
        assert db.session.scalar(select(AnnualTaxNotice.price_table_version)
                                 .where(AnnualTaxNotice.parcel_id == ids[0])) == "other run"


def _holder(parcel_id: int) -> int:
    from app.extensions import db
    from app.models import Parcel

    return db.session.get(Parcel, parcel_id).holder_id
