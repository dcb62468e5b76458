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

    name = "_write_notices"  # one path for both databases
    real = getattr(annual_tax, name)
    calls = []

    def failing(conn, batch, static):
        calls.append(batch)
        if len(calls) == 3:
            raise RuntimeError("connection lost")
        return real(conn, batch, static)

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


# --------------------------------------------------------------------------- payable notices


def _annual(app, parcel_id, year=2027):
    """(code, amount, holder id, payable notice id) of a parcel's annual notice."""
    from app.extensions import db
    from app.models import AnnualTaxNotice

    with app.app_context():
        a = db.session.scalar(select(AnnualTaxNotice).where(
            AnnualTaxNotice.parcel_id == parcel_id, AnnualTaxNotice.tax_year == year))
        return a.code, a.amount, a.holder_id, a.notice.id if a.notice is not None else None


def _api(client, username):
    from tests.conftest import PASSWORD

    answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    return {"Authorization": "Bearer " + answer.get_json()["token"]}


def _notify(app, ref):
    from app.extensions import db
    from app.models import PaymentOrder
    from tests.app.bank import notification

    with app.app_context():
        amount = db.session.scalar(select(PaymentOrder.amount).where(PaymentOrder.ref == ref))
    answer = app.test_client().post("/bank/notify", data=notification(ref, amount))
    assert answer.get_json()["RspCode"] == "00", answer.get_data(as_text=True)


def test_the_batch_issues_a_payable_notice_for_each_notice_not_exempt(app, setup):
    from app.extensions import db
    from app.models import AnnualTaxNotice, Notice, NoticeLine

    first = run(app, batch_size=2)
    with app.app_context():
        annual = db.session.scalars(select(AnnualTaxNotice)).all()
        owed = [a for a in annual if not a.exempt]
        assert owed and any(a.exempt for a in annual)
        assert first.payable_issued == len(owed)
        for a in annual:
            if a.exempt:
                assert a.notice is None  # nothing owed: nothing to pay
                assert db.session.scalar(select(Notice).where(Notice.code == a.code)) is None
                continue
            n = a.notice
            assert (n.code, n.dossier_id, n.assessment_id, n.payer_id, n.total, n.status.value) \
                == (a.code, None, None, a.holder_id, a.amount, "unpaid")
            assert n.annual is a and n.parcel.id == a.parcel_id
            [line] = n.lines
            assert (line.obligation, line.amount, line.paid, line.due_on) == (
                "non_agricultural_tax", a.amount, 0, a.due_on)
            assert sum(part["amount"] for part in line.installments) == a.amount
            assert n.due_on is not None and n.due_on <= a.due_on
            assert line.budget_code == "757-1602" and line.treasury_account
            # Explained as the rules engine explains the same parcel.
            area, price, _holder = parcel_inputs(app, a.parcel_id)
            explained = tax_calc.non_agricultural_tax_line(area, price, Decimal("160"),
                                                           valid_on=date(2027, 1, 1))
            assert line.info("explanation_vi") == explained.explanation_vi
            assert line.info("legal_basis") == explained.legal_basis
            assert line.info("base") == explained.base
    again = run(app, batch_size=3)
    assert again.payable_issued == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notice)) == len(owed)
        assert db.session.scalar(select(func.count()).select_from(NoticeLine)) == len(owed)


def test_a_rerun_issues_the_payable_notices_still_missing(app, setup):
    """Notices assessed before they were payable get their payable notice on a re-run."""
    from sqlalchemy import delete

    from app.extensions import db
    from app.models import AnnualTaxNotice, Notice, NoticeLine

    run(app)
    with app.app_context():
        before = {a.code: a.amount for a in db.session.scalars(select(AnnualTaxNotice))
                  if a.notice is not None}
        db.session.execute(delete(NoticeLine))
        db.session.execute(delete(Notice))
        db.session.commit()
    summary = run(app)
    assert (summary.notices_created, summary.payable_issued) == (0, len(before))
    with app.app_context():
        assert {n.code: n.total for n in db.session.scalars(select(Notice))} == before


