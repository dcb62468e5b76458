"""LandPay over real HTTP under the documented production setup (PostgreSQL, gunicorn with
``app/gunicorn_conf.py``), side by side with a bare endpoint doing the same database writes
under the same server settings (bench/bare_app.py).

(a) The bank notification: ``POST /bank/notify`` with signed notifications for distinct pending
    orders, against the bare endpoint; rates, p50/p95 and the ratio (goal: at least 0.6x).
(b) Whole transfer flows per second over the API at concurrency 4 and 16 (file, confirm, start
    payment, the bank's notification, payment state, receipt, complete), against what the bare
    endpoint's rate allows for the flow's number of requests (goal: at least half).

Creates a scratch database on the local PostgreSQL server, migrates and seeds it, makes one
pending order through the API and copies it (parcel, dossier, parties, assessment, notice,
lines, order, events) with ``INSERT ... SELECT`` over ``generate_series``, so setup takes
seconds; starts both servers on free loopback ports; drops the database at the end.

Run: python bench/bench_http.py [--seconds 10] [--concurrency 4,16] [--workers N]
     [--server URL]
Prints figures only; nothing here asserts on timing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import PASSWORD, admin, free_port, token_headers  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BANK_SECRET = "bench-bank-secret"  # noqa: S105 - the scratch setup's own value
DECLARED_PRICE = 60_000_000_000  # above the automatic confirmation ceiling: a tax officer confirms
#: Requests of one flow (the tokens are taken once per client, not per flow).
FLOW_STEPS = ("file", "confirm", "start payment", "notify", "payment state", "receipt", "complete")


# ------------------------------------------------------------------------------ processes






def environment(url: str, tmp: Path, **extra: str) -> dict[str, str]:
    """Production settings for the scratch database (nothing here reaches a real bank)."""
    from payments.receipts import generate_signing_key

    key = tmp / "receipt-key.pem"
    if not key.exists():
        key.write_text(generate_signing_key())
        key.chmod(0o600)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("LANDPAY_", "BANK_", "PORTAL_", "VIETQR_", "RECEIPT_"))
            and k not in ("DATABASE_URL", "SECRET_KEY", "WEB_CONCURRENCY", "TRUSTED_PROXIES")}
    return dict(base, LANDPAY_ENV="production", DATABASE_URL=url, SECRET_KEY=secrets.token_hex(16),
                PUBLIC_BASE_URL="https://landpay.example", BANK_BASE_URL="https://bank.example",
                BANK_SECRET=BANK_SECRET, PORTAL_BASE_URL="https://portal.example",
                PORTAL_SECRET="bench-portal-secret", VIETQR_ACQUIRER_ID="970436",  # noqa: S106
                VIETQR_ACCOUNT="0011001932418", RECEIPT_SIGNING_KEY_FILE=str(key),
                LANDPAY_INSTANCE_DIR=str(tmp / "instance"), LANDPAY_ACCESS_LOG="", **extra)


def flask(env: dict, *command: str) -> None:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *command],  # noqa: S603
                          cwd=ROOT,
                          env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


@dataclass
class Server:
    """A gunicorn started with the package's settings; ``app`` names another WSGI app."""

    name: str
    env: dict
    app: str | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def start(self, log: Path) -> None:
        cmd = [sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf"]
        if self.app:
            cmd += ["--chdir", str(ROOT / "bench"), self.app]
        env = dict(self.env, LANDPAY_BIND=f"127.0.0.1:{self.port}")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"),  # noqa: S603
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited:\n{log.read_text()[-3000:]}")
            try:
                status, _ = request(self.address, "GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"{self.name} did not answer:\n{log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def request(address: tuple[str, int], method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes]:
    """One request on a connection of its own (gunicorn's sync workers close it anyway)."""
    conn = http.client.HTTPConnection(*address, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ------------------------------------------------------------------------------ the data


def app_for(url: str):
    from app import create_app

    return create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "BANK_SECRET": BANK_SECRET})


def template(app) -> dict:
    """One pending order made through the API in this process: its parcel, dossier, notice
    and order ids, and An's first parcel (the one every flow parcel is copied from)."""
    import json

    from sqlalchemy import select

    from app.extensions import db
    from app.models import Holding, Notice, Parcel, Party, PaymentOrder

    client = app.test_client()

    def token(username: str) -> dict:
        return token_headers(client, username)

    with app.app_context():
        an = db.session.scalar(select(Party.id).where(Party.citizen_id == "079080000001"))
        parcels = db.session.scalars(
            select(Parcel.id).join(Holding, Holding.parcel_id == Parcel.id)
            .where(Holding.party_id == an, Holding.valid_to.is_(None), Parcel.province == "HCM")
            .order_by(Parcel.id)).all()
    reg, tax, binh = token("registry"), token("tax"), token("binh")
    filed = client.post("/api/v1/dossiers", headers=reg, json=flow_body(parcels[0]))
    assert filed.status_code == 201, filed.get_data(as_text=True)
    dossier = filed.get_json()
    confirmed = client.post(f"/api/v1/assessments/{dossier['assessment']['id']}/confirm",
                            headers=tax)
    assert confirmed.status_code == 201, confirmed.get_data(as_text=True)
    started = client.post(f"/api/v1/notices/{confirmed.get_json()['code']}/payments", headers=binh)
    assert started.status_code == 201, started.get_data(as_text=True)
    with app.app_context():
        order = db.session.scalar(select(PaymentOrder).where(
            PaymentOrder.ref == started.get_json()["ref"]))
        notice = db.session.get(Notice, order.notice_id)
        found = {"parcel": parcels[0], "flow_parcel": parcels[0], "dossier": notice.dossier_id,
                 "notice": notice.id, "order": order.id}
        db.session.remove()
    json.dumps(found)
    return found


def flow_body(parcel_id: int) -> dict:
    return {"parcel_id": parcel_id,
            "transferor": {"full_name": "Nguyễn Văn An", "citizen_id": "079080000001"},
            "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"},
            "declared_price": DECLARED_PRICE, "tax_payer_clause": "buyer_pays_all"}


class Cloner:
    """Copies rows with ``INSERT ... SELECT ... FROM generate_series``: copy ``g`` of template
    row ``j`` of a table gets the id ``base + (g - 1) * k + j``; a foreign key to a copied table
    points to the copy of the same number; unique text columns get the copy's number."""

    def __init__(self, conn, copies: int, tag: str):
        self.conn, self.n, self.tag = conn, copies, tag
        self.copied: dict[str, tuple[int, list[int]]] = {}  # table -> (base, template ids)

    def columns(self, table: str) -> list[str]:
        return list(self.conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
            "ORDER BY ordinal_position"), {"t": table}).scalars())

    def foreign_keys(self, table: str) -> dict[str, str]:
        rows = self.conn.execute(text(
            "SELECT a.attname, c.confrelid::regclass::text FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
            "WHERE c.contype = 'f' AND c.conrelid = CAST(:t AS regclass)"), {"t": table})
        return dict(rows.all())

    def copy(self, table: str, where: str, overrides: dict[str, str] | None = None) -> list[int]:
        """Copy the rows of ``table`` matching ``where`` (SQL on alias ``t``) n times; returns
        the new ids, copy by copy."""
        ids = list(self.conn.execute(text(
            f"SELECT id FROM {table} t WHERE {where} ORDER BY id")).scalars())  # noqa: S608
        if not ids:
            return []
        k = len(ids)
        base = (self.conn.scalar(text(f"SELECT coalesce(max(id), 0) FROM {table}")) or 0) + 1  # noqa: S608
        self.copied[table] = (base, ids)

        def position(column: str, of: list[int]) -> str:
            return (f"(array_position(ARRAY[{','.join(map(str, of))}]::bigint[], "
                    f't."{column}"::bigint) - 1)')

        exprs = []
        fks = self.foreign_keys(table)
        for column in self.columns(table):
            if overrides and column in overrides:
                exprs.append(overrides[column])
            elif column == "id":
                exprs.append(f"{base} + (g - 1) * {k} + {position('id', ids)}")
            elif fks.get(column) in self.copied:
                fbase, fids = self.copied[fks[column]]
                exprs.append(f'CASE WHEN {position(column, fids)} IS NULL THEN t."{column}" '
                             f"ELSE {fbase} + (g - 1) * {len(fids)} + {position(column, fids)} END")
            else:
                exprs.append(f't."{column}"')
        names = ", ".join(f'"{column}"' for column in self.columns(table))
        self.conn.execute(text(
            f"INSERT INTO {table} ({names}) "  # noqa: S608
            f"SELECT {', '.join(exprs)} FROM {table} t CROSS JOIN generate_series(1, {self.n}) g "
            f"WHERE t.id IN ({','.join(map(str, ids))})"))
        self.conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT max(id) FROM {table}))"))
        return [base + i for i in range(self.n * k)]


