"""Throughput of tax_calc on one core: the transfer case and the annual non-agricultural
tax fast path (goal: at least 200,000 parcels a second on one core), with peak memory.

Run: python bench/bench_tax_calc.py [--parcels N] [--transfers N]
Prints figures only; nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tax_calc  # noqa: E402


def transfer_cases(n: int) -> list[dict]:
    rnd = random.Random(7)  # noqa: S311 - reproducible bench data
    return [{
        "procedure": "transfer", "valid_on": "2026-11-27", "notice_date": "2026-11-27",
        "province": "HCM", "price_table_version": "HCM-2026.1",
        "parcels": [{"land_type": "residential", "area_m2": f"{rnd.randint(300, 30000) / 100}",
                     "table_price_per_m2": rnd.randint(1, 700) * 1_000_000,
                     "adjustment_coefficient": "1.0"}],
        "declared_price": rnd.randint(1, 100) * 100_000_000,
        "relationship": rnd.choice([None, None, None, "spouse"]),
        "sole_residence_183_days": False,
    } for _ in range(n)]


def parcels(n: int) -> list[tuple[Decimal, int, Decimal]]:
    rnd = random.Random(11)  # noqa: S311 - reproducible bench data
    return [(Decimal(rnd.randint(3000, 100000)) / 100, rnd.randint(1, 700) * 100_000,
             Decimal(rnd.choice([100, 160, 200, 300]))) for _ in range(n)]


def rate(label: str, count: int, seconds: float) -> None:
    print(f"{label}: {count:,} in {seconds:.3f} s = {count / seconds:,.0f} per second")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=1_000_000)
    ap.add_argument("--transfers", type=int, default=20_000)
    args = ap.parse_args()

    cases = transfer_cases(args.transfers)
    start = time.perf_counter()
    for case in cases:
        tax_calc.assess(case)
    rate("transfer case, dict in -> assessment", len(cases), time.perf_counter() - start)

    built = [tax_calc.case_from_dict(c) for c in cases]
    start = time.perf_counter()
    for case in built:
        tax_calc.assess(case)
    rate("transfer case, Case in -> assessment", len(built), time.perf_counter() - start)

    data = parcels(args.parcels)
    on = date(2027, 1, 1)
    fast = tax_calc.annual_non_agricultural_tax
    start = time.perf_counter()
    total = 0
    for area, price, quota in data:
        total += fast(area, price, quota, "residential", None, on)
    rate("annual non-agricultural tax, fast path", len(data), time.perf_counter() - start)
    print(f"  (sum of {len(data):,} annual taxes: {total:,} VND)")

    sample = data[:20_000]
    start = time.perf_counter()
    for area, price, quota in sample:
        tax_calc.non_agricultural_tax_line(area, price, quota, "residential", None, on)
    rate("annual non-agricultural tax, explained line", len(sample),
         time.perf_counter() - start)

    tracemalloc.start()
    for area, price, quota in data[:100_000]:
        fast(area, price, quota, "residential", None, on)
    for case in cases[:2_000]:
        tax_calc.assess(case)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak traced memory while assessing: {peak / 1024:,.0f} KiB")
    print(f"max resident set size of the process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.1f} MiB")


if __name__ == "__main__":
    main()
