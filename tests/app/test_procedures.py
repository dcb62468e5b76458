"""Every procedure with a financial obligation runs in one session: who pays which line
(one notice per payer side), several transferees with shares, gift and inheritance, a change
of land use purpose, late-payment interest, and bad input that writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from tests.app.test_api import dossier_body, token
from tests.app.test_holdings import AN, BINH, CUONG, complete, holdings_of, pay


def _notices(app, dossier_code):
    """{payer_role: (notice code, {obligation: amount}, status)} of the dossier."""
    from app.extensions import db
    from app.models import Dossier, Notice

    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == dossier_code))
        notices = db.session.scalars(select(Notice).where(Notice.dossier_id == dossier.id)
                                     .order_by(Notice.id)).all()
        return {n.payer_role: (n.code, {line.obligation: line.amount for line in n.lines},
                               n.status.value) for n in notices}


def _status(app, code):
    from app.extensions import db
    from app.models import Dossier

    with app.app_context():
        return db.session.scalar(select(Dossier.status).where(Dossier.code == code)).value


def _file_api(client, world, **changes):
    answer = client.post("/api/v1/dossiers", json=dossier_body(world, **changes),
                         headers=token(client, "registry"))
    return answer


def _confirm(app, world, code):
    from app.extensions import db
    from app.models import Assessment, Dossier
    from app.services.dossiers import confirm_assessment

    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        assessment = db.session.scalar(select(Assessment).where(Assessment.dossier_id == dossier.id))
        if assessment.status.value == "pending":
            confirm_assessment(world.user("tax"), assessment)


# --- who pays what ------------------------------------------------------------------------


def test_by_default_the_buyer_pays_the_fee_and_the_seller_the_income_tax(app, world):
    client = app.test_client()
    answer = _file_api(client, world, tax_payer_clause="default")
    assert answer.status_code == 201, answer.get_json()
    code = answer.get_json()["code"]
    assert answer.get_json()["tax_payer_clause"] == "default"
    _confirm(app, world, code)
    notices = _notices(app, code)
    assert set(notices) == {"transferee", "transferor"}
    assert set(notices["transferee"][1]) == {"registration_fee"}
    assert set(notices["transferor"][1]) == {"personal_income_tax"}
    # Each sees only their own notice, over the API and on their pages.
    for user, role in (("binh", "transferee"), ("an", "transferor")):
        mine = client.get("/api/v1/notices", headers=token(client, user)).get_json()["items"]
        assert [n["code"] for n in mine] == [notices[role][0]]
        assert mine[0]["payer_role"] == role
    other = client.get(f"/api/v1/notices/{notices['transferor'][0]}", headers=token(client, "binh"))
    assert other.status_code == 404
    # The dossier is paid only when both notices are.
    pay(app, world, notices["transferee"][0])
    assert _status(app, code) == "awaiting_payment"
    pay(app, world, notices["transferor"][0])
    assert _status(app, code) == "paid"
    complete(app, world, code)
    assert holdings_of(app, world.parcel_id)[-1][:3] == (BINH[1], "1/1", True)


@pytest.mark.parametrize("clause, role", [("seller_pays_all", "transferor"),
                                          ("buyer_pays_all", "transferee")])
def test_the_contract_clause_puts_every_line_on_one_side(app, world, clause, role):
    client = app.test_client()
    answer = _file_api(client, world, tax_payer_clause=clause)
    assert answer.status_code == 201, answer.get_json()
    code = answer.get_json()["code"]
    _confirm(app, world, code)
    notices = _notices(app, code)
    assert list(notices) == [role]
    assert set(notices[role][1]) == {"registration_fee", "personal_income_tax"}
    pay(app, world, notices[role][0])
    assert _status(app, code) == "paid"


# --- several transferees with shares --------------------------------------------------------


def test_several_transferees_end_with_their_shares(app, world):
    client = app.test_client()
    body = dossier_body(world, transferees=[
        {"full_name": BINH[0], "citizen_id": BINH[1], "share": "2/3"},
        {"full_name": CUONG[0], "citizen_id": CUONG[1], "share": "1/3"},
    ])
    del body["transferee"]
    answer = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    assert [(p["citizen_id"], p["share"]) for p in created["transferees"]] == \
        [(BINH[1], "2/3"), (CUONG[1], "1/3")]
    assert created["transferee"]["citizen_id"] == BINH[1]  # the first-named, for old clients
    code = created["code"]
    _confirm(app, world, code)
    # Both transferees see the notice of their side; either may pay it.
    notices = _notices(app, code)
    for user in ("binh", "cuong"):
        mine = client.get("/api/v1/notices", headers=token(client, user)).get_json()["items"]
        assert [n["code"] for n in mine] == [notices["transferee"][0]]
    pay(app, world, notices["transferee"][0])
    complete(app, world, code)
    current = [(cid, share) for cid, share, is_open, _cert in holdings_of(app, world.parcel_id)
               if is_open]
    assert current == [(BINH[1], "2/3"), (CUONG[1], "1/3")]


def test_transferors_must_be_every_current_holder(app, world):
    parcel = world.add_parcel(holders={AN[1]: "1/2", CUONG[1]: "1/2"})
    client = app.test_client()
    body = dossier_body(world, parcel_id=parcel, transferors=[
        {"full_name": AN[0], "citizen_id": AN[1]}])
    del body["transferor"]
    answer = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))
    assert answer.status_code == 422
    body["transferors"].append({"full_name": CUONG[0], "citizen_id": CUONG[1]})
    answer = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))
    assert answer.status_code == 201, answer.get_json()
    assert [p["citizen_id"] for p in answer.get_json()["transferors"]] == [AN[1], CUONG[1]]


# --- gift and inheritance ---------------------------------------------------------------------


def test_a_gift_within_the_family_is_exempt_and_moves_the_holding(app, world):
    client = app.test_client()
    body = dossier_body(world, procedure="gift", relationship="parent_child")
    del body["declared_price"], body["tax_payer_clause"]
    answer = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    assert created["procedure"] == "gift"
    assessment = created["assessment"]
    assert assessment["total"] == 0
    assert "exemption_claimed" in [r["code"] for r in assessment["review_reasons"]]
    _confirm(app, world, created["code"])
    assert _status(app, created["code"]) == "paid"  # nothing to pay
    complete(app, world, created["code"])
    assert holdings_of(app, world.parcel_id)[-1][:3] == (BINH[1], "1/1", True)


def test_an_inheritance_outside_the_family_pays_10_percent_above_the_threshold(app, world):
    client = app.test_client()
    body = dossier_body(world, procedure="inheritance")
    del body["declared_price"], body["tax_payer_clause"]
    answer = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    lines = {line["obligation"]: line for line in created["assessment"]["lines"]}
    # 50 m2 x 200,000,000 x coefficient 1.0 = 10,000,000,000; the heir pays both lines.
    assert lines["personal_income_tax"]["rate"] == "0.10"
    assert lines["personal_income_tax"]["amount"] > 0
    _confirm(app, world, created["code"])
    assert list(_notices(app, created["code"])) == ["transferee"]


def test_the_registry_deadline_comes_from_one_table(app, world):
    from app.deadlines import REGISTRY_DUE_WORKING_DAYS, add_working_days
    from app.services.dossiers import today_local

    client = app.test_client()
    created = _file_api(client, world).get_json()
    days, basis = REGISTRY_DUE_WORKING_DAYS["transfer"]
    assert days == 8 and "151/2025" in basis
    with app.app_context():
        assert created["due_on"] == add_working_days(today_local(), days).isoformat()


# --- change of use ------------------------------------------------------------------------------


def test_a_change_of_use_from_start_to_end(app, world):
    from app.extensions import db
    from app.models import Dossier, Event, Parcel

    parcel = world.add_parcel()
    with app.app_context():
        db.session.get(Parcel, parcel).land_type = "agricultural"
        db.session.commit()
    client = app.test_client()
    answer = client.post("/api/v1/dossiers", headers=token(client, "registry"), json={
        "parcel_id": parcel, "procedure": "change_of_use", "new_land_type": "residential",
        "old_table_price_per_m2": 100_000})
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    assert [h["citizen_id"] for h in created["holders"]] == [AN[1]]
    (line,) = created["assessment"]["lines"]
    # 50 m2 x 200,000,000 x 1.0 - 50 m2 x 100,000 = 9,995,000,000
    assert line["obligation"] == "land_use_levy" and line["amount"] == 9_995_000_000
    _confirm(app, world, created["code"])
    notices = _notices(app, created["code"])
    assert list(notices) == ["holder"]
    mine = client.get("/api/v1/notices", headers=token(client, "an")).get_json()["items"]
    parts = mine[0]["lines"][0]["installments"]
    assert [p["amount"] for p in parts] == [4_997_500_000, 4_997_500_000]
    assert parts[0]["due_on"] < parts[1]["due_on"]
    pay(app, world, notices["holder"][0])
    complete(app, world, created["code"])
    with app.app_context():
        assert db.session.get(Parcel, parcel).land_type == "residential"
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == created["code"]))
        event = db.session.scalar(select(Event).where(Event.dossier_id == dossier.id,
                                                      Event.kind == "dossier_completed"))
        assert (event.data["land_type_before"], event.data["land_type_after"]) == \
            ("agricultural", "residential")
    assert [(cid, share, is_open) for cid, share, is_open, _c in holdings_of(app, parcel)] == \
        [(AN[1], "1/1", True)]


# --- late payment -----------------------------------------------------------------------------


def test_a_notice_paid_after_its_due_date_carries_late_interest(app, world):
    from app.extensions import db
    from app.models import Notice, Receipt

    _code, notice_code = world.file_and_confirm()
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        due, owed = notice.due_on, notice.outstanding
    paid_on = due + timedelta(days=11)
    # From the day after the due date to the day before payment: 10 days at 0.03% a day.
    expected = int((Decimal(owed) * Decimal("0.0003") * 10).quantize(Decimal(1)))
    client = app.test_client()
    with time_machine.travel(datetime(paid_on.year, paid_on.month, paid_on.day, 3, 0), tick=False):
        shown = client.get(f"/api/v1/notices/{notice_code}",
                           headers=token(client, "binh")).get_json()["late_interest_today"]
        assert shown["amount"] == expected
        assert shown["amount_due_today"] == owed + expected
        assert shown["as_of"] == paid_on.isoformat()
        pay(app, world, notice_code)
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        lines = {line.obligation: line for line in notice.lines}
        assert lines["late_interest"].amount == lines["late_interest"].paid == expected
        for line in notice.lines:
            assert line.amount == line.paid - line.refunded + line.outstanding
        assert notice.status.value == "paid"
        receipt = db.session.scalar(select(Receipt).where(Receipt.notice_id == notice.id))
        assert ("late_interest", expected) in [(line["obligation"], line["amount"])
                                               for line in receipt.claims["lines"]]
        assert receipt.claims["total"] == owed + expected
        assert receipt.claims["payer_name"] == BINH[0]
        assert receipt.claims["paid_for"] == [BINH[0]]
        assert receipt.claims["parties"]["transferors"] == [AN[0]]


def test_a_notice_paid_on_time_carries_no_interest(app, world):
    _code, notice_code = world.file_and_confirm()
    client = app.test_client()
    shown = client.get(f"/api/v1/notices/{notice_code}", headers=token(client, "binh")).get_json()
    assert shown["late_interest_today"] is None


# --- bad input writes nothing ------------------------------------------------------------------

BAD = [
    ({"procedure": "sale"}, "procedure"),
    ({"tax_payer_clause": "nobody_pays"}, "tax_payer_clause"),
    ({"transferees": [{"full_name": BINH[0], "citizen_id": BINH[1], "share": "1/2"}]},
     "transferees"),
    ({"transferees": [{"full_name": BINH[0], "citizen_id": BINH[1], "share": 0.5},
                      {"full_name": CUONG[0], "citizen_id": CUONG[1], "share": 0.5}]},
     "transferees[0].share"),
    ({"transferees": [{"full_name": BINH[0], "citizen_id": "123"}]},
     "transferees[0].citizen_id"),
    ({"transferees": []}, "transferees"),
    ({"transferors": [{"full_name": CUONG[0], "citizen_id": CUONG[1]}]},
     "transferors_citizen_id"),
    ({"procedure": "gift", "tax_payer_clause": "seller_pays_all"}, "tax_payer_clause"),
    ({"procedure": "change_of_use", "new_land_type": "residential",
      "old_table_price_per_m2": 1, "tax_payer_clause": "default"}, "transferees"),
]


@pytest.mark.parametrize("changes, field", BAD)
def test_bad_input_is_refused_by_field_and_writes_nothing(app, world, changes, field):
    from app.extensions import db
    from app.models import Dossier, DossierParty, Event, Party

    def counts():
        with app.app_context():
            return [db.session.scalar(select(func.count()).select_from(m))
                    for m in (Dossier, DossierParty, Event, Party)]

    before = counts()
    client = app.test_client()
    body = dossier_body(world, **changes)
    for side in ("transferor", "transferee"):
        if f"{side}s" in changes:
            del body[side]
    answer = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))
    assert answer.status_code in (400, 409, 422), answer.get_json()
    assert field in answer.get_json()["error"]["fields"], answer.get_json()
    assert counts() == before


def test_a_change_of_use_needs_its_new_land_type_and_old_price(app, world):
    client = app.test_client()
    for body, field in (
        ({"parcel_id": world.parcel_id, "procedure": "change_of_use",
          "old_table_price_per_m2": 1}, "new_land_type"),
        ({"parcel_id": world.parcel_id, "procedure": "change_of_use",
          "new_land_type": "commercial"}, "old_table_price_per_m2"),
    ):
        answer = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))
        assert answer.status_code == 422
        assert field in answer.get_json()["error"]["fields"]


# --- grants of the State: recognition, allocation, lease; extension ------------------------


def _bare_parcel(app, world, land_type="residential") -> int:
    """A parcel of REG1 that nobody holds yet (Lê Lợi, 50 m2 at 200,000,000 VND/m2)."""
    from app.extensions import db
    from app.models import Holding, Parcel

    parcel_id = world.add_parcel()
    with app.app_context():
        for holding in db.session.scalars(select(Holding).where(Holding.parcel_id == parcel_id)):
            db.session.delete(holding)
        db.session.get(Parcel, parcel_id).land_type = land_type
        db.session.commit()
    return parcel_id


def _applicant(who=BINH, share=None):
    person = {"full_name": who[0], "citizen_id": who[1]}
    if share is not None:
        person["share"] = share
    return person


def _file(client, body):
    return client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))


def _through(app, world, code):
    """Confirm, pay every notice, complete: the certificate number."""
    _confirm(app, world, code)
    for _role, (notice_code, _lines, status) in _notices(app, code).items():
        if status != "paid":
            pay(app, world, notice_code)
    assert _status(app, code) == "paid"
    return complete(app, world, code)


def _rule(code):
    import tax_calc
    from app.services.dossiers import today_local

    return tax_calc.rule_for(code, today_local()).params


def test_a_recognition_opens_the_applicants_holding_with_a_certificate(app, world):
    parcel = _bare_parcel(app, world)
    client = app.test_client()
    answer = _file(client, {
        "parcel_id": parcel, "procedure": "recognition",
        "recognition_kind": "without_authority_no_payment_proof",
        "transferees": [_applicant(BINH, "1/2"), _applicant(CUONG, "1/2")]})
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    lines = {line["obligation"]: line["amount"] for line in created["assessment"]["lines"]}
    value = 50 * 200_000_000
    share = _rule("land_use_levy_recognition")["share"]
    assert lines == {"land_use_levy": int(value * share),
                     "registration_fee": int(value * _rule("registration_fee")["rate"])}
    assert holdings_of(app, parcel) == []
    certificate = _through(app, world, created["code"])
    assert certificate
    assert holdings_of(app, parcel) == [(BINH[1], "1/2", True, certificate),
                                        (CUONG[1], "1/2", True, certificate)]


def test_a_parcel_with_holders_is_not_recognised_again(app, world):
    client = app.test_client()
    answer = _file(client, {"parcel_id": world.parcel_id, "procedure": "recognition",
                            "recognition_kind": "without_authority_no_payment_proof",
                            "transferee": _applicant(BINH)})
    assert answer.status_code == 422
    assert "parcel_id" in answer.get_json()["error"]["fields"]
    assert "Nguyễn Văn An" in answer.get_json()["error"]["message"]


def test_an_allocation_charges_the_levy_less_the_infrastructure_cost(app, world):
    parcel = _bare_parcel(app, world)
    client = app.test_client()
    answer = _file(client, {"parcel_id": parcel, "procedure": "allocation",
                            "infrastructure_cost_per_m2": 1_000_000,
                            "transferee": _applicant(CUONG)})
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    lines = {line["obligation"]: line["amount"] for line in created["assessment"]["lines"]}
    assert lines["land_use_levy"] == 50 * (200_000_000 - 1_000_000)
    assert set(lines) == {"land_use_levy", "registration_fee"}
    certificate = _through(app, world, created["code"])
    assert holdings_of(app, parcel) == [(CUONG[1], "1/1", True, certificate)]


def test_a_lease_with_one_time_rent_sets_the_term(app, world):
    from app.extensions import db
    from app.models import Parcel
    from app.models.annual import Lease, LeaseRentYear
    from app.services.dossiers import add_months, today_local

    parcel = _bare_parcel(app, world, "commercial")
    with app.app_context():  # the land type's own price row
        from app.models import PriceEntry
        version_id = db.session.scalar(select(PriceEntry.version_id).limit(1))
        db.session.add(PriceEntry(version_id=version_id, price_key="Q1-LE-LOI", position=1,
                                  land_type="commercial", price_per_m2=140_000_000, label="x"))
        db.session.commit()
    client = app.test_client()
    answer = _file(client, {"parcel_id": parcel, "procedure": "lease", "rent_mode": "one_time",
                            "lease_term_years": 35, "transferee": _applicant(BINH)})
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    lines = {line["obligation"]: line["amount"] for line in created["assessment"]["lines"]}
    table_term = _rule("land_rent")["table_term_years"]
    assert lines["land_rent_one_time"] == 50 * 140_000_000 * 35 // table_term
    assert lines["registration_fee"] > 0
    _through(app, world, created["code"])
    with app.app_context():
        lease = db.session.scalar(select(Lease).where(Lease.parcel_id == parcel))
        assert (lease.rent_mode, lease.term_years) == ("one_time", 35)
        assert lease.starts_on == today_local()
        assert lease.ends_on == add_months(today_local(), 35 * 12) - timedelta(days=1)
        assert db.session.get(Parcel, parcel).term_ends_on == lease.ends_on
        assert db.session.scalar(select(func.count()).select_from(LeaseRentYear)) == 0
    assert holdings_of(app, parcel)[0][:3] == (BINH[1], "1/1", True)


def _annual_lease(app, world, client, who=BINH):
    parcel = _bare_parcel(app, world)
    answer = _file(client, {"parcel_id": parcel, "procedure": "lease", "rent_mode": "annual",
                            "lease_term_years": 20, "rent_rate": "0.01",
                            "transferee": _applicant(who)})
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    lines = {line["obligation"]: line["amount"] for line in created["assessment"]["lines"]}
    # The first year's rent; the registration fee exempts land leased with annual rent.
    assert lines == {"land_rent_annual": 50 * 200_000_000 // 100, "registration_fee": 0}
    _through(app, world, created["code"])
    return parcel, created["code"]


def test_annual_rent_is_a_notice_a_year_to_the_lessee_on_record(app, world):
    from app.extensions import db
    from app.models.annual import LeaseRentYear
    from app.services.annual_tax import run_annual_rent
    from app.services.dossiers import today_local

    client = app.test_client()
    parcel, _code = _annual_lease(app, world, client)
    this_year = today_local().year
    with app.app_context():
        assert db.session.scalars(select(LeaseRentYear.year)).all() == [this_year]
        first = run_annual_rent(this_year + 1)
        again = run_annual_rent(this_year + 1)
        assert (first.created, again.created) == (1, 0)
        assert again.already == 1
    mine = client.get("/api/v1/notices", headers=token(client, "binh")).get_json()["items"]
    rent = [n for n in mine if n["lines"][0]["obligation"] == "land_rent_annual"
            and n["total"] == 100_000_000 and n["status"] == "unpaid"]
    assert len(rent) == 1, mine
    # Payable online like any notice: the lessee pays it.
    pay(app, world, rent[0]["code"])
    shown = client.get(f"/api/v1/notices/{rent[0]['code']}", headers=token(client, "binh"))
    assert shown.get_json()["status"] == "paid"
    # The parcel passes to Cường: the next year's rent is his, not Bình's.
    with app.app_context():
        from app.models import Dossier
        from app.services import holdings
        from app.services.dossiers import complete_dossier  # noqa: F401

        dossier = db.session.scalar(select(Dossier).where(Dossier.parcel_id == parcel))
        holdings.move_holdings(dossier, [h.party for h in holdings.current_holdings(parcel)],
                               [(world.user("cuong").party, 1)], datetime.now().astimezone())
        db.session.commit()
        assert run_annual_rent(this_year + 2).created == 1
    theirs = client.get("/api/v1/notices", headers=token(client, "cuong")).get_json()["items"]
    assert [n["lines"][0]["obligation"] for n in theirs] == ["land_rent_annual"]
    # Bình, the lessee of the dossier, no longer sees the parcel's rent.
    mine_now = client.get("/api/v1/notices", headers=token(client, "binh")).get_json()["items"]
    assert theirs[0]["code"] not in [n["code"] for n in mine_now]
    # Cường finds it on his page and may pay it there.
    from tests.conftest import login

    login(client, "cuong")
    assert theirs[0]["code"] in client.get("/me/").get_data(as_text=True)
    page = client.get(f"/me/notices/{theirs[0]['code']}")
    assert page.status_code == 200 and "/pay" in page.get_data(as_text=True)


def test_an_extension_charges_the_surcharge_and_moves_the_term(app, world):
    from datetime import date

    from app.extensions import db
    from app.models import Parcel
    from app.services.dossiers import add_months

    parcel = world.add_parcel()
    with app.app_context():
        db.session.get(Parcel, parcel).term_ends_on = date(2027, 3, 31)
        db.session.commit()
    client = app.test_client()
    answer = _file(client, {"parcel_id": parcel, "procedure": "extension", "months_extended": 6})
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    (line,) = created["assessment"]["lines"]
    rate = _rule("extension_surcharge")["annual_rate"]
    assert line["obligation"] == "extension_surcharge"
    assert line["amount"] == int(50 * 200_000_000 * rate * 6 / 12)
    _through(app, world, created["code"])
    assert list(_notices(app, created["code"])) == ["holder"]
    with app.app_context():
        assert db.session.get(Parcel, parcel).term_ends_on == add_months(date(2027, 3, 31), 6) \
            == date(2027, 9, 30)
    assert [row[:3] for row in holdings_of(app, parcel)] == [(AN[1], "1/1", True)]


GRANT_BAD = [
    ({"procedure": "recognition", "transferee": _applicant()}, "recognition_kind"),
    ({"procedure": "recognition", "recognition_kind": "without_authority_no_payment_proof",
      "transferor": _applicant(AN), "transferee": _applicant()}, "transferors"),
    ({"procedure": "lease", "lease_term_years": 20, "transferee": _applicant()}, "rent_mode"),
    ({"procedure": "lease", "rent_mode": "annual", "lease_term_years": 20, "rent_rate": 0.01,
      "transferee": _applicant()}, "rent_rate"),
    ({"procedure": "lease", "rent_mode": "annual", "lease_term_years": 20, "rent_rate": "0.9",
      "transferee": _applicant()}, "rent_rate"),
    ({"procedure": "lease", "rent_mode": "one_time", "transferee": _applicant()},
     "lease_term_years"),
    ({"procedure": "allocation", "rent_mode": "annual", "transferee": _applicant()}, "rent_mode"),
    ({"procedure": "allocation", "transferee": _applicant("Trần Thị Bình", "079085000002")
      | {"citizen_id": "０７９０８５０００００２"}}, "transferee_citizen_id"),
]


@pytest.mark.parametrize("changes, field", GRANT_BAD)
def test_a_bad_grant_is_refused_by_field_and_writes_nothing(app, world, changes, field):
    from app.extensions import db
    from app.models import Dossier, DossierParty, Event, Holding, Party

    parcel = _bare_parcel(app, world)

    def counts():
        with app.app_context():
            return [db.session.scalar(select(func.count()).select_from(m))
                    for m in (Dossier, DossierParty, Event, Party, Holding)]

    before = counts()
    client = app.test_client()
    answer = _file(client, {"parcel_id": parcel, **changes})
    assert answer.status_code in (400, 409, 422), answer.get_json()
    assert field in answer.get_json()["error"]["fields"], answer.get_json()
    assert counts() == before


def test_an_extension_needs_a_term_and_at_most_the_months_the_law_allows(app, world):
    from app.extensions import db
    from app.models import Dossier, Parcel

    client = app.test_client()
    answer = _file(client, {"parcel_id": world.parcel_id, "procedure": "extension",
                            "months_extended": 6})
    assert answer.status_code == 422
    assert "parcel_id" in answer.get_json()["error"]["fields"]
    with app.app_context():
        db.session.get(Parcel, world.parcel_id).term_ends_on = datetime(2030, 1, 1).date()
        db.session.commit()
    answer = _file(client, {"parcel_id": world.parcel_id, "procedure": "extension",
                            "months_extended": _rule("extension_surcharge")["max_months"] + 1})
    assert answer.status_code == 422
    assert "months_extended" in answer.get_json()["error"]["fields"], answer.get_json()
    answer = _file(client, {"parcel_id": world.parcel_id, "procedure": "extension",
                            "months_extended": 6, "transferee": _applicant()})
    assert "transferees" in answer.get_json()["error"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0


def test_the_registry_form_files_a_lease_and_an_extension(app, world):
    from app.extensions import db
    from app.models import Dossier, Parcel
    from tests.conftest import login, post_form

    parcel = _bare_parcel(app, world)
    client = app.test_client()
    login(client, "registry")
    url = f"/registry/dossiers/new?parcel_id={parcel}"
    assert 'name="rent_mode"' in client.get(url).get_data(as_text=True)
    page = post_form(client, url, "/registry/dossiers/new", {
        "parcel_id": parcel, "procedure": "lease", "transferee_name": BINH[0],
        "transferee_citizen_id": BINH[1], "transferee_share": "1", "rent_mode": "annual",
        "lease_term_years": "20", "rent_rate": "0.01", "tax_payer_clause": "default",
        "relationship": "", "months_extended": "6"})  # another procedure's field: ignored
    assert page.status_code == 302, page.get_data(as_text=True)[:3000]
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.parcel_id == parcel))
        assert (dossier.procedure, dossier.rent_mode, dossier.lease_term_years,
                dossier.rent_rate, dossier.months_extended) == \
            ("lease", "annual", 20, Decimal("0.01"), None)
        assert [p.party.citizen_id for p in dossier.parties] == [BINH[1]]
        code = dossier.code
    shown = client.get(f"/registry/dossiers/{code}").get_data(as_text=True)
    assert 'id="lease-terms"' in shown
    _through(app, world, code)
    # The same page files an extension for the lessee; a bad rate is refused by field.
    page = post_form(client, url, "/registry/dossiers/new", {
        "parcel_id": parcel, "procedure": "lease", "transferee_name": BINH[0],
        "transferee_citizen_id": BINH[1], "rent_mode": "annual", "lease_term_years": "20",
        "rent_rate": "1%", "tax_payer_clause": "default", "relationship": ""})
    assert page.status_code == 422
    page = post_form(client, url, "/registry/dossiers/new", {
        "parcel_id": parcel, "procedure": "extension", "months_extended": "12",
        "tax_payer_clause": "default", "relationship": ""})
    assert page.status_code == 302, page.get_data(as_text=True)[:3000]
    with app.app_context():
        extension = db.session.scalar(select(Dossier).where(Dossier.parcel_id == parcel,
                                                            Dossier.procedure == "extension"))
        term = db.session.get(Parcel, parcel).term_ends_on
        assert (extension.old_term_end, extension.months_extended) == (term, 12)
        assert [p.role for p in extension.parties] == ["holder"]


def test_the_openapi_document_shows_a_request_of_every_procedure(app):
    from app.api import dossier_input
    from app.api.openapi import PROCEDURE_EXAMPLES, document
    from app.services.dossiers import PROCEDURES

    with app.test_request_context():
        schema = document()["paths"]["/dossiers"]["post"]["requestBody"]["content"][
            "application/json"]["schema"]
        assert set(schema["properties"]["procedure"]["enum"]) == set(PROCEDURES)
        shown = {example["procedure"] for example in schema["examples"]}
        assert shown == set(PROCEDURES)
        for example in PROCEDURE_EXAMPLES.values():
            parsed = dossier_input(example)  # the API's own check accepts each
            assert parsed.procedure == example["procedure"]
            for key in set(example) - {"parcel_id", "procedure", "transferor", "transferee",
                                       "transferees"}:
                assert getattr(parsed, key) is not None, key


def test_the_annual_rent_command_shows_progress_and_is_safe_to_rerun(app, world, capsys):
    from app.cli_annual import assess_annual_rent
    from app.extensions import db
    from app.models import Notice
    from app.services.annual_tax import run_annual_rent
    from app.services.dossiers import today_local

    client = app.test_client()
    _annual_lease(app, world, client, BINH)
    _annual_lease(app, world, client, CUONG)
    year = today_local().year + 1
    with app.app_context():
        summary = run_annual_rent(year, progress=True)
        assert (summary.leases_seen, summary.created, summary.total_assessed) == \
            (2, 2, 2 * 100_000_000)
        assert "2/2" in capsys.readouterr().err
        codes = db.session.scalars(select(Notice.code).where(Notice.code.like(f"TD{year}-%"))).all()
        assert len(codes) == 2
    runner = app.test_cli_runner()
    result = runner.invoke(assess_annual_rent, ["--year", str(year), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "notices created: 0; already present: 2" in result.output
    # A year after every lease has ended (20 years) issues nothing.
    result = runner.invoke(assess_annual_rent, ["--year", str(year + 25), "--no-progress"])
    assert "leases with annual rent seen: 0" in result.output


@pytest.mark.parametrize(("typed", "price"), [
    ("12.000.000.000", 12_000_000_000), ("12,000,000,000", 12_000_000_000),
    ("12 000 000 000", 12_000_000_000), ("12000000000", 12_000_000_000),
])
def test_the_form_takes_a_price_as_people_write_it(app, world, typed, price):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Dossier
    from tests.conftest import login, post_form

    client = app.test_client()
    login(client, "registry")
    answer = post_form(client, "/registry/dossiers/new", "/registry/dossiers/new", {
        "parcel_id": world.parcel_id,
        "transferor_name": "Nguyễn Văn An", "transferor_citizen_id": "079080000001",
        "transferee_name": "Trần Thị Bình", "transferee_citizen_id": "079085000002",
        "declared_price": typed, "relationship": "", "tax_payer_clause": "default"})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    with app.app_context():
        assert db.session.scalar(select(Dossier.declared_price)) == price


@pytest.mark.parametrize("typed", ["12.5", "12.000,000", "1.2.3", "mười tỷ", "１２０００"])
def test_the_form_refuses_a_price_it_cannot_read_and_files_nothing(app, world, typed):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Dossier
    from tests.conftest import login, post_form

    client = app.test_client()
    login(client, "registry")
    answer = post_form(client, "/registry/dossiers/new", "/registry/dossiers/new", {
        "parcel_id": world.parcel_id,
        "transferor_name": "Nguyễn Văn An", "transferor_citizen_id": "079080000001",
        "transferee_name": "Trần Thị Bình", "transferee_citizen_id": "079085000002",
        "declared_price": typed, "relationship": "", "tax_payer_clause": "default"})
    assert answer.status_code == 422
    assert 'href="#declared_price"' in answer.get_data(as_text=True)  # in the error summary
    with app.app_context():
        assert db.session.scalar(select(func.count(Dossier.id))) == 0
