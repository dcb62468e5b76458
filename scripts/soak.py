"""Crash trials on PostgreSQL (``make soak``): kill -9 the web process while payments,
bank notifications and their retries are in flight, restart it, let re-delivery and
``flask check-pending-payments`` recover, then check the books in the databases.

Every process is the real one, on loopback, each with its own PostgreSQL database: the web app
(waitress), the worker (``flask worker``: delivery to the portal...), the mock bank (which
notifies the app and retries) and the mock national portal. A trial files a few transfer
dossiers over the API (registry officer), confirms their assessments (tax officer), then pays
the notices at once (landholder: start the payment, pay at the bank with a test account that
notifies once, twice, late, never, or declines first). At a random moment while requests to the
app or notifications from the bank are in flight, the web process gets SIGKILL; it is started
again after a random pause. Once in the run the portal is killed too and started again later, so
delivery of the outbox must resume.

After each trial the books must balance (checked with SQL in the app's, the bank's and the
portal's databases): the orders the bank took = our succeeded payment orders = receipts = paid
notices; no order counted twice, no receipt twice, no notice paid twice; every event is held by
the portal, once. Exit status 1 on any violation.

    python scripts/soak.py [--trials 20] [--payments 8] [--seed N] [--short] [--report FILE]

PostgreSQL: ``--postgres-url`` (default ``LANDPAY_TEST_POSTGRES_URL``, else the local server
the tests use); the databases are named ``--db-prefix`` + ``_app``/``_bank``/``_portal`` (default
after ``LANDPAY_TEST_DB_TAG``), created fresh and dropped at the end (``--keep`` keeps them and
the process logs).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli import DEMO_PASSWORD  # noqa: E402 - after the path is set
from mock_bank.accounts import ACCOUNTS, PAID  # noqa: E402
from payments.errors import InvalidReceipt  # noqa: E402
from payments.receipts import verify_receipt  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BANK_SECRET = "soak-bank-secret"  # noqa: S105 - throwaway values for processes on loopback
PORTAL_SECRET = "soak-portal-secret"  # noqa: S105
#: The test accounts by what the bank does after the payer pays (mock_bank/accounts.py).
PAYS = next(a.number for a in ACCOUNTS.values() if a.result == PAID and a.notify == "once")
TWICE = next(a.number for a in ACCOUNTS.values() if a.result == PAID and a.notify == "twice")
LATE = next(a.number for a in ACCOUNTS.values() if a.result == PAID and a.notify == "delayed")
NEVER = next(a.number for a in ACCOUNTS.values() if a.result == PAID and a.notify == "never")
DECLINES = next(a.number for a in ACCOUNTS.values() if a.result != PAID and a.notify == "once")
#: How often a payer picks each: mostly a plain payment, every kind of notification represented.
CHOICES = [(PAYS, 5), (TWICE, 2), (LATE, 2), (NEVER, 1), (DECLINES, 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(message: str) -> None:
    print(message, flush=True)


# -- processes ----------------------------------------------------------------------------------


class Process:
    """One of our processes: started, killed with SIGKILL and started again on the same port."""

    def __init__(self, name: str, cmd: list[str], env: dict, url: str, logs: Path):
        self.name, self.cmd, self.env, self.url = name, cmd, env, url
        self.log = logs / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 60) -> float:
        """Start and wait until it answers; returns how long that took (seconds)."""
        began = time.monotonic()
        self.spawn()
        return self.wait_up(began, timeout)

    def spawn(self) -> None:
        handle = self.log.open("a")
        handle.write(f"\n--- start {self.starts + 1} ---\n")
        handle.flush()
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=handle,  # noqa: S603
                                     stderr=subprocess.STDOUT)
        handle.close()
        self.starts += 1

    def wait_up(self, began: float, timeout: float = 60) -> float:
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited while starting:\n{self.tail()}")
            if self.url is None:  # the worker: up once it has named its jobs
                if "worker: " in self.tail().rsplit(f"--- start {self.starts} ---", 1)[-1]:
                    return time.monotonic() - began
                time.sleep(0.05)
                continue
            try:
                requests.get(self.url, timeout=1)
                return time.monotonic() - began
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.tail()}")

    def kill9(self) -> bool:
        """SIGKILL; True when a running process was killed by it."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(10) == -signal.SIGKILL

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill9()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


