"""The annual non-agricultural land use tax batch end to end on PostgreSQL, against a bare COPY
of the same number of notice rows in the same run (goal: the batch in at most 2x the bare COPY),
with peak memory and the re-run.

Creates a scratch database on the local server, migrates it with the real migrations,
imports the data files, generates synthetic parcels and holders with COPY, times two bare
COPYs with psycopg's row writer (the annual notice rows alone; then every row the batch
writes: annual notices, payable notices and their lines), empties those tables, runs
``run_annual_tax`` twice (the second run must create nothing), then drops the database.

Run: python bench/bench_annual_batch.py [--parcels N] [--year YEAR] [--batch-size N]
     [--server URL] [--trace]
Prints figures only; nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import admin  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CHUNK = 50_000
PARCELS_PER_HOLDER = 4
#: One parcel in this many has a street that is not in the price table.
UNPRICED_EVERY = 1000


def rss_mib() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024




def make_app(url: str):
    from app import create_app

    return create_app("development", {"SQLALCHEMY_DATABASE_URI": url})


def prepare(app) -> None:
    """Migrate with the real migrations and import the data files."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.services.data_import import import_file
    from tax_calc.tables import iter_data_files

    with app.app_context():
        upgrade()
        for path in iter_data_files():
            import_file(path)
        db.session.commit()


