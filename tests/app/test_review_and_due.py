"""The rules engine decides: why an assessment waits for an officer, when each line falls
due, which data tables apply. The app stores and shows what it was told."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.app.conftest import add_coefficients
from tests.app.test_api import dossier_body, token
from tests.conftest import csrf_token, login


def file(app, world, headers_user="registry2", **changes):
    client = app.test_client()
    body = dossier_body(world, **{"parcel_id": world.parcel2_id, **changes})
    return client.post("/api/v1/dossiers", json=body, headers=token(client, headers_user))


def count(app, model):
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def issue_on(monkeypatch, day: date) -> None:
    """Make ``day`` the local date of filing, assessing and issuing."""
    from app.services import dossiers

    monkeypatch.setattr(dossiers, "today_local", lambda: day)


# --- review reasons ----------------------------------------------------------------------


@pytest.fixture
def coefficient_1_5(app, world):
    """From 1 February 2026 the Võ Văn Tần zone has a coefficient of 1.5: parcel 2 (80 m2 at
    100,000,000 VND/m2, table value 8 billion) has a floor of 12 billion."""
    add_coefficients(app, {"Q3-VO-VAN-TAN": "1.5", "*": "1.0"}, label="HCM-K-TEST-2",
                     effective_from=date(2026, 2, 1))
    return world


def test_price_above_the_table_value_but_below_the_floor_waits(app, coefficient_1_5):
    """10 billion declared: above 80 m2 x 100,000,000 = 8 billion (what the table value
    alone would let through), below 8 billion x 1.5 = 12 billion, the floor of the rule in
    force. Tax office 2 auto-confirms up to 10^12, so only the rules make it wait."""
    response = file(app, coefficient_1_5, declared_price=10_000_000_000)
    assert response.status_code == 201, response.get_json()
    dossier = response.get_json()
    assert dossier["status"] == "awaiting_confirmation" and dossier["notice"] is None
    assessment = dossier["assessment"]
    reasons = assessment["review_reasons"]
    assert [(r["code"], r["field"]) for r in reasons] == [("declared_price_below_floor", "declared_price")]
    assert "12.000.000.000" in reasons[0]["text"]["vi"] and "12.000.000.000" in reasons[0]["text"]["en"]
    lines = {line["obligation"]: line for line in assessment["lines"]}
    assert lines["personal_income_tax"]["base"] == 12_000_000_000
    assert lines["personal_income_tax"]["amount"] == 240_000_000  # 2% of the floor
    assert assessment["rule_versions"]["data"]["adjustment_coefficients"] == "HCM-K-TEST-2"


def test_price_above_the_floor_is_confirmed_at_once(app, coefficient_1_5):
    response = file(app, coefficient_1_5, declared_price=13_000_000_000)
    dossier = response.get_json()
    assert dossier["status"] == "awaiting_payment"
    assert dossier["assessment"]["review_reasons"] == []
    assert dossier["assessment"]["auto_confirmed"] is True
    assert dossier["notice"]["total"] == 65_000_000 + 260_000_000  # 0.5% and 2% of 13 billion


def test_office_policy_reasons_follow_the_rules_reasons(app, world):
    """Tax office 1 confirms every assessment: its policy is listed after the law's."""
    response = file(app, world, headers_user="registry", parcel_id=world.parcel_id,
                    declared_price=1_000_000_000)
    reasons = response.get_json()["assessment"]["review_reasons"]
    assert [r["code"] for r in reasons] == ["declared_price_below_floor", "office_confirms_every_assessment"]
    assert reasons[1]["field"] == "tax_office"
    assert reasons[1]["text"] == {"vi": "Cơ quan thuế này xác nhận mọi trường hợp",
                                  "en": "This office confirms every assessment"}


def test_ceiling_reason_names_the_ceiling(app, world):
    from app.extensions import db
    from app.models import Office

    with app.app_context():
        db.session.get(Office, world.tax2_id).auto_confirm_max_total = 100_000_000
        db.session.commit()
    reasons = file(app, world, declared_price=9_000_000_000).get_json()["assessment"]["review_reasons"]
    assert [r["code"] for r in reasons] == ["total_above_auto_confirmation_ceiling"]
    assert "100,000,000" in reasons[0]["text"]["en"] and "100.000.000" in reasons[0]["text"]["vi"]


