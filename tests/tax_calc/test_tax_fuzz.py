"""Any input, a clear answer: arbitrary JSON text, and valid cases with one value replaced by
arbitrary JSON, fed to the command line. The answer is an assessment (exit 0, JSON on
stdout) or one line ``error: FIELD: message`` (exit 2), never an exception."""

from __future__ import annotations

import copy
import io
import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tax_calc.cli import main
from tax_calc.parse import _CASE_KEYS
from tests.json_fuzz import dump, json_values, paths

FUZZ = settings(max_examples=200, deadline=None)

VALID_CASES: list[dict[str, Any]] = [
    {"procedure": "transfer", "valid_on": "2026-11-27", "notice_date": "2026-11-27",
     "province": "HCM", "price_table_version": "HCM-2026.1",
     "parcels": [{"land_type": "residential", "area_m2": "120.5",
                  "table_price_per_m2": 50000000, "adjustment_coefficient": "1.0",
                  "house": {"floor_area_m2": "80", "price_per_m2": 6000000,
                            "remaining_quality": "0.8"}}],
     "declared_price": 8000000000, "relationship": None, "sole_residence_183_days": False},
    {"procedure": "inheritance", "valid_on": "2026-08-01", "relationship": "other",
     "parcels": [{"land_type": "residential", "area_m2": "30", "table_price_per_m2": 1000000}]},
    {"procedure": "allocation", "valid_on": "2026-03-01", "notice_date": "2026-03-01",
     "first_certificate": True, "record_as_debt": False,
     "parcels": [{"land_type": "residential", "area_m2": "100", "table_price_per_m2": 20000000,
                  "adjustment_coefficient": "1.1", "infrastructure_cost_per_m2": 2000000}]},
    {"procedure": "change_of_use", "valid_on": "2026-02-01", "notice_date": "2026-02-01",
     "special_same_parcel": True, "special_case_used_before": False,
     "parcels": [{"land_type": "residential", "area_m2": "500", "table_price_per_m2": 10000000,
                  "old_table_price_per_m2": 100000, "quota_m2": "200"}]},
    {"procedure": "extension", "valid_on": "2026-03-01", "months_extended": "6",
     "parcels": [{"land_type": "production_business", "area_m2": "1000",
                  "table_price_per_m2": 5000000}]},
    {"procedure": "land_rent_annual", "valid_on": "2027-01-01", "tax_year": 2027,
     "rent_rate": "0.01", "rent_installments": 2, "first_year": False,
     "parcels": [{"land_type": "production_business", "area_m2": "1000",
                  "table_price_per_m2": 5000000, "lease": "annual"}]},
    {"procedure": "land_rent_one_time", "valid_on": "2026-03-01", "notice_date": "2026-03-01",
     "table_term_years": 70,
     "parcels": [{"land_type": "commercial", "area_m2": "1000", "table_price_per_m2": 5000000,
                  "lease": "one_time", "lease_term_years": "50"}]},
    {"procedure": "non_agricultural_tax", "valid_on": "2027-01-01", "tax_year": 2027,
     "parcels": [{"land_type": "residential", "area_m2": "500",
                  "table_price_per_m2": 687200000, "quota_m2": "160"},
                 {"land_type": "residential", "area_m2": "80", "table_price_per_m2": 50000000,
                  "apartment": True, "allocation_coefficient": "0.05"}]},
    {"procedure": "consolidated_non_agricultural_tax", "valid_on": "2027-01-01",
     "tax_year": 2027, "paid_per_parcel": [3000000, 320000],
     "parcels": [{"land_type": "residential", "area_m2": "100", "table_price_per_m2": 100000000,
                  "quota_m2": "160", "location": "district-A"},
                 {"land_type": "residential", "area_m2": "400", "table_price_per_m2": 2000000,
                  "quota_m2": "300", "location": "district-B"}]},
    {"procedure": "provincial_fee", "valid_on": "2026-05-01", "province": "HN",
     "fee_schedule_version": "HN-06-2020",
     "fees": [{"fee_code": "certificate_with_house", "category": "urban_household"},
              {"fee_code": "change_registration", "category": "organisation", "quantity": 1,
               "online": False}]},
    {"procedure": "late_interest", "valid_on": "2027-01-06", "amount": 100000000,
     "due_date": "2026-12-27", "paid_on": "2027-01-06"},
]


@st.composite
def mutated_cases(draw) -> str:
    case = copy.deepcopy(draw(st.sampled_from(VALID_CASES)))
    path = draw(st.sampled_from(paths(case)))
    target = case
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = draw(json_values)
    return dump(case)


@st.composite
def arbitrary_texts(draw) -> str:
    text = dump(draw(json_values))
    if draw(st.booleans()):  # and sometimes a broken or deeply nested text
        kind = draw(st.sampled_from(["cut", "deep", "garbage"]))
        if kind == "cut":
            text = text[: draw(st.integers(0, max(0, len(text) - 1)))]
        elif kind == "deep":
            n = draw(st.integers(15, 5000))
            text = "[" * n + text + "]" * n
        else:
            text += draw(st.text(max_size=5))
    return text


KNOWN_FIELD = re.compile(r"(?P<key>[a-z_0-9]+)(\[\d+\])?(\..*)?")


def check_answer(text: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-"], stdin=io.StringIO(text), stdout=out, stderr=err)
    if code == 0:
        result = json.loads(out.getvalue())
        assert err.getvalue() == ""
        assert result["total"] == sum(line["amount"] for line in result["lines"])
        return
    assert code == 2, err.getvalue()
    assert out.getvalue() == ""
    message = err.getvalue()
    assert message.endswith("\n") and message.count("\n") == 1, message
    found = re.fullmatch(r"error: (?P<field>.+?): (?P<message>.+)\n", message)
    assert found, message
    field = found["field"]
    known = KNOWN_FIELD.fullmatch(field)
    assert field in {"json", "case", "data file"} or field.startswith('"') or (
        known is not None and known["key"] in _CASE_KEYS
    ) or found["message"] == "unknown field", message


@FUZZ
@given(mutated_cases())
def test_a_valid_case_with_one_value_replaced_gets_a_clear_answer(text):
    check_answer(text)


@FUZZ
@given(arbitrary_texts())
def test_arbitrary_json_gets_a_clear_answer(text):
    check_answer(text)


def test_every_valid_case_is_assessed():
    for case in VALID_CASES:
        out, err = io.StringIO(), io.StringIO()
        assert main(["-"], stdin=io.StringIO(json.dumps(case)), stdout=out, stderr=err) == 0, \
            err.getvalue()
        assert json.loads(out.getvalue())["lines"]
