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
        assert {"obligation": "late_interest", "amount": expected} in receipt.claims["lines"]
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