def clone_orders(engine, found: dict, copies: int, tag: str) -> list[tuple[str, int]]:
    """``copies`` pending orders like the template's, each with its own parcel, dossier,
    parties, assessment, notice, lines and events; returns their (reference, amount)."""
    with engine.begin() as conn:
        c = Cloner(conn, copies, tag)
        c.copy("parcels", f"t.id = {found['parcel']}",
               {"parcel_no": f"'{tag}' || g", "map_sheet": "'bench'"})
        c.copy("holdings", f"t.parcel_id = {found['parcel']} AND t.valid_to IS NULL")
        c.copy("dossiers", f"t.id = {found['dossier']}",
               {"code": f"'HS{tag}' || lpad(g::text, 9, '0')", "certificate_no": "NULL"})
        c.copy("dossier_parties", f"t.dossier_id = {found['dossier']}")
        c.copy("events", f"t.dossier_id = {found['dossier']}",
               {"uid": "gen_random_uuid()::text", "chain_seq": "NULL", "chain_prev": "NULL",
                "chain_hash": "NULL"})
        c.copy("assessments", f"t.dossier_id = {found['dossier']}")
        in_assessments = f"(SELECT id FROM assessments WHERE dossier_id = {found['dossier']})"  # noqa: S608
        c.copy("assessment_lines", f"t.assessment_id IN {in_assessments}")
        c.copy("notices", f"t.id = {found['notice']}",
               {"code": f"'TB{tag}' || lpad(g::text, 9, '0')"})
        c.copy("notice_lines", f"t.notice_id = {found['notice']}")
        c.copy("payment_orders", f"t.id = {found['order']}",
               {"ref": f"'LP{tag}' || lpad(g::text, 9, '0')"})
        rows = conn.execute(text(
            "SELECT ref, amount FROM payment_orders WHERE ref LIKE :p ORDER BY id"),
            {"p": f"LP{tag}%"}).all()
    return [(ref, amount) for ref, amount in rows]


