"""Property tests (hypothesis) over the rules."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import permutations

from helpers_tax import transfer_case
from hypothesis import given, settings
from hypothesis import strategies as st

import tax_calc
from tax_calc import annual_non_agricultural_tax, non_agricultural_tax_line
from tax_calc.nonagri import ConsolidatedParcel, cheapest, consolidated_option, consolidated_options
from tax_calc.rules import FAMILY_RELATIONSHIPS, rule_for

FAST = settings(max_examples=60, deadline=None)
areas = st.decimals(min_value=Decimal("0"), max_value=Decimal("20000"), places=2)
prices = st.integers(min_value=0, max_value=900_000_000)
quotas = st.decimals(min_value=Decimal("30"), max_value=Decimal("500"), places=1)
dates = st.dates(min_value=date(2024, 8, 1), max_value=date(2029, 12, 31))
coefs = st.decimals(min_value=Decimal("0.5"), max_value=Decimal("3"), places=2)


NON_FAMILY = st.sampled_from([None, "other"])


@st.composite
def transfers(draw, relationship=NON_FAMILY):
    valid_on = draw(dates)
    return transfer_case(
        valid_on=valid_on.isoformat(),
        notice_date=(valid_on + timedelta(days=draw(st.integers(0, 20)))).isoformat(),
        declared_price=draw(st.integers(0, 50_000_000_000)),
        relationship=draw(relationship),
        parcel={"area_m2": str(draw(areas)), "table_price_per_m2": draw(prices),
                "adjustment_coefficient": str(draw(coefs)),
                "land_type": draw(st.sampled_from(["residential", "commercial",
                                                   "production_business"]))},
    )


@FAST
@given(transfers(relationship=st.sampled_from(sorted(FAMILY_RELATIONSHIPS))))
def test_family_transfer_pit_is_zero(case):
    assert tax_calc.assess(case).line("personal_income_tax").amount == 0


@FAST
@given(transfers(), st.sampled_from(["gift", "inheritance"]),
       st.sampled_from(sorted(FAMILY_RELATIONSHIPS)))
def test_family_gift_total_is_zero(case, procedure, relationship):
    case.update(procedure=procedure, relationship=relationship)
    del case["declared_price"]
    assert tax_calc.assess(case).total == 0


@FAST
@given(transfers())
def test_amounts_never_negative_and_consistent(case):
    a = tax_calc.assess(case)
    assert all(ln.amount >= 0 and ln.base >= 0 for ln in a.lines)
    assert a.total == sum(ln.amount for ln in a.lines)
    for ln in a.lines:
        # the amount comes from the exact base; the shown base is rounded, so base x rate
        # can differ from the amount by at most one dong
        if ln.exemption is None:
            assert abs(ln.amount - tax_calc.round_dong(Decimal(ln.base) * ln.rate)) <= 1


@FAST
@given(transfers(), st.integers(1, 10_000_000))
def test_raising_the_price_never_lowers_the_tax(case, bump):
    low = tax_calc.assess(case)
    case["parcels"][0]["table_price_per_m2"] += bump
    high = tax_calc.assess(case)
    for a, b in zip(low.lines, high.lines, strict=True):
        assert b.amount >= a.amount
    case["declared_price"] += bump
    assert tax_calc.assess(case).total >= high.total


@FAST
@given(areas, prices, quotas, st.integers(0, 1_000_000), dates,
       st.sampled_from(["residential", "business", "misused", "encroached"]))
def test_non_agricultural_monotone_in_price_and_area(area, price, quota, bump, on, kind):
    base = annual_non_agricultural_tax(area, price, quota, kind, valid_on=on)
    assert base >= 0
    assert annual_non_agricultural_tax(area, price + bump, quota, kind, valid_on=on) >= base
    assert annual_non_agricultural_tax(area + 1, price, quota, kind, valid_on=on) >= base


@FAST
@given(areas, prices, quotas, dates, st.sampled_from(["residential", "business", "misused",
                                                      "encroached", "apartment"]))
def test_fast_path_equals_explained_line(area, price, quota, on, kind):
    coef = Decimal("0.3") if kind == "apartment" else None
    fast = annual_non_agricultural_tax(area, price, quota, kind, coef, on)
    assert non_agricultural_tax_line(area, price, quota, kind, coef, on).amount == fast


@FAST
@given(st.decimals(min_value=Decimal("0.02"), max_value=Decimal("5000"), places=2),
       st.floats(min_value=0.01, max_value=0.99), prices,
       st.sampled_from(["business", "misused", "encroached"]))
def test_split_parcel_changes_flat_total_by_rounding_only(area, cut, price, kind):
    on = date(2020, 6, 30)  # before the 50,000 VND exemption, which is not additive
    part = (area * Decimal(str(round(cut, 2)))).quantize(Decimal("0.01"))
    whole = annual_non_agricultural_tax(area, price, None, kind, valid_on=on)
    split = (annual_non_agricultural_tax(part, price, None, kind, valid_on=on)
             + annual_non_agricultural_tax(area - part, price, None, kind, valid_on=on))
    assert abs(whole - split) <= 1


@FAST
@given(transfers())
def test_split_parcel_in_one_case_same_registration_fee(case):
    case["declared_price"] = 0
    whole = tax_calc.assess(case).line("registration_fee").amount
    parcel = case["parcels"][0]
    area = Decimal(parcel["area_m2"])
    half = (area / 2).quantize(Decimal("0.01"))
    case["parcels"] = [{**parcel, "area_m2": str(half)}, {**parcel, "area_m2": str(area - half)}]
    assert abs(tax_calc.assess(case).line("registration_fee").amount - whole) <= 1


portfolio = st.lists(
    st.builds(ConsolidatedParcel,
              st.decimals(min_value=Decimal("1"), max_value=Decimal("800"), places=1),
              st.integers(100_000, 200_000_000),
              st.sampled_from([Decimal(100), Decimal(160), Decimal(200), Decimal(300)]),
              st.sampled_from(["L1", "L2", "L3"])),
    min_size=2, max_size=4)


@settings(max_examples=80, deadline=None)
@given(portfolio)
def test_consolidated_choice_is_cheapest_by_brute_force(parcels):
    # the quota of a location is fixed: make parcels in the same location share it
    by_loc: dict[str, Decimal] = {}
    parcels = [ConsolidatedParcel(p.area_m2, p.price_per_m2,
                                  by_loc.setdefault(p.location, p.quota_m2), p.location)
               for p in parcels]
    chosen = cheapest(consolidated_options(parcels, date(2027, 1, 1)))
    # Brute force, enumerated here independently: every permitted location's quota (Circular
    # 153/2011 art. 8 examples 4-6: where some parcel exceeds its own quota, only such a
    # location; otherwise any), with every order of all parcels in which that location's
    # parcels come first (form 03/TKTH-SDDPNN).
    params = rule_for("non_agricultural_tax", date(2027, 1, 1)).params
    over = {p.location for p in parcels if p.area_m2 > by_loc[p.location]}
    permitted = {loc: q for loc, q in by_loc.items() if loc in over} if over else by_loc
    every = []
    for loc, quota in permitted.items():
        first = {i for i, p in enumerate(parcels) if p.location == loc}
        for order in permutations(range(len(parcels))):
            if set(order[: len(first)]) == first:
                every.append(consolidated_option(parcels, quota, loc, order, params))
    assert chosen.location in permitted
    assert set(chosen.order[: sum(p.location == chosen.location for p in parcels)]) == {
        i for i, p in enumerate(parcels) if p.location == chosen.location}
    assert len(consolidated_options(parcels, date(2027, 1, 1), brute_force=True)) == len(every)
    assert chosen.amount_exact <= min(o.amount_exact for o in every)
    assert chosen.amount <= min(o.amount for o in every)
    assert sum(a for _, _, a, _ in chosen.allocation) == sum(p.area_m2 for p in parcels)


@FAST
@given(st.integers(0, 10**12), st.dates(min_value=date(2020, 7, 1),
                                        max_value=date(2030, 1, 1)), st.integers(0, 800))
def test_late_interest_never_negative_and_grows_with_days(amount, due, days):
    paid = due + timedelta(days=days)
    a = tax_calc.late_interest(amount, due, paid).amount
    b = tax_calc.late_interest(amount, due, paid + timedelta(days=1)).amount
    assert 0 <= a <= b


FIELDS = {
    "parcels[0].area_m2": ("area_m2", ["-1", "x", 1.5, True]),
    "parcels[0].table_price_per_m2": ("table_price_per_m2", ["-3", "1.1", "x", []]),
    "parcels[0].land_type": ("land_type", ["forest_x", "", 3]),
    "parcels[0].adjustment_coefficient": ("adjustment_coefficient", ["0", "-1", "x"]),
}


@FAST
@given(transfers(), st.sampled_from(sorted(FIELDS)), st.data())
def test_bad_values_raise_case_error_naming_the_field(case, field, data):
    key, bad_values = FIELDS[field]
    case["parcels"][0][key] = data.draw(st.sampled_from(bad_values))
    try:
        tax_calc.assess(case)
    except tax_calc.CaseError as exc:
        assert exc.field == field
    else:
        raise AssertionError("accepted a bad value")
