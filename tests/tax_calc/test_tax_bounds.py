"""Every bound on a case's input (tax_calc/parse.py): outside it, a CaseError naming the exact
field; at an inclusive bound, the case is accepted. Through the command line: exit 2, one
line naming the field, never a traceback."""

from __future__ import annotations

import io
import json
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import pytest
from helpers_tax import transfer_case

import tax_calc
from tax_calc import CaseError
from tax_calc.cli import main
from tax_calc.parse import (
    MAX_AREA_M2,
    MAX_CONSOLIDATED_PARCELS,
    MAX_FEES,
    MAX_JSON_CHARS,
    MAX_JSON_DEPTH,
    MAX_PARCELS,
    MAX_PRICE_PER_M2,
)

BIG_PRICE = MAX_PRICE_PER_M2  # 10,000,000,000 VND/m2
AMOUNT = 10**15


def parcel(**kw: Any) -> dict[str, Any]:
    return {"land_type": "production_business", "area_m2": "1000",
            "table_price_per_m2": 5_000_000, **kw}


def house(**kw: Any) -> dict[str, Any]:
    return {"floor_area_m2": "100", "price_per_m2": 5_000_000, "remaining_quality": "1", **kw}


def case(procedure: str, parcels: list | None = None, **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"procedure": procedure, "valid_on": "2027-01-01",
                         "parcels": [parcel()] if parcels is None else parcels}
    d.update(kw)
    return d


def one_time(**kw: Any) -> dict[str, Any]:
    return case("land_rent_one_time", [parcel(lease="one_time", lease_term_years="50", **kw)])


def annual(**kw: Any) -> dict[str, Any]:
    return case("land_rent_annual", [parcel(lease="annual")], **{"rent_rate": "0.01", **kw})


def extension(months: Any) -> dict[str, Any]:
    return case("extension", months_extended=months)


def fees(*items: dict[str, Any], **kw: Any) -> dict[str, Any]:
    d = {"procedure": "provincial_fee", "valid_on": "2026-05-01", "province": "HN",
         "fee_schedule_version": "HN-06-2020",
         "fees": list(items) or [{"fee_code": "certificate_with_house",
                                  "category": "urban_household"}]}
    d.update(kw)
    return d


def fee(**kw: Any) -> dict[str, Any]:
    return {"fee_code": "certificate_with_house", "category": "urban_household", **kw}


def interest(**kw: Any) -> dict[str, Any]:
    d = {"procedure": "late_interest", "valid_on": "2027-01-06", "amount": 100_000_000,
         "due_date": "2026-12-27", "paid_on": "2027-01-06"}
    d.update(kw)
    return d


def residential(i: int, **kw: Any) -> dict[str, Any]:
    return {"land_type": "residential", "area_m2": "100", "table_price_per_m2": 1_000_000,
            "quota_m2": "160", "location": f"L{i}", **kw}


def consolidated(n: int, **kw: Any) -> dict[str, Any]:
    return case("consolidated_non_agricultural_tax", [residential(i) for i in range(n)],
                tax_year=2027, **kw)


def non_agri(parcels: list | None = None, **kw: Any) -> dict[str, Any]:
    return case("non_agricultural_tax", parcels or [residential(0)], **kw)


def change_of_use(**kw: Any) -> dict[str, Any]:
    return case("change_of_use", [parcel(land_type="residential", **kw)])


def allocation(**kw: Any) -> dict[str, Any]:
    return case("allocation", [parcel(land_type="residential", **kw)])