def test_queue_and_assessment_pages_show_the_reasons_in_the_users_language(app, coefficient_1_5):
    file(app, coefficient_1_5, declared_price=10_000_000_000,
         relationship="parent_child")
    client = app.test_client()
    login(client, "tax2")
    queue = client.get("/tax/").get_data(as_text=True)
    assert "thấp hơn giá theo bảng giá x hệ số điều chỉnh 12.000.000.000" in queue
    assert "miễn theo kê khai" in queue and "below the table price" not in queue
    from app.extensions import db
    from app.models import Assessment

    with app.app_context():
        assessment_id = db.session.scalar(select(Assessment.id))
    page = client.get(f"/tax/assessments/{assessment_id}").get_data(as_text=True)
    assert 'data-code="exemption_claimed"' in page and "cần kiểm tra giấy tờ" in page
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/tax/"), "next": "/tax/"})
    queue = client.get("/tax/").get_data(as_text=True)
    assert "is below the table price x adjustment coefficient 12.000.000.000 VND" in queue
    assert "the papers must be checked" in queue and "thấp hơn" not in queue


# --- due dates ---------------------------------------------------------------------------


def test_notice_lines_fall_due_30_days_after_the_issue_date(app, world, monkeypatch):
    """Issued on 1 December 2026, each transfer line falls due 30 days later: 31 December."""
    from app.extensions import db
    from app.models import Notice

    issue_on(monkeypatch, date(2026, 12, 1))
    dossier_code, notice_code = world.file_and_confirm(parcel=world.parcel2_id, price=9_000_000_000)
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        assert notice.due_on == date(2026, 12, 31)
        lines = {line.obligation: line for line in notice.lines}
        assert {k: (line.due_on, line.installments) for k, line in lines.items()} == {
            "registration_fee": (date(2026, 12, 31), [{"due_on": "2026-12-31", "amount": 45_000_000}]),
            "personal_income_tax": (date(2026, 12, 31), [{"due_on": "2026-12-31", "amount": 180_000_000}]),
        }
        assert lines["registration_fee"].assessment_line.due_terms == [
            {"share": "1", "days_after_notice": 30, "on": None}]
    client = app.test_client()
    api = client.get(f"/api/v1/notices/{notice_code}", headers=token(client, "binh")).get_json()
    assert api["due_on"] == "2026-12-31"
    assert [(line["obligation"], line["due_on"], line["installments"]) for line in api["lines"]] == [
        ("registration_fee", "2026-12-31", [{"due_on": "2026-12-31", "amount": 45_000_000}]),
        ("personal_income_tax", "2026-12-31", [{"due_on": "2026-12-31", "amount": 180_000_000}]),
    ]
    login(client, "binh")
    page = client.get(f"/me/notices/{notice_code}").get_data(as_text=True)
    due = page[page.index('id="due-dates"'):]
    assert "31/12/2026" in due and "180.000.000" in due
    login(client, "registry2")
    page = client.get(f"/registry/dossiers/{dossier_code}").get_data(as_text=True)
    assert 'id="due-dates"' in page and "31/12/2026" in page


def test_an_exempt_line_has_nothing_due(app, world, monkeypatch):
    from app.extensions import db
    from app.models import Notice

    issue_on(monkeypatch, date(2026, 12, 1))
    _, notice_code = world.file_and_confirm(parcel=world.parcel2_id, price=9_000_000_000,
                                            relationship="parent_child")
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        lines = {line.obligation: line for line in notice.lines}
        assert (lines["personal_income_tax"].due_on, lines["personal_income_tax"].installments) == (None, [])
        assert lines["registration_fee"].due_on == date(2026, 12, 31)
        assert notice.due_on == date(2026, 12, 31)


def test_a_line_in_two_instalments_is_dated_from_the_issue_date():
    """Half 30 days after the notice, the rest 90 days after: issued on 1 December 2026,
    31 December 2026 and 1 March 2027; the second part takes what the first left."""
    from app.models import AssessmentLine
    from app.services.dossiers import _notice_due_on, _notice_line

    line = AssessmentLine(obligation="land_use_levy", amount=1_000_001, due_terms=[
        {"share": "0.5", "days_after_notice": 30, "on": None},
        {"share": "0.5", "days_after_notice": 90, "on": None},
    ])
    notice_line = _notice_line(line, date(2026, 12, 1))
    assert notice_line.installments == [{"due_on": "2026-12-31", "amount": 500_001},
                                        {"due_on": "2027-03-01", "amount": 500_000}]
    assert notice_line.due_on == date(2027, 3, 1)
    assert _notice_due_on([notice_line]) == date(2026, 12, 31)


# --- data tables in force ----------------------------------------------------------------


def _remove_coefficients(app):
    from app.extensions import db
    from app.models import DataTable

    with app.app_context():
        db.session.execute(DataTable.__table__.delete())
        db.session.commit()