class Databases:
    """The app's, the bank's and the portal's PostgreSQL databases, made fresh and dropped."""

    def __init__(self, admin_url: str, prefix: str):
        self.admin_url, self.prefix = admin_url, prefix
        self.names = {role: f"{prefix}_{role}" for role in ("app", "bank", "portal")}

    def _admin(self, statements: list[str]) -> None:
        admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                for statement in statements:
                    conn.execute(text(statement))
        finally:
            admin.dispose()

    def create(self) -> None:
        self._admin([s for name in self.names.values() for s in
                     (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')])

    def drop(self) -> None:
        self._admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.names.values()])

    def url(self, role: str) -> str:
        return make_url(self.admin_url).set(database=self.names[role]).render_as_string(hide_password=False)


class Stack:
    """The web app, the worker, the mock bank and the mock portal, each with its own database."""

    def __init__(self, dbs: Databases, work: Path, parcels: int):
        self.dbs, self.work = dbs, work
        ports = {name: free_port() for name in ("app", "bank", "portal")}
        self.app_url = f"http://127.0.0.1:{ports['app']}"
        self.bank_url = f"http://127.0.0.1:{ports['bank']}"
        self.portal_url = f"http://127.0.0.1:{ports['portal']}"
        prefixes = ("LANDPAY_", "MOCK_BANK_", "MOCK_PORTAL_", "BANK_", "PORTAL_")
        base = {k: v for k, v in os.environ.items() if not k.startswith(prefixes) and k != "DATABASE_URL"}
        instance = work / "instance"
        instance.mkdir(parents=True, exist_ok=True)
        self.app_env = dict(
            base,
            LANDPAY_ENV="development",
            LANDPAY_INSTANCE_DIR=str(instance),
            FLASK_APP="app",
            DATABASE_URL=dbs.url("app"),
            SECRET_KEY="soak-secret-key",  # noqa: S106 - a throwaway value on loopback
            BANK_BASE_URL=self.bank_url,
            BANK_SECRET=BANK_SECRET,
            PUBLIC_BASE_URL=self.app_url,
            PORTAL_BASE_URL=self.portal_url,
            PORTAL_SECRET=PORTAL_SECRET,
            # Retry the portal soon after an outage, and never give an event up for dead here:
            # the check is that every event arrives once the portal is back.
            PORTAL_RETRY_BASE="0.25",
            PORTAL_RETRY_MAX="1",
            PORTAL_MAX_ATTEMPTS="1000000",
            PORTAL_TIMEOUT="3",
            RECEIPT_SIGNING_KEY_FILE=str(work / "receipt-key.pem"),
        )
        bank_env = dict(
            base,
            MOCK_BANK_HOST="127.0.0.1",
            MOCK_BANK_PORT=str(ports["bank"]),
            MOCK_BANK_DATABASE_URL=dbs.url("bank"),
            MOCK_BANK_MERCHANTS=f"LANDPAY:{BANK_SECRET}:{self.app_url}/bank/notify",
            MOCK_BANK_COLLECTING=f"0011001932418:LANDPAY:{self.app_url}/bank/credits",
            MOCK_BANK_TEST_HOOKS="1",
            MOCK_BANK_SECRET_KEY="soak-bank-session-key",  # noqa: S106
            # Five attempts over about four seconds: a notification outlives a quick restart
            # of the app and gives up on a slow one (then the status query must find it).
            MOCK_BANK_IPN_ATTEMPTS="5",
            MOCK_BANK_IPN_BACKOFF="0.25,0.5,1,2",
            MOCK_BANK_IPN_TIMEOUT="5",
            MOCK_BANK_IPN_DELAY="1.0",
        )
        portal_env = dict(
            base,
            MOCK_PORTAL_HOST="127.0.0.1",
            MOCK_PORTAL_PORT=str(ports["portal"]),
            MOCK_PORTAL_DATABASE_URL=dbs.url("portal"),
            MOCK_PORTAL_SECRET=PORTAL_SECRET,
        )
        py = sys.executable
        logs = work
        self.bank = Process("bank", [py, "-m", "mock_bank"], bank_env, self.bank_url + "/", logs)
        self.portal = Process("portal", [py, "-m", "mock_portal"], portal_env, self.portal_url + "/api/figures",
                              logs)
        self.app = Process("app", [py, "-m", "waitress", "--listen", f"127.0.0.1:{ports['app']}", "--threads", "8",
                                   "--call", "app:create_app"], self.app_env, self.app_url + "/healthz", logs)
        self.worker = Process("worker", [py, "-m", "flask", "worker"], self.app_env, None, logs)
        self.parcels = parcels

    def flask(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=self.app_env,  # noqa: S603
                              capture_output=True, text=True, timeout=timeout)

    def start(self) -> None:
        began = time.monotonic()
        self.bank.spawn()  # the counterparts start while our database is migrated
        self.portal.spawn()
        for command in (["db", "upgrade"], ["seed-demo", "--extra-parcels", str(self.parcels)]):
            done = self.flask(*command)
            if done.returncode != 0:
                raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        self.bank.wait_up(began)
        self.portal.wait_up(began)
        for process in (self.app, self.worker):
            process.start()

    def stop(self) -> None:
        for process in (self.worker, self.app, self.portal, self.bank):
            process.stop()


# -- the payers ---------------------------------------------------------------------------------


class Flight:
    """What is in flight right now: requests to the app, and checkouts at the bank whose
    notifications (and their retries) the bank is sending to the app."""

    def __init__(self):
        self.lock = threading.Lock()
        self.app_requests = 0
        self.notifying = 0
        self.broken = 0  #: requests to the app that got no answer (connection lost or refused)
        self.server_errors = 0  #: answers 5xx

    @contextmanager
    def _count(self, name: str):
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)
        try:
            yield
        finally:
            with self.lock:
                setattr(self, name, getattr(self, name) - 1)

    def app(self):
        return self._count("app_requests")

    def bank(self):
        return self._count("notifying")

    def now(self) -> int:
        with self.lock:
            return self.app_requests + self.notifying

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


