"""The list pages at two database sizes (goal: p95 at the large size no more than 2x the p95 at
the small one), over HTTP, under the documented production setup (PostgreSQL, gunicorn with
``app/gunicorn_conf.py``).

Creates a scratch database on the local PostgreSQL server, migrates and seeds it, and makes
four dossiers through the API, one at each stage (awaiting confirmation, awaiting payment, paid,
completed). Then, size by size, it generates dossiers like them with psycopg's COPY row writer
(``cursor.copy()`` + ``write_row``): each with its parcel, its two parties, its assessment and
lines, its notice and lines, its payment and receipt once paid, and its events; three in a
hundred wait for a tax officer, three for payment, two for completion, the rest are completed;
two offices; one in a thousand is bought by the demo landholder Bình. After ``VACUUM ANALYZE``
it starts gunicorn and times each page for the people who see it:

- the landholder's notices (``GET /me/`` as ``binh``),
- the tax officer's queue (``GET /tax/`` as ``tax``),
- the registry's inbox (``GET /registry/`` as ``registry``),
- the supervisor's dashboard (``GET /supervision/`` as ``supervisor``).

Run: python bench/bench_scale.py [--sizes 10000,10000000] [--requests 40] [--server URL]
A trial: --sizes 10000,200000. Prints figures only; nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_http import (  # noqa: E402
    PASSWORD,
    SERVER,
    Server,
    admin,
    app_for,
    environment,
    flask,
    flow_body,
    notification_body,
)
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import token_headers  # noqa: E402

#: Tables of a dossier, parents first (each row's foreign keys point to rows already made).
TABLES = ("parcels", "dossiers", "dossier_parties", "assessments", "assessment_lines", "notices",
          "notice_lines", "payment_orders", "payment_lines", "receipts", "events")
#: Columns unique per row: given the dossier's number.
UNIQUE = {("dossiers", "code"): "HS{n:012d}", ("dossiers", "certificate_no"): "CS{n:012d}",
          ("notices", "code"): "TB{n:012d}", ("payment_orders", "ref"): "LP{n:012d}",
          ("payment_orders", "bank_ref"): "MB{n:012d}", ("receipts", "number"): "BL{n:012d}",
          ("parcels", "parcel_no"): "{n}", ("parcels", "map_sheet"): "G{m}"}
CHUNK = 20_000
SPACING = timedelta(seconds=2)  # between two dossiers filed (about 1.3 million a month)
PAGES = (("landholder notices", "binh", "/me/"), ("tax queue", "tax", "/tax/"),
         ("registry inbox", "registry", "/registry/"), ("supervisor dashboard", "supervisor",
                                                       "/supervision/"))


# ------------------------------------------------------------------------------ templates


def make_templates(app) -> dict[str, int]:
    """Four dossiers through the API, one per stage; their ids by stage."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Dossier, Holding, Party

    client = app.test_client()

    def token(username: str) -> dict:
        return token_headers(client, username)

    with app.app_context():
        an = db.session.scalar(select(Party.id).where(Party.citizen_id == "079080000001"))
        parcels = db.session.scalars(select(Holding.parcel_id).where(
            Holding.party_id == an, Holding.valid_to.is_(None)).order_by(Holding.parcel_id)).all()
        db.session.remove()
    reg, tax, binh = token("registry"), token("tax"), token("binh")
    codes = {}
    stages = ["confirm", "pay", "paid", "done"]
    for parcel in parcels:
        if not stages:
            break
        filed = client.post("/api/v1/dossiers", headers=reg, json=flow_body(parcel))
        if filed.status_code != 201:
            continue  # a parcel without a price, or of another office
        filed = filed.get_json()
        stage = stages.pop(0)
        codes[stage] = filed["code"]
        if stage == "confirm":
            continue
        notice = client.post(f"/api/v1/assessments/{filed['assessment']['id']}/confirm",
                             headers=tax).get_json()
        if stage == "pay":
            continue
        payment = client.post(f"/api/v1/notices/{notice['code']}/payments",
                              headers=binh).get_json()
        answer = client.post("/bank/notify", data=notification_body(payment["ref"],
                                                                    payment["amount"]),
                             content_type="application/x-www-form-urlencoded")
        assert answer.get_json()["RspCode"] == "00", answer.get_data(as_text=True)
        if stage == "done":
            done = client.post(f"/api/v1/dossiers/{filed['code']}/complete", headers=reg)
            assert done.status_code == 200, done.get_data(as_text=True)
    if stages:
        raise SystemExit("seed-demo gave An too few parcels to file the templates on")
    with app.app_context():
        found = {stage: db.session.scalar(select(Dossier.id).where(Dossier.code == code))
                 for stage, code in codes.items()}
        db.session.remove()
    return found