def test_the_holder_pays_an_annual_notice_by_card_and_gets_the_receipt(app, setup):
    from app.extensions import db
    from app.models import Notice, PaymentOrder, Receipt
    from tests.conftest import login, post_form

    run(app)
    code, amount, _holder, notice_id = _annual(app, setup.ids["first"])
    assert notice_id is not None and amount > 0
    an = app.test_client()
    login(an, "an")
    listing = an.get("/me/").get_data(as_text=True)
    assert f'href="/me/notices/{code}"' in listing
    page = an.get(f"/me/notices/{code}").get_data(as_text=True)
    assert 'id="pay"' in page and 'id="vietqr"' in page and 'id="notice-tax-year">2027<' in page
    assert "12 Lê Lợi" in page and "Thuế sử dụng đất phi nông nghiệp" in page
    assert an.get(f"/me/notices/{code}/vietqr.png").mimetype == "image/png"
    assert an.get(f"/me/notices/{code}.pdf").mimetype == "application/pdf"
    started = post_form(an, f"/me/notices/{code}", f"/me/notices/{code}/pay")
    assert started.status_code == 303
    assert started.headers["Location"].startswith(app.config["BANK_BASE_URL"])
    with app.app_context():
        order = db.session.scalar(select(PaymentOrder))
        ref = order.ref
        assert order.amount == amount and order.notice_id == notice_id
    _notify(app, ref)
    with app.app_context():
        assert db.session.get(Notice, notice_id).status.value == "paid"
        receipt = db.session.scalar(select(Receipt))
        claims, number = receipt.claims, receipt.number
    assert claims["total"] == amount and claims["notice_code"] == code
    assert claims["dossier_code"] == "" and claims["paid_for"] == ["Nguyễn Văn An"]
    assert claims["parties"]["tax_year"] == "2027" and "12 Lê Lợi" in claims["parties"]["parcel"]
    assert claims["lines"][0]["budget_code"] == "757-1602"
    shown = an.get(f"/me/receipts/{number}").get_data(as_text=True)
    assert 'id="receipt-tax-year">2027<' in shown and "12 Lê Lợi" in shown
    assert an.get(f"/me/receipts/{number}.pdf").mimetype == "application/pdf"
    # Paid: no pay button any more, and the bank cannot be asked to take it twice.
    assert 'id="pay"' not in an.get(f"/me/notices/{code}").get_data(as_text=True)


def test_the_holder_pays_through_the_api_and_others_cannot_see_or_pay(app, setup):
    from tests.conftest import login

    run(app)
    code, amount, _holder, _notice = _annual(app, setup.ids["first"])
    client = app.test_client()
    an = _api(client, "an")
    shown = client.get(f"/api/v1/notices/{code}", headers=an).get_json()
    assert shown["dossier_code"] is None and shown["annual"]["tax_year"] == 2027
    assert shown["annual"]["parcel"]["address"] == "12 Lê Lợi"
    assert shown["vietqr"]["payload"] and shown["outstanding"] == amount
    assert shown["lines"][0]["explanation"]["vi"].startswith("Thuế sử dụng đất phi nông nghiệp")
    for other in ("binh", "cuong"):
        headers = _api(client, other)
        assert client.get(f"/api/v1/notices/{code}", headers=headers).status_code == 404
        assert client.post(f"/api/v1/notices/{code}/payments", headers=headers).status_code == 404
        browser = app.test_client()
        login(browser, other)
        assert browser.get(f"/me/notices/{code}").status_code == 404
        assert browser.get(f"/me/notices/{code}/vietqr.png").status_code == 404
        assert code not in browser.get("/me/").get_data(as_text=True)
    # The tax office of the parcel's registry office sees it; the other one does not.
    assert client.get(f"/api/v1/notices/{code}", headers=_api(client, "tax")).status_code == 200
    assert client.get(f"/api/v1/notices/{code}", headers=_api(client, "tax2")).status_code == 404
    assert client.get(f"/api/v1/notices/{code}", headers=_api(client, "registry")).status_code == 200
    assert client.get(f"/api/v1/notices/{code}",
                      headers=_api(client, "registry2")).status_code == 404
    paid = client.post(f"/api/v1/notices/{code}/payments", headers=an)
    assert paid.status_code == 201, paid.get_data(as_text=True)
    _notify(app, paid.get_json()["ref"])
    after = client.get(f"/api/v1/notices/{code}", headers=an).get_json()
    assert (after["status"], after["outstanding"], after["vietqr"]) == ("paid", 0, None)