# (case outside the bound, the field named) ------------------------------------------------
REFUSED = [
    # areas: at most 100,000,000 m2
    (transfer_case(parcel={"area_m2": "100000000.000001"}), "parcels[0].area_m2"),
    (transfer_case(parcel={"area_m2": "10000000000000"}), "parcels[0].area_m2"),
    (transfer_case(parcel={"house": house(floor_area_m2="100000001")}),
     "parcels[0].house.floor_area_m2"),
    (non_agri(parcels=[residential(0, quota_m2="100000001")]), "parcels[0].quota_m2"),
    # prices per m2: at most 10,000,000,000 VND
    (transfer_case(parcel={"table_price_per_m2": BIG_PRICE + 1}), "parcels[0].table_price_per_m2"),
    (transfer_case(parcel={"table_price_per_m2": 10**15}), "parcels[0].table_price_per_m2"),
    (transfer_case(parcel={"house": house(price_per_m2=BIG_PRICE + 1)}),
     "parcels[0].house.price_per_m2"),
    (allocation(infrastructure_cost_per_m2=BIG_PRICE + 1),
     "parcels[0].infrastructure_cost_per_m2"),
    (change_of_use(old_table_price_per_m2=BIG_PRICE + 1), "parcels[0].old_table_price_per_m2"),
    # money amounts: at most 10^15 VND
    (transfer_case(declared_price=AMOUNT + 1), "declared_price"),
    (change_of_use(old_land_money=AMOUNT + 1), "parcels[0].old_land_money"),
    (interest(amount=AMOUNT + 1), "amount"),
    (consolidated(2, paid_per_parcel=[0, AMOUNT + 1]), "paid_per_parcel[1]"),
    # coefficients
    (transfer_case(parcel={"adjustment_coefficient": "10.000001"}),
     "parcels[0].adjustment_coefficient"),
    (transfer_case(parcel={"adjustment_coefficient": "1000"}), "parcels[0].adjustment_coefficient"),
    (transfer_case(parcel={"adjustment_coefficient": "0"}), "parcels[0].adjustment_coefficient"),
    (transfer_case(parcel={"apartment": True, "allocation_coefficient": "1.000001"}),
     "parcels[0].allocation_coefficient"),
    (transfer_case(parcel={"house": house(remaining_quality="1.01")}),
     "parcels[0].house.remaining_quality"),
    # terms, months, rates, quantities, counts
    (case("land_rent_one_time", [parcel(lease="one_time", lease_term_years="500")]),
     "parcels[0].lease_term_years"),
    (case("land_rent_one_time", [parcel(lease="one_time", lease_term_years="99.5")]),
     "parcels[0].lease_term_years"),
    ({**one_time(), "table_term_years": 100}, "table_term_years"),
    (extension("24.5"), "months_extended"),
    (extension("1000"), "months_extended"),
    (annual(rent_rate="0.031"), "rent_rate"),
    (annual(rent_rate="0.0024"), "rent_rate"),
    (annual(rent_installments=3), "rent_installments"),
    (fees(fee(quantity=1001)), "fees[0].quantity"),
    (fees(fee(quantity=10**15)), "fees[0].quantity"),
    (transfer_case(parcel={"position": 11}), "parcels[0].position"),
    # years and dates
    (annual(tax_year=2090), "tax_year"),
    (annual(tax_year=2029), "tax_year"),  # valid_on 2027: 2028 at the latest
    (annual(tax_year=2011), "tax_year"),
    (transfer_case(valid_on="1999-12-31", notice_date=None), "valid_on"),
    (transfer_case(valid_on="2101-01-01", notice_date=None), "valid_on"),
    (transfer_case(notice_date="2026-11-26"), "notice_date"),  # before valid_on
    (transfer_case(notice_date="2101-01-01"), "notice_date"),
    (transfer_case(valid_on="20261127"), "valid_on"),  # only YYYY-MM-DD
    (interest(due_date="1999-12-31"), "due_date"),
    (interest(paid_on="2101-01-01"), "paid_on"),
    (interest(paid_on="2026-12-01"), "paid_on"),  # paid before the due date
    # lists
    (transfer_case(parcels=[transfer_case()["parcels"][0]] * (MAX_PARCELS + 1)), "parcels"),
    (consolidated(MAX_CONSOLIDATED_PARCELS + 1), "parcels"),
    (fees(*[fee()] * (MAX_FEES + 1)), "fees"),
    # names and codes: at most 100 characters, no control characters
    (transfer_case(parcel={"parcel_id": "x" * 101}), "parcels[0].parcel_id"),
    (transfer_case(parcel={"parcel_id": "a\nb"}), "parcels[0].parcel_id"),
    (transfer_case(parcel={"zone_code": "Q1\x00"}), "parcels[0].zone_code"),
    (non_agri(parcels=[residential(0, location="l" * 101)]), "parcels[0].location"),
    (non_agri(parcels=[residential(0, location="a\u202eb")]), "parcels[0].location"),
    (fees(fee(fee_code="f" * 101)), "fees[0].fee_code"),
    (fees(fee(category="urban\thousehold")), "fees[0].category"),
    (transfer_case(province="H" * 101), "province"),
    (transfer_case(price_table_version="v\x7f"), "price_table_version"),
    (fees(fee_schedule_version="HN-06-2020\ud800"), "fee_schedule_version"),
    (transfer_case(note="n" * 1001), "note"),
    (transfer_case(note=[1, 2]), "note"),
    # numbers too long, too large or too precise whatever their field
    (transfer_case(declared_price="9" * 31), "declared_price"),
    (transfer_case(declared_price=10**5000), "declared_price"),
    (transfer_case(parcel={"area_m2": "1e999999999"}), "parcels[0].area_m2"),
    (transfer_case(parcel={"area_m2": Decimal("1E+999999999")}), "parcels[0].area_m2"),
    (transfer_case(parcel={"area_m2": "1e-999999999"}), "parcels[0].area_m2"),
    (transfer_case(parcel={"area_m2": "1_000"}), "parcels[0].area_m2"),
    (annual(tax_year=10**5000), "tax_year"),
    (transfer_case(parcel={"parcel_id": 10**5000}), "parcels[0].parcel_id"),
]


