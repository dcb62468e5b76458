"""Land use levy, extension surcharge and land rent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import tax_calc
from tax_calc import CaseError


def case(procedure, valid_on="2026-03-01", notice_date="", parcels=None, **kw):
    d = {"procedure": procedure, "valid_on": valid_on, "notice_date": notice_date or valid_on,
         "parcels": parcels or [], **kw}
    if notice_date is None:
        del d["notice_date"]
    return d


def test_allocation_with_infrastructure_deduction_and_two_installments():
    a = tax_calc.assess(case("allocation", parcels=[{
        "land_type": "residential", "area_m2": "100", "table_price_per_m2": 20_000_000,
        "adjustment_coefficient": "1.1", "infrastructure_cost_per_m2": 2_000_000}]))
    ln = a.line("land_use_levy")
    # 100 x (20,000,000 x 1.1 - 2,000,000) = 2,000,000,000
    assert ln.amount == ln.base == 2_000_000_000
    assert ln.due_dates == (date(2026, 3, 31), date(2026, 5, 30))
    assert ln.installments == ((date(2026, 3, 31), 1_000_000_000),
                               (date(2026, 5, 30), 1_000_000_000))


def test_installments_split_an_odd_amount_exactly():
    ln = tax_calc.assess(case("allocation", parcels=[{
        "land_type": "residential", "area_m2": "33.3", "table_price_per_m2": 1_000_001}]
    )).line("land_use_levy")
    assert ln.amount == 33_300_033  # 33,300,033.3 rounded half up once
    assert [x for _, x in ln.installments] == [16_650_017, 16_650_016]


def test_infrastructure_cost_above_price_gives_zero():
    ln = tax_calc.assess(case("allocation", parcels=[{
        "land_type": "residential", "area_m2": "10", "table_price_per_m2": 1_000_000,
        "infrastructure_cost_per_m2": 2_000_000}])).line("land_use_levy")
    assert ln.amount == 0 and ln.installments == ()


@pytest.mark.parametrize(
    ("parcel", "expected"),
    [
        # agricultural land allocated free: levy at the new use less area x agricultural price
        ({"old_table_price_per_m2": 100_000}, 1_980_000_000),
        # land money paid before is deducted
        ({"old_land_money": 500_000_000}, 1_500_000_000),
        # never below zero
        ({"old_land_money": 5_000_000_000}, 0),
    ],
)
def test_change_of_use_general(parcel, expected):
    p = {"land_type": "residential", "area_m2": "200", "table_price_per_m2": 10_000_000, **parcel}
    ln = tax_calc.assess(case("change_of_use", parcels=[p])).line("land_use_levy")
    assert ln.amount == expected


@pytest.mark.parametrize(
    ("area", "expected"),
    [
        # difference per m2 = 10,000,000 - 100,000 = 9,900,000; quota 200 m2
        ("150", 150 * 9_900_000 * 30 // 100),                       # all within the quota
        ("300", (200 * 30 + 100 * 50) * 9_900_000 // 100),           # into the second quota
        ("500", (200 * 30 + 200 * 50 + 100 * 100) * 9_900_000 // 100),  # beyond two quotas
    ],
)
def test_change_of_use_special_30_50_100(area, expected):
    ln = tax_calc.assess(case("change_of_use", valid_on="2026-02-01", special_same_parcel=True,
                              parcels=[{"land_type": "residential", "area_m2": area,
                                        "table_price_per_m2": 10_000_000,
                                        "old_table_price_per_m2": 100_000,
                                        "quota_m2": "200"}])).line("land_use_levy")
    assert ln.amount == expected
    assert ln.rule_version == "LUL-CU-2026.01"
    assert "Resolution 254/2025" in ln.legal_basis
    assert sum(x for _, x in ln.installments) == expected


@pytest.mark.parametrize(
    ("kw", "valid_on", "field"),
    [
        ({"special_case_used_before": True}, "2026-02-01", "special_same_parcel"),
        ({}, "2025-12-31", "special_same_parcel"),  # Resolution 254 applies from 01/01/2026
    ],
)
def test_change_of_use_special_refused(kw, valid_on, field):
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(case("change_of_use", valid_on=valid_on, special_same_parcel=True,
                             parcels=[{"land_type": "residential", "area_m2": "100",
                                       "table_price_per_m2": 1_000_000,
                                       "old_table_price_per_m2": 1000, "quota_m2": "200"}],
                             **kw))
    assert exc.value.field == field


def test_recognition_without_authority_70_percent():
    ln = tax_calc.assess(case("recognition", recognition_kind="without_authority_no_payment_proof",
                              parcels=[{"land_type": "residential", "area_m2": "100",
                                        "table_price_per_m2": 30_000_000}])).line("land_use_levy")
    assert (ln.base, ln.rate, ln.amount) == (3_000_000_000, Decimal("0.70"), 2_100_000_000)
    assert "Decree 291/2025" in ln.legal_basis


def _debt_case(valid_on="2026-03-01", first=True):
    return case("allocation", valid_on=valid_on, record_as_debt=True, first_certificate=first,
                parcels=[{"land_type": "residential", "area_m2": "100",
                          "table_price_per_m2": 1_000_000}])


def test_levy_recorded_as_debt():
    a = tax_calc.assess(_debt_case())
    ln = a.line("land_use_levy")
    assert ln.amount == 100_000_000 and ln.due_dates == () and ln.installments == ()
    assert dict(ln.inputs)["recorded_as_debt"] is True
    assert dict(a.rule_versions)["land_use_levy_debt"] == "LUL-DEBT-2024.08"


@pytest.mark.parametrize(("valid_on", "first"), [("2029-08-01", True), ("2026-03-01", False)])
def test_levy_debt_refused(valid_on, first):
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(_debt_case(valid_on, first))
    assert exc.value.field == "record_as_debt"


@pytest.mark.parametrize(("months", "expected"), [("6", 50_000_000), ("7", 58_333_333),
                                                  ("12", 100_000_000)])
def test_extension_surcharge(months, expected):
    # 1,000 m2 x 5,000,000 x 2% x months / 12
    ln = tax_calc.assess(case("extension", months_extended=months, parcels=[{
        "land_type": "production_business", "area_m2": "1000",
        "table_price_per_m2": 5_000_000}])).line("extension_surcharge")
    assert ln.amount == expected


RENT_PARCEL = {"land_type": "production_business", "area_m2": "1000",
               "table_price_per_m2": 5_000_000, "lease": "annual"}


@pytest.mark.parametrize(
    ("kw", "due", "installments"),
    [
        ({"first_year": True}, (date(2026, 3, 31),), (50_000_000,)),
        ({"tax_year": 2027}, (date(2027, 5, 31),), (50_000_000,)),
        ({"tax_year": 2027, "rent_installments": 2}, (date(2027, 5, 31), date(2027, 10, 31)),
         (25_000_000, 25_000_000)),
    ],
)
def test_annual_rent_and_due_dates(kw, due, installments):
    ln = tax_calc.assess(case("land_rent_annual", rent_rate="0.01", parcels=[RENT_PARCEL],
                              **kw)).line("land_rent_annual")
    assert ln.amount == 50_000_000 and ln.rate == Decimal("0.01")
    assert ln.due_dates == due
    assert tuple(x for _, x in ln.installments) == installments


@pytest.mark.parametrize("rate", ["0.002", "0.031", "0.5"])
def test_annual_rent_rate_outside_the_national_range(rate):
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(case("land_rent_annual", rent_rate=rate, parcels=[RENT_PARCEL]))
    assert exc.value.field == "rent_rate"


@pytest.mark.parametrize(("term", "expected"), [("50", 3_571_428_571), ("70", 5_000_000_000),
                                                ("35", 2_500_000_000)])
def test_one_time_rent_term_fraction(term, expected):
    ln = tax_calc.assess(case("land_rent_one_time", parcels=[{
        **RENT_PARCEL, "lease": "one_time", "lease_term_years": term}])).line("land_rent_one_time")
    assert ln.amount == expected and ln.due_dates == (date(2026, 3, 31),)
