"""The rules decide: why an assessment waits for an officer, and when each line falls due.

Review reasons come from the rules engine (never from a copy of a rule in the web app): a
declared price below the floor the PIT rule in force uses (table price, x the adjustment
coefficient from 01/07/2026: Decree 253/2026 art. 57), an exemption resting on the
applicant's claim, a levy recorded as a debt, the once-per-household special levy, a rule
not yet verified against its text. Due dates are terms (days after the notice, or fixed
dates) that ``tax_calc.schedule`` turns into instalments for the notice's date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import tax_calc
from tax_calc import DueTerm
from tests.tax_calc.helpers_tax import transfer_case


def codes(a) -> list[tuple[str, str]]:
    return [(r.code, r.field) for r in a.review_reasons]


# 120.5 m2 x 50,000,000 = 6,025,000,000 table value; x 1.1 = 6,627,500,000 floor from 07/2026
@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # above the table value x coefficient: nothing for an officer
        ({"declared_price": 6_627_500_000}, []),
        # above the table value but below table value x coefficient: the PIT floor of the
        # rule in force is the coefficient's, so the officer must look
        ({"declared_price": 6_500_000_000}, [("declared_price_below_floor", "declared_price")]),
        # before 01/07/2026 the floor is the table value alone: 6,500,000,000 is above it
        ({"declared_price": 6_500_000_000, "valid_on": "2026-06-30",
          "notice_date": "2026-06-30"}, []),
        ({"declared_price": 6_024_999_999, "valid_on": "2026-06-30",
          "notice_date": "2026-06-30"}, [("declared_price_below_floor", "declared_price")]),
        # a family transfer: the PIT exemption rests on the declared relationship
        ({"relationship": "parent_child"}, [("exemption_claimed", "family_transfer")]),
        ({"sole_residence_183_days": True},
         [("exemption_claimed", "sole_residence_183_days")]),
        ({"divorce_split": True}, [("exemption_claimed", "divorce_split")]),
        # the registration fee exemption for resettlement land is a claim too
        ({"registration_fee_exemption": "compensation_resettlement"},
         [("exemption_claimed", "compensation_resettlement")]),
    ],
)
def test_transfer_review_reasons(overrides, expected):
    case = transfer_case(parcel={"adjustment_coefficient": "1.1"}, **overrides)
    assert codes(tax_calc.assess(case)) == expected


def test_annual_lease_exemption_is_a_registry_fact_not_a_claim():
    case = transfer_case(parcel={"lease": "annual", "land_type": "commercial"})
    a = tax_calc.assess(case)
    assert a.line("registration_fee").exemption == "annual_rent_lease"
    assert codes(a) == []


def test_gift_between_relatives_is_a_claim_once():
    case = transfer_case(procedure="gift", relationship="siblings", declared_price=None)
    a = tax_calc.assess(case)
    assert a.total == 0
    assert codes(a) == [("exemption_claimed", "family_inheritance_gift")]
    reason = a.review_reasons[0]
    assert "kiểm tra" in reason.text_vi and "checked" in reason.text_en


def test_levy_reasons():
    debt = tax_calc.assess({
        "procedure": "allocation", "valid_on": "2026-03-01", "record_as_debt": True,
        "first_certificate": True, "parcels": [
            {"land_type": "residential", "area_m2": "100", "table_price_per_m2": 1_000_000},
            {"land_type": "residential", "area_m2": "50", "table_price_per_m2": 1_000_000}]})
    assert codes(debt) == [("levy_recorded_as_debt", "record_as_debt")]
    special = tax_calc.assess({
        "procedure": "change_of_use", "valid_on": "2026-02-01", "special_same_parcel": True,
        "parcels": [{"land_type": "residential", "area_m2": "100", "quota_m2": "160",
                     "table_price_per_m2": 1_000_000, "old_table_price_per_m2": 10_000}]})
    assert codes(special) == [("special_case_once_per_household", "special_same_parcel")]
    plain = tax_calc.assess({
        "procedure": "allocation", "valid_on": "2026-03-01", "parcels": [
            {"land_type": "residential", "area_m2": "100", "table_price_per_m2": 1_000_000}]})
    assert codes(plain) == []


def test_unverified_rule_always_waits():
    a = tax_calc.assess({
        "procedure": "recognition", "valid_on": "2026-03-01",
        "recognition_kind": "without_authority_no_payment_proof",
        "parcels": [{"land_type": "residential", "area_m2": "100",
                     "table_price_per_m2": 30_000_000}]})
    assert codes(a) == [("rule_unverified", "LUL-RC-2025.1")]
    assert a.to_dict()["review_reasons"][0]["code"] == "rule_unverified"


# ---------------------------------------------------------------- due terms and schedules


@pytest.mark.parametrize(
    ("amount", "terms", "notice", "expected"),
    [
        # one term 30 days after the notice (Decree 10/2022; Law 38/2019 art. 55)
        (25_000_000, [DueTerm(Decimal(1), 30)], date(2026, 11, 27),
         ((date(2026, 12, 27), 25_000_000),)),
        # levy: 50% within 30 days, the rest within 90; odd amount, first half rounded up
        (33_300_033, [DueTerm(Decimal("0.5"), 30), DueTerm(Decimal("0.5"), 90)],
         date(2026, 3, 1), ((date(2026, 3, 31), 16_650_017), (date(2026, 5, 30), 16_650_016))),
        # a fixed date does not move with the notice
        (272_000, [DueTerm(Decimal(1), on=date(2027, 10, 31))], date(2027, 1, 5),
         ((date(2027, 10, 31), 272_000),)),
        # not yet issued: the amounts are known, the dates after the notice are not
        (100, [DueTerm(Decimal("0.5"), 30), DueTerm(Decimal("0.5"), on=date(2027, 10, 31))],
         None, ((None, 50), (date(2027, 10, 31), 50))),
        # nothing due on a zero line
        (0, [DueTerm(Decimal(1), 30)], date(2026, 1, 1), ()),
        # across the year end and a leap day: 28/02/2028 + 30 days = 29/03/2028
        (7, [DueTerm(Decimal(1), 30)], date(2028, 2, 28), ((date(2028, 3, 29), 7),)),
    ],
)
def test_schedule_table(amount, terms, notice, expected):
    assert tax_calc.schedule(amount, terms, notice) == expected


def test_line_terms_reproduce_the_line_dates_for_a_later_notice():
    a = tax_calc.assess(transfer_case(notice_date=None))
    line = a.line("registration_fee")
    assert line.due_dates == ()  # no notice yet
    terms = [DueTerm.from_dict(t) for t in line.to_dict()["due_terms"]]
    assert tax_calc.schedule(line.amount, terms, date(2026, 12, 1)) == (
        (date(2020 + 6, 12, 31), line.amount),)


def test_annual_due_date_comes_from_the_rule():
    assert tax_calc.annual_due_date(2027) == date(2027, 10, 31)
    assert tax_calc.annual_due_date(2013, date(2013, 1, 1)) == date(2013, 10, 31)


def test_term_builders_share_equally_unless_told():
    from tax_calc.due import after_notice, on_dates
    assert after_notice(30) == (DueTerm(Decimal(1), 30),)
    assert after_notice(30, 90) == (DueTerm(Decimal("0.5"), 30), DueTerm(Decimal("0.5"), 90))
    assert on_dates(date(2027, 5, 31), date(2027, 10, 31)) == (
        DueTerm(Decimal("0.5"), on=date(2027, 5, 31)),
        DueTerm(Decimal("0.5"), on=date(2027, 10, 31)))
    assert tax_calc.schedule(101, after_notice(30, 90), date(2027, 1, 1)) == (
        (date(2027, 1, 31), 51), (date(2027, 4, 1), 50))
