"""Loaders and validators of the versioned data files."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

import tax_calc
from tax_calc import CaseError, TableError
from tax_calc.tables import (
    PriceBook,
    default_data_dir,
    iter_data_files,
    load_coefficients,
    load_fee_schedule,
    load_position_factors,
    load_price_book,
    load_quotas,
    load_table,
)
from tests.tax_calc.helpers_tax import transfer_case

HEADER = """# kind: price_table
# province: T
# version: T-1
# effective_from: 2026-01-01
# source: test
# status: illustrative
# unit: VND/m2
"""
COLS = "zone_code,street,segment_from,segment_to,position,land_type,price_per_m2\n"


def book(rows: str, header: str = HEADER, cols: str = COLS) -> PriceBook:
    return load_price_book(io.StringIO(header + cols + rows))


def test_every_shipped_file_loads_and_names_its_source():
    files = iter_data_files()
    assert len(files) >= 5
    for path in files:
        table = load_table(path)
        assert table.meta.source and table.meta.version and table.meta.status
        assert table.rows


def test_hcm_price_book_sample():
    pb = load_price_book(default_data_dir() / "price_tables" / "HCM-2026.1.csv")
    assert (pb.version, pb.province, pb.meta.effective_from) == ("HCM-2026.1", "HCM",
                                                                  date(2026, 1, 1))
    assert "87/2025" in pb.meta.source and "1,000" in pb.meta.unit
    assert pb.price("HCM-SAIGON-DONG-KHOI", 1, "residential") == 687_200_000
    with pytest.raises(CaseError) as exc:  # blank cell = missing price
        pb.price("HCM-SAIGON-DONG-KHOI", 1, "commercial")
    assert exc.value.field == "table_price_per_m2"
    factors = load_position_factors(default_data_dir() / "position_factors" /
                                    "HCM-2026.1-positions.csv")
    assert pb.price("HCM-SAIGON-LE-LOI", 2, "residential", factors) == 343_600_000


def test_other_kinds():
    d = default_data_dir()
    assert load_quotas(d / "quotas" / "HCM-69-2024.csv").quota("HCM-INNER") == Decimal(160)
    fees = load_fee_schedule(d / "fees" / "HN-06-2020.csv")
    assert fees.fee("change_registration", "organisation").amount == 30_000
    coef = load_coefficients(d / "adjustment_coefficients" / "DEMO-2026.csv")
    assert coef.coefficient("any-zone", "residential") == Decimal("1.0")


def test_stream_and_plain_data():
    pb = book("Z1,Street,a,b,1,residential,1000\nZ1,Street,a,b,2,residential,\n")
    assert pb.rows[0].line == 9 and pb.rows[0].price_per_m2 == 1000
    assert pb.rows[1].price_per_m2 is None
    assert pb.meta.to_dict()["version"] == "T-1"


@pytest.mark.parametrize(
    ("text", "field", "line"),
    [
        (HEADER + COLS + "Z1,S,a,b,1,residential,12x\n", "price_per_m2", 9),
        (HEADER + COLS + "Z1,S,a,b,1,castle,100\n", "land_type", 9),
        (HEADER + COLS + "Z1,S,a,b,0,residential,100\n", "position", 9),
        (HEADER + COLS + ",S,a,b,1,residential,100\n", "zone_code", 9),
        (HEADER + COLS + "Z1,S,a,b,1,residential,100\nZ1,S,a,b,1,residential,200\n",
         "zone_code", 10),
        (HEADER + COLS + "Z1,S,a,b,1,residential\n", None, 9),
        (HEADER + "zone_code,street,position,land_type,price_per_m2\n", "segment_from", 8),
        (HEADER.replace("# version: T-1\n", ""), "version", None),
        (HEADER.replace("2026-01-01", "01/01/2026") + COLS, "effective_from", 4),
        (HEADER.replace("price_table", "menu") + COLS, "kind", 1),
    ],
)
def test_bad_files_name_line_and_field(text, field, line):
    with pytest.raises(TableError) as exc:
        load_price_book(io.StringIO(text))
    assert exc.value.field == field and exc.value.line == line
    if line is not None:
        assert f"line {line}" in str(exc.value)


def test_wrong_kind_for_loader():
    with pytest.raises(TableError) as exc:
        load_quotas(default_data_dir() / "price_tables" / "HCM-2026.1.csv")
    assert exc.value.field == "kind"


# ---------------------------------------------------------------- tables in force, for the place


def _lookup_case(**overrides):
    return transfer_case(parcel={"zone_code": "HCM-SAIGON-DONG-KHOI", "position": 1,
                                 "table_price_per_m2": None}, **overrides)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        # HCM's table applied to a Hanoi case: never another province's table
        ({"province": "HN"}, "price_table_version", "is for province HCM"),
        # dated before the table took effect (01/01/2026): never a future table
        ({"valid_on": "2025-12-31", "notice_date": "2025-12-31"}, "price_table_version",
         "takes effect on 2026-01-01"),
        # no province: a table cannot be placed
        ({"province": None}, "province", "is required"),
    ],
)
def test_price_table_only_for_its_province_and_from_its_date(overrides, field, words):
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(_lookup_case(**overrides))
    assert exc.value.field == field
    assert words in exc.value.message


def test_price_table_in_force_is_used():
    a = tax_calc.assess(_lookup_case(valid_on="2026-01-01", notice_date="2026-01-02"))
    # 120.5 m2 x 687,200,000 x 0.5% = 414,038,000 (table value above the declared price)
    assert a.line("registration_fee").amount == 414_038_000


def test_table_that_has_ended_is_refused():
    from tax_calc.tables import TableMeta, in_force
    meta = TableMeta("price_table", "HCM", "HCM-OLD", date(2020, 1, 1), date(2025, 12, 31),
                     "src", "official")
    assert in_force(meta, "HCM", date(2025, 12, 31), "f") is meta
    with pytest.raises(CaseError) as exc:
        in_force(meta, "HCM", date(2026, 1, 1), "price_table_version")
    assert exc.value.field == "price_table_version" and "ended on 2025-12-31" in exc.value.message
    with pytest.raises(CaseError):
        in_force(meta, "HCM", date(2019, 12, 31), "price_table_version")


def test_position_factors_of_another_province_are_refused():
    from tax_calc.tables import load_position_factors
    factors = load_position_factors(next(default_data_dir().glob("position_factors/*.csv")))
    hn = replace(factors, meta=replace(factors.meta, province="HN"))
    case = _lookup_case()
    case["parcels"][0]["position"] = 2
    assert tax_calc.assess(case, position_factors=factors).total > 0
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(case, position_factors=hn)
    assert exc.value.field == "position_factors"
