"""Worked examples from official guidance, run through ``tax_calc``.

Each test names the document, the article and the example, restates the example's inputs
and checks every figure the document computes, to the dong. Amounts in the sources are
written in millions of dong ("trđ"); here they are whole dong.

Sources
-------
* Circular 153/2011/TT-BTC (Ministry of Finance, 11/11/2011) guiding the non-agricultural
  land use tax, art. 8 "Phương pháp tính thuế", examples 4 to 7, as codified in the national
  legal codification (topic "Thuế sử dụng đất phi nông nghiệp", article 33.8.TT.1.8), read
  from the public copy in the repository ``diepxuan/diepxuan.github.io``
  (``van-ban/thue-phi-le-phi-cac-khoan-thu-khac/thue-su-dung-dat-phi-nong-nghiep.md``).
  Every figure printed there was checked and is arithmetically right.
* Circular 153/2011/TT-BTC, form 03/TKTH-SDDPNN (consolidated declaration): the parcels at
  the chosen quota's location are listed first.
* Circular 153/2011/TT-BTC art. 5 (area subject to tax), example of a household using
  400 m2 of a 2,000 m2 parcel for housing (reproduced by luatvantin.com.vn under
  "khoản 3 Điều 5 Thông tư số 153/2011/TT-BTC").

What the examples settle:
* The 0.07% band is the area in excess of the quota by at most 3 quotas, i.e. from Q to 4Q
  in total (example 6: a 400 m2 parcel on a 110 m2 quota pays 110 m2 at 0.03% and 290 m2 at
  0.07%; with the quota of 100 m2 the consolidated 0.07% band is 300 m2).
* Which quota may be chosen (examples 4 to 6): any location's when no parcel exceeds its own
  quota (example 4); otherwise only that of a location where a parcel exceeds its own quota
  (example 5: "phải chọn hạn mức tại Hoàn Kiếm"; example 6 computes only Hoàn Kiếm and Ba
  Đình, both over their quotas, and not Ba Vì).

Official examples for late-payment interest, the 2% / 10% personal income tax, the
registration fee and the land use levy on a change of use could not be retrieved from the
sources at hand; no test here pretends to be one.

All examples date from the 2012 rules; ``valid_on`` 2013-01-01 selects the rule version
``NAT-2012.1`` (rates 0.03% / 0.07% / 0.15%, no 50,000 VND exemption before 01/07/2020).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import tax_calc
from tax_calc import ConsolidatedParcel, consolidated_options, non_agricultural_tax_line

ON_2013 = date(2013, 1, 1)
TR = 1_000_000  # one "triệu đồng"


def _case(parcels: list[tuple[str, str, int, str]], paid: list[int] | None = None) -> dict:
    """A consolidated case from (location, area, price per m2, quota) rows."""
    d = {"procedure": "consolidated_non_agricultural_tax", "valid_on": "2013-01-01",
         "tax_year": 2013,
         "parcels": [{"land_type": "residential", "area_m2": area, "table_price_per_m2": price,
                      "quota_m2": quota, "location": loc} for loc, area, price, quota in parcels]}
    if paid is not None:
        d["paid_per_parcel"] = paid
    return d


def _options(parcels: list[tuple[str, str, int, str]]) -> dict[str, tax_calc.nonagri.
                                                                 ConsolidatedOption]:
    cps = [ConsolidatedParcel(Decimal(area), price, Decimal(quota), loc)
           for loc, area, price, quota in parcels]
    return {o.location: o for o in consolidated_options(cps, ON_2013)}


def _per_parcel(parcels: list[tuple[str, str, int, str]]) -> list[int]:
    return [non_agricultural_tax_line(area, price, quota, valid_on=ON_2013).amount
            for _, area, price, quota in parcels]


def _split(option) -> list[tuple[int, str, Decimal]]:
    return [(i, b, a) for i, b, a, _ in option.allocation]


# ---------------------------------------------------------------- example 4 (Mr A, Hanoi)
# Hoàn Kiếm 80 m2 (quota 100, 50 trđ/m2), Ba Đình 100 m2 (quota 110, 40 trđ/m2), Ba Vì
# 350 m2 (quota 400, 2 trđ/m2): no parcel exceeds its own quota, the total (530 m2) does.
EX4 = [("Hoan Kiem", "80", 50 * TR, "100"), ("Ba Dinh", "100", 40 * TR, "110"),
       ("Ba Vi", "350", 2 * TR, "400")]


def test_circular_153_art8_example4_per_parcel():
    """Example 4, first step: 80 x 50 x 0.03% = 1.2 trđ; 100 x 40 x 0.03% = 1.2 trđ;
    350 x 2 x 0.03% = 0.21 trđ; in all 2.61 trđ."""
    assert _per_parcel(EX4) == [1_200_000, 1_200_000, 210_000]
    assert sum(_per_parcel(EX4)) == 2_610_000


def test_circular_153_art8_example4_ba_vi_quota():
    """Example 4, the choice the example makes (the Ba Vì quota, 400 m2): above the quota
    530 - 400 = 130 m2; within it 350 m2 of Ba Vì and 50 m2 of Hoàn Kiếm:
    (350 x 2 + 50 x 50) x 0.03% = 0.96 trđ; above it (30 x 50 + 100 x 40) x 0.07% = 3.85 trđ;
    to pay on the consolidated declaration 0.96 + 3.85 - 2.61 = 2.2 trđ."""
    ba_vi = _options(EX4)["Ba Vi"]
    assert _split(ba_vi) == [(2, "within_quota", Decimal(350)), (0, "within_quota", Decimal(50)),
                             (0, "above_quota_to_4x", Decimal(30)),
                             (1, "above_quota_to_4x", Decimal(100))]
    within = sum(a * p * r for i, b, a, r in ba_vi.allocation if b == "within_quota"
                 for p in [EX4[i][2]])
    assert within == 960_000
    assert ba_vi.amount - within == 3_850_000
    assert ba_vi.amount - sum(_per_parcel(EX4)) == 2_200_000


def test_circular_153_art8_example4_any_quota_may_be_chosen():
    """Example 4: with no parcel above its own quota every location's quota is permitted,
    and the engine takes the cheapest. Hoàn Kiếm's (100 m2) is cheaper than the example's
    Ba Vì choice: within 80 HK + 20 BĐ, 0.07% on 80 BĐ + 220 BV (up to 4 x 100 = 400 m2),
    0.15% on the last 130 BV:
    (80 x 50 + 20 x 40) x 0.03% + (80 x 40 + 220 x 2) x 0.07% + 130 x 2 x 0.15%
    = 1.44 + 2.548 + 0.39 = 4.378 trđ, against 4.81 trđ with the Ba Vì quota."""
    options = _options(EX4)
    assert sorted(options) == ["Ba Dinh", "Ba Vi", "Hoan Kiem"]
    assert options["Hoan Kiem"].amount == 4_378_000
    assert options["Ba Vi"].amount == 4_810_000
    a = tax_calc.assess(_case(EX4))
    extra = a.to_dict()["consolidated"]
    assert extra["chosen_location"] == "Hoan Kiem" and extra["consolidated_tax"] == 4_378_000
    assert a.line("non_agricultural_tax_consolidated").amount == 4_378_000 - 2_610_000


def test_circular_153_art8_example4_the_taxpayer_may_choose_ba_vi():
    """Example 4 as the example files it: the taxpayer names the Ba Vì quota
    (``chosen_location``) and owes 0.96 + 3.85 - 2.61 = 2.2 trđ."""
    a = tax_calc.assess({**_case(EX4), "chosen_location": "Ba Vi"})
    extra = a.to_dict()["consolidated"]
    assert (extra["chosen_location"], extra["consolidated_tax"]) == ("Ba Vi", 4_810_000)
    assert a.line("non_agricultural_tax_consolidated").amount == 2_200_000


# ---------------------------------------------------------------- example 5 (Mr B)
# Hoàn Kiếm 150 m2 (quota 100, 50 trđ/m2); Ba Vì 120 m2 (quota 400, 2 trđ/m2).
EX5 = [("Hoan Kiem", "150", 50 * TR, "100"), ("Ba Vi", "120", 2 * TR, "400")]


def test_circular_153_art8_example5_per_parcel():
    """Example 5, first step: 100 x 50 x 0.03% + 50 x 50 x 0.07% = 3.25 trđ;
    120 x 2 x 0.03% = 0.072 trđ."""
    hk = non_agricultural_tax_line("150", 50 * TR, "100", valid_on=ON_2013)
    assert [(dict(c)["bracket"], dict(c)["area_m2"]) for c in hk.components] == [
        ("within_quota", Decimal(100)), ("above_quota_to_4x", Decimal(50))]
    assert hk.rule_version == "NAT-2012.1"
    assert _per_parcel(EX5) == [3_250_000, 72_000]


def test_circular_153_art8_example5_must_choose_hoan_kiem():
    """Example 5: "Ông B phải chọn hạn mức tại Hoàn Kiếm" (only Hoàn Kiếm's parcel exceeds
    its quota). Above the quota 150 + 120 - 100 = 170 m2;
    100 x 50 x 0.03% + (50 x 50 + 120 x 2) x 0.07% = 3.418 trđ; to pay
    3.418 - 3.25 - 0.072 = 0.096 trđ. The Ba Vì quota (cheaper: 4Q = 1,600 m2 would tax
    all but 130 m2 at 0.03%) is not offered."""
    options = _options(EX5)
    assert list(options) == ["Hoan Kiem"]
    assert _split(options["Hoan Kiem"]) == [(0, "within_quota", Decimal(100)),
                                            (0, "above_quota_to_4x", Decimal(50)),
                                            (1, "above_quota_to_4x", Decimal(120))]
    a = tax_calc.assess(_case(EX5, paid=[3_250_000, 72_000]))
    extra = a.to_dict()["consolidated"]
    assert (extra["chosen_location"], extra["consolidated_tax"]) == ("Hoan Kiem", 3_418_000)
    assert a.line("non_agricultural_tax_consolidated").amount == 96_000
    assert extra["overpaid"] == 0


def test_circular_153_art8_example5_ba_vi_quota_refused():
    with pytest.raises(tax_calc.CaseError) as exc:
        tax_calc.assess({**_case(EX5), "chosen_location": "Ba Vi"})
    assert exc.value.field == "chosen_location" and "Hoan Kiem" in exc.value.message


# ---------------------------------------------------------------- example 6 (Mrs C)
# Hoàn Kiếm 300 m2 (quota 100, 50 trđ/m2); Ba Đình 400 m2 (quota 110, 40 trđ/m2); Ba Vì
# 50 m2 (quota 400, 2 trđ/m2); 750 m2 in all.
EX6 = [("Hoan Kiem", "300", 50 * TR, "100"), ("Ba Dinh", "400", 40 * TR, "110"),
       ("Ba Vi", "50", 2 * TR, "400")]


def test_circular_153_art8_example6_per_parcel():
    """Example 6, first step: Hoàn Kiếm 100 x 50 x 0.03% + 200 x 50 x 0.07% = 8.5 trđ;
    Ba Đình 110 x 40 x 0.03% + 290 x 40 x 0.07% = 9.44 trđ (the 0.07% band runs to 4 x the
    quota: 290 m2 above a 110 m2 quota, all at 0.07%); Ba Vì 50 x 2 x 0.03% = 0.03 trđ;
    17.97 trđ in all."""
    assert _per_parcel(EX6) == [8_500_000, 9_440_000, 30_000]
    bd = non_agricultural_tax_line("400", 40 * TR, "110", valid_on=ON_2013)
    assert [(dict(c)["bracket"], dict(c)["area_m2"]) for c in bd.components] == [
        ("within_quota", Decimal(110)), ("above_quota_to_4x", Decimal(290))]


def test_circular_153_art8_example6_hoan_kiem_quota():
    """Example 6, Hoàn Kiếm quota: 100 m2 at 0.03%; 300 m2 at 0.07% (200 HK + 100 BĐ);
    350 m2 at 0.15% (300 BĐ + 50 BV):
    100 x 50 x 0.03% + (200 x 50 + 100 x 40) x 0.07% + (300 x 40 + 50 x 2) x 0.15%
    = 29.45 trđ; to pay 29.45 - 17.97 = 11.48 trđ."""
    hk = _options(EX6)["Hoan Kiem"]
    assert _split(hk) == [(0, "within_quota", Decimal(100)),
                          (0, "above_quota_to_4x", Decimal(200)),
                          (1, "above_quota_to_4x", Decimal(100)),
                          (1, "above_4x_quota", Decimal(300)),
                          (2, "above_4x_quota", Decimal(50))]
    assert hk.amount == 29_450_000
    assert hk.amount - sum(_per_parcel(EX6)) == 11_480_000


def test_circular_153_art8_example6_ba_dinh_quota():
    """Example 6, Ba Đình quota: 110 m2 at 0.03%; 330 m2 at 0.07% (290 BĐ + 40 HK);
    310 m2 at 0.15% (260 HK + 50 BV):
    110 x 40 x 0.03% + (290 x 40 + 40 x 50) x 0.07% + (260 x 50 + 50 x 2) x 0.15%
    = 30.49 trđ; to pay 30.49 - 17.97 = 12.52 trđ."""
    bd = _options(EX6)["Ba Dinh"]
    assert _split(bd) == [(1, "within_quota", Decimal(110)),
                          (1, "above_quota_to_4x", Decimal(290)),
                          (0, "above_quota_to_4x", Decimal(40)),
                          (0, "above_4x_quota", Decimal(260)),
                          (2, "above_4x_quota", Decimal(50))]
    assert bd.amount == 30_490_000
    assert bd.amount - sum(_per_parcel(EX6)) == 12_520_000


def test_circular_153_art8_example6_permitted_quotas_and_choice():
    """Example 6: both Hoàn Kiếm and Ba Đình exceed their quotas, so only they may be chosen
    (the example computes no Ba Vì option); the cheaper, Hoàn Kiếm's, is taken."""
    assert sorted(_options(EX6)) == ["Ba Dinh", "Hoan Kiem"]
    a = tax_calc.assess(_case(EX6))
    extra = a.to_dict()["consolidated"]
    assert (extra["chosen_location"], extra["consolidated_tax"]) == ("Hoan Kiem", 29_450_000)
    assert sorted(o["amount"] for o in extra["options"]) == [29_450_000, 30_490_000]
    assert a.line("non_agricultural_tax_consolidated").amount == 11_480_000