@pytest.mark.parametrize(("bad", "field"), REFUSED,
                         ids=[f"{i}-{field}" for i, (_, field) in enumerate(REFUSED)])
def test_outside_a_bound_is_refused_naming_the_field(bad, field):
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(bad)
    assert exc.value.field == field, exc.value
    assert "\n" not in str(exc.value) and len(str(exc.value)) < 400


# (case at an inclusive bound, accepted) ---------------------------------------------------
ACCEPTED = [
    transfer_case(parcel={"area_m2": "100000000"}),
    transfer_case(parcel={"table_price_per_m2": BIG_PRICE}),
    transfer_case(parcel={"house": house(floor_area_m2="100000000", price_per_m2=BIG_PRICE)}),
    allocation(infrastructure_cost_per_m2=BIG_PRICE),
    change_of_use(old_table_price_per_m2=BIG_PRICE),
    change_of_use(old_land_money=AMOUNT),
    transfer_case(declared_price=AMOUNT),
    transfer_case(declared_price="1" + "0" * 15),
    interest(amount=AMOUNT),
    consolidated(2, paid_per_parcel=[AMOUNT, 0]),
    transfer_case(parcel={"adjustment_coefficient": "10"}),
    transfer_case(parcel={"apartment": True, "allocation_coefficient": "1"}),
    case("land_rent_one_time", [parcel(lease="one_time", lease_term_years="99")]),
    {**one_time(), "table_term_years": 99},
    extension("24"),
    annual(rent_rate="0.03"),
    annual(rent_rate="0.0025"),
    fees(fee(quantity=1000)),
    annual(tax_year=2028),
    annual(tax_year=2012),
    transfer_case(valid_on="2100-12-31", notice_date="2100-12-31"),
    transfer_case(notice_date="2026-11-27"),  # the same day as valid_on
    transfer_case(parcels=[transfer_case()["parcels"][0]] * MAX_PARCELS),
    consolidated(MAX_CONSOLIDATED_PARCELS),
    fees(*[fee()] * MAX_FEES),
    transfer_case(parcel={"parcel_id": "x" * 100, "position": 10}),
    non_agri(parcels=[residential(0, location="Quận Hoàn Kiếm " + "l" * 85)]),
    transfer_case(note="line one\nline two\t" + "n" * 982),
    transfer_case(parcel={"area_m2": "120.500000000"}),  # trailing zeros are not precision
]


@pytest.mark.parametrize("good", ACCEPTED, ids=[str(i) for i in range(len(ACCEPTED))])
def test_at_an_inclusive_bound_the_case_is_assessed(good):
    a = tax_calc.assess(good)
    assert a.lines and all(isinstance(ln.amount, int) and ln.amount >= 0 for ln in a.lines)


def test_every_bound_at_once_stays_exact():
    """The largest values every bound allows, at 6 decimal places, on 1,000 parcels: the
    amounts equal a computation at 200 digits, rounded half up once."""
    area, price, coef, alloc = Decimal("99999999.999999"), 9_999_999_999, Decimal("9.999999"), \
        Decimal("0.999999")
    quality = Decimal("0.999999")
    one = {"land_type": "residential", "area_m2": str(area), "table_price_per_m2": price,
           "adjustment_coefficient": str(coef), "apartment": True,
           "allocation_coefficient": str(alloc),
           "house": {"floor_area_m2": str(area), "price_per_m2": price,
                     "remaining_quality": str(quality)}}
    a = tax_calc.assess({"procedure": "transfer", "valid_on": "2026-11-27",
                         "declared_price": AMOUNT, "parcels": [one] * MAX_PARCELS})
    with localcontext() as ctx:
        ctx.prec = 200
        house_value = area * price * quality
        rf = (area * price * alloc + house_value) * MAX_PARCELS * Decimal("0.005")
        pit = (area * price * coef * alloc + house_value) * MAX_PARCELS * Decimal("0.02")
        expected_rf = int(rf.quantize(Decimal(1), ROUND_HALF_UP))
        expected_pit = int(pit.quantize(Decimal(1), ROUND_HALF_UP))
    assert a.line("registration_fee").amount == expected_rf
    assert a.line("personal_income_tax").amount == expected_pit
    assert expected_pit > 10**20  # the test really is at the top of the range


