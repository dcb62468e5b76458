"""Inheritance and gifts: registration fee and personal income tax above the threshold."""

from __future__ import annotations

import pytest

import tax_calc


def gift(procedure="gift", valid_on="2026-08-01", relationship="other", price=1_000_000,
         area="30", coef="1.0"):
    return {"procedure": procedure, "valid_on": valid_on, "notice_date": valid_on,
            "relationship": relationship,
            "parcels": [{"land_type": "residential", "area_m2": area,
                         "table_price_per_m2": price, "adjustment_coefficient": coef}]}


@pytest.mark.parametrize(
    ("valid_on", "threshold", "version"),
    [("2026-06-30", 10_000_000, "PIT-2007.1"), ("2026-07-01", 20_000_000, "PIT-2026.07")],
)
@pytest.mark.parametrize("procedure", ["gift", "inheritance"])
def test_threshold_by_date(procedure, valid_on, threshold, version):
    a = tax_calc.assess(gift(procedure, valid_on))
    pit = a.line("personal_income_tax")
    # value 30 x 1,000,000 = 30,000,000
    assert pit.rule_version == version
    assert pit.base == 30_000_000 - threshold
    assert pit.amount == (30_000_000 - threshold) // 10
    assert a.line("registration_fee").amount == 150_000


def test_value_below_threshold_gives_zero():
    pit = tax_calc.assess(gift(area="15")).line("personal_income_tax")
    assert pit.base == 0 and pit.amount == 0


@pytest.mark.parametrize("relationship", ["spouse", "parent_child", "grandparent_grandchild",
                                          "siblings", "parent_in_law_child_in_law",
                                          "adoptive_parent_child"])
@pytest.mark.parametrize("procedure", ["gift", "inheritance"])
def test_family_exempt_from_both(procedure, relationship):
    a = tax_calc.assess(gift(procedure, relationship=relationship, area="3000"))
    assert [ln.exemption for ln in a.lines] == ["family_inheritance_gift"] * 2
    assert a.total == 0