def clone_parcels(engine, parcel_id: int, copies: int, tag: str) -> list[int]:
    """``copies`` parcels like An's first, held by An: one per flow (one open dossier each)."""
    with engine.begin() as conn:
        c = Cloner(conn, copies, tag)
        ids = c.copy("parcels", f"t.id = {parcel_id}",
                     {"parcel_no": f"'{tag}' || g", "map_sheet": "'bench'"})
        c.copy("holdings", f"t.parcel_id = {parcel_id} AND t.valid_to IS NULL")
    return ids


def notification_body(ref: str, amount: int) -> bytes:
    from payments.signing import signed

    params = {"lp_version": "1", "lp_merchant_id": "LANDPAY", "lp_order_ref": ref,
              "lp_amount": str(amount), "lp_response_code": "00",
              "lp_transaction_no": "MB" + secrets.token_hex(8).upper(),
              "lp_pay_date": datetime.now(UTC).strftime("%Y%m%d%H%M%S")}
    return urlencode(signed(params, BANK_SECRET)).encode()


def statements_of_one_notification(app, ref: str, amount: int) -> list[str]:
    """The statements LandPay runs for one notification (in this process, same database)."""
    from sqlalchemy import event

    from app.extensions import db

    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, executemany):
        words = statement.split()
        verb = words[0].upper()
        table = ""
        if verb == "INSERT":
            table = words[2]
        elif verb == "UPDATE":
            table = words[1]
        elif verb == "SELECT":
            table = words[words.index("FROM") + 1] if "FROM" in words else ""
            verb += " FOR UPDATE" if "FOR UPDATE" in statement else ""
        seen.append(f"{verb} {table}" + (" (many)" if executemany else ""))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            answer = app.test_client().post(
                "/bank/notify", data=notification_body(ref, amount),
                content_type="application/x-www-form-urlencoded")
            assert answer.get_json()["RspCode"] == "00", answer.get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        db.session.remove()
    return seen


# ------------------------------------------------------------------------------ load


@dataclass
class Figures:
    done: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    def line(self, what: str) -> str:
        return (f"{what}: {self.done:,} in {self.seconds:.1f} s = {self.rate:,.1f}/s, "
                f"p50 {self.pct(0.50):.0f} ms, p95 {self.pct(0.95):.0f} ms"
                + (f", {self.errors} errors" if self.errors else ""))


