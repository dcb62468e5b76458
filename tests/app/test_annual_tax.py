"""The annual non-agricultural land use tax batch, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

import tax_calc
from tests.conftest import World


def add_quotas(db, rows, label="HCM-QUOTA-T", province="HCM"):
    from app.models import DataTable

    db.session.add(DataTable(
        kind="quotas", province=province, label=label, effective_from=date(2024, 1, 1),
        source="test data", checksum="1" * 64,
        rows=[{"location": loc, "quota_m2": quota, "note": ""} for loc, quota in rows],
    ))


def add_parcel(db, n, area, price_key="Q1-LE-LOI", land_type="residential", province="HCM"):
    from app.models import Office, Parcel, Party

    office = db.session.scalar(select(Office.id).where(Office.code == "REG1"))
    holder = db.session.scalar(select(Party.id).where(Party.citizen_id == "079070000003"))
    parcel = Parcel(province=province, map_sheet="90", parcel_no=str(n), address=f"{n} test street",
                    land_type=land_type, area_m2=Decimal(area), price_key=price_key, position=1,
                    registry_office_id=office, holder_id=holder)
    db.session.add(parcel)
    db.session.flush()
    return parcel.id


def add_price(db, price_key, price):
    from app.models import PriceEntry, PriceTableVersion

    version = db.session.scalar(select(PriceTableVersion).where(PriceTableVersion.label == "HCM-TEST-1"))
    db.session.add(PriceEntry(version_id=version.id, price_key=price_key, position=1,
                              land_type="residential", price_per_m2=price, label=price_key))


@pytest.fixture
def setup(app):
    """The World, the province quota (160 m2), a large parcel crossing every bracket, a
    small one whose tax is exempt from 2026-07-01, one without a price, one not residential."""
    world = World(app)
    with app.app_context():
        from app.extensions import db

        add_quotas(db, [("HCM-INNER", "160")])
        add_price(db, "SMALL-ALLEY", 1_000_000)
        ids = {
            "big": add_parcel(db, 1, "600.50", "Q3-VO-VAN-TAN"),
            "small": add_parcel(db, 2, "100.00", "SMALL-ALLEY"),
            "no_price": add_parcel(db, 3, "70.00", "NOT-IN-TABLE"),
            "business": add_parcel(db, 4, "90.00", land_type="commercial"),
        }
        db.session.commit()
    world.ids = ids | {"first": world.parcel_id, "second": world.parcel2_id}
    return world


def run(app, year=2027, **kwargs):
    from app.services.annual_tax import run_annual_tax

    with app.app_context():
        return run_annual_tax(year, **kwargs)


def notices(app, year=2027):
    from app.extensions import db
    from app.models import AnnualTaxNotice

    with app.app_context():
        rows = db.session.scalars(select(AnnualTaxNotice).where(AnnualTaxNotice.tax_year == year))
        return {n.parcel_id: (n.code, n.amount, n.exempt, n.due_on, n.rule_version,
                              n.price_table_version, n.quota_m2, n.holder_id) for n in rows}


def parcel_inputs(app, parcel_id):
    from app.extensions import db
    from app.models import Parcel, PriceEntry

    with app.app_context():
        parcel = db.session.get(Parcel, parcel_id)
        price = db.session.scalar(select(PriceEntry.price_per_m2).where(
            PriceEntry.price_key == parcel.price_key, PriceEntry.land_type == "residential"))
        return parcel.area_m2, price, parcel.holder_id


def test_amounts_match_the_explained_line(app, setup):
    summary = run(app)
    assert summary.parcels_seen == 5  # the commercial parcel is not residential
    assert summary.notices_created == 4
    assert summary.missing_price == 1
    assert summary.skipped_examples == [(setup.ids["no_price"], "missing_price")]
    assert summary.price_table_versions == {"HCM": "HCM-TEST-1"}
    found = notices(app)
    assert set(found) == {setup.ids[k] for k in ("first", "second", "big", "small")}
    total = 0
    for parcel_id, (code, amount, exempt, due_on, rule_version, version, quota, holder) in found.items():
        area, price, holder_id = parcel_inputs(app, parcel_id)
        line = tax_calc.non_agricultural_tax_line(area, price, "160", valid_on=date(2027, 1, 1),
                                                  tax_year=2027)
        assert type(amount) is int
        assert amount == line.amount
        assert exempt is (line.exemption is not None)
        # Every notice of the year carries the year's due date; the rules give an exempt
        # line (nothing to pay) no due date.
        assert due_on == date(2027, 10, 31)
        assert line.due_dates == (() if exempt else (due_on,))
        assert rule_version == line.rule_version == "NAT-2026.07"
        assert code == f"NN2027-{parcel_id:09d}"
        assert (version, quota, holder) == ("HCM-TEST-1", Decimal("160.00"), holder_id)
        total += amount
    assert summary.total_assessed == total
    # 50 m2 x 200,000,000 x 0.03% within the quota
    assert found[setup.ids["first"]][1] == 3_000_000
    # 600.5 m2 on a 160 m2 quota, of 100,000,000 VND/m2: 160 at 0.03% and 440.5 at 0.07%
    # (the 0.07% band runs to 4 x the quota, 640 m2: Circular 153/2011 art. 8 example 6)
    assert found[setup.ids["big"]][1] == 4_800_000 + 30_835_000


def test_notices_fall_due_on_31_october_of_their_year(app, setup):
    """The due date is the rule's, for the notice's own year (not the run's or today's)."""
    run(app, 2027)
    run(app, 2028)
    assert {n[3] for n in notices(app, 2027).values()} == {date(2027, 10, 31)}
    assert {n[3] for n in notices(app, 2028).values()} == {date(2028, 10, 31)}


def test_small_amounts_are_exempt(app, setup):
    summary = run(app, 2027)
    small = notices(app, 2027)[setup.ids["small"]]
    assert small[1:3] == (0, True)  # 100 m2 x 1,000,000 x 0.03% = 30,000 <= 50,000
    assert summary.exempt == 1
    # On 1 January 2026 the rule in force is NAT-2020.07: the same exemption, under Law
    # 38/2019 art. 79(2)(a) (from 01/07/2020).
    summary = run(app, 2026)
    small = notices(app, 2026)[setup.ids["small"]]
    assert small[1:3] == (0, True)
    assert small[4] == "NAT-2020.07"
    assert summary.exempt == 1


def test_rerun_creates_no_duplicates(app, setup):
    from app.extensions import db
    from app.models import AnnualTaxNotice, AnnualTaxRun

    first = run(app, batch_size=2)
    before = notices(app)
    again = run(app, batch_size=3)
    assert (first.notices_created, again.notices_created) == (4, 0)
    assert again.notices_existing == 4
    assert notices(app) == before
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AnnualTaxNotice)) == 4
        runs = db.session.scalars(select(AnnualTaxRun).order_by(AnnualTaxRun.id)).all()
        assert [(r.parcels_seen, r.notices_created, r.missing_price) for r in runs] == [
            (5, 4, 1), (5, 0, 1)]
        assert all(r.finished_at is not None for r in runs)


def test_a_crashed_run_is_finished_by_a_rerun(app, setup, monkeypatch):
    from app.extensions import db
    from app.models import AnnualTaxNotice, AnnualTaxRun
    from app.services import annual_tax

    name = "_write_postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") \
        else "_write_sqlite"
    real = getattr(annual_tax, name)
    calls = []

    def failing(conn, payload):
        calls.append(payload)
        if len(calls) == 3:
            raise RuntimeError("connection lost")
        return real(conn, payload)

    monkeypatch.setattr(annual_tax, name, failing)
    with pytest.raises(RuntimeError):
        run(app, batch_size=1)
    monkeypatch.setattr(annual_tax, name, real)
    with app.app_context():
        crashed = db.session.scalar(select(AnnualTaxRun))
        assert crashed.finished_at is None
        assert crashed.notices_created == db.session.scalar(
            select(func.count()).select_from(AnnualTaxNotice)) == 2
    summary = run(app, batch_size=1)
    assert summary.notices_created == 2
    assert summary.notices_existing == 2
    assert len(notices(app)) == 4


def test_province_filter_and_missing_quota(app, setup):
    summary = run(app, province="HN")
    assert (summary.parcels_seen, summary.notices_created) == (0, 0)
    from app.extensions import db
    from app.models import DataTable

    with app.app_context():
        db.session.execute(DataTable.__table__.delete())
        db.session.commit()
    summary = run(app, province="HCM")
    assert summary.notices_created == 0
    assert (summary.missing_quota, summary.missing_price, summary.skipped) == (5, 0, 5)
    assert notices(app) == {}


def test_a_quota_table_with_several_locations_needs_a_province_row(app, setup):
    from app.extensions import db
    from app.services.annual_tax import AnnualTaxError

    with app.app_context():
        add_quotas(db, [("HCM-INNER", "160"), ("HCM-OUTER", "250")], label="HCM-QUOTA-T2")
        db.session.commit()
    with pytest.raises(AnnualTaxError, match="location '\\*'"):
        run(app)
    assert notices(app) == {}
    with app.app_context():
        add_quotas(db, [("HCM-INNER", "160"), ("*", "200")], label="HCM-QUOTA-T3")
        db.session.commit()
    run(app)
    assert notices(app)[setup.ids["first"]][6] == Decimal("200.00")


def test_a_year_no_rule_covers_is_refused(app, setup):
    from app.services.annual_tax import AnnualTaxError

    with pytest.raises(AnnualTaxError, match="no non_agricultural_tax rule covers 2011-01-01"):
        run(app, 2011)


def test_progress_bar(app, setup, capsys):
    summary = run(app, progress=True, batch_size=2)
    assert summary.notices_created == 4
    assert "5/5" in capsys.readouterr().err


def test_cli_command(app, setup):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["assess-annual-tax", "--year", "2027", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "notices created: 4; already present: 0" in result.output
    assert "missing price 1" in result.output
    assert f"{setup.ids['no_price']} (missing_price)" in result.output
    result = runner.invoke(args=["assess-annual-tax", "--year", "2027", "--province", "HCM",
                                 "--batch-size", "2", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "notices created: 0; already present: 4" in result.output
    result = runner.invoke(args=["assess-annual-tax", "--year", "1990", "--no-progress"])
    assert result.exit_code != 0
    assert "no non_agricultural_tax rule covers 1990-01-01" in result.output


def test_migration_created_the_tables_and_the_unique_key(app, setup):
    from app.extensions import db
    from app.models import AnnualTaxNotice

    with app.app_context():
        tables = inspect(db.engine).get_table_names()
        assert {"annual_tax_notices", "annual_tax_runs"} <= set(tables)
    run(app)
    with app.app_context():
        first = db.session.scalar(select(AnnualTaxNotice).where(
            AnnualTaxNotice.parcel_id == setup.ids["first"]))
        db.session.add(AnnualTaxNotice(
            code="OTHER-CODE", parcel_id=first.parcel_id, holder_id=first.holder_id,
            tax_year=2027, amount=1, exempt=False, price_table_version="x", quota_m2=1,
            quota_version="x", rule_version="x", due_on=date(2027, 10, 31)))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_landholders_see_only_their_own_annual_notices(app, setup):
    from tests.conftest import login

    run(app)
    mine = {code for code, *_rest, holder in notices(app).values() if holder == _party_id(app, "an")}
    assert mine
    seller = app.test_client()
    login(seller, "an")
    page = seller.get("/me/").get_data(as_text=True)
    assert all(code in page for code in mine)
    stranger = app.test_client()
    login(stranger, "cuong")
    page = stranger.get("/me/").get_data(as_text=True)
    assert not any(code in page for code in mine)


def _party_id(app, username):
    from app.extensions import db
    from app.models import User

    with app.app_context():
        return db.session.scalar(select(User.party_id).where(User.username == username))
