"""Loaders and validators of the versioned data files."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest

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