def notifications(server: Server, bodies: list[bytes], concurrency: int, seconds: float) -> Figures:
    """Send the notifications from ``concurrency`` threads, each its own, for ``seconds``
    (or until they are all sent)."""
    lock = threading.Lock()
    pending = iter(bodies)
    latencies: list[float] = []
    errors = [0]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    stop_at = time.perf_counter() + seconds

    def client():
        while time.perf_counter() < stop_at:
            with lock:
                body = next(pending, None)
            if body is None:
                return
            start = time.perf_counter()
            status, answer = request(server.address, "POST", "/bank/notify", body, headers)
            took = time.perf_counter() - start
            with lock:
                if status == 200 and b'"00"' in answer:
                    latencies.append(took)
                else:
                    errors[0] += 1

    return _run(client, concurrency, latencies, errors)


def _run(client, concurrency: int, latencies: list[float], errors: list[int]) -> Figures:
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Figures(len(latencies), time.perf_counter() - start, latencies, errors[0])


class Api:
    """One client of the API with the three people's tokens (taken once, not timed)."""

    def __init__(self, server: Server):
        import json

        self.server, self.json = server, json
        self.tokens = {}
        for who in ("registry", "tax", "binh"):
            status, body = self.call("POST", "/api/v1/tokens", None,
                                     {"username": who, "password": PASSWORD})
            assert status == 201, body
            self.tokens[who] = body["token"]

    def call(self, method: str, path: str, who: str | None, payload: dict | None = None,
             body: bytes | None = None, content_type: str = "application/json"):
        headers = {"Content-Type": content_type}
        if who:
            headers["Authorization"] = "Bearer " + self.tokens[who]
        if payload is not None:
            body = self.json.dumps(payload).encode()
        status, raw = request(self.server.address, method, path, body, headers)
        try:
            return status, self.json.loads(raw)
        except ValueError:
            return status, raw

    def flow(self, parcel_id: int, steps: dict[str, list[float]]) -> None:
        """One whole flow; each step's time is added to ``steps``."""
        clock = [time.perf_counter()]

        def step(name: str) -> None:
            now = time.perf_counter()
            steps.setdefault(name, []).append(now - clock[0])
            clock[0] = now

        status, dossier = self.call("POST", "/api/v1/dossiers", "registry", flow_body(parcel_id))
        assert status == 201, dossier
        step("file")
        status, notice = self.call("POST", f"/api/v1/assessments/{dossier['assessment']['id']}"
                                   "/confirm", "tax")
        assert status == 201, notice
        step("confirm")
        status, payment = self.call("POST", f"/api/v1/notices/{notice['code']}/payments", "binh")
        assert status == 201, payment
        step("start payment")
        status, answer = self.call("POST", "/bank/notify", None,
                                   body=notification_body(payment["ref"], payment["amount"]),
                                   content_type="application/x-www-form-urlencoded")
        assert status == 200 and answer["RspCode"] == "00", answer
        step("notify")
        status, state = self.call("GET", f"/api/v1/payments/{payment['ref']}", "binh")
        assert status == 200 and state["status"] == "succeeded", state
        step("payment state")
        status, receipt = self.call("GET", f"/api/v1/receipts/{state['receipt_number']}", "binh")
        assert status == 200, receipt
        step("receipt")
        status, done = self.call("POST", f"/api/v1/dossiers/{dossier['code']}/complete",
                                 "registry")
        assert status == 200 and done["status"] == "completed", done
        step("complete")


def flows(server: Server, parcels: list[int], concurrency: int, seconds: float,
          steps: dict[str, list[float]]) -> Figures:
    clients = [Api(server) for _ in range(concurrency)]
    lock = threading.Lock()
    pending = iter(parcels)
    latencies: list[float] = []
    errors = [0]
    stop_at = time.perf_counter() + seconds
    first_error: list[str] = []

    def client(api=None):
        api = clients.pop()
        while time.perf_counter() < stop_at:
            with lock:
                parcel = next(pending, None)
            if parcel is None:
                return
            start = time.perf_counter()
            try:
                api.flow(parcel, steps)
            except (AssertionError, KeyError, TypeError, OSError) as err:
                with lock:
                    errors[0] += 1
                    first_error.append(repr(err)[:300])
                continue
            with lock:
                latencies.append(time.perf_counter() - start)

    figures = _run(client, concurrency, latencies, errors)
    if first_error:
        print(f"  first flow error: {first_error[0]}")
    return figures