def generate(app, n: int) -> None:
    """``n`` residential parcels of HCM on the streets of the price table, 4 per holder."""
    from app.extensions import db
    from app.models import Office, OfficeKind, PriceEntry

    rnd = random.Random(2027)  # noqa: S311 - reproducible bench data
    with app.app_context():
        streets = db.session.execute(
            select(PriceEntry.price_key, PriceEntry.position)
            .where(PriceEntry.land_type == "residential").order_by(PriceEntry.id)
        ).all()
        if not streets:
            raise SystemExit("the data files have no residential price")
        office = Office(code="BENCH-REG", name="Bench registry", kind=OfficeKind.REGISTRY,
                        province="HCM")
        db.session.add(office)
        db.session.commit()
        office_id = office.id
        raw = db.session.connection().connection.driver_connection
        holders = -(-n // PARCELS_PER_HOLDER)
        with raw.cursor() as cur:
            with cur.copy("COPY parties (id, full_name, citizen_id, address) FROM STDIN") as copy:
                for start in range(1, holders + 1, CHUNK):
                    copy.write("".join(
                        f"{i}\tHolder {i}\t9{i:011d}\tHCM\n"
                        for i in range(start, min(start + CHUNK, holders + 1))
                    ))
            columns = ("id, province, map_sheet, parcel_no, address, land_type, area_m2, "
                       "price_key, position, registry_office_id")
            with cur.copy(f"COPY parcels ({columns}) FROM STDIN") as copy:
                for start in range(1, n + 1, CHUNK):
                    rows = []
                    for i in range(start, min(start + CHUNK, n + 1)):
                        key, position = rnd.choice(streets)
                        if i % UNPRICED_EVERY == 0:
                            key = "BENCH-UNPRICED"
                        area = rnd.randint(2500, 60000)  # 25.00 .. 600.00 m2
                        rows.append(
                            f"{i}\tHCM\t{i // 1000}\t{i}\t{i} bench street\tresidential\t"
                            f"{area // 100}.{area % 100:02d}\t{key}\t{position}\t{office_id}\n"
                        )
                    copy.write("".join(rows))
            # Each parcel's holder: a holding with a share of 1, held since before history.
            with cur.copy("COPY holdings (parcel_id, party_id, share_num, share_den, position) "
                          "FROM STDIN") as copy:
                for start in range(1, n + 1, CHUNK):
                    copy.write("".join(
                        f"{i}\t{(i - 1) // PARCELS_PER_HOLDER + 1}\t1\t1\t1\n"
                        for i in range(start, min(start + CHUNK, n + 1))
                    ))
            cur.execute("SELECT setval('parties_id_seq', (SELECT max(id) FROM parties))")
            cur.execute("SELECT setval('parcels_id_seq', (SELECT max(id) FROM parcels))")
        db.session.commit()
        db.session.execute(text("ANALYZE parties"))
        db.session.execute(text("ANALYZE parcels"))
        db.session.execute(text("ANALYZE holdings"))
        db.session.commit()


def bare_copy(app, n: int, year: int) -> tuple[float, float]:
    """Seconds of a bare COPY (psycopg's ``write_row``) of ``n`` annual notice rows into their
    table, then of a bare COPY of every row the batch writes for ``n`` parcels (annual notice,
    payable notice, its line with an explanation as long as the rules engine's); each in one
    transaction, with the tables' indexes and foreign keys. The tables are emptied afterwards."""
    import json
    from datetime import UTC, date, datetime

    from app.extensions import db

    detail = json.dumps({
        "base": 44999000000, "base_method": "area x table price, progressive by the quota 160 m2: "
        "160 m2 at 0.03%; 289.99 m2 at 0.07%", "rate": "0.0005577746",
        "rounding": "half_up_dong_once_per_line", "legal_basis": "Law 48/2010/QH12 art. 7 (rates); "
        "Decree 53/2011/ND-CP; Circular 153/2011/TT-BTC art. 7-8",
        "rule_version": "NAT-2026.07", "explanation_vi": "Thuế sử dụng đất phi nông nghiệp: "
        "449.99 m2 x 100.000.000 đ/m2, thuế suất lũy tiến theo hạn mức: 160 m2 x 0.03%; "
        "289.99 m2 x 0.07% = 25.099.300 đ", "explanation_en": "Non-agricultural land use tax: "
        "449.99 m2 x 100.000.000 VND/m2, progressive rates by the quota: 160 m2 at 0.03%; "
        "289.99 m2 x 0.07% = 25.099.300 VND", "tax_year": year, "parcel_id": 1},
        ensure_ascii=False)
    due, now = date(year, 10, 31), datetime.now(UTC)
    annual_columns = ("code, parcel_id, holder_id, amount, exempt, price_table_version, quota_m2, "
                      "quota_version, tax_year, rule_version, due_on, created_at")

    def annual_rows():
        for i in range(1, n + 1):
            yield (f"NN{year}-{i:09d}", i, (i - 1) // PARCELS_PER_HOLDER + 1, 25_099_300, False,
                   "HCM-BENCH", "160.00", "HCM-QUOTA", year, "NAT-2026.07", due, now)

    with app.app_context():
        raw = db.session.connection().connection.driver_connection
        with raw.cursor() as cur:
            start = time.perf_counter()
            with cur.copy(f"COPY annual_tax_notices ({annual_columns}) FROM STDIN") as copy:
                for row in annual_rows():
                    copy.write_row(row)
            raw.commit()
            annual_only = time.perf_counter() - start
            cur.execute("TRUNCATE annual_tax_notices")
            raw.commit()

            start = time.perf_counter()
            cur.execute("SELECT nextval(pg_get_serial_sequence('notices', 'id')) "
                        "FROM generate_series(1, %s)", (n,))
            ids = [row[0] for row in cur.fetchall()]
            with cur.copy(f"COPY annual_tax_notices ({annual_columns}) FROM STDIN") as copy:
                for row in annual_rows():
                    copy.write_row(row)
            with cur.copy("COPY notices (id, code, payer_id, payer_role, status, total, issued_at, "
                          "due_on) FROM STDIN") as copy:
                for i, notice_id in enumerate(ids, 1):
                    copy.write_row((notice_id, f"NN{year}-{i:09d}",
                                    (i - 1) // PARCELS_PER_HOLDER + 1, "holder", "UNPAID",
                                    25_099_300, now, due))
            installments = json.dumps([{"due_on": due.isoformat(), "amount": 25_099_300}])
            with cur.copy("COPY notice_lines (notice_id, obligation, amount, paid, refunded, "
                          "installments, due_on, detail, budget_code, treasury_account) "
                          "FROM STDIN") as copy:
                for notice_id in ids:
                    copy.write_row((notice_id, "non_agricultural_tax", 25_099_300, 0, 0,
                                    installments, due, detail, "757-1602", "bench account"))
            raw.commit()
            everything = time.perf_counter() - start
            cur.execute("TRUNCATE annual_tax_notices, notice_lines, notices CASCADE")
            raw.commit()
        db.session.remove()
    return annual_only, everything


def timed_run(app, year: int, batch_size: int, progress: bool):
    from app.services.annual_tax import run_annual_tax

    with app.app_context():
        start = time.perf_counter()
        summary = run_annual_tax(year, progress=progress, batch_size=batch_size)
        return summary, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=1_000_000)
    ap.add_argument("--year", type=int, default=2027)
    ap.add_argument("--batch-size", type=int, default=20_000)
    ap.add_argument("--server", default=os.environ.get("LANDPAY_BENCH_POSTGRES_URL", SERVER),
                    help="URL of any database on the server; a scratch database is created.")
    ap.add_argument("--trace", action="store_true",
                    help="also re-run under tracemalloc for the traced peak (slower run)")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args()

    name = f"landpay_bench_{os.getpid()}"
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    admin(args.server, f'CREATE DATABASE "{name}"')
    app = None
    try:
        app = make_app(url)
        start = time.perf_counter()
        prepare(app)
        generate(app, args.parcels)
        print(f"scratch database {name}: {args.parcels:,} parcels generated in "
              f"{time.perf_counter() - start:.1f} s (max RSS so far {rss_mib():,.1f} MiB)")

        bare, bare_all = bare_copy(app, args.parcels, args.year)
        print(f"bare COPY of {args.parcels:,} annual notice rows (write_row): {bare:.1f} s")
        print(f"bare COPY of every row the batch writes ({args.parcels:,} annual notices, "
              f"payable notices and lines): {bare_all:.1f} s")

        summary, seconds = timed_run(app, args.year, args.batch_size, args.progress)
        print(f"annual batch {args.year}: {summary.parcels_seen:,} parcels in {seconds:.1f} s = "
              f"{summary.parcels_seen / seconds:,.0f} parcels/second")
        print(f"  ratio to the bare COPY of the notice rows: {seconds / bare:.2f}x (goal <= 2x); "
              f"to the bare COPY of every row it writes: {seconds / bare_all:.2f}x")
        print(f"  notices created {summary.notices_created:,}, exempt {summary.exempt:,}, "
              f"missing price {summary.missing_price:,}, total {summary.total_assessed:,} VND")
        print(f"  max resident set size of the process: {rss_mib():,.1f} MiB")

        again, seconds = timed_run(app, args.year, args.batch_size, args.progress)
        print(f"re-run: {again.parcels_seen:,} parcels in {seconds:.1f} s, "
              f"notices created {again.notices_created:,} (already present "
              f"{again.notices_existing:,})")

        if args.trace:
            tracemalloc.start()
            traced, seconds = timed_run(app, args.year, args.batch_size, False)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"re-run under tracemalloc: {seconds:.1f} s, peak traced memory "
                  f"{peak / 2**20:,.1f} MiB (created {traced.notices_created:,})")

        from app.extensions import db
        from app.models import AnnualTaxNotice

        with app.app_context():
            count = db.session.scalar(select(func.count()).select_from(AnnualTaxNotice))
        print(f"notices in the database: {count:,}")
        print(f"max resident set size of the process: {rss_mib():,.1f} MiB")
    finally:
        if app is not None:
            from app.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
