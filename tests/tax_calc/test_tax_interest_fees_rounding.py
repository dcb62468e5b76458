"""Late-payment interest, provincial fees and the rounding rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import tax_calc
from tax_calc import CaseError, late_interest, round_dong


@pytest.mark.parametrize(
    ("due", "paid", "days", "expected", "version"),
    [
        # 28/12/2026 .. 05/01/2027 = 9 days x 0.03% x 100,000,000
        (date(2026, 12, 27), date(2027, 1, 6), 9, 270_000, "LI-2026.07"),
        (date(2026, 12, 27), date(2026, 12, 28), 0, 0, "LI-2026.07"),  # paid the day after
        (date(2026, 12, 27), date(2026, 12, 27), 0, 0, "LI-2026.07"),  # paid on time
        # crossing 01/07/2026: 5 days under Law 38/2019, 5 under Decree 252/2026
        (date(2026, 6, 25), date(2026, 7, 6), 10, 300_000, "LI-2019.1+LI-2026.07"),
    ],
)
def test_late_interest(due, paid, days, expected, version):
    line = late_interest(100_000_000, due, paid)
    assert dict(line.inputs)["days"] == days
    assert line.amount == expected and line.rate == Decimal("0.0003")
    assert line.rule_version == version


def test_late_interest_rounds_once():
    # 33,333 x 0.0003 x 7 = 69.9993 -> 70
    assert late_interest(33_333, date(2027, 1, 1), date(2027, 1, 9)).amount == 70


@pytest.mark.parametrize(
    ("args", "field"),
    [((100, date(2027, 1, 10), date(2027, 1, 1)), "paid_on"),
     ((-1, date(2027, 1, 1), date(2027, 1, 10)), "amount"),
     ((100, date(2020, 6, 1), date(2020, 6, 20)), "due_date")],
)
def test_late_interest_errors(args, field):
    with pytest.raises(CaseError) as exc:
        late_interest(*args)
    assert exc.value.field == field


def test_late_interest_case():
    a = tax_calc.assess({"procedure": "late_interest", "valid_on": "2027-01-06",
                         "amount": 100_000_000, "due_date": "2026-12-27",
                         "paid_on": "2027-01-06"})
    assert a.total == 270_000 and dict(a.rule_versions) == {"late_interest": "LI-2026.07"}


def fee_case(**kw):
    return {"procedure": "provincial_fee", "valid_on": "2026-05-01", "province": "HN",
            "fee_schedule_version": "HN-06-2020", **kw}


@pytest.mark.parametrize(
    ("fee_code", "category", "expected"),
    [
        # Hanoi Resolution 06/2020 (amounts as in LAW.md)
        ("certificate_with_house", "urban_household", 100_000),
        ("certificate_with_house", "other_household", 50_000),
        ("certificate_with_house", "organisation", 500_000),
        ("certificate_land_only", "urban_household", 25_000),
        ("certificate_land_only", "other_household", 10_000),
        ("certificate_land_only", "organisation", 100_000),
        ("change_registration", "urban_household", 28_000),
        ("change_registration", "other_household", 14_000),
        ("change_registration", "organisation", 30_000),
    ],
)
def test_hanoi_fees(fee_code, category, expected):
    a = tax_calc.assess(fee_case(fees=[{"fee_code": fee_code, "category": category}]))
    line = a.line("provincial_fee")
    assert line.amount == expected and line.rule_version == "HN-06-2020"
    assert "06/2020" in line.legal_basis


def test_fee_errors():
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(fee_case(fees=[{"fee_code": "nope", "category": "organisation"}]))
    assert exc.value.field == "fees[0]"
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(fee_case(province="HCM", fees=[{"fee_code": "change_registration",
                                                        "category": "organisation"}]))
    assert exc.value.field == "fee_schedule_version"
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(fee_case(fee_schedule_version="XX-1", fees=[
            {"fee_code": "change_registration", "category": "organisation"}]))
    assert exc.value.field == "fee_schedule_version"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.5", 1), ("1.5", 2), ("2.5", 3), ("2.4999", 2), ("0.49", 0), ("99.5", 100),
     ("1234567.5000", 1234568), ("7", 7)],
)
def test_round_half_up_to_dong(value, expected):
    assert round_dong(Decimal(value)) == expected


@pytest.mark.parametrize(("value", "fee"), [(100, 1), (99, 0), (300, 2), (301, 2), (500, 3)])
def test_registration_fee_line_rounds_half_up(value, fee):
    # value x 0.5%: 100 -> 0.5 -> 1; 99 -> 0.495 -> 0; 300 -> 1.5 -> 2; 500 -> 2.5 -> 3
    a = tax_calc.assess({"procedure": "gift", "valid_on": "2026-08-01", "relationship": "other",
                         "parcels": [{"land_type": "residential", "area_m2": "1",
                                      "table_price_per_m2": value}]})
    line = a.line("registration_fee")
    assert line.amount == fee and line.rounding == tax_calc.ROUNDING_RULE


def test_rounding_is_once_per_line_not_per_component():
    # two parcels, each 0.4 dong of fee: rounded per parcel would be 0, once per line is 1
    a = tax_calc.assess({"procedure": "gift", "valid_on": "2026-08-01", "relationship": "other",
                         "parcels": [{"land_type": "residential", "area_m2": "1",
                                      "table_price_per_m2": 80}] * 2})
    assert a.line("registration_fee").amount == 1