@pytest.mark.parametrize("procedure_case", [
    case("allocation", [parcel(area_m2="100000000", table_price_per_m2=BIG_PRICE,
                               adjustment_coefficient="10")]),
    case("change_of_use", [parcel(area_m2="100000000", table_price_per_m2=BIG_PRICE,
                                  adjustment_coefficient="10", old_land_money=0)]),
    case("land_rent_one_time", [parcel(area_m2="100000000", table_price_per_m2=BIG_PRICE,
                                       lease="one_time", lease_term_years="99")],
         table_term_years=1),
    case("extension", [parcel(area_m2="100000000", table_price_per_m2=BIG_PRICE)],
         months_extended="24"),
    case("land_rent_annual", [parcel(area_m2="100000000", table_price_per_m2=BIG_PRICE,
                                     lease="annual")], rent_rate="0.03"),
    case("non_agricultural_tax", [residential(0, area_m2="100000000",
                                              table_price_per_m2=BIG_PRICE, quota_m2="1")]),
    consolidated(MAX_CONSOLIDATED_PARCELS) | {"parcels": [
        residential(i, area_m2="100000000", table_price_per_m2=BIG_PRICE, quota_m2="1")
        for i in range(MAX_CONSOLIDATED_PARCELS)]},
], ids=["allocation", "change_of_use", "one_time_rent", "extension", "annual_rent",
        "non_agricultural", "consolidated"])
def test_largest_values_assess_every_procedure(procedure_case):
    a = tax_calc.assess(procedure_case)
    assert a.total > 0 and all(isinstance(ln.amount, int) for ln in a.lines)


def test_one_time_rent_at_the_largest_term_is_exact():
    a = tax_calc.assess(case("land_rent_one_time", [parcel(
        area_m2="100000000", table_price_per_m2=BIG_PRICE, lease="one_time",
        lease_term_years="99")], table_term_years=1))
    assert a.line("land_rent_one_time").amount == 10**8 * BIG_PRICE * 99


# ------------------------------------------------------------------------- command line


def run(text: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["-"], stdin=io.StringIO(text), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


CLI_CASES = [
    ("[" * 100_000 + "]" * 100_000, "json"),
    ('{"a": ' * 100_000 + "1" + "}" * 100_000, "json"),
    ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), "json"),
    (json.dumps(transfer_case()).replace("8000000000", "9" * 5000), "declared_price"),
    (json.dumps(transfer_case()).replace('"120.5"', "1" + "0" * 5000 + ".5"),
     "parcels[0].area_m2"),
    (json.dumps(transfer_case()).replace("50000000", "1" + "0" * 30), "parcels[0].table_price_per_m2"),
    (json.dumps(transfer_case(parcel={"area_m2": "10000000000000",
                                      "table_price_per_m2": 10**15})), "parcels[0].area_m2"),
    (json.dumps(transfer_case(parcel={"adjustment_coefficient": "1000"})),
     "parcels[0].adjustment_coefficient"),
    (json.dumps(case("land_rent_one_time", [parcel(lease="one_time", lease_term_years="500")])),
     "parcels[0].lease_term_years"),
    (json.dumps(extension("1000")), "months_extended"),
    (json.dumps(fees(fee(quantity=10**15))), "fees[0].quantity"),
    (json.dumps(annual(tax_year=2090)), "tax_year"),
    (json.dumps(transfer_case(notice_date="2026-01-01")), "notice_date"),
    (json.dumps(interest(paid_on="2026-12-01")), "paid_on"),
    (json.dumps(transfer_case()).replace('"120.5"', "NaN"), "json"),
    (json.dumps(transfer_case()).replace('"120.5"', "1e999999999"), "parcels[0].area_m2"),
    ('{"procedure": "transfer", "procedure": "gift"}', "json"),
    (json.dumps(transfer_case()) + " " * MAX_JSON_CHARS, "json"),
    (json.dumps(transfer_case(parcel={"parcel_id": "\ud800"})), "parcels[0].parcel_id"),
    (json.dumps({**transfer_case(), "a\nb": 1}), '"a\\nb"'),
]


@pytest.mark.parametrize(("text", "field"), CLI_CASES,
                         ids=[f"{i}-{field}" for i, (_, field) in enumerate(CLI_CASES)])
def test_cli_refuses_with_exit_2_naming_the_field(text, field):
    code, out, err = run(text)
    assert code == 2, err
    assert out == ""
    assert err.startswith(f"error: {field}: ") and err.endswith("\n"), err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_cli_large_valid_case_still_answers():
    code, out, err = run(json.dumps(transfer_case(
        declared_price=AMOUNT, parcel={"area_m2": str(MAX_AREA_M2),
                                       "table_price_per_m2": BIG_PRICE,
                                       "adjustment_coefficient": "10"})))
    assert code == 0, err
    result = json.loads(out)
    # 100,000,000 m2 x 10,000,000,000 = 10^18 (above the contract price): 0.5% of it.
    assert result["lines"][0]["amount"] == 5 * 10**15
