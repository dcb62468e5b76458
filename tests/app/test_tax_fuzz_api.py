"""Any input, a clear answer, over the API: POST /api/v1/tax/assess with arbitrary JSON, and
with valid cases with one value replaced by arbitrary JSON, answers 200 with an assessment or
400/422 with the one JSON error shape, never 500. The calculator page likewise."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.app.test_api import CASE, token
from tests.json_fuzz import VALID_CASES, dump, json_values, paths

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

#: The web app's transfer case, then a valid case of every procedure.
CASES: list[dict[str, Any]] = [CASE, *VALID_CASES[1:]]


@st.composite
def bodies(draw) -> str:
    if draw(st.booleans()):
        return dump(draw(json_values))
    case = copy.deepcopy(draw(st.sampled_from(CASES)))
    path = draw(st.sampled_from(paths(case)))
    target = case
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = draw(json_values)
    return dump(case)


def check_answer(response) -> None:
    assert response.status_code in {200, 400, 422}, (response.status_code,
                                                     response.get_data(as_text=True)[:300])
    body = response.get_json()
    if response.status_code == 200:
        assert body["total"] == sum(line["amount"] for line in body["lines"])
        return
    error = body["error"]
    assert set(error) <= {"code", "message", "fields"}
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    if "fields" in error:
        assert error["fields"] and all(isinstance(k, str) and isinstance(v, str)
                                       for k, v in error["fields"].items())


@pytest.fixture
def tax_headers(app, world):
    return token(app.test_client(), "tax")


@FUZZ
@given(body=bodies())
def test_any_body_gets_an_assessment_or_the_error_shape(app, tax_headers, body):
    response = app.test_client().post("/api/v1/tax/assess", data=body.encode("utf-8", "surrogatepass"),
                                      content_type="application/json", headers=tax_headers)
    check_answer(response)


@pytest.mark.parametrize(("body", "field"), [
    ("[" * 100_000 + "]" * 100_000, "json"),
    (json.dumps(CASE).replace("8000000000", "9" * 5000), "declared_price"),
    (json.dumps({**CASE, "parcels": [{**CASE["parcels"][0], "area_m2": "10000000000000",
                                      "table_price_per_m2": 10**15}]}), "parcels[0].area_m2"),
    (json.dumps({**CASE, "parcels": [{**CASE["parcels"][0], "adjustment_coefficient": "1000"}]}),
     "parcels[0].adjustment_coefficient"),
    (json.dumps({**CASE, "notice_date": "2026-01-01"}), "notice_date"),
    (json.dumps({"procedure": "extension", "valid_on": "2026-03-01", "months_extended": "1000",
                 "parcels": [{"land_type": "production_business", "area_m2": "1000",
                              "table_price_per_m2": 5000000}]}), "months_extended"),
    ("{not json", "json"),
    (b"\xff\xfe{}", "json"),
])
def test_hostile_bodies_name_the_field(app, tax_headers, body, field):
    data = body if isinstance(body, bytes) else body.encode()
    response = app.test_client().post("/api/v1/tax/assess", data=data,
                                      content_type="application/json", headers=tax_headers)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error


def test_decimals_written_as_json_numbers_are_exact(app, tax_headers):
    """Flask would read 120.5 as a float (refused); the engine's reader keeps it a decimal."""
    body = json.dumps(CASE).replace('"120.5"', "120.5")
    response = app.test_client().post("/api/v1/tax/assess", data=body,
                                      content_type="application/json", headers=tax_headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["lines"][1]["amount"] == 160_000_000


@pytest.mark.parametrize(("text", "shown"), [
    ("[" * 30_000 + "]" * 30_000, "nested more than"),  # URL-encoded: 180 KB, under the limit
    (json.dumps(CASE).replace("8000000000", "9" * 5000), "declared_price"),
    (json.dumps({**CASE, "parcels": [{**CASE["parcels"][0], "area_m2": "10000000000000",
                                      "table_price_per_m2": 10**15}]}), "parcels[0].area_m2"),
    (json.dumps({**CASE, "notice_date": "2026-01-01"}), "notice_date"),
    ("[1, 2]", "calc-error"),
])
def test_calculator_page_answers_hostile_cases_with_a_message(app, world, text, shown):
    from tests.conftest import login, post_form

    client = app.test_client()
    login(client, "tax")
    page = post_form(client, "/tax/calculator", "/tax/calculator", {"case": text})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert 'id="calc-error"' in html and shown in html, html[-2000:]