# ------------------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each measurement")
    ap.add_argument("--concurrency", default="4,16", help="client threads, comma-separated")
    ap.add_argument("--workers", type=int, default=None,
                    help="gunicorn workers (default: the config's 2 x cores + 1)")
    ap.add_argument("--orders", type=int, default=6000,
                    help="pending orders made for each notification measurement")
    ap.add_argument("--flows", type=int, default=1500, help="parcels made for each flow measurement")
    ap.add_argument("--server", default=os.environ.get("LANDPAY_BENCH_POSTGRES_URL", SERVER),
                    help="URL of any database on the server; a scratch database is created.")
    args = ap.parse_args()
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]

    name = f"landpay_bench_http_{os.getpid()}"
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    admin(args.server, f'CREATE DATABASE "{name}"')
    servers: list[Server] = []
    engine = app = None
    with tempfile.TemporaryDirectory(prefix="landpay-bench-") as tmpdir:
        tmp = Path(tmpdir)
        try:
            started = time.perf_counter()
            env = environment(url, tmp, **({"LANDPAY_WORKERS": str(args.workers)}
                                           if args.workers else {}))
            # This process's own app (the template order, the statement count) reads the
            # same settings, never the project's instance folder.
            os.environ.update({k: v for k, v in env.items() if k != "LANDPAY_ENV"})
            dev = dict(env, LANDPAY_ENV="development")
            flask(dev, "db", "upgrade")
            flask(dev, "seed-demo")
            app = app_for(url)
            found = template(app)
            engine = create_engine(url)
            pools = {}
            for i, what in enumerate(("bare", "real")):
                for c in levels:
                    pools[what, c] = [notification_body(ref, amount) for ref, amount in
                                      clone_orders(engine, found, args.orders, f"{i}{c}x")]
            parcels = {c: clone_parcels(engine, found["flow_parcel"], args.flows, f"f{c}x")
                       for c in levels}
            spare = clone_orders(engine, found, 2 + 80, "s")
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            statements_of_one_notification(app, *spare[0])  # the first makes the receipt key
            real_statements = statements_of_one_notification(app, *spare[1])
            print(f"scratch database {name}: set up in {time.perf_counter() - started:.1f} s "
                  f"({len(levels) * 2 * args.orders:,} pending orders, "
                  f"{len(levels) * args.flows:,} parcels, copied with INSERT ... SELECT)")
            print(f"one notification, LandPay's statements ({len(real_statements)}): "
                  + ", ".join(real_statements))

            real = Server("landpay", env)
            bare = Server("bare", env, app="bare_app:app")
            for server in (real, bare):
                servers.append(server)
                server.start(tmp / f"{server.name}.log")
            from app.gunicorn_conf import default_workers

            workers = args.workers or default_workers()
            # Warm every worker of both (imports, first connection, first receipt key use),
            # and a few flows, untimed.
            warm = [notification_body(ref, amount) for ref, amount in spare[2:]]
            notifications(real, warm[:40], 8, 60)
            notifications(bare, warm[40:], 8, 60)
            flows(real, clone_parcels(engine, found["flow_parcel"], 8, "w"), 4, 60, {})
            print(f"gunicorn -c python:app.gunicorn_conf, {workers} sync workers each, "
                  f"PostgreSQL {name}; load from {max(levels)} threads at most in this process "
                  f"(http.client, a connection per request)")

            bare_rates = {}
            for c in levels:
                print(f"\n(a) bank notifications, concurrency {c}, {args.seconds:.0f} s each")
                b = notifications(bare, pools["bare", c], c, args.seconds)
                r = notifications(real, pools["real", c], c, args.seconds)
                bare_rates[c] = b.rate
                print("  " + b.line("bare endpoint (same writes)"))
                print("  " + r.line("LandPay POST /bank/notify  "))
                print(f"  ratio LandPay / bare: {r.rate / b.rate:.2f}x (goal >= 0.6x)")

            for c in levels:
                print(f"\n(b) whole transfer flows, concurrency {c}, {args.seconds:.0f} s "
                      f"({len(FLOW_STEPS)} requests each: {', '.join(FLOW_STEPS)})")
                steps: dict[str, list[float]] = {}
                f = flows(real, parcels[c], c, args.seconds, steps)
                allowed = bare_rates[c] / len(FLOW_STEPS)
                print("  " + f.line("flows"))
                print("  median per step: " + ", ".join(
                    f"{name} {sorted(times)[len(times) // 2] * 1000:.0f} ms"
                    for name, times in steps.items()))
                print(f"  the bare endpoint's rate allows {allowed:,.1f} flows/s "
                      f"({bare_rates[c]:,.1f} requests/s / {len(FLOW_STEPS)}); "
                      f"ratio {f.rate / allowed:.2f} (goal >= 0.5)")
        finally:
            for server in servers:
                server.stop()
            if app is not None:
                from app.extensions import db

                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
            if engine is not None:
                engine.dispose()
            admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
