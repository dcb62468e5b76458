"""The obligation calculator is a form per procedure: each form's case is the one the API
takes, amounts may be typed with separators, the engine's complaints land on their fields,
and the page links the JSON API for integrators."""

from __future__ import annotations

import json
import re

import pytest

import tax_calc
from app.tax import calculator_forms as calc
from tests.conftest import login, post_form

#: For each procedure, what an officer types, and the total the engine gives for that case.
TYPED = {
    "transfer": ({"valid_on": "2026-11-27", "notice_date": "2026-11-27", "land_type": "residential",
                  "area_m2": "120,5", "table_price_per_m2": "50.000.000", "adjustment_coefficient": "1.0",
                  "declared_price": "8,000,000,000", "relationship": ""}, 200_000_000),
    "inheritance": ({"valid_on": "2026-08-01", "land_type": "residential", "area_m2": "30",
                     "table_price_per_m2": "1000000", "relationship": ""}, 1_150_000),
    "allocation": ({"valid_on": "2026-03-01", "notice_date": "2026-03-01", "land_type": "residential",
                    "area_m2": "100", "table_price_per_m2": "20.000.000", "adjustment_coefficient": "1.1",
                    "infrastructure_cost_per_m2": "2.000.000", "first_certificate": "y"}, 2_000_000_000),
    "change_of_use": ({"valid_on": "2026-02-01", "notice_date": "2026-02-01", "land_type": "residential",
                       "area_m2": "500", "table_price_per_m2": "10000000", "old_table_price_per_m2": "100000",
                       "quota_m2": "200", "special_same_parcel": "y"}, 2_574_000_000),
    "recognition": ({"valid_on": "2026-03-01", "land_type": "residential", "area_m2": "100",
                     "table_price_per_m2": "30000000"}, 2_100_000_000),
    "extension": ({"valid_on": "2026-03-01", "land_type": "production_business", "area_m2": "1000",
                   "table_price_per_m2": "5000000", "months_extended": "6"}, 50_000_000),
    "land_rent_annual": ({"valid_on": "2027-01-01", "tax_year": "2027", "land_type": "production_business",
                          "area_m2": "1000", "table_price_per_m2": "5000000", "rent_rate_percent": "1"},
                         50_000_000),
    "land_rent_one_time": ({"valid_on": "2026-03-01", "notice_date": "2026-03-01", "land_type": "commercial",
                            "area_m2": "1000", "table_price_per_m2": "5000000", "lease_term_years": "50"},
                           3_571_428_571),
    "non_agricultural_tax": ({"valid_on": "2027-01-01", "tax_year": "2027", "land_type": "commercial",
                              "area_m2": "1000", "table_price_per_m2": "10000000"}, 3_000_000),
    "late_interest": ({"valid_on": "2027-01-06", "amount": "100.000.000", "due_date": "2026-12-27",
                       "paid_on": "2027-01-06"}, 270_000),
}


def test_every_procedure_of_the_calculator_has_a_typed_example():
    assert set(TYPED) | {"gift"} == set(calc.PROCEDURES) == set(calc.FIELDS)


@pytest.mark.parametrize("procedure", sorted(TYPED))
def test_each_procedure_form_computes_the_engine_total(app, world, procedure):
    typed, total = TYPED[procedure]
    client = app.test_client()
    login(client, "tax")
    url = f"/tax/calculator?procedure={procedure}"
    page = post_form(client, url, url, typed)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, re.findall(r'class="error"[^>]*>([^<]*)', html) or html[-1500:]
    shown = re.search(r'<pre tabindex="0">(.*?)</pre>', html, re.S).group(1)
    case = json.loads(shown.replace("&#34;", '"').replace("&quot;", '"'))
    assert case["procedure"] == procedure
    assert tax_calc.assess(case).total == total  # the JSON shown is the case computed
    assert 'id="calc-result"' in html
    assert f"{total:,}".replace(",", ".") in html  # the total, in Vietnamese


def test_the_form_shows_labels_in_the_chosen_language_and_links_the_api(app, world):
    client = app.test_client()
    login(client, "tax")
    vi = client.get("/tax/calculator?procedure=transfer").get_data(as_text=True)
    assert 'name="csrf_token"' in vi and 'name="declared_price"' in vi and "/api/v1/docs" in vi
    assert "POST /api/v1/tax/assess" in vi
    assert 'name="months_extended"' not in vi  # only the procedure's own fields
    client.post("/language/en", data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', vi).group(1),
                                      "next": "/tax/calculator"})
    en = client.get("/tax/calculator?procedure=transfer").get_data(as_text=True)
    assert "Declared contract price (VND)" in en


def test_bad_input_is_shown_on_its_field(app, world):
    client = app.test_client()
    login(client, "tax")
    url = "/tax/calculator?procedure=transfer"
    typed = {**TYPED["transfer"][0], "declared_price": "8.000,000", "area_m2": "-3"}
    page = post_form(client, url, url, typed)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert 'id="declared_price-error"' in html and 'id="area_m2-error"' in html
    assert 'href="#declared_price"' in html  # the error summary links the field
    # The engine's own refusal (a notice before the valid date) lands on its field too.
    page = post_form(client, url, url, {**TYPED["transfer"][0], "notice_date": "2026-01-01"})
    assert page.status_code == 422 and 'id="notice_date-error"' in page.get_data(as_text=True)