# ---------------------------------------------------------------- example 7 (Ms M)


def test_circular_153_art8_example7_apartment():
    """Example 7: a 50 m2 flat in block C3 Thành Công (Ba Đình), 5 floors of 8 equal flats on
    460 m2 of land at 40 trđ/m2: 50 x 460 / (50 x 8 x 5) x 40 trđ x 0.03% = 0.138 trđ.
    The allocation coefficient is 460 / 2,000 = 0.23."""
    coefficient = Decimal(460) / Decimal(50 * 8 * 5)
    assert coefficient == Decimal("0.23")
    line = non_agricultural_tax_line("50", 40 * TR, None, "apartment", coefficient,
                                     valid_on=ON_2013)
    assert line.amount == 138_000
    a = tax_calc.assess({"procedure": "non_agricultural_tax", "valid_on": "2013-01-01",
                         "tax_year": 2013, "parcels": [
                             {"land_type": "residential", "apartment": True, "area_m2": "50",
                              "allocation_coefficient": "0.23",
                              "table_price_per_m2": 40 * TR}]})
    assert a.total == 138_000


# ---------------------------------------------------------------- article 5


def test_circular_153_art5_example_area_in_and_above_quota():
    """Circular 153/2011 art. 5, example: household A uses 2,000 m2 (certificate: 200 m2
    residential, 1,800 m2 garden) and actually lives on 400 m2; quota 200 m2.

    Official result (areas only; the example gives no price): 400 m2 of residential land is
    taxed, 200 m2 within the quota (0.03%) and 200 m2 above it (0.07%). The price below only
    lets the engine run; the check is on the split and the rates.
    """
    line = non_agricultural_tax_line("400", 1_000_000, "200", valid_on=ON_2013)
    parts = [dict(c) for c in line.components]
    assert [(p["bracket"], p["area_m2"], p["rate"]) for p in parts] == [
        ("within_quota", Decimal(200), Decimal("0.0003")),
        ("above_quota_to_4x", Decimal(200), Decimal("0.0007")),
    ]


def test_circular_153_art5_example_garden_used_for_the_wrong_purpose():
    """Same example, second branch: if the authority finds that the 200 m2 of garden used
    for housing is land used for the wrong purpose, the taxed areas become 200 m2 of
    residential land within the quota and 200 m2 used for the wrong purpose (0.15%,
    Law 48/2010 art. 7(6), no quota). Price again only for running the engine.
    """
    a = tax_calc.assess({
        "procedure": "non_agricultural_tax", "valid_on": "2013-01-01", "tax_year": 2013,
        "parcels": [
            {"land_type": "residential", "area_m2": "200", "table_price_per_m2": 1_000_000,
             "quota_m2": "200"},
            {"land_type": "residential", "area_m2": "200", "table_price_per_m2": 1_000_000,
             "use_status": "misused"},
        ]})
    first, second = a.lines
    assert [dict(c)["bracket"] for c in first.components] == ["within_quota"]
    assert first.amount == 60_000  # 200 x 1,000,000 x 0.03%
    assert second.rate == Decimal("0.0015")
    assert second.amount == 300_000  # 200 x 1,000,000 x 0.15%