class Client:
    """Calls to the app over HTTP that outlive its death: a call that gets no answer waits
    until the app is back and is made again (a new connection each time)."""

    def __init__(self, stack: Stack, flight: Flight, app_up: threading.Event):
        self.stack, self.flight, self.app_up = stack, flight, app_up

    def token(self, username: str) -> str:
        answer = self.call("POST", "/api/v1/tokens", json={"username": username, "password": DEMO_PASSWORD})
        if answer.status_code != 201:
            raise RuntimeError(f"login {username}: {answer.status_code} {answer.text}")
        return answer.json()["token"]

    def call(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for _attempt in range(40):
            if not self.app_up.wait(120):
                raise RuntimeError("the app did not come back")
            with self.flight.app():
                try:
                    answer = requests.request(method, self.stack.app_url + path, headers=headers,
                                              timeout=60, **kwargs)
                except requests.RequestException:
                    self.flight.add("broken")
                    time.sleep(0.05)
                    continue
            if answer.status_code == 429:
                time.sleep(min(float(answer.headers.get("Retry-After", "1") or 1), 5))
                continue
            if answer.status_code >= 500:
                self.flight.add("server_errors")
                time.sleep(0.1)
                continue
            return answer
        raise RuntimeError(f"{method} {path}: no answer after 40 attempts")


@dataclass
class Payment:
    dossier: str
    notice: str
    account: str = ""
    orders: list[str] = field(default_factory=list)
    outcome: str = ""


def file_and_confirm(client: Client, tokens: dict, parcel: dict) -> Payment:
    """The registry officer files a transfer of one of An's parcels to Bình (Bình pays all);
    the total is above the automatic ceiling, so the tax officer confirms it."""
    created = client.call("POST", "/api/v1/dossiers", tokens["registry"], json={
        "parcel_id": parcel["id"],
        "transferor": parcel["holder"],
        "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"},
        "declared_price": 60_000_000_000,
        "tax_payer_clause": "buyer_pays_all",
    })
    if created.status_code != 201:
        raise RuntimeError(f"filing: {created.status_code} {created.text}")
    dossier = created.json()
    if dossier["status"] == "awaiting_confirmation":
        confirmed = client.call("POST", f"/api/v1/assessments/{dossier['assessment']['id']}/confirm", tokens["tax"])
        if confirmed.status_code != 201:
            raise RuntimeError(f"confirming: {confirmed.status_code} {confirmed.text}")
        return Payment(dossier["code"], confirmed.json()["code"])
    return Payment(dossier["code"], dossier["notice"]["code"])


def pay(client: Client, token: str, payment: Payment, bank_url: str, flight: Flight) -> None:
    """Bình starts paying, then pays on the bank's checkout (through its test hook); after a
    decline, again with the account that pays."""
    account = payment.account
    for _attempt in range(6):
        started = client.call("POST", f"/api/v1/notices/{payment.notice}/payments", token)
        if started.status_code == 409:  # an earlier attempt turned out paid
            payment.outcome = "already paid"
            return
        if started.status_code != 201:
            raise RuntimeError(f"starting a payment of {payment.notice}: {started.status_code} {started.text}")
        body = started.json()
        payment.orders.append(body["ref"])
        params = dict(parse_qsl(urlsplit(body["redirect_url"]).query))
        # The bank notifies the app (and retries) before it answers, for these accounts.
        notifies_now = ACCOUNTS[account].notify in ("once", "twice")
        with flight.bank() if notifies_now else nullcontext():
            answer = requests.post(f"{bank_url}/test/pay", data={**params, "test_account": account}, timeout=120)
        if answer.status_code != 200:
            raise RuntimeError(f"bank checkout of {body['ref']}: {answer.status_code} {answer.text}")
        if answer.json()["response_code"] == PAID:
            payment.outcome = "paid"
            return
        account = PAYS
    raise RuntimeError(f"{payment.notice}: not paid after 6 attempts")


