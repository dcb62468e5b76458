"""The JSON API drives the same flow; bad input gets one error shape and changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.app.bank import notification
from tests.conftest import PASSWORD


def token(client, username):
    response = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201
    return {"Authorization": "Bearer " + response.get_json()["token"]}


def dossier_body(world, **changes):
    body = {
        "parcel_id": world.parcel_id,
        "transferor": {"full_name": "Nguyễn Văn An", "citizen_id": "079080000001"},
        "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"},
        "declared_price": 12_000_000_000,
        "relationship": None,
        "tax_payer_clause": "buyer_pays_all",
    }
    body.update(changes)
    return body


def count(app, model):
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_whole_flow_over_the_api(app, world):
    client = app.test_client()
    registry = token(client, "registry")
    created = client.post("/api/v1/dossiers", json=dossier_body(world), headers=registry)
    assert created.status_code == 201, created.get_json()
    dossier = created.get_json()
    assert dossier["status"] == "awaiting_confirmation"
    assert created.headers["Location"].endswith(f"/api/v1/dossiers/{dossier['code']}")
    lines = {line["obligation"]: line for line in dossier["assessment"]["lines"]}
    assert lines["registration_fee"]["amount"] == 60_000_000
    assert lines["registration_fee"]["legal_basis"]
    assert lines["personal_income_tax"]["explanation"]["vi"]

    tax = token(client, "tax")
    pending = client.get("/api/v1/assessments?status=pending", headers=tax).get_json()["items"]
    assert [a["dossier_code"] for a in pending] == [dossier["code"]]
    notice = client.post(f"/api/v1/assessments/{pending[0]['id']}/confirm", headers=tax)
    assert notice.status_code == 201
    notice = notice.get_json()
    assert notice["total"] == 300_000_000 and notice["status"] == "unpaid"
    again = client.post(f"/api/v1/assessments/{pending[0]['id']}/confirm", headers=tax)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"

    buyer = token(client, "binh")
    payment = client.post(f"/api/v1/notices/{notice['code']}/payments", headers=buyer)
    assert payment.status_code == 201
    payment = payment.get_json()
    assert payment["status"] == "started" and "/checkout?" in payment["redirect_url"]
    assert client.post("/bank/notify", data=notification(payment["ref"], payment["amount"])).get_json()["RspCode"] == "00"
    state = client.get(f"/api/v1/payments/{payment['ref']}", headers=buyer).get_json()
    assert state["status"] == "succeeded" and state["receipt_number"]
    receipt = client.get(f"/api/v1/receipts/{state['receipt_number']}", headers=buyer).get_json()
    verified = client.post("/api/v1/receipts/verify", json={"token": receipt["token"]}).get_json()
    assert verified["valid"] and verified["claims"]["total"] == 300_000_000
    tampered = receipt["token"][:-4] + ("AAAA" if not receipt["token"].endswith("AAAA") else "BBBB")
    refused = client.post("/api/v1/receipts/verify", json={"token": tampered})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "validation_failed"

    done = client.post(f"/api/v1/dossiers/{dossier['code']}/complete", headers=registry)
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    events = client.get(f"/api/v1/dossiers/{dossier['code']}", headers=registry).get_json()["events"]
    assert events[-1]["kind"] == "dossier_completed"


def test_auto_confirmation_issues_the_notice_at_once(app, world):
    client = app.test_client()
    registry2 = token(client, "registry2")
    body = dossier_body(world, parcel_id=world.parcel2_id, declared_price=9_000_000_000)
    dossier = client.post("/api/v1/dossiers", json=body, headers=registry2).get_json()
    assert dossier["status"] == "awaiting_payment"
    assert dossier["assessment"]["auto_confirmed"] is True
    assert dossier["assessment"]["review_reasons"] == []
    assert dossier["notice"]["total"] == 45_000_000 + 180_000_000


def test_price_below_table_always_waits_for_an_officer(app, world):
    client = app.test_client()
    registry2 = token(client, "registry2")
    # Table value: 80 m2 x 100,000,000 = 8 billion; declared 1 billion.
    body = dossier_body(world, parcel_id=world.parcel2_id, declared_price=1_000_000_000)
    dossier = client.post("/api/v1/dossiers", json=body, headers=registry2).get_json()
    assert dossier["status"] == "awaiting_confirmation"
    reasons = dossier["assessment"]["review_reasons"]
    assert [(r["code"], r["field"]) for r in reasons] == [("declared_price_below_floor", "declared_price")]
    assert reasons[0]["text"]["vi"] and reasons[0]["text"]["en"]
    # The table value is the base, not the lower declared price.
    lines = {line["obligation"]: line["amount"] for line in dossier["assessment"]["lines"]}
    assert lines["registration_fee"] == 40_000_000


def test_family_transfer_exempts_income_tax_only(app, world):
    """A sale between parent and child: no income tax; the registration fee exemption is for
    inheritance and gifts, not sales (Decree 10/2022 art. 10). The exemption rests on the
    declared relationship, so it waits for an officer even where auto-confirmation is on."""
    client = app.test_client()
    registry2 = token(client, "registry2")
    body = dossier_body(world, parcel_id=world.parcel2_id, declared_price=9_000_000_000,
                        relationship="parent_child")
    dossier = client.post("/api/v1/dossiers", json=body, headers=registry2).get_json()
    lines = {line["obligation"]: line for line in dossier["assessment"]["lines"]}
    assert lines["personal_income_tax"]["amount"] == 0
    assert lines["registration_fee"]["amount"] == 45_000_000
    assert dossier["status"] == "awaiting_confirmation" and dossier["notice"] is None
    reasons = dossier["assessment"]["review_reasons"]
    assert [(r["code"], r["field"]) for r in reasons] == [("exemption_claimed", "family_transfer")]
    notice = client.post(f"/api/v1/assessments/{dossier['assessment']['id']}/confirm",
                         headers=token(client, "tax2"))
    assert notice.status_code == 201 and notice.get_json()["total"] == 45_000_000


BAD = [
    ("missing parcel", {"parcel_id": None}, "parcel_id"),
    ("parcel of another office", "other-office", "parcel_id"),
    ("negative price", {"declared_price": -5}, "declared_price"),
    ("price as text", {"declared_price": "12000"}, "declared_price"),
    ("price as boolean", {"declared_price": True}, "declared_price"),
    ("short citizen id", {"transferee": {"full_name": "B", "citizen_id": "123"}}, "transferee_citizen_id"),
    ("no transferee", {"transferee": None}, "transferee"),
    ("unknown relationship", {"relationship": "cousin"}, "relationship"),
    ("same person twice", {"transferee": {"full_name": "Nguyễn Văn An", "citizen_id": "079080000001"}},
     "transferee_citizen_id"),
    ("name does not match citizen id", {"transferee": {"full_name": "Someone Else", "citizen_id": "079085000002"}},
     "transferee_name"),
    ("transferor is not the holder", {"transferor": {"full_name": "Lê Văn Cường", "citizen_id": "079070000003"}},
     "transferor_citizen_id"),
]


@pytest.mark.parametrize("case, change, field", BAD, ids=[b[0] for b in BAD])
def test_bad_dossier_input_is_refused_and_changes_nothing(app, world, case, change, field):
    from app.models import Dossier, Event, Party

    client = app.test_client()
    headers = token(client, "registry")
    parties_before = count(app, Party)
    if change == "other-office":
        body = dossier_body(world, parcel_id=world.parcel2_id)
    else:
        body = dossier_body(world, **change)
        if change.get("parcel_id", 0) is None:
            del body["parcel_id"]
    response = client.post("/api/v1/dossiers", json=body, headers=headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and error["message"]
    assert field in error["fields"], error
    assert count(app, Dossier) == 0 and count(app, Event) == 0
    assert count(app, Party) == parties_before


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "null"])
def test_non_object_body_gets_the_error_shape(app, world, body):
    client = app.test_client()
    response = client.post("/api/v1/dossiers", data=body, content_type="application/json",
                           headers=token(client, "registry"))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_failed"


def test_unknown_route_and_method_get_the_error_shape(app):
    client = app.test_client()
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong = client.put("/api/v1/tokens", json={})
    assert wrong.status_code == 405 and "error" in wrong.get_json()


def test_wrong_password_and_revoked_token(app, world):
    client = app.test_client()
    wrong = client.post("/api/v1/tokens", json={"username": "registry", "password": "nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "unauthorized"
    headers = token(client, "registry")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_openapi_document_lists_every_api_route(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {"/api/v1" + path.replace("{", "<").replace("}", ">") for path in doc["paths"]}
    routes = {
        re.sub(r"<int(\([^)]*\))?:", "<", r.rule) for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1/")
    }
    assert routes == documented


@pytest.mark.parametrize("relationship", [
    "spouse", "parent_child", "adoptive_parent_child", "parent_in_law_child_in_law",
    "grandparent_grandchild", "siblings",
])
def test_every_family_relationship_offered_is_understood_by_the_rules(app, world, relationship):
    client = app.test_client()
    body = dossier_body(world, parcel_id=world.parcel2_id, declared_price=9_000_000_000,
                        relationship=relationship)
    response = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry2"))
    assert response.status_code == 201, response.get_json()
    lines = {line["obligation"]: line for line in response.get_json()["assessment"]["lines"]}
    assert lines["personal_income_tax"]["amount"] == 0


def test_the_form_offers_exactly_the_relationships_the_rules_know():
    from app.registry import RELATIONSHIP_CHOICES
    from tax_calc.rules import FAMILY_RELATIONSHIPS

    assert {choice.value for choice in RELATIONSHIP_CHOICES if choice.value} == set(FAMILY_RELATIONSHIPS)


CASE = {"procedure": "transfer", "valid_on": "2026-11-27", "notice_date": "2026-11-27",
        "province": "HCM", "price_table_version": "HCM-2026.1",
        "parcels": [{"land_type": "residential", "area_m2": "120.5",
                     "table_price_per_m2": 50000000, "adjustment_coefficient": "1.0"}],
        "declared_price": 8000000000, "relationship": None, "sole_residence_183_days": False}


def test_assess_any_case_through_the_api(app, world):
    client = app.test_client()
    headers = token(client, "tax")
    result = client.post("/api/v1/tax/assess", json=CASE, headers=headers)
    assert result.status_code == 200
    lines = {line["obligation"]: line for line in result.get_json()["lines"]}
    # 120.5 m2 x 50,000,000 = 6,025,000,000 < 8 billion declared: the contract price is the base.
    assert lines["registration_fee"]["amount"] == 40_000_000
    assert lines["personal_income_tax"]["amount"] == 160_000_000
    bad = client.post("/api/v1/tax/assess", json={**CASE, "parcels": [{**CASE["parcels"][0], "area_m2": "-1"}]},
                      headers=headers)
    assert bad.status_code == 422
    assert any("area_m2" in name for name in bad.get_json()["error"]["fields"])


def test_calculator_page_explains_each_line(app, world):
    import json

    from tests.conftest import login, post_form

    client = app.test_client()
    login(client, "tax")
    page = post_form(client, "/tax/calculator", "/tax/calculator", {"case": json.dumps(CASE)})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "calc-result" in html and "10/2022" in html
    bad = post_form(client, "/tax/calculator", "/tax/calculator", {"case": json.dumps({**CASE, "procedure": "nope"})})
    assert bad.status_code == 422 and "procedure" in bad.get_data(as_text=True)
    broken = post_form(client, "/tax/calculator", "/tax/calculator", {"case": "{not json"})
    assert broken.status_code == 422


def test_stored_case_reproduces_the_assessment_after_a_new_table(app, world):
    """The assessment keeps its case (prices, versions, valid date): re-running it later
    gives the same lines even after a newer price table is imported."""
    from datetime import date

    from sqlalchemy import select

    import tax_calc
    from app.extensions import db
    from app.models import Assessment, PriceEntry, PriceTableVersion

    world.file()
    with app.app_context():
        version = PriceTableVersion(province="HCM", label="HCM-TEST-2", effective_from=date(2026, 6, 1),
                                    source="test", checksum="1" * 64, parameters={})
        db.session.add(version)
        db.session.flush()
        db.session.add(PriceEntry(version_id=version.id, price_key="Q1-LE-LOI", position=1,
                                  land_type="residential", price_per_m2=900_000_000))
        db.session.commit()
        stored = db.session.scalar(select(Assessment))
        again = tax_calc.assess(stored.case)
        assert [(line.obligation, line.amount) for line in again.lines] == [
            (line.obligation, line.amount) for line in stored.lines
        ]
        assert stored.price_table_version == "HCM-TEST-1"
        assert stored.rule_versions["data"]["price_table"] == "HCM-TEST-1"


def test_hostile_receipt_and_case_inputs_get_clear_errors(app, world):
    import base64

    client = app.test_client()
    nested = base64.urlsafe_b64encode(b"[" * 3000).decode().rstrip("=")
    response = client.post("/api/v1/receipts/verify", json={"token": nested + ".e30.AAAA"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "validation_failed"
    huge = client.post("/api/v1/receipts/verify", json={"token": "a." * 6000 + "b"})
    assert huge.status_code == 422
    headers = token(client, "tax")
    big = client.post("/api/v1/tax/assess", headers=headers,
                      json={**CASE, "parcels": [{**CASE["parcels"][0], "area_m2": "1e30"}]})
    assert big.status_code == 422
    assert "parcels[0].area_m2" in big.get_json()["error"]["fields"]


def test_dossiers_filtered_by_status(app, world):
    """``?status=paid`` lists the paid dossiers not yet completed; an unknown state is refused."""
    client = app.test_client()
    code, notice = world.file_and_confirm()
    other_office, _other_notice = world.file_and_confirm(parcel=world.parcel2_id)
    buyer, registry = token(client, "binh"), token(client, "registry")

    def codes(status, headers=registry):
        response = client.get(f"/api/v1/dossiers?status={status}", headers=headers)
        assert response.status_code == 200
        return [d["code"] for d in response.get_json()["items"]]

    assert codes("awaiting_payment") == [code] and codes("paid") == []
    payment = client.post(f"/api/v1/notices/{notice}/payments", headers=buyer).get_json()
    assert client.post("/bank/notify", data=notification(payment["ref"], payment["amount"])).get_json()["RspCode"] == "00"
    assert codes("paid") == [code] and codes("awaiting_payment") == []
    assert codes("completed") == []
    assert client.post(f"/api/v1/dossiers/{code}/complete", headers=registry).status_code == 200
    assert codes("paid") == [] and codes("completed") == [code]
    # Scoping still holds: each office's officer sees only its own.
    assert codes("awaiting_payment", token(client, "registry2")) == [other_office]
    assert codes("completed", token(client, "registry2")) == []
    for bad in ("nope", "", "PAID"):
        refused = client.get(f"/api/v1/dossiers?status={bad}", headers=registry)
        assert refused.status_code == 422, bad
        assert refused.get_json()["error"]["code"] == "validation_failed"
        assert set(refused.get_json()["error"]["fields"]) == {"status"}


@pytest.mark.parametrize("username, citizen_id", [
    ("binh", "079085000002"), ("an", "079080000001"), ("registry", None), ("tax", None), ("admin", None),
])
def test_me_gives_a_landholder_their_own_citizen_id(app, world, username, citizen_id):
    client = app.test_client()
    me = client.get("/api/v1/me", headers=token(client, username)).get_json()
    assert me["username"] == username and me["citizen_id"] == citizen_id


def test_api_reference_page_renders_the_document_without_outside_resources(app):
    client = app.test_client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    document = client.get("/api/v1/openapi.json").get_json()
    for path, methods in document["paths"].items():
        for method in methods:
            assert f"{method.upper()}</span> /api/v1{path}" in html, (method, path)
    assert "<script" not in html
    # Only our own stylesheet and links; nothing is fetched from another host.
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)
    # The public document only: no setting, secret or stored data.
    for secret in (app.config["SECRET_KEY"], app.config["BANK_SECRET"]):
        assert secret not in html


def test_every_operation_lists_the_answers_any_request_may_get(app):
    """A request that cannot be read (400), a body over the limit (413), a failure of ours
    (500): true of every operation, so every operation lists them, with the error shape; so
    does every error it lists."""
    from app.api.openapi import document

    for path, methods in document()["paths"].items():
        for method, op in methods.items():
            answers = op["responses"]
            assert {"400", "413", "500"} <= set(answers), (method, path)
            if op.get("security") != []:
                assert "401" in answers, (method, path)
            if op.get("requestBody") or any(p["in"] == "query" for p in op.get("parameters", ())):
                assert "422" in answers, (method, path)
            for status, answer in answers.items():
                if int(status) >= 400:
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_every_request_example_of_the_document_passes_its_own_check(app):
    from app.api.openapi import PROCEDURE_EXAMPLES, document
    from app.api.validation import StrictValidator

    doc = document()
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            media = (op.get("requestBody") or {}).get("content", {}).get("application/json")
            if not media:
                continue
            validator = StrictValidator({**media["schema"], "components": doc["components"]})
            for example in [media.get("example"), *media["schema"].get("examples", ())]:
                if example is not None and "..." not in str(example):
                    assert not list(validator.iter_errors(example)), (method, path, example)
    assert PROCEDURE_EXAMPLES  # the dossier examples are among them


def test_the_tests_fail_on_an_answer_the_document_does_not_describe(app, world):
    """The checker every API test runs (tests/api_schema.py) refuses a field the document does
    not list, a wrong type and a status the operation does not list."""
    from flask import Response

    from tests.api_schema import problems

    def answer(status, body):
        import json

        return Response(json.dumps(body), status=status, mimetype="application/json")

    me = {"username": "binh", "full_name": "B", "role": "landholder", "office": None, "citizen_id": None}
    assert problems(app, "GET", "/api/v1/me", answer(200, me)) == []
    assert problems(app, "GET", "/api/v1/me", answer(200, {**me, "password_hash": "x"}))
    assert problems(app, "GET", "/api/v1/me", answer(200, {**me, "office": 7}))
    assert problems(app, "GET", "/api/v1/me", answer(418, {"error": {"code": "x", "message": "y"}}))
    assert problems(app, "GET", "/api/v1/me", answer(401, {"error": {"code": "x"}}))
    assert problems(app, "PUT", "/api/v1/me", answer(405, {"error": {"code": "x", "message": "y"}}))