def test_anyone_pays_an_annual_notice_at_pay(app, setup):
    from app.extensions import db
    from app.models import Receipt

    run(app)
    code, amount, _holder, _notice = _annual(app, setup.ids["first"])
    client = app.test_client()
    wrong = client.post("/api/v1/public/notices/lookup",
                        json={"code": code, "citizen_id": "079070000003"})
    assert wrong.status_code == 404
    due = client.post("/api/v1/public/notices/lookup",
                      json={"code": code, "citizen_id": "079080000001"})
    assert due.status_code == 200 and due.get_json()["amount_due_today"] == amount
    assert due.get_json()["vietqr"]["purpose"] == code
    from tests.conftest import csrf_token

    page = app.test_client()
    shown = page.post("/pay/", data={"code": code, "citizen_id": "079080000001",
                                     "csrf_token": csrf_token(page, "/pay/")})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and 'id="pay"' in html and "N. V. An" in html
    assert "Thuế sử dụng đất phi nông nghiệp" in html or "Non-agricultural land use tax" in html
    started = client.post(f"/api/v1/public/notices/{code}/payments",
                          json={"citizen_id": "079080000001", "payer_name": "Nguyễn Thị Mai"})
    assert started.status_code == 201, started.get_data(as_text=True)
    _notify(app, started.get_json()["ref"])
    with app.app_context():
        claims = db.session.scalar(select(Receipt)).claims
    assert claims["payer_name"] == "Nguyễn Thị Mai" and claims["paid_for"] == ["Nguyễn Văn An"]
    assert claims["parties"]["tax_year"] == "2027"


def test_an_exempt_notice_is_not_payable_and_says_so(app, setup):
    from tests.conftest import login

    run(app)
    code, amount, holder, notice_id = _annual(app, setup.ids["small"])
    assert (amount, notice_id) == (0, None)
    client = app.test_client()
    cuong = _api(client, "cuong")  # the small parcel's holder
    assert client.get(f"/api/v1/notices/{code}", headers=cuong).status_code == 404
    assert client.post(f"/api/v1/notices/{code}/payments", headers=cuong).status_code == 404
    assert client.post("/api/v1/public/notices/lookup",
                       json={"code": code, "citizen_id": "079070000003"}).status_code == 404
    browser = app.test_client()
    login(browser, "cuong")
    listing = browser.get("/me/").get_data(as_text=True)
    row = listing[listing.index(f'data-code="{code}"'):]
    row = row[:row.index("</tr>")]
    assert "Không phải nộp: được miễn" in row and "href" not in row


def test_an_overdue_annual_notice_bears_late_interest(app, setup):
    import time_machine

    run(app)
    code, amount, _holder, _notice = _annual(app, setup.ids["first"])
    client = app.test_client()
    an = _api(client, "an")
    assert client.get(f"/api/v1/notices/{code}", headers=an).get_json()["late_interest_today"] is None
    with time_machine.travel(date(2028, 3, 1), tick=False):
        an = _api(client, "an")  # a token of that day
        late = client.get(f"/api/v1/notices/{code}", headers=an).get_json()["late_interest_today"]
    assert late is not None and late["amount"] > 0 and late["amount_due_today"] > amount


@pytest.mark.parametrize("written", ["{code}", "CK {bare} nop thue"])
def test_a_vietqr_transfer_pays_an_annual_notice(app, setup, written):
    """The transfer's purpose carries the notice code, as the VietQR code fills it in, or
    without its hyphen as some banking apps send it."""
    from app.extensions import db
    from app.models import Notice, Receipt
    from tests.money.kit import credit, post_credit

    run(app)
    code, amount, _holder, notice_id = _annual(app, setup.ids["first"])
    purpose = written.format(code=code, bare=code.replace("-", "").lower())
    answer = post_credit(app.test_client(), credit(purpose, amount))
    assert answer["RspCode"] == "00", answer
    with app.app_context():
        assert db.session.get(Notice, notice_id).status.value == "paid"
        assert db.session.scalar(select(Receipt)).claims["parties"]["tax_year"] == "2027"


def test_annual_codes_are_found_in_a_purpose():
    from app.models.annual import annual_notice_codes_in

    assert annual_notice_codes_in("nn2027000000042 thue") == ["NN2027-000000042"]
    assert annual_notice_codes_in("NN2027-000000042 NN2027000000042") == ["NN2027-000000042"]
    assert annual_notice_codes_in("XNN2027-000000042") == []
    assert annual_notice_codes_in("NN2027-0000000421") == []
    assert annual_notice_codes_in("TBABCDEFGH") == []