# -- the books ------------------------------------------------------------------------------------


@dataclass
class Books:
    bank_paid: int = 0
    counted: int = 0
    receipts: int = 0
    paid_notices: int = 0
    events: int = 0
    portal_events: int = 0
    undelivered: int = 0
    started: int = 0
    unpaid: int = 0


class Auditor:
    """Reads the three databases directly."""

    def __init__(self, dbs: Databases):
        self.app = create_engine(dbs.url("app"))
        self.bank = create_engine(dbs.url("bank"))
        self.portal = create_engine(dbs.url("portal"))

    def close(self) -> None:
        for engine in (self.app, self.bank, self.portal):
            engine.dispose()

    def _notice_ids(self, conn, codes: list[str]) -> list[int]:
        return list(conn.execute(text("SELECT id FROM notices WHERE code = ANY(:codes)"),
                                 {"codes": codes}).scalars())

    def settled(self, codes: list[str]) -> Books:
        """How far recovery is: orders still open, notices unpaid, events not delivered."""
        books = Books()
        with self.app.connect() as conn:
            ids = self._notice_ids(conn, codes)
            books.started = conn.execute(text(
                "SELECT count(*) FROM payment_orders WHERE notice_id = ANY(:ids) AND status = 'started'"),
                {"ids": ids}).scalar()
            books.unpaid = conn.execute(text(
                "SELECT count(*) FROM notices WHERE id = ANY(:ids) AND upper(status) <> 'PAID'"),
                {"ids": ids}).scalar()
            books.undelivered = conn.execute(text("SELECT count(*) FROM outbox WHERE state <> 'delivered'")).scalar()
            books.events = conn.execute(text("SELECT count(*) FROM events")).scalar()
        with self.portal.connect() as conn:
            books.portal_events = conn.execute(text("SELECT count(*) FROM events")).scalar()
        return books

    def check(self, codes: list[str], dossiers: list[str], jwks: dict) -> tuple[Books, list[str]]:
        """Every invariant, over every payment of the run so far; returns the counts and
        the violations found (each a sentence naming what is wrong). ``jwks``: the app's
        published receipt keys, with which every receipt must verify."""
        wrong: list[str] = []
        books = Books()
        with self.bank.connect() as conn:
            bank = {ref: (no, amount) for ref, no, amount in conn.execute(text(
                "SELECT order_ref, transaction_no, amount FROM transactions "
                "WHERE merchant_id = 'LANDPAY' AND response_code = :paid"), {"paid": PAID})}
            twice = conn.execute(text(
                "SELECT order_ref FROM transactions GROUP BY merchant_id, order_ref HAVING count(*) > 1")).scalars().all()
        books.bank_paid = len(bank)
        wrong += [f"the bank holds order {ref} twice" for ref in twice]
        with self.app.connect() as conn:
            ids = self._notice_ids(conn, codes)
            if len(ids) != len(codes):
                wrong.append(f"{len(codes) - len(ids)} notice(s) of the run are missing")
            orders = conn.execute(text(
                "SELECT id, ref, notice_id, amount, status, needs_refund, bank_ref FROM payment_orders "
                "WHERE notice_id = ANY(:ids)"), {"ids": ids}).all()
            succeeded = {o.ref: o for o in orders if o.status == "succeeded"}
            counted = [o for o in orders if o.status == "succeeded" and not o.needs_refund]
            books.counted = len(counted)
            for ref in sorted(set(bank) - set(succeeded)):
                wrong.append(f"order {ref} was paid at the bank but is not recorded as paid")
            for ref in sorted(set(succeeded) - set(bank)):
                wrong.append(f"order {ref} is recorded as paid but the bank never took it")
            for ref in sorted(set(bank) & set(succeeded)):
                no, amount = bank[ref]
                if succeeded[ref].bank_ref != no or succeeded[ref].amount != amount:
                    wrong.append(f"order {ref}: recorded bank ref/amount {succeeded[ref].bank_ref}/"
                                 f"{succeeded[ref].amount}, the bank's {no}/{amount}")
            for o in orders:
                if o.status == "succeeded" and o.needs_refund:
                    wrong.append(f"notice {o.notice_id} was paid twice at the bank (order {o.ref} flagged for refund)")
            per_notice: dict[int, int] = {}
            for o in counted:
                per_notice[o.notice_id] = per_notice.get(o.notice_id, 0) + 1
            wrong += [f"notice {n} is counted as paid by {c} orders" for n, c in per_notice.items() if c > 1]
            receipts = conn.execute(text(
                "SELECT payment_id, notice_id, number, token FROM receipts WHERE notice_id = ANY(:ids)"),
                {"ids": ids}).all()
            for r in receipts:
                try:
                    verify_receipt(r.token, jwks)
                except InvalidReceipt as err:
                    wrong.append(f"receipt {r.number} does not verify: {err}")
            books.receipts = len(receipts)
            by_payment: dict[int, int] = {}
            by_notice: dict[int, int] = {}
            for r in receipts:
                by_payment[r.payment_id] = by_payment.get(r.payment_id, 0) + 1
                by_notice[r.notice_id] = by_notice.get(r.notice_id, 0) + 1
            wrong += [f"payment {p} has {c} receipts" for p, c in by_payment.items() if c > 1]
            wrong += [f"notice {n} has {c} receipts" for n, c in by_notice.items() if c > 1]
            counted_ids = {o.id for o in counted}
            wrong += [f"counted payment {p} has no receipt" for p in counted_ids - set(by_payment)]
            wrong += [f"receipt for payment {p}, which is not a counted payment" for p in set(by_payment) - counted_ids]
            lines = {row.payment_id: row.total for row in conn.execute(text(
                "SELECT payment_id, sum(amount) AS total FROM payment_lines "
                "WHERE payment_id = ANY(:ids) GROUP BY payment_id"), {"ids": [o.id for o in orders]})}
            for o in counted:
                if lines.get(o.id, 0) != o.amount:
                    wrong.append(f"order {o.ref} of {o.amount} dong settled {lines.get(o.id, 0)} dong of lines")
            notices = conn.execute(text(
                "SELECT n.id, n.code, n.status, n.total, sum(l.paid) AS paid, sum(l.refunded) AS refunded "
                "FROM notices n JOIN notice_lines l ON l.notice_id = n.id WHERE n.id = ANY(:ids) "
                "GROUP BY n.id, n.code, n.status, n.total"), {"ids": ids}).all()
            books.paid_notices = sum(1 for n in notices if n.status.upper() == "PAID")
            for n in notices:
                if n.paid - n.refunded > n.total:
                    wrong.append(f"notice {n.code} holds {n.paid - n.refunded} dong paid for a total of {n.total}")
                if n.status.upper() == "PAID" and n.paid - n.refunded != n.total:
                    wrong.append(f"notice {n.code} is paid with {n.paid - n.refunded} of {n.total} dong")
                if n.status.upper() != "PAID":
                    wrong.append(f"notice {n.code} is still {n.status} after recovery")
            confirmed = dict(conn.execute(text(
                "SELECT d.code, count(e.id) FROM dossiers d LEFT JOIN events e "
                "ON e.dossier_id = d.id AND e.kind = 'payment_confirmed' "
                "WHERE d.code = ANY(:codes) GROUP BY d.code"), {"codes": dossiers}).all())
            wrong += [f"dossier {code} has {confirmed.get(code, 0)} payment_confirmed events"
                      for code in dossiers if confirmed.get(code, 0) != 1]
            ours = set(conn.execute(text("SELECT uid FROM events")).scalars())
            queued = list(conn.execute(text(
                "SELECT event_uid FROM outbox UNION ALL SELECT event_uid FROM outbox_archive")).scalars())
            undelivered = conn.execute(text(
                "SELECT state, count(*) FROM outbox WHERE state <> 'delivered' GROUP BY state")).all()
        books.events = len(ours)
        if len(queued) != len(set(queued)) or set(queued) != ours:
            wrong.append(f"{len(ours)} events but {len(set(queued))} outbox messages ({len(queued)} rows)")
        wrong += [f"{count} outbox message(s) {state} after recovery" for state, count in undelivered]
        books.undelivered = sum(count for _state, count in undelivered)
        with self.portal.connect() as conn:
            held = list(conn.execute(text("SELECT event_id FROM events")).scalars())
        books.portal_events = len(held)
        if len(held) != len(set(held)):
            wrong.append("the portal holds an event twice")
        missing, unknown = ours - set(held), set(held) - ours
        if missing:
            wrong.append(f"{len(missing)} event(s) never reached the portal")
        if unknown:
            wrong.append(f"the portal holds {len(unknown)} event(s) we do not have")
        if not books.bank_paid == books.counted == books.receipts == books.paid_notices:
            wrong.append(f"bank paid {books.bank_paid}, counted {books.counted}, receipts {books.receipts}, "
                         f"paid notices {books.paid_notices}")
        return books, wrong

    def failed_notifications(self, since_id: int) -> tuple[int, int]:
        """Notification attempts after ``since_id`` that got no answer from the app, and the
        highest attempt id."""
        with self.bank.connect() as conn:
            failed = conn.execute(text(
                "SELECT count(*) FROM notification_attempts WHERE id > :since AND rsp_code IS NULL"),
                {"since": since_id}).scalar()
            last = conn.execute(text("SELECT coalesce(max(id), 0) FROM notification_attempts")).scalar()
        return failed, last

    def outbox_marks(self) -> int:
        with self.app.connect() as conn:
            return conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox")).scalar()

    def refused_by_portal(self, since_id: int) -> int:
        """Events of this trial whose delivery failed at least once (a failure is charged to
        the first undelivered event of a dossier; the ones behind it wait without one)."""
        with self.app.connect() as conn:
            return conn.execute(text(
                "SELECT count(*) FROM outbox WHERE id > :since AND attempts > 0"), {"since": since_id}).scalar()


