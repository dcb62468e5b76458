"""Transfer of land use rights: registration fee and personal income tax."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from helpers_tax import transfer_case

import tax_calc


def test_web_app_transfer_case():
    a = tax_calc.assess(transfer_case())
    assert [ln.obligation for ln in a.lines] == ["registration_fee", "personal_income_tax"]
    rf, pit = a.lines
    # table value 120.5 x 50,000,000 = 6,025,000,000 < contract 8,000,000,000
    assert (rf.base, rf.base_method, rf.rate, rf.amount) == (
        8_000_000_000, "contract_price", Decimal("0.005"), 40_000_000)
    assert (pit.base, pit.base_method, pit.rate, pit.amount) == (
        8_000_000_000, "contract_price", Decimal("0.02"), 160_000_000)
    assert a.total == 200_000_000
    assert rf.due_dates == pit.due_dates == (date(2026, 12, 27),)
    assert a.valid_on == date(2026, 11, 27)
    assert a.price_table_version == "HCM-2026.1"
    assert dict(a.rule_versions) == {"registration_fee": "RF-2022.1",
                                     "personal_income_tax": "PIT-2026.07"}
    assert "Decree 10/2022" in rf.legal_basis and "Decree 253/2026" in pit.legal_basis
    assert rf.explanation_vi and rf.explanation_en and pit.rule_version == "PIT-2026.07"


@pytest.mark.parametrize(
    ("valid_on", "coef", "declared", "rf_base", "pit_base", "pit_method", "pit_version"),
    [
        # contract price above every floor
        ("2026-11-27", "1.0", 8_000_000_000, 8_000_000_000, 8_000_000_000, "contract_price",
         "PIT-2026.07"),
        # contract below table: both bases fall back to the table value
        ("2026-11-27", "1.0", 1_000_000_000, 6_025_000_000, 6_025_000_000,
         "table_price_x_adjustment_coefficient_floor", "PIT-2026.07"),
        # after 01/07/2026 the PIT floor is table price x adjustment coefficient (1.2)
        ("2026-07-01", "1.2", 7_000_000_000, 7_000_000_000, 7_230_000_000,
         "table_price_x_adjustment_coefficient_floor", "PIT-2026.07"),
        # before 01/07/2026 the floor is the table price alone: coefficient ignored
        ("2026-06-30", "1.2", 7_000_000_000, 7_000_000_000, 7_000_000_000, "contract_price",
         "PIT-2007.1"),
        ("2025-03-10", "1.5", 1_000_000_000, 6_025_000_000, 6_025_000_000, "table_price_floor",
         "PIT-2007.1"),
    ],
)
def test_bases_by_date_and_floor(valid_on, coef, declared, rf_base, pit_base, pit_method,
                                 pit_version):
    a = tax_calc.assess(transfer_case(valid_on=valid_on, declared_price=declared,
                                      parcel={"adjustment_coefficient": coef}))
    rf, pit = a.lines
    assert rf.base == rf_base and rf.amount == rf_base * 5 // 1000
    assert (pit.base, pit.base_method, pit.rule_version) == (pit_base, pit_method, pit_version)
    assert pit.amount == pit_base * 2 // 100


@pytest.mark.parametrize("relationship", [
    "spouse", "parent_child", "adoptive_parent_child", "parent_in_law_child_in_law",
    "grandparent_grandchild", "siblings",
])
def test_family_transfer_exempt_from_pit_not_from_registration_fee(relationship):
    a = tax_calc.assess(transfer_case(relationship=relationship))
    rf, pit = a.lines
    assert (pit.amount, pit.exemption) == (0, "family_transfer")
    assert pit.due_dates == ()
    assert rf.amount == 40_000_000  # Decree 10/2022 art. 10 exempts gifts, not sales


@pytest.mark.parametrize(
    ("overrides", "exemption"),
    [
        ({"divorce_split": True}, "divorce_split"),
        ({"sole_residence_183_days": True}, "sole_residence_183_days"),
        ({"sole_residence_183_days": True, "whole_transfer": False}, None),
        ({"relationship": "other"}, None),
    ],
)
def test_pit_exemptions(overrides, exemption):
    pit = tax_calc.assess(transfer_case(**overrides)).line("personal_income_tax")
    assert pit.exemption == exemption
    assert (pit.amount == 0) == (exemption is not None)


@pytest.mark.parametrize(
    ("parcel", "extra", "exemption"),
    [
        ({"lease": "annual"}, {}, "annual_rent_lease"),
        ({}, {"registration_fee_exemption": "compensation_resettlement"},
         "compensation_resettlement"),
        ({}, {"registration_fee_exemption": "reissued_certificate"}, "reissued_certificate"),
    ],
)
def test_registration_fee_exemptions(parcel, extra, exemption):
    rf = tax_calc.assess(transfer_case(parcel=parcel, **extra)).line("registration_fee")
    assert (rf.amount, rf.exemption) == (0, exemption)
    assert rf.base > 0  # the line still shows the base that would have applied


def test_sale_of_agricultural_land_pays_the_registration_fee():
    """Decree 10/2022 art. 10(4)-(6) exempt agricultural land the State allocates, leases or
    recognises for farming, exchanges between households and self-reclaimed land; a sale is
    none of these and pays 0.5% (LAW.md item 1)."""
    case = transfer_case(declared_price=0, parcel={
        "land_type": "agricultural", "area_m2": "1000", "table_price_per_m2": 150_000})
    rf = tax_calc.assess(case).line("registration_fee")
    # 1,000 m2 x 150,000 = 150,000,000 x 0.5% = 750,000
    assert (rf.base, rf.amount, rf.exemption) == (150_000_000, 750_000, None)


def test_apartment_uses_allocation_coefficient():
    case = transfer_case(declared_price=0, parcel={
        "apartment": True, "allocation_coefficient": "0.25", "area_m2": "80"})
    rf, pit = tax_calc.assess(case).lines
    # 80 x 50,000,000 x 0.25 = 1,000,000,000
    assert rf.base == 1_000_000_000 and rf.amount == 5_000_000
    assert pit.base == 1_000_000_000 and pit.amount == 20_000_000


def test_one_time_lease_term_fraction():
    case = transfer_case(declared_price=0, parcel={
        "land_type": "commercial", "lease": "one_time", "lease_term_years": "50",
        "area_m2": "70", "table_price_per_m2": 10_000_000})
    rf = tax_calc.assess(case).line("registration_fee")
    # 70 x 10,000,000 x 50/70 = 500,000,000
    assert rf.base == 500_000_000 and rf.amount == 2_500_000
    assert dict(rf.components[0])["method"].endswith("term_over_70")


def test_house_added_to_land_base():
    case = transfer_case(declared_price=0, parcel={
        "house": {"floor_area_m2": "100", "price_per_m2": 7_000_000,
                  "remaining_quality": "0.8"}})
    rf = tax_calc.assess(case).line("registration_fee")
    assert rf.base == 6_025_000_000 + 560_000_000


def test_mixed_parcels_contract_price_pro_rata():
    case = transfer_case(declared_price=10_000_000_000)
    case["parcels"].append({"land_type": "commercial", "area_m2": "1000", "lease": "annual",
                            "table_price_per_m2": 1_025_000})
    rf = tax_calc.assess(case).line("registration_fee")
    # table: 6,025,000,000 residential + 1,025,000,000 leased with annual rent (exempt,
    # Decree 10/2022 art. 10(7)) = 7,050,000,000
    assert rf.base_method == "contract_price_pro_rata_taxable"
    assert rf.exemption is None
    expected = Decimal(10_000_000_000) * Decimal(6_025_000_000) / Decimal(7_050_000_000)
    assert rf.base == tax_calc.round_dong(expected)
    assert rf.amount == tax_calc.round_dong(expected * Decimal("0.005"))


def test_no_notice_date_means_no_due_dates():
    case = transfer_case()
    del case["notice_date"]
    a = tax_calc.assess(case)
    assert all(ln.due_dates == () for ln in a.lines)


def test_price_looked_up_in_the_price_book():
    case = transfer_case(declared_price=0)
    case["parcels"] = [{"land_type": "residential", "area_m2": "10",
                        "zone_code": "HCM-SAIGON-DONG-KHOI", "position": 1}]
    rf = tax_calc.assess(case).line("registration_fee")
    # Resolution 87/2025: Dong Khoi residential 687,200 (x 1,000 VND/m2)
    assert rf.base == 6_872_000_000


def test_assessment_is_reproducible_and_json_safe():
    import json
    a1 = tax_calc.assess(transfer_case())
    a2 = tax_calc.assess(tax_calc.case_from_dict(transfer_case()))
    assert a1 == a2
    d = a1.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["lines"][0]["rate"] == "0.005" and d["valid_on"] == "2026-11-27"