@dataclass
class Template:
    """One template dossier's rows, table by table, and how to write copies of them."""

    rows: dict[str, list[list]]
    filed_at: datetime


class Generator:
    """Writes copies of the template dossiers with COPY ``write_row``."""

    def __init__(self, raw, templates: dict[str, int]):
        import app.models  # noqa: F401 - registers the tables
        from app.extensions import db

        self.raw = raw
        self.meta = {name: db.metadata.tables[name] for name in TABLES}
        self.columns = {name: [c.name for c in table.columns] for name, table in self.meta.items()}
        self.fks = {name: {c.name: next(iter(c.foreign_keys)).column.table.name
                           for c in table.columns if c.foreign_keys}
                    for name, table in self.meta.items()}
        from sqlalchemy import JSON

        self.json = {name: [i for i, c in enumerate(table.columns) if isinstance(c.type, JSON)]
                     for name, table in self.meta.items()}
        self.templates = {stage: self._load(did) for stage, did in templates.items()}
        with raw.cursor() as cur:
            cur.execute("SELECT code, id, tax_office_id FROM offices")
            offices = {code: (oid, tax) for code, oid, tax in cur.fetchall()}
            cur.execute("SELECT username, id, party_id FROM users")
            users = {name: (uid, party) for name, uid, party in cur.fetchall()}
        self.binh = users["binh"][1]
        # The second office's people and offices, by the first's.
        self.q3 = {("offices", offices["VPDK-HCM-Q1"][0]): offices["VPDK-HCM-Q3"][0],
                   ("offices", offices["CCT-HCM-Q1"][0]): offices["CCT-HCM-Q3"][0],
                   ("users", users["registry"][0]): users["registry3"][0],
                   ("users", users["tax"][0]): users["tax3"][0]}
        parties = self.templates["done"].rows["dossier_parties"]
        role = self.columns["dossier_parties"].index("role")
        party = self.columns["dossier_parties"].index("party_id")
        self.seller = next(r[party] for r in parties if "transferor" in str(r[role]).lower())
        self.buyer = next(r[party] for r in parties if "transferee" in str(r[role]).lower())
        self.next_id = {}
        with raw.cursor() as cur:
            for name in (*TABLES, "parties"):
                cur.execute(f"SELECT coalesce(max(id), 0) FROM {name}")  # noqa: S608
                self.next_id[name] = cur.fetchone()[0] + 1
        self.start = datetime.now(UTC) - timedelta(days=180)

    def _load(self, dossier_id: int) -> Template:
        where = {
            "dossiers": "id = %(d)s",
            "parcels": "id = (SELECT parcel_id FROM dossiers WHERE id = %(d)s)",
            "dossier_parties": "dossier_id = %(d)s",
            "assessments": "dossier_id = %(d)s",
            "assessment_lines": "assessment_id IN (SELECT id FROM assessments WHERE dossier_id = %(d)s)",
            "notices": "dossier_id = %(d)s",
            "notice_lines": "notice_id IN (SELECT id FROM notices WHERE dossier_id = %(d)s)",
            "payment_orders": "notice_id IN (SELECT id FROM notices WHERE dossier_id = %(d)s)",
            "payment_lines": "payment_id IN (SELECT p.id FROM payment_orders p JOIN notices n "
                             "ON n.id = p.notice_id WHERE n.dossier_id = %(d)s)",
            "receipts": "notice_id IN (SELECT id FROM notices WHERE dossier_id = %(d)s)",
            "events": "dossier_id = %(d)s",
        }
        rows = {}
        with self.raw.cursor() as cur:
            for name in TABLES:
                cols = ", ".join(f'"{c}"' for c in self.columns[name])
                cur.execute(f"SELECT {cols} FROM {name} WHERE {where[name]} ORDER BY id",  # noqa: S608
                            {"d": dossier_id})
                rows[name] = [list(r) for r in cur.fetchall()]
            cur.execute("SELECT filed_at FROM dossiers WHERE id = %s", (dossier_id,))
            filed_at = cur.fetchone()[0]
        return Template(rows, filed_at)

    def parties(self, upto: int) -> None:
        """Landholders up to number ``upto`` (half as many as dossiers, at least 100)."""
        first = self.next_id["parties"]
        if upto < first:
            return
        self.pool = (getattr(self, "pool", (first, 0))[0], upto)
        with self.raw.cursor() as cur, cur.copy(
                "COPY parties (id, full_name, citizen_id, address) FROM STDIN") as copy:
            for pid in range(first, upto + 1):
                copy.write_row((pid, f"Chủ đất {pid}", f"8{pid:011d}", "TP. Hồ Chí Minh"))
        self.next_id["parties"] = upto + 1

    def write(self, count: int) -> None:
        """``count`` more dossiers, in chunks, each chunk one COPY per table and a commit."""
        done = 0
        while done < count:
            n = min(CHUNK, count - done)
            batch = {name: [] for name in TABLES}
            for _ in range(n):
                self._one(batch)
            with self.raw.cursor() as cur:
                # A bulk load of rows made consistent here: the foreign-key triggers are not
                # fired (PostgreSQL's replica mode); every index is kept up to date.
                cur.execute("SET LOCAL session_replication_role = replica")
                for name in TABLES:
                    if not batch[name]:
                        continue
                    cols = ", ".join(f'"{c}"' for c in self.columns[name])
                    with cur.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                        write = copy.write_row
                        for row in batch[name]:
                            write(row)
            self.raw.commit()
            done += n

    def _plans(self) -> None:
        """For each template row, what changes in a copy: (index, how) pairs, worked out once;
        JSON values serialised once (they are copied unchanged)."""
        import json

        self.plan = {}
        for stage, template in self.templates.items():
            for name in TABLES:
                cols, fks, json_at = self.columns[name], self.fks[name], self.json[name]
                for row in template.rows[name]:
                    steps = []
                    for i, col in enumerate(cols[1:], 1):
                        value = row[i]
                        if value is None:
                            continue
                        if i in json_at:
                            row[i] = json.dumps(value, ensure_ascii=False, default=str)
                        elif col in fks:
                            steps.append((i, "fk", fks[col]))
                        elif (name, col) in UNIQUE:
                            steps.append((i, "unique", UNIQUE[(name, col)]))
                        elif col == "uid":
                            steps.append((i, "uid", None))
                        elif col.startswith("chain_"):
                            row[i] = None
                        elif isinstance(value, datetime):
                            steps.append((i, "at", None))
                        elif isinstance(value, date):
                            steps.append((i, "on", None))
                    self.plan[(stage, name, row[0])] = steps

    def _one(self, batch: dict[str, list]) -> None:
        """One dossier copied from the template of its stage."""
        if not hasattr(self, "plan"):
            self._plans()
        n = self.next_id["dossiers"]
        r = n % 100
        stage = "confirm" if r < 3 else "pay" if r < 6 else "paid" if r < 8 else "done"
        template = self.templates[stage]
        delta = self.start + SPACING * n - template.filed_at
        days = timedelta(days=delta.days)
        low, high = self.pool
        size = high - low + 1
        seller = low + (n * 7919) % size
        buyer = self.binh if n % 1000 == 0 else low + (n * 104729 + 1) % size
        remap = {("parties", self.seller): seller, ("parties", self.buyer): buyer}
        if n % 2:
            remap.update(self.q3)
        next_id, plan = self.next_id, self.plan
        for name in TABLES:
            out = batch[name]
            for row in template.rows[name]:
                new = row.copy()
                new_id = next_id[name]
                next_id[name] = new_id + 1
                remap[(name, row[0])] = new_id
                new[0] = new_id
                for i, how, arg in plan[(stage, name, row[0])]:
                    value = row[i]
                    if how == "fk":
                        new[i] = remap.get((arg, value), value)
                    elif how == "at":
                        new[i] = value + delta
                    elif how == "on":
                        new[i] = value + days
                    elif how == "unique":
                        new[i] = arg.format(n=n, m=n // 100_000)
                    else:
                        new[i] = str(uuid.uuid4())
                out.append(new)

    def finish(self) -> None:
        with self.raw.cursor() as cur:
            for name in (*TABLES, "parties"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                            f"(SELECT max(id) FROM {name}))")
        self.raw.commit()


# ------------------------------------------------------------------------------ pages


class Browser:
    """A person's browser session over plain HTTP: the production cookie is ``Secure``
    (``__Host-``), so it is sent by hand, as a browser behind the TLS proxy would send it."""

    def __init__(self, base: str, username: str):
        import requests

        self.base, self.http = base, requests.Session()
        self.cookies: dict[str, str] = {}
        page = self.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        answer = self.http.post(base + "/login", data={
            "csrf_token": token.group(1), "username": username, "password": PASSWORD},
            headers=self._headers(), allow_redirects=False, timeout=60)
        self._keep(answer)
        if answer.status_code not in (302, 303):
            raise SystemExit(f"login of {username} failed: {answer.status_code}")

    def _headers(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _keep(self, answer) -> None:
        for cookie in answer.cookies:
            self.cookies[cookie.name] = cookie.value

    def get(self, path: str):
        answer = self.http.get(self.base + path, headers=self._headers(), timeout=120,
                               allow_redirects=False)
        self._keep(answer)
        return answer


def time_pages(base: str, requests_per_page: int, budget: float) -> dict[str, dict]:
    """Each page ``requests_per_page`` times one after another (after two untimed), or as many
    as fit in ``budget`` seconds; p50 and p95 in milliseconds."""
    out = {}
    for what, user, path in PAGES:
        browser = Browser(base, user)
        times, failed, statuses, failed_after = [], 0, set(), 0.0
        began = time.perf_counter()
        for i in range(requests_per_page + 2):
            start = time.perf_counter()
            try:
                answer = browser.get(path)
                ok = answer.status_code == 200
                statuses.add(answer.status_code)
            except Exception:  # noqa: BLE001 - a timeout or a killed worker is a figure too
                ok = False
            took = time.perf_counter() - start
            if i >= 2 or not ok:
                if ok:
                    times.append(took)
                else:
                    failed += 1
                    failed_after = max(failed_after, took)
            if time.perf_counter() - began > budget:
                break
        times.sort()
        out[what] = {"n": len(times), "p50": _pct(times, 0.5), "p95": _pct(times, 0.95),
                     "failed": failed, "failed_after": failed_after,
                     "statuses": sorted(statuses)}
    return out


def _pct(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


# ------------------------------------------------------------------------------ main


def build(server: str, name: str, previous: str | None, size: int, env: dict,
          templates: dict[str, int] | None) -> dict[str, int]:
    """Make database ``name`` holding ``size`` generated dossiers: a new one (migrated, seeded,
    the four templates made through the API), or a copy of ``previous`` (``CREATE DATABASE
    ... TEMPLATE``) grown to ``size``. Returns the templates' ids."""
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    if previous is None:
        admin(server, f'CREATE DATABASE "{name}"')
        dev = dict(env, DATABASE_URL=url, LANDPAY_ENV="development")
        flask(dev, "db", "upgrade")
        flask(dev, "seed-demo", "--extra-parcels", "8")
        app = app_for(url)
        templates = make_templates(app)
        from app.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    else:
        admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{previous}"')
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(make_url(url).set(drivername="postgresql")
                         .render_as_string(hide_password=False)) as raw:
        gen = Generator(raw, templates)
        have = raw.execute("SELECT count(*) FROM parcels WHERE map_sheet LIKE 'G%'").fetchone()[0]
        gen.parties(max(100, size // 2))
        gen.write(size - have)
        gen.finish()
    written = time.perf_counter() - started
    print(f"{name}: {size:,} dossiers ({size - have:,} written with COPY write_row in "
          f"{written:.1f} s, {(size - have) / written:,.0f} dossiers/s with their rows)")
    return templates


def measure(server: str, name: str, env: dict, tmp: Path, requests: int,
            budget: float) -> dict[str, dict]:
    """Bring database ``name`` to the newest migration, VACUUM ANALYZE it, serve it with
    gunicorn and time the pages."""
    import psycopg

    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    flask(dict(env, DATABASE_URL=url, LANDPAY_ENV="development"), "db", "upgrade")
    with psycopg.connect(make_url(url).set(drivername="postgresql")
                         .render_as_string(hide_password=False), autocommit=True) as raw:
        started = time.perf_counter()
        raw.execute("VACUUM ANALYZE")
        vacuum = time.perf_counter() - started
        count = raw.execute("SELECT count(*) FROM dossiers").fetchone()[0]
        size = raw.execute("SELECT pg_size_pretty(pg_database_size(current_database()))") \
            .fetchone()[0]
        largest = raw.execute(
            "SELECT relname, reltuples::bigint, pg_size_pretty(pg_total_relation_size(oid)) "
            "FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
            "ORDER BY pg_total_relation_size(oid) DESC LIMIT 5").fetchall()
    print(f"{name}: {count:,} dossiers, database {size}, VACUUM ANALYZE {vacuum:.1f} s; "
          "largest tables (rows, with indexes): "
          + ", ".join(f"{t} {rows:,} {bytes_}" for t, rows, bytes_ in largest))
    web = Server("landpay", dict(env, DATABASE_URL=url))
    web.start(tmp / f"web-{name}.log")
    try:
        results = time_pages(f"http://127.0.0.1:{web.port}", requests, budget)
    finally:
        web.stop()
    for what, fig in results.items():
        print(f"  {what:22s} p50 {fig['p50']:8.0f} ms  p95 {fig['p95']:8.0f} ms ({fig['n']} timed"
              + (f", {fig['failed']} failed, after {fig['failed_after']:.1f} s at most"
                 if fig["failed"] else "")
              + f", status {fig['statuses']})")
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,10000000",
                    help="dossier counts, comma-separated, growing (default 10000,10000000)")
    ap.add_argument("--requests", type=int, default=40, help="timed requests per page and size")
    ap.add_argument("--budget", type=float, default=90.0,
                    help="seconds at most per page and size (slow pages get fewer requests)")
    ap.add_argument("--server", default=os.environ.get("LANDPAY_BENCH_POSTGRES_URL", SERVER),
                    help="URL of any database on the server; scratch databases are created.")
    ap.add_argument("--keep", action="store_true",
                    help="keep the databases (one per size) for --measure")
    ap.add_argument("--no-measure", action="store_true", help="only generate (with --keep)")
    ap.add_argument("--measure", default=None,
                    help="measure databases kept by an earlier run (comma-separated names, "
                         "smallest first) after migrating them to the newest schema")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="landpay-bench-") as tmpdir:
        tmp = Path(tmpdir)
        env = environment(make_url(args.server).render_as_string(hide_password=False), tmp)
        os.environ.update({k: v for k, v in env.items()
                           if k not in ("LANDPAY_ENV", "DATABASE_URL")})
        names: list[str] = []
        results: dict[str, dict] = {}
        try:
            if args.measure:
                names = [n.strip() for n in args.measure.split(",") if n.strip()]
                for name in names:
                    results[name] = measure(args.server, name, env, tmp, args.requests,
                                            args.budget)
            else:
                sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
                templates = None
                for size in sizes:
                    name = f"landpay_bench_scale_{os.getpid()}_{size}"
                    templates = build(args.server, name, names[-1] if names else None, size,
                                      env, templates)
                    names.append(name)
                    if not args.no_measure:
                        results[name] = measure(args.server, name, env, tmp, args.requests,
                                                args.budget)
            if len(results) > 1:
                small, large = names[0], names[-1]
                print(f"\np95 at {large} / p95 at {small} (goal <= 2x):")
                for what, *_ in PAGES:
                    a, b = results[small][what]["p95"], results[large][what]["p95"]
                    print(f"  {what:22s} {b / a:6.2f}x  ({a:.0f} ms -> {b:.0f} ms)")
        finally:
            if args.keep or args.measure:
                print("databases kept: " + ",".join(names))
            else:
                for name in names:
                    admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