# -- a trial ------------------------------------------------------------------------------------


@dataclass
class TrialResult:
    number: int
    payments: int
    killed: bool = False  #: the web process died of the SIGKILL
    kill_after: float = 0.0  #: seconds into the payment phase
    in_flight_at_kill: int = 0  #: requests to the app and checkouts notifying at that moment
    app_back_after: float = 0.0  #: seconds from the kill until the app answered again
    broken_requests: int = 0  #: requests to the app that got no answer
    server_errors: int = 0
    failed_notifications: int = 0  #: the bank's attempts that got no answer
    settled_by_query: int = 0  #: payments recorded by check-pending-payments
    portal_down: float = 0.0  #: seconds the portal was down (0: not in this trial)
    waited_for_portal: int = 0  #: events not delivered when the portal came back
    refused_by_portal: int = 0  #: events of the trial whose delivery failed at least once
    recovery: float = 0.0  #: seconds from the kill until the books balanced
    books: dict = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


class Soak:
    def __init__(self, args: argparse.Namespace, stack: Stack, auditor: Auditor, rng: random.Random):
        self.args, self.stack, self.auditor, self.rng = args, stack, auditor, rng
        self.app_up = threading.Event()
        self.app_up.set()
        self.flight = Flight()
        self.client = Client(stack, self.flight, self.app_up)
        self.tokens = {name: self.client.token(name) for name in ("registry", "tax", "binh")}
        parcels, cursor = [], None
        while True:  # every page of the office's parcels
            page = self.client.call("GET", "/api/v1/parcels", self.tokens["registry"],
                                    params={"cursor": cursor} if cursor else None).json()
            parcels += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        self.parcels = [p for p in parcels if p["holder"]["citizen_id"] == "079080000001"
                        and p["open_dossier"] is None and p["land_type"] == "residential"]
        self.notices: list[str] = []
        self.dossiers: list[str] = []
        self.last_attempt = 0

    def trial(self, number: int, portal_outage: bool) -> TrialResult:
        args, rng = self.args, self.rng
        result = TrialResult(number, args.payments)
        self.flight = Flight()
        self.client.flight = self.flight
        if len(self.parcels) < args.payments:
            raise RuntimeError("not enough parcels left: raise --extra-parcels")
        payments = [file_and_confirm(self.client, self.tokens, self.parcels.pop(0)) for _ in range(args.payments)]
        for payment in payments:
            payment.account = rng.choices([a for a, _w in CHOICES], [w for _a, w in CHOICES])[0]
        self.notices += [p.notice for p in payments]
        self.dossiers += [p.dossier for p in payments]
        outbox_mark = self.auditor.outbox_marks()
        _failed, self.last_attempt = self.auditor.failed_notifications(self.last_attempt)

        errors: list[BaseException] = []
        driving_done = threading.Event()
        delays = [rng.uniform(0, args.spread) for _ in payments]
        kill_at = rng.uniform(0.1 * args.spread, 0.8 * args.spread)
        restart_pause = rng.uniform(0.1, args.restart_pause)
        outage = (rng.uniform(0, 0.5 * args.spread), rng.uniform(0.5, 2.0)) if portal_outage else None
        phase = time.monotonic()
        killed = {}

        def payer(payment: Payment, delay: float) -> None:
            time.sleep(delay)
            try:
                pay(self.client, self.tokens["binh"], payment, self.stack.bank_url, self.flight)
            except BaseException as err:  # noqa: BLE001 - reported by the trial
                errors.append(err)

        def killer() -> None:
            time.sleep(max(0.0, phase + kill_at - time.monotonic()))
            # A random moment, then the first one with something in flight.
            while self.flight.now() == 0 and not driving_done.is_set():
                time.sleep(0.002)
            killed["in_flight"] = self.flight.now()
            self.app_up.clear()
            killed["app"] = self.stack.app.kill9()
            killed["at"] = time.monotonic()
            time.sleep(restart_pause)
            self.stack.app.start()
            killed["back"] = time.monotonic()
            self.app_up.set()

        def portal_killer() -> None:
            down_after, down_for = outage
            time.sleep(max(0.0, phase + down_after - time.monotonic()))
            killed["portal"] = self.stack.portal.kill9()
            killed["portal_down"] = time.monotonic()
            driving_done.wait(300)
            time.sleep(down_for)
            killed["waiting"] = self.auditor.settled(self.notices).undelivered
            self.stack.portal.start()
            killed["portal_up"] = time.monotonic()

        threads = [threading.Thread(target=payer, args=(p, d)) for p, d in zip(payments, delays, strict=True)]
        controllers = [threading.Thread(target=killer)]
        if outage:
            controllers.append(threading.Thread(target=portal_killer))
        for t in controllers + threads:
            t.start()
        for t in threads:
            t.join()
        driving_done.set()
        for t in controllers:
            t.join()
        if errors:
            raise RuntimeError(f"trial {number}: a payer failed: {errors[0]!r}") from errors[0]

        if "back" not in killed or (outage and "portal_up" not in killed):
            raise RuntimeError(f"trial {number}: a process could not be killed and started again")
        result.killed = killed["app"]
        result.kill_after = killed["at"] - phase
        result.in_flight_at_kill = killed["in_flight"]
        result.app_back_after = killed["back"] - killed["at"]
        if outage and killed["portal"]:
            result.portal_down = killed["portal_up"] - killed["portal_down"]

        # Recovery: the bank's retries and late notifications, the worker's delivery, and the
        # status query for what the bank could not deliver.
        while True:
            books = self.auditor.settled(self.notices)
            if (books.started == 0 and books.unpaid == 0 and books.undelivered == 0
                    and books.portal_events == books.events):
                break
            if time.monotonic() - killed["at"] > args.recovery_limit:
                result.violations.append(
                    f"not recovered {args.recovery_limit:.0f} s after the kill: {books.started} order(s) started, "
                    f"{books.unpaid} notice(s) unpaid, {books.undelivered} event(s) undelivered, portal holds "
                    f"{books.portal_events} of {books.events} events")
                break
            if books.started or books.unpaid:  # what the scheduler runs, without its 15 minutes
                done = self.stack.flask("check-pending-payments", "--older-than", "0")
                result.settled_by_query += done.stdout.count("paid at the bank, recorded")
            else:
                time.sleep(0.2)
        result.recovery = time.monotonic() - killed["at"]
        result.broken_requests = self.flight.broken
        result.server_errors = self.flight.server_errors
        result.failed_notifications, self.last_attempt = self.auditor.failed_notifications(self.last_attempt)
        result.waited_for_portal = killed.get("waiting", 0)
        result.refused_by_portal = self.auditor.refused_by_portal(outbox_mark)
        jwks = self.client.call("GET", "/.well-known/jwks.json").json()
        books, wrong = self.auditor.check(self.notices, self.dossiers, jwks)
        result.books = asdict(books)
        result.violations += wrong
        if not self.stack.worker.alive():
            result.violations.append("the worker died")
        return result


