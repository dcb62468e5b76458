"""Hypothesis strategies for arbitrary JSON text, shared by the fuzz tests of the tax CLI and
of the API: values of every JSON type, number literals far past Python's and Decimal's
limits, hostile text, and the key paths of a case to mutate one at a time."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st


class Raw:
    """A number literal written into the JSON text as is (it may be far too long for
    Python's json module to write from an int)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"Raw({self.text[:40]!r}{'...' if len(self.text) > 40 else ''})"


def dump(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    return json.dumps(value)


number_literals = st.one_of(
    st.from_regex(r"-?(0|[1-9][0-9]{0,40})(\.[0-9]{1,12})?([eE][+-]?[0-9]{1,12})?",
                  fullmatch=True),
    st.integers(1, 6000).map(lambda n: "9" * n),  # past Python's 4,300 digits
    st.sampled_from(["100000000", "100000000.000001", "10000000000", "10000000001",
                     "1000000000000000", "1000000000000001", "24", "25", "99", "100", "1000",
                     "1001", "0", "-1", "2012", "2028", "2090", "1e999999999", "1e-7"]),
)
texts = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(categories=["Cc", "Cf", "Co", "Cs", "Zl"]), max_size=4),
    st.sampled_from(["2026-11-27", "1999-12-31", "2101-01-01", "2026-02-30", "transfer",
                     "residential", "one_time", "120.5", "1e30", "9" * 40, "x" * 101, "NaN"]),
)
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), number_literals.map(Raw), texts,
)
json_values = st.recursive(
    leaves,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children,
                                                                       max_size=4),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path inside a case (dict keys and list indices)."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.append(prefix + (k,))
            found.extend(paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.append(prefix + (i,))
            found.extend(paths(v, prefix + (i,)))
    return found


#: One valid case of every procedure, to mutate one value at a time.
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
