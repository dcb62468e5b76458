"""Non-agricultural land use tax: per parcel, fast path and consolidated declaration.

Rates: Law 48/2010/QH12 art. 7 and Circular 153/2011/TT-BTC art. 7 (residential land:
within the quota 0.03%; the area in excess of the quota by at most 3 quotas, i.e. from Q to
4Q in total, 0.07%; beyond 4Q 0.15%; Circular 153/2011 art. 8 example 6 settles the reading).
The consolidated declaration follows Circular 153/2011 art. 8 point 1.2: per-parcel filing
where each parcel lies, then a consolidated filing at the tax office the taxpayer chooses,
where the chosen quota applies to the total area (as summarised in the General Department of
Taxation's letter 2872/TCT-CS of 2013). The circular's own worked examples are in
test_tax_official_examples.py; the examples below are constructed with the same method and
computed by hand in the comments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import tax_calc
from tax_calc import CaseError, annual_non_agricultural_tax, non_agricultural_tax_line

LATE_2026 = date(2026, 11, 1)
EARLY_2026 = date(2026, 6, 30)
EARLY_2020 = date(2020, 6, 30)


@pytest.mark.parametrize(
    ("area", "price", "quota", "kind", "coef", "on", "expected"),
    [
        # Dong Khoi (687,200,000 VND/m2), HCM inner quota 160 m2, 500 m2 (below 4Q = 640):
        # 160 x 0.03% + 340 x 0.07% = 0.286 m2 -> 196,539,200
        ("500", 687_200_000, "160", "residential", None, LATE_2026, 196_539_200),
        # 700 m2: 160 x 0.03% + 480 x 0.07% + 60 x 0.15% = 0.474 m2 -> 325,732,800
        ("700", 687_200_000, "160", "residential", None, LATE_2026, 325_732_800),
        # exactly 4Q = 640 m2: 160 x 0.03% + 480 x 0.07% = 0.384 m2 -> 263,884,800
        ("640", 687_200_000, "160", "residential", None, LATE_2026, 263_884_800),
        # 640.01 m2: the last 0.01 m2 at 0.15% -> 263,884,800 + 10,308 = 263,895,108
        ("640.01", 687_200_000, "160", "residential", None, LATE_2026, 263_895_108),
        # 160.01 m2: the last 0.01 m2 at 0.07% -> 32,985,600 + 4,810.4 = 32,990,410
        ("160.01", 687_200_000, "160", "residential", None, LATE_2026, 32_990_410),
        ("160", 687_200_000, "160", "residential", None, LATE_2026, 32_985_600),
        ("480", 1_000_000, "160", "residential", None, LATE_2026, 272_000),
        # 50,000 VND or less: exempt from 01/07/2020 (Law 38/2019 art. 79(2)(a)) and from
        # 01/07/2026 (Law 108/2025 art. 19(1)(b); Decree 252/2026 art. 32(2)(c)); before
        # 01/07/2020 no exemption
        ("50", 2_000_000, "200", "residential", None, LATE_2026, 0),
        ("50", 2_000_000, "200", "residential", None, EARLY_2026, 0),
        ("50", 2_000_000, "200", "residential", None, date(2020, 7, 1), 0),
        ("50", 2_000_000, "200", "residential", None, date(2020, 6, 30), 30_000),
        # exactly 50,000 is exempt, 50,001 is not
        ("100", 1_666_667, "200", "residential", None, LATE_2026, 50_000 and 0),
        # apartment: 80 m2 x 0.05 x 50,000,000 x 0.03% = 60,000
        ("80", 50_000_000, None, "apartment", "0.05", LATE_2026, 60_000),
        ("1000", 10_000_000, None, "business", None, LATE_2026, 3_000_000),
        ("1000", 10_000_000, None, "misused", None, LATE_2026, 15_000_000),
        ("1000", 10_000_000, None, "unused", None, LATE_2026, 15_000_000),
        ("1000", 10_000_000, None, "encroached", None, LATE_2026, 20_000_000),
    ],
)
def test_annual_tax_table(area, price, quota, kind, coef, on, expected):
    assert annual_non_agricultural_tax(area, price, quota, kind, coef, on) == expected
    line = non_agricultural_tax_line(area, price, quota, kind, coef, on)
    assert line.amount == expected


def test_small_exemption_boundary():
    # 100 x 1,666,667 x 0.03% = 50,000.01 -> 50,000 -> exempt
    assert annual_non_agricultural_tax("100", 1_666_667, "200", valid_on=LATE_2026) == 0
    # 100 x 1,666,684 x 0.03% = 50,000.52 -> 50,001 -> due
    assert annual_non_agricultural_tax("100", 1_666_684, "200", valid_on=LATE_2026) == 50_001


def test_line_explains_brackets_and_rounds_once():
    line = non_agricultural_tax_line("700.25", 1_234_567, "160", valid_on=LATE_2026)
    parts = [dict(c) for c in line.components]
    assert [(p["bracket"], p["area_m2"]) for p in parts] == [
        ("within_quota", Decimal(160)), ("above_quota_to_4x", Decimal(480)),
        ("above_4x_quota", Decimal("60.25"))]
    assert line.amount == tax_calc.round_dong(sum(p["amount_exact"] for p in parts))
    assert line.base_method == "progressive_residential"
    assert line.rule_version == "NAT-2026.07"


def test_due_dates():
    first = non_agricultural_tax_line("500", 1_000_000, "160", valid_on=LATE_2026,
                                      notice_date=date(2026, 11, 2), first_year=True)
    later = non_agricultural_tax_line("500", 1_000_000, "160", valid_on=LATE_2026, tax_year=2027)
    assert first.due_dates == (date(2026, 12, 2),)
    assert later.due_dates == (date(2027, 10, 31),)


def test_assess_non_agricultural_case():
    a = tax_calc.assess({
        "procedure": "non_agricultural_tax", "valid_on": "2027-01-01", "tax_year": 2027,
        "parcels": [
            {"land_type": "residential", "area_m2": "500", "table_price_per_m2": 687_200_000,
             "quota_m2": "160"},
            {"land_type": "commercial", "area_m2": "1000", "table_price_per_m2": 10_000_000},
            {"land_type": "residential", "area_m2": "100", "table_price_per_m2": 10_000_000,
             "use_status": "encroached"},
        ]})
    assert [ln.amount for ln in a.lines] == [196_539_200, 3_000_000, 2_000_000]
    assert all(ln.due_dates == (date(2027, 10, 31),) for ln in a.lines)


def consolidated(paid=None):
    d = {"procedure": "consolidated_non_agricultural_tax", "valid_on": "2027-01-01",
         "tax_year": 2027, "parcels": [
             {"land_type": "residential", "area_m2": "100", "table_price_per_m2": 100_000_000,
              "quota_m2": "160", "location": "district-A"},
             {"land_type": "residential", "area_m2": "400", "table_price_per_m2": 2_000_000,
              "quota_m2": "300", "location": "district-B"}]}
    if paid is not None:
        d["paid_per_parcel"] = paid
    return d


def test_consolidated_declaration_example():
    """Constructed example, method of Circular 153/2011 art. 8(1.2).

    Per parcel: A 100 m2 x 100,000,000 x 0.03% = 3,000,000;
                B 300 m2 x 2,000,000 x 0.03% + 100 m2 x 2,000,000 x 0.07% = 320,000.
    Consolidated, 500 m2 in total. Only B exceeds its own quota (400 > 300; A's 100 < 160),
    so only B's quota may be chosen (Circular 153/2011 art. 8 example 5), although A's
    would be cheaper (3,544,000); B's parcel comes first (form 03/TKTH-SDDPNN):
      quota of B (300): B 300 @0.03% 180,000, 100 @0.07% 140,000; A 100 @0.07% 7,000,000
                         -> 7,320,000
    Additional due: 7,320,000 - 3,320,000 = 4,000,000.
    """
    a = tax_calc.assess(consolidated())
    per = [ln.amount for ln in a.lines if ln.obligation == "non_agricultural_tax"]
    assert per == [3_000_000, 320_000]
    extra = a.to_dict()["consolidated"]
    assert [(o["location"], o["amount"]) for o in extra["options"]] == [
        ("district-B", 7_320_000)]
    assert extra["chosen_location"] == "district-B" and extra["consolidated_tax"] == 7_320_000
    add = a.line("non_agricultural_tax_consolidated")
    assert add.amount == 4_000_000 and add.due_dates == (date(2027, 10, 31),)
    assert a.total == 7_320_000


def test_consolidated_any_quota_when_no_parcel_exceeds_its_own():
    """Circular 153/2011 art. 8 example 4's rule: with every parcel within its own quota,
    any location's quota may be chosen; the cheaper is A's.
      quota of A (160): A 100 @0.03% 3,000,000; B 60 @0.03% 36,000, 240 @0.07% 336,000
                         -> 3,372,000
      quota of B (300): B 300 @0.03% 180,000; A 100 @0.07% 7,000,000 -> 7,180,000
    """
    d = consolidated()
    d["parcels"][1]["area_m2"] = "300"
    a = tax_calc.assess(d)
    extra = a.to_dict()["consolidated"]
    assert sorted((o["location"], o["amount"]) for o in extra["options"]) == [
        ("district-A", 3_372_000), ("district-B", 7_180_000)]
    assert extra["chosen_location"] == "district-A"
    assert a.line("non_agricultural_tax_consolidated").amount == 3_372_000 - 3_000_000 - 180_000


def test_consolidated_with_payments_already_made():
    a = tax_calc.assess(consolidated(paid=[3_000_000, 4_320_000]))
    assert a.line("non_agricultural_tax_consolidated").amount == 0
    assert a.to_dict()["consolidated"]["difference"] == 0


def test_consolidated_needs_quota_and_residential():
    d = consolidated()
    del d["parcels"][1]["quota_m2"]
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(d)
    assert exc.value.field == "parcels[1].quota_m2"
    d = consolidated()
    d["parcels"][0]["land_type"] = "commercial"
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(d)
    assert exc.value.field == "parcels[0].land_type"


def test_agricultural_land_not_taxed_here():
    with pytest.raises(CaseError) as exc:
        tax_calc.assess({"procedure": "non_agricultural_tax", "valid_on": "2027-01-01",
                         "parcels": [{"land_type": "agricultural", "area_m2": "10",
                                      "table_price_per_m2": 1000}]})
    assert exc.value.field == "parcels[0].land_type"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("-1", 1000, "100"), "area_m2"),
        (("10", -5, "100"), "price_per_m2"),
        (("10", 1000, None), "quota_m2"),
        (("10", 1000, "100", "castle"), "kind"),
        ((10.5, 1000, "100"), "area_m2"),
        (("10", 1000, None, "apartment"), "allocation_coefficient"),
    ],
)
def test_fast_path_bad_input(args, field):
    with pytest.raises(CaseError) as exc:
        annual_non_agricultural_tax(*args)
    assert exc.value.field == field


# ---------------------------------------------------------------- edges of the arithmetic


@pytest.mark.parametrize("quota", ["0", "-1"])
def test_quota_must_be_positive_on_every_path(quota):
    with pytest.raises(CaseError) as exc:
        annual_non_agricultural_tax("100", 1_000_000, quota)
    assert exc.value.field == "quota_m2"
    with pytest.raises(CaseError) as exc:
        non_agricultural_tax_line("100", 1_000_000, quota, field="parcels[3]")
    assert exc.value.field == "parcels[3].quota_m2"


def test_small_quota_and_small_excess_are_kept():
    # 2 m2 on a 0.5 m2 quota: 0.5 at 0.03%, 1.5 at 0.07% of 1,000,000 = 150 + 1,050
    assert annual_non_agricultural_tax("2", 1_000_000, "0.5", valid_on=EARLY_2020) == 1_200
    # half a square metre above the quota has its own bracket line
    line = non_agricultural_tax_line("160.5", 1_000_000, "160", valid_on=EARLY_2020)
    assert [(dict(c)["bracket"], dict(c)["area_m2"]) for c in line.components] == [
        ("within_quota", Decimal(160)), ("above_quota_to_4x", Decimal("0.5"))]


def test_empty_parcel_has_one_zero_bracket_and_no_exemption():
    line = non_agricultural_tax_line("0", 1_000_000, "160", valid_on=LATE_2026)
    assert [(dict(c)["bracket"], dict(c)["area_m2"], dict(c)["rate"])
            for c in line.components] == [("within_quota", Decimal(0), Decimal("0.0003"))]
    assert (line.amount, line.exemption) == (0, None)


@pytest.mark.parametrize(("area", "price", "exemption"), [
    ("1", 3_334, "annual_tax_at_most_50000"),  # 1.0002 -> 1 dong, exempt
    ("100", 1_666_667, "annual_tax_at_most_50000"),  # 50,000 exactly, exempt
    ("100", 1_666_684, None),  # 50,001, due
])
def test_exemption_is_named(area, price, exemption):
    line = non_agricultural_tax_line(area, price, "200", valid_on=LATE_2026)
    assert line.exemption == exemption
    assert (line.amount == 0) == (exemption is not None)
    assert dict(line.inputs)["amount_before_exemption"] > 0


def test_line_rate_base_and_method():
    line = non_agricultural_tax_line("500", 687_200_000, "160", valid_on=LATE_2026)
    # 0.286 m2-equivalents / 500 m2 = 0.000572 average rate; base 500 x 687,200,000
    assert line.rate == Decimal("0.000572")
    assert line.base == 343_600_000_000
    assert line.base_method == "progressive_residential"
    assert "160 m2 at 0.03%; 340 m2 at 0.07%" in line.base_method_text
    apt = non_agricultural_tax_line("80", 50_000_000, None, "apartment", "0.05",
                                    valid_on=LATE_2026)
    assert (apt.base, apt.rate) == (200_000_000, Decimal("0.0003"))


@pytest.mark.parametrize(("args", "field"), [
    (("x", 1, "160"), "area_m2"), (("1", "x", "160"), "price_per_m2"),
    (("1", 1, "x"), "quota_m2"), (("1", 1, None, "apartment", "x"), "allocation_coefficient"),
    (("1", 1, None, "forest"), "kind"),
])
def test_fast_path_names_the_bad_input(args, field):
    with pytest.raises(CaseError) as exc:
        annual_non_agricultural_tax(*args)
    assert exc.value.field == field


def test_procedure_due_dates_parcel_ids_and_kinds():
    base = {"procedure": "non_agricultural_tax", "valid_on": "2027-03-01", "parcels": [
        {"land_type": "residential", "area_m2": "100", "table_price_per_m2": 10_000_000,
         "quota_m2": "160", "parcel_id": "P-7"},
        {"land_type": "residential", "area_m2": "100", "table_price_per_m2": 10_000_000,
         "use_status": "unused"}]}
    first = tax_calc.assess({**base, "first_year": True, "notice_date": "2027-03-02"})
    assert [ln.due_dates for ln in first.lines] == [(date(2027, 4, 1),)] * 2
    assert [ln.parcel_id for ln in first.lines] == ["P-7", "1"]
    # left unused: 0.15%, no quota: 100 x 10,000,000 x 0.15% = 1,500,000
    assert first.lines[1].amount == 1_500_000 and first.lines[1].rate == Decimal("0.0015")
    this_year = tax_calc.assess(base)
    assert this_year.lines[0].due_dates == (date(2027, 10, 31),)
    next_year = tax_calc.assess({**base, "tax_year": 2028})
    assert next_year.lines[0].due_dates == (date(2028, 10, 31),)


def test_procedure_names_the_parcel_without_quota():
    d = {"procedure": "non_agricultural_tax", "valid_on": "2027-03-01", "parcels": [
        {"land_type": "commercial", "area_m2": "100", "table_price_per_m2": 1},
        {"land_type": "residential", "area_m2": "100", "table_price_per_m2": 1}]}
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(d)
    assert exc.value.field == "parcels[1].quota_m2"


def test_consolidated_line_base_basis_and_due_year():
    d = consolidated()
    d["tax_year"] = 2028
    a = tax_calc.assess(d)
    line = a.line("non_agricultural_tax_consolidated")
    # 100 x 100,000,000 + 400 x 2,000,000
    assert line.base == 10_800_000_000
    assert "Circular 153/2011/TT-BTC art. 8(1.2)" in line.legal_basis
    assert line.due_dates == (date(2028, 10, 31),)
    option = a.to_dict()["consolidated"]["options"][0]
    assert (option["location"], option["quota_m2"]) == ("district-B", "300")


def test_consolidated_refuses_an_apartment():
    d = consolidated()
    d["parcels"][0]["apartment"] = True
    d["parcels"][0]["allocation_coefficient"] = "0.1"
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(d)
    assert exc.value.field == "parcels[0].land_type"


def test_flat_line_base_zero_area_rate_and_zero_line_terms():
    line = non_agricultural_tax_line("1000", 10_000_000, None, "business", valid_on=LATE_2026)
    assert (line.base, line.rate, line.amount) == (10_000_000_000, Decimal("0.0003"), 3_000_000)
    empty = non_agricultural_tax_line("0", 10_000_000, "160", valid_on=LATE_2026, tax_year=2027)
    assert (empty.rate, empty.amount, empty.due_terms, empty.due_dates) == (
        Decimal("0.0003"), 0, (), ())


def test_negative_area_names_the_parcel_field():
    with pytest.raises(CaseError) as exc:
        non_agricultural_tax_line("-1", 1, "160", field="parcels[2]")
    assert exc.value.field == "parcels[2].area_m2"


def test_consolidated_locations_default_to_parcel_ids():
    d = consolidated()
    for parcel in d["parcels"]:
        del parcel["location"]
    extra = tax_calc.assess(d).to_dict()["consolidated"]
    # parcel 1 (400 m2 on 300) is the only one above its own quota
    assert extra["chosen_location"] == "1"