@pytest.mark.parametrize("table", [
    None,
    {"label": "HCM-K-OLD", "effective_to": date(2026, 6, 30)},
    {"label": "HN-K", "province": "HN"},
    {"label": "HCM-K-2030", "effective_from": date(2030, 1, 1)},
], ids=["none", "ended", "another province", "not yet in force"])
def test_no_coefficient_in_force_after_july_2026_is_a_clear_error(app, world, monkeypatch, table):
    from app.models import Dossier, Event

    _remove_coefficients(app)
    if table is not None:
        add_coefficients(app, {"*": "1.3"}, **table)
    issue_on(monkeypatch, date(2026, 12, 1))
    response = file(app, world, declared_price=9_000_000_000)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert "adjustment_coefficient" in error["fields"]
    assert "hệ số điều chỉnh" in error["message"]  # the message names it (in Vietnamese)
    assert count(app, Dossier) == 0 and count(app, Event) == 0


def test_a_coefficient_table_without_the_parcels_land_type_is_a_clear_error(app, world):
    from app.extensions import db
    from app.models import DataTable

    with app.app_context():
        table = db.session.scalar(select(DataTable))
        table.rows = [{"zone_code": "*", "land_type": "agricultural", "coefficient": "1.0"}]
        db.session.commit()
    response = file(app, world, declared_price=9_000_000_000)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "adjustment_coefficient" in error["fields"] and "HCM-K-TEST-1" in error["message"]


def test_before_july_2026_no_coefficient_is_needed(app, world, monkeypatch):
    """The income tax rule in force before 01/07/2026 does not use the coefficient."""
    _remove_coefficients(app)
    issue_on(monkeypatch, date(2026, 6, 15))
    response = file(app, world, declared_price=9_000_000_000)
    assert response.status_code == 201, response.get_json()
    assessment = response.get_json()["assessment"]
    assert assessment["rule_versions"]["personal_income_tax"] == "PIT-2007.1"
    assert assessment["rule_versions"]["data"]["adjustment_coefficients"] is None


def _set_parcel2(app, **values):
    from app.extensions import db
    from app.models import Parcel

    with app.app_context():
        parcel = db.session.get(Parcel, db.session.scalar(select(Parcel.id).where(Parcel.parcel_no == "202")))
        for key, value in values.items():
            setattr(parcel, key, value)
        db.session.commit()


def _end_price_table(app, on: date):
    from app.extensions import db
    from app.models import PriceTableVersion

    with app.app_context():
        db.session.scalar(select(PriceTableVersion)).effective_to = on
        db.session.commit()


@pytest.mark.parametrize("situation", ["province without a table", "before any table", "table ended"])
def test_no_price_table_in_force_is_a_clear_error(app, world, monkeypatch, situation):
    from app.models import Dossier

    if situation == "province without a table":
        _set_parcel2(app, province="HN")
    elif situation == "before any table":
        issue_on(monkeypatch, date(2025, 12, 31))  # the table starts on 1 January 2026
    else:
        _end_price_table(app, date(2026, 6, 30))
        issue_on(monkeypatch, date(2026, 12, 1))
    response = file(app, world, declared_price=9_000_000_000)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and "parcel_id" in error["fields"]
    assert "bảng giá đất" in error["message"]  # the message names it (in Vietnamese)
    assert count(app, Dossier) == 0


def test_a_price_table_is_used_up_to_its_last_day(app, world, monkeypatch):
    _end_price_table(app, date(2026, 12, 1))
    issue_on(monkeypatch, date(2026, 12, 1))
    assert file(app, world, declared_price=9_000_000_000).status_code == 201


def test_import_keeps_the_last_day_of_a_price_table(app, tmp_path):
    from app.extensions import db
    from app.models import PriceTableVersion
    from app.services.data_import import import_file, price_version_in_force

    path = tmp_path / "prices.csv"
    path.write_text(
        "# kind: price_table\n# province: HN\n# version: HN-T\n# effective_from: 2026-01-01\n"
        "# effective_to: 2026-06-30\n# source: test\n# status: sample\n"
        "zone_code,street,segment_from,segment_to,position,land_type,price_per_m2\n"
        "Z,Street,,,1,residential,1000000\n", encoding="utf-8")
    with app.app_context():
        import_file(path)
        db.session.commit()
        assert db.session.scalar(select(PriceTableVersion.effective_to)) == date(2026, 6, 30)
        assert price_version_in_force("HN", date(2026, 6, 30)).label == "HN-T"
        assert price_version_in_force("HN", date(2026, 7, 1)) is None
        assert price_version_in_force("HCM", date(2026, 6, 30)) is None