def describe(r: TrialResult, trials: int) -> str:
    b = r.books
    text_ = (f"trial {r.number}/{trials}: {r.payments} payments; kill -9 at {r.kill_after:.2f} s "
             f"{'' if r.killed else '(NOTHING KILLED) '}with "
             f"{r.in_flight_at_kill} in flight, app back in {r.app_back_after:.2f} s; {r.broken_requests} requests "
             f"broken, {r.failed_notifications} notification attempts unanswered, {r.settled_by_query} settled by "
             f"check-pending-payments")
    if r.portal_down:
        text_ += (f"; portal down {r.portal_down:.2f} s, {r.waited_for_portal} events waiting when it came back "
                  f"({r.refused_by_portal} refused at least once)")
    text_ += (f"; bank paid {b['bank_paid']} = counted {b['counted']} = receipts {b['receipts']} = paid notices "
              f"{b['paid_notices']}; portal {b['portal_events']} = ours {b['events']} events; recovered "
              f"{r.recovery:.2f} s after the kill; violations {len(r.violations)}")
    for v in r.violations:
        text_ += f"\n  VIOLATION: {v}"
    return text_


def default_prefix() -> str:
    return "landpay_soak_" + os.environ.get("LANDPAY_TEST_DB_TAG", "") + os.environ.get("PYTEST_XDIST_WORKER", "main")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=None, help="crash trials (default 20; 2 with --short)")
    parser.add_argument("--payments", type=int, default=None, help="payments driven at once per trial (default 8; 4 "
                                                                    "with --short)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, printed)")
    parser.add_argument("--short", action="store_true", help="the short version the test suite runs")
    parser.add_argument("--spread", type=float, default=1.5,
                        help="seconds over which a trial's payers start (the kill falls inside)")
    parser.add_argument("--restart-pause", type=float, default=2.0,
                        help="at most this many seconds between the kill and the restart")
    parser.add_argument("--recovery-limit", type=float, default=120.0,
                        help="seconds the books may take to balance after a kill (more: a violation)")
    parser.add_argument("--postgres-url", default=os.environ.get("LANDPAY_TEST_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--db-prefix", default=default_prefix(), help="names of the three databases")
    parser.add_argument("--report", type=Path, help="write the figures as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the databases and the process logs")
    args = parser.parse_args(argv)
    args.trials = args.trials if args.trials is not None else (2 if args.short else 20)
    args.payments = args.payments if args.payments is not None else (4 if args.short else 8)
    if args.short:
        args.spread = min(args.spread, 1.0)
        args.restart_pause = min(args.restart_pause, 1.0)
        args.recovery_limit = min(args.recovery_limit, 60.0)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 10**6)
    if args.trials < 1 or args.payments < 1:
        parser.error("--trials and --payments must be at least 1")
    if args.trials * args.payments > 990:  # one parcel each; the demo seeds at most 1000 extra
        parser.error("at most 990 payments in a run (--trials x --payments)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)  # noqa: S311 - test timing, not security
    outage_trial = rng.randrange(1, args.trials + 1)
    log(f"soak: {args.trials} trials of {args.payments} payments, seed {args.seed}, portal outage in trial "
        f"{outage_trial}")
    work = Path(tempfile.mkdtemp(prefix="landpay-soak-"))
    dbs = Databases(args.postgres_url, args.db_prefix)
    dbs.create()
    stack = Stack(dbs, work, parcels=args.trials * args.payments + 4)
    auditor = None
    results: list[TrialResult] = []
    failure = None
    began = time.monotonic()
    try:
        stack.start()
        log(f"databases migrated and seeded, processes up in {time.monotonic() - began:.1f} s")
        auditor = Auditor(dbs)
        soak = Soak(args, stack, auditor, rng)
        for number in range(1, args.trials + 1):
            result = soak.trial(number, portal_outage=number == outage_trial)
            results.append(result)
            log(describe(result, args.trials))
    except Exception as err:  # noqa: BLE001 - reported, then the processes are stopped
        failure = f"{type(err).__name__}: {err}"
        log(f"soak stopped: {failure}\n{traceback.format_exc()}")
        for process in (stack.app, stack.worker, stack.bank, stack.portal):
            log(f"--- {process.name} log (end) ---\n{process.tail(1500)}")
    finally:
        stack.stop()
        if auditor is not None:
            auditor.close()
    violations = [f"trial {r.number}: {v}" for r in results for v in r.violations]
    recoveries = [r.recovery for r in results]
    summary = {
        "seed": args.seed,
        "trials": len(results),
        "payments": sum(r.payments for r in results),
        "kills": sum(1 for r in results if r.killed),
        "kills_with_work_in_flight": sum(1 for r in results if r.killed and r.in_flight_at_kill > 0),
        "portal_outages": sum(1 for r in results if r.portal_down),
        "broken_requests": sum(r.broken_requests for r in results),
        "failed_notifications": sum(r.failed_notifications for r in results),
        "settled_by_query": sum(r.settled_by_query for r in results),
        "waited_for_portal": sum(r.waited_for_portal for r in results),
        "refused_by_portal": sum(r.refused_by_portal for r in results),
        "server_errors": sum(r.server_errors for r in results),
        "recovery_median": statistics.median(recoveries) if recoveries else None,
        "recovery_max": max(recoveries) if recoveries else None,
        "books": results[-1].books if results else {},
        "violations": violations,
        "error": failure,
        "seconds": round(time.monotonic() - began, 1),
        "trial_results": [asdict(r) for r in results],
    }
    b = summary["books"] or {}
    log(f"soak summary: trials {summary['trials']}, payments {summary['payments']}, kills {summary['kills']} "
        f"({summary['kills_with_work_in_flight']} with work in flight), portal outages {summary['portal_outages']}, "
        f"violations {len(violations)}; broken requests {summary['broken_requests']}, unanswered notification "
        f"attempts {summary['failed_notifications']}, settled by check-pending-payments "
        f"{summary['settled_by_query']}, events that waited for the portal {summary['waited_for_portal']}; "
        f"bank paid {b.get('bank_paid')} = counted {b.get('counted')} = receipts {b.get('receipts')} = paid "
        f"notices {b.get('paid_notices')}; recovery after a kill: median "
        f"{summary['recovery_median'] or 0:.2f} s, max {summary['recovery_max'] or 0:.2f} s; "
        f"{summary['seconds']} s in all (seed {args.seed})")
    if args.report:
        args.report.write_text(json.dumps(summary, indent=2))
    if args.keep or violations or failure:
        log(f"process logs kept in {work}" + ("" if not args.keep else f"; databases {', '.join(dbs.names.values())}"))
    else:
        shutil.rmtree(work, ignore_errors=True)
    if not args.keep:
        dbs.drop()
    return 1 if violations or failure else 0


if __name__ == "__main__":
    sys.exit(main())
