"""The annual batch: the non-agricultural land use tax of every residential parcel for a
year, persisted as one notice per parcel and year.

The state of 1 January of the year decides: the price table version and the quota table in
force that day, the rule version that covers it, and the holders on record at its start
(the notice goes to them, not to whoever holds the parcel when the batch runs). Each
parcel's amount comes from ``tax_calc.annual_non_agricultural_tax`` (the same amount, to the
dong, as the explained line). Notices are written in batches, one transaction each; a batch
holds a lock on the tax year, writes only the notices its parcels lack (unique parcel and year)
and goes straight into the tables (COPY's row writer on PostgreSQL, executemany on SQLite): a
re-run, a run after a crash or two runs at once only add the notices that are missing.

Each notice that is not exempt is also issued, in the same transaction, as a payable
``Notice`` under the same code: no dossier, owed by the holder of 1 January alone, one line
explained by the rules engine (``non_agricultural_tax_line``) and classified for the treasury.
Every payment path (card, VietQR, /pay, refunds, reconciliation) then treats it like any
notice. A re-run issues the payable notice of any annual notice that still lacks one. See
docs/annual-tax.md.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, and_, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

import tax_calc
from app.extensions import db
from app.models import (
    AnnualTaxNotice,
    AnnualTaxRun,
    Holding,
    Notice,
    NoticeLine,
    NoticeStatus,
    Parcel,
    PriceEntry,
)
from app.models.annual import annual_notice_code
from app.models.base import utcnow
from app.services.data_import import data_table, price_version_in_force

RESIDENTIAL = "residential"
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: How many skipped parcels the summary names (all are counted).
EXAMPLES = 50
#: The quota row that applies to a whole province (parcels record no quota location).
PROVINCE_WIDE = "*"
#: The side that owes an annual notice (``Notice.payer_role``): the holder on record alone.
PAYER_ROLE = "holder"
OBLIGATION = "non_agricultural_tax"

log = logging.getLogger(__name__)


class AnnualTaxError(ValueError):
    """The run cannot start: the year or the data make every assessment impossible."""


@dataclass(frozen=True)
class _ProvinceData:
    """What one province's parcels are assessed with; a missing part is named in ``missing``."""

    price_table_version: str | None
    prices: dict[tuple[str, int], Decimal]
    quota_m2: Decimal | None
    quota_version: str | None

    @property
    def missing(self) -> str | None:
        if self.price_table_version is None:
            return "missing_price"
        if self.quota_m2 is None:
            return "missing_quota"
        return None


#: A province whose first residential parcel appeared after the run started.
_UNKNOWN_PROVINCE = _ProvinceData(None, {}, None, None)


@dataclass
class RunSummary:
    """What a run did. ``notices_created`` counts only new notices: a re-run reports 0."""

    run_id: int
    tax_year: int
    province: str | None
    rule_version: str
    price_table_versions: dict[str, str]
    parcels_seen: int = 0
    notices_created: int = 0
    #: Parcels assessed whose notice for the year already existed.
    notices_existing: int = 0
    #: Payable notices issued by this run (a re-run issues those still missing).
    payable_issued: int = 0
    exempt: int = 0
    #: Sum of the amounts assessed in this run (new and existing notices), whole dong.
    total_assessed: int = 0
    missing_price: int = 0
    missing_quota: int = 0
    invalid_data: int = 0
    #: Up to ``EXAMPLES`` skipped parcels as (parcel id, reason).
    skipped_examples: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, batch: _Batch, created: int) -> None:
        """Count a committed batch."""
        self.parcels_seen += batch.seen
        self.notices_created += created
        self.notices_existing += len(batch.notices) - created
        self.payable_issued += batch.issued
        self.exempt += batch.exempt
        self.total_assessed += batch.total
        self.missing_price += batch.skipped["missing_price"]
        self.missing_quota += batch.skipped["missing_quota"]
        self.invalid_data += batch.skipped["invalid_data"]

    @property
    def skipped(self) -> int:
        return self.missing_price + self.missing_quota + self.invalid_data

    def lines(self) -> list[str]:
        versions = ", ".join(f"{p} {v}" for p, v in sorted(self.price_table_versions.items()))
        out = [
            f"annual non-agricultural land use tax {self.tax_year}"
            + (f", province {self.province}" if self.province else "")
            + f" (run {self.run_id}, rule {self.rule_version})",
            f"price tables: {versions or 'none'}",
            f"residential parcels seen: {self.parcels_seen}",
            f"notices created: {self.notices_created}; already present: {self.notices_existing}",
            f"payable notices issued: {self.payable_issued}",
            f"exempt (50,000 VND or less): {self.exempt}",
            f"total assessed: {self.total_assessed:,} VND",
            f"skipped: {self.skipped} (missing price {self.missing_price}, missing quota "
            f"{self.missing_quota}, invalid data {self.invalid_data})",
        ]
        if self.skipped_examples:
            shown = ", ".join(f"{pid} ({why})" for pid, why in self.skipped_examples[:10])
            more = self.skipped - min(len(self.skipped_examples), 10)
            out.append(f"skipped parcels: {shown}" + (f" and {more} more" if more > 0 else ""))
        out.append(f"time: {self.seconds:.1f} s")
        return out


def run_annual_tax(year: int, *, province: str | None = None, progress: bool = False,
                   batch_size: int = 20000) -> RunSummary:
    """Assess and persist the year's notice of every residential parcel (of ``province``, or
    all). Safe to re-run: existing notices are kept, never duplicated. One transaction per
    batch; the run's counters are updated in the same transaction."""
    if not 1900 <= year <= 9999:
        raise AnnualTaxError(f"tax year {year} is out of range")
    if batch_size < 1:
        raise AnnualTaxError("batch size must be at least 1")
    started = time.perf_counter()
    jan1 = date(year, 1, 1)
    try:
        rule = tax_calc.rule_for("non_agricultural_tax", jan1)
    except tax_calc.CaseError as err:
        raise AnnualTaxError(str(err)) from err
    # Read everything the batch needs before writing anything, so a configuration problem
    # stops the run before it starts.
    data = {p: _province_data(p, jan1) for p in _provinces(province)}
    versions = {p: d.price_table_version for p, d in data.items() if d.price_table_version}
    total = _count(province) if progress else None
    run = AnnualTaxRun(tax_year=year, province=province, rule_version=rule.version,
                       price_table_versions=versions)
    db.session.add(run)
    db.session.commit()
    summary = RunSummary(run_id=run.id, tax_year=year, province=province,
                         rule_version=rule.version, price_table_versions=versions)
    # The due date is the rule's (the same rule version as the amounts: the one in force on
    # 1 January), never a date written here.
    static = _Static(year, rule.version, tax_calc.annual_due_date(year, valid_on=jan1), run.id,
                     utcnow(), datetime(year, 1, 1, tzinfo=LOCAL_TZ))
    assess = _Assessor(data, jan1, rule.params["small_exemption"], summary)
    engine = db.engine
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="parcel", desc=f"non-agricultural tax {year}")

    def committed(batch: _Batch, created: int) -> None:
        summary.add(batch, created)
        if bar is not None:
            bar.update(batch.seen)

    try:
        if engine.dialect.name == "postgresql":
            _run_postgresql(engine, province, batch_size, assess, static, committed)
        else:
            _run_sqlite(engine, province, batch_size, assess, static, committed)
    finally:
        if bar is not None:
            bar.close()
    db.session.execute(
        update(AnnualTaxRun).where(AnnualTaxRun.id == run.id).values(finished_at=utcnow())
    )
    db.session.commit()
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Batch:
    """One batch of parcels, assessed: written and committed as one transaction."""

    seen: int
    #: (parcel id, holder id, amount, exempt, province)
    notices: list[tuple[int, int, int, bool, str]]
    skipped: dict[str, int]
    exempt: int
    total: int
    #: The province data the batch was assessed with (what its notices record).
    provinces: dict[str, _ProvinceData] = field(default_factory=dict)
    #: Each province's budget code and treasury account (the payable notices' lines).
    stamps: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    #: What the explained line needs, per parcel whose notice is not exempt:
    #: parcel id -> (area, price per m2, quota, province).
    inputs: dict[int, tuple[Decimal, Decimal, Decimal, str]] = field(default_factory=dict)
    #: Payable notices this batch issued.
    issued: int = 0


@dataclass(frozen=True)
class _Static:
    """The columns every notice of the run shares."""

    tax_year: int
    rule_version: str
    due_on: date
    run_id: int
    created_at: datetime
    #: The instant whose holders the notices go to: the start of 1 January, local time.
    holders_at: datetime

    @property
    def issued_on(self) -> date:
        """The date payable notices are issued on: the run's day, or 1 January if later."""
        return max(self.created_at.astimezone(LOCAL_TZ).date(), self.holders_at.date())


class _Assessor:
    """Assesses a batch of parcel rows with the rules engine's fast path (pure; no I/O)."""

    def __init__(self, data: dict[str, _ProvinceData], on: date, threshold: int | None,
                 summary: RunSummary):
        self.data = data
        self.on = on
        #: The treasury classification of each province that can be assessed, looked up once.
        self.stamps = {p: _classification(p) for p, d in data.items() if d.missing is None}
        self.threshold = threshold
        self.examples = summary.skipped_examples

    def __call__(self, rows: Sequence[Any]) -> _Batch:
        data, on, threshold = self.data, self.on, self.threshold
        fast = tax_calc.annual_non_agricultural_tax
        notices = []
        inputs = {}
        skipped = {"missing_price": 0, "missing_quota": 0, "invalid_data": 0}
        exempt = total = 0
        for parcel_id, province, area, price_key, position, holder_id in rows:
            pdata = data.get(province, _UNKNOWN_PROVINCE)
            reason = pdata.missing
            if reason is None:
                price = pdata.prices.get((price_key, position))
                if price is None:
                    reason = "missing_price"
                else:
                    try:
                        amount = fast(area, price, pdata.quota_m2, RESIDENTIAL, None, on)
                    except tax_calc.CaseError:
                        reason = "invalid_data"
            if reason is not None:
                skipped[reason] += 1
                if len(self.examples) < EXAMPLES:
                    self.examples.append((parcel_id, reason))
                continue
            # The fast path gives 0 exactly when the small-amount exemption applies (as the
            # explained line does, an amount of 0 before it counts as exempt too).
            is_exempt = threshold is not None and amount == 0
            exempt += is_exempt
            total += amount
            notices.append((parcel_id, holder_id, amount, is_exempt, province))
            if amount > 0:
                inputs[parcel_id] = (area, price, pdata.quota_m2, province)
        return _Batch(len(rows), notices, skipped, exempt, total, inputs=inputs,
                      provinces=data, stamps=self.stamps)


def _count_batch(conn: Connection, batch: _Batch, created: int, run_id: int) -> None:
    conn.execute(
        update(AnnualTaxRun).where(AnnualTaxRun.id == run_id).values(
            parcels_seen=AnnualTaxRun.parcels_seen + batch.seen,
            notices_created=AnnualTaxRun.notices_created + created,
            missing_price=AnnualTaxRun.missing_price + batch.skipped["missing_price"],
            missing_quota=AnnualTaxRun.missing_quota + batch.skipped["missing_quota"],
            invalid_data=AnnualTaxRun.invalid_data + batch.skipped["invalid_data"],
        )
    )


# --------------------------------------------------------------------------- reading


def _residential(province: str | None):
    cond = [Parcel.land_type == RESIDENTIAL]
    if province is not None:
        cond.append(Parcel.province == province)
    return cond


def _provinces(province: str | None) -> list[str]:
    return list(db.session.scalars(
        select(Parcel.province).where(*_residential(province)).distinct()))


def _count(province: str | None) -> int:
    return db.session.scalar(select(func.count()).select_from(Parcel).where(*_residential(province)))


def _province_data(province: str, on: date) -> _ProvinceData:
    """The price map of the version in force on ``on`` (loaded once) and the province quota."""
    version = price_version_in_force(province, on)
    prices: dict[tuple[str, int], Decimal] = {}
    if version is not None:
        rows = db.session.execute(
            select(PriceEntry.price_key, PriceEntry.position, PriceEntry.price_per_m2).where(
                PriceEntry.version_id == version.id, PriceEntry.land_type == RESIDENTIAL
            )
        )
        prices = {(key, pos): Decimal(price) for key, pos, price in rows}
    quota, quota_version = _province_quota(province, on)
    return _ProvinceData(version.label if version else None, prices, quota, quota_version)


def _province_quota(province: str, on: date) -> tuple[Decimal | None, str | None]:
    """The province's residential quota on ``on``: the table's only row, or its row for
    location "*". Parcels record no quota location, so a table listing several locations
    without a "*" row cannot be applied and stops the run."""
    table = data_table("quotas", province, on)
    if table is None:
        return None, None
    rows = table.rows
    chosen = next((r for r in rows if r["location"] == PROVINCE_WIDE), None)
    if chosen is None and len(rows) == 1:
        chosen = rows[0]
    if chosen is None:
        raise AnnualTaxError(
            f"quota table {table.label} of {province} lists {len(rows)} locations and parcels "
            f"record none; add a row for location {PROVINCE_WIDE!r} (the province-wide quota)"
        )
    return Decimal(chosen["quota_m2"]), table.label


def holders_on_record(at: datetime):
    """The condition "this holding was on record at ``at``"."""
    return and_(or_(Holding.valid_from.is_(None), Holding.valid_from <= at),
                or_(Holding.valid_to.is_(None), Holding.valid_to > at))


def _parcel_query(province: str | None, at: datetime):
    """Each residential parcel with the holder its notice goes to: of the holders on record
    at ``at``, the first named on the certificate (the only one, or the co-holders'
    representative: where several people use one parcel, their representative is the
    taxpayer, Law 48/2010 art. 4). A parcel nobody held at ``at`` has no notice that year."""
    return (
        select(Parcel.id, Parcel.province, Parcel.area_m2, Parcel.price_key, Parcel.position,
               Holding.party_id)
        .join(Holding, and_(Holding.parcel_id == Parcel.id, Holding.position == 1,
                            holders_on_record(at)))
        .where(*_residential(province)).order_by(Parcel.id)
    )


# --------------------------------------------------------------------------- the two backends


def _run_sqlite(engine: Engine, province: str | None, batch_size: int, assess: _Assessor,
                static: _Static, committed: Callable[[_Batch, int], None]) -> None:
    """One connection reads a page of parcels after the last id (keyset) and writes its
    notices, one transaction per page. (A reader left open across the commits would hold
    SQLite's lock against the writer, so there is no long-lived cursor here.)"""
    stmt = _parcel_query(province, static.holders_at).limit(batch_size)
    last = 0
    with engine.connect() as conn:
        while True:
            rows = conn.execute(stmt.where(Parcel.id > last)).all()
            if not rows:
                conn.rollback()
                return
            last = rows[-1][0]
            batch = assess(rows)
            created = _write_notices(conn, batch, static)
            _count_batch(conn, batch, created, static.run_id)
            conn.commit()
            committed(batch, created)


def _run_postgresql(engine: Engine, province: str | None, batch_size: int, assess: _Assessor,
                    static: _Static, committed: Callable[[_Batch, int], None]) -> None:
    """A server-side cursor streams the parcels on a connection of its own; this thread
    assesses batch n+1 while a writer thread writes and commits batch n on a third."""
    writer = _Writer(engine, static, committed)
    writer.start()
    try:
        with engine.connect() as reader:
            result = reader.execution_options(stream_results=True, yield_per=batch_size) \
                .execute(_parcel_query(province, static.holders_at))
            for rows in result.partitions():
                writer.put(assess(rows))
            reader.rollback()
    except BaseException:
        writer.stop()
        raise
    writer.finish()


class _Writer(threading.Thread):
    """Writes and commits the batches in order on its own connection. The first error stops
    it and is raised again in the caller's thread by ``put`` or ``finish``."""

    def __init__(self, engine: Engine, static: _Static,
                 committed: Callable[[_Batch, int], None]):
        super().__init__(name="annual-tax-writer", daemon=True)
        self.engine = engine
        self.static = static
        self.committed = committed
        self.queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.stopping = threading.Event()
        self.write = _write_notices  # looked up now, so tests can replace it

    def run(self) -> None:
        try:
            with self.engine.connect() as conn:
                while (batch := self.queue.get()) is not None and not self.stopping.is_set():
                    created = self.write(conn, batch, self.static)
                    _count_batch(conn, batch, created, self.static.run_id)
                    conn.commit()
                    self.committed(batch, created)
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
            self.error = err

    def put(self, batch: _Batch | None) -> None:
        while True:
            self._raise()
            if not self.is_alive():
                return
            try:
                self.queue.put(batch, timeout=0.2)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        self.put(None)
        self.join()
        self._raise()

    def stop(self) -> None:
        """Write nothing more (the caller failed); wait for the batch being written."""
        self.stopping.set()
        while self.is_alive():
            try:
                self.queue.put(None, timeout=0.2)
            except queue.Full:
                continue
            break
        self.join()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


# --------------------------------------------------------------------------- writing
#
# One path for both databases. In the batch's transaction, under a lock on the tax year: read
# which of the batch's parcels have their notice already (and whether it is payable), insert
# the others' annual notices, then the payable notices still missing and their lines. The lock
# makes "not there yet" stay true until the commit, so the rows go straight into their tables
# (COPY on PostgreSQL, an executemany INSERT on SQLite) with no conflict to handle.

#: The key of the transaction-level advisory lock a batch takes on PostgreSQL, with the year.
_ADVISORY_KEY = 0x4E4E  # "NN"

_ANNUAL_COLUMNS = ("code", "parcel_id", "holder_id", "amount", "exempt", "price_table_version",
                   "quota_m2", "quota_version", "tax_year", "rule_version", "due_on",
                   "created_at")
_NOTICE_COLUMNS = ("id", "code", "payer_id", "payer_role", "status", "total", "issued_at",
                   "due_on")
_LINE_COLUMNS = ("notice_id", "obligation", "amount", "paid", "refunded", "installments",
                 "due_on", "detail", "budget_code", "treasury_account")


def _lock_year(conn: Connection, year: int) -> None:
    """Hold every other batch of the same tax year off until this transaction ends: two runs
    at once then write each notice once, whichever comes first."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(_ADVISORY_KEY, year)))
    else:  # a locking read makes SQLite's transaction take the database's write lock
        conn.execute(select(AnnualTaxRun.id).limit(1).with_for_update())


def _insert_rows(conn: Connection, table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) in the caller's transaction: with
    psycopg's COPY row writer on PostgreSQL (it adapts each value: no text is escaped here),
    with one executemany INSERT elsewhere. JSON values are given as Python objects."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from psycopg.types.json import Json

        json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
        with conn.connection.driver_connection.cursor() as cur, cur.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            write = copy.write_row
            if json_at:
                for row in rows:
                    row = list(row)
                    for i in json_at:
                        row[i] = Json(row[i], dumps=_dumps)
                    write(row)
            else:
                for row in rows:
                    write(row)
    else:
        conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _draw_ids(conn: Connection, table, count: int) -> list[int]:
    """``count`` new ids of ``table``, so its rows can be written with their children's
    foreign keys in one go: from the table's sequence on PostgreSQL; after the largest id on
    SQLite, whose write lock the caller holds."""
    if conn.dialect.name == "postgresql":
        return conn.scalar(
            select(func.array_agg(func.nextval(func.pg_get_serial_sequence(table.name, "id"))))
            .select_from(func.generate_series(1, count)))
    start = (conn.scalar(select(func.max(table.c.id))) or 0) + 1
    return list(range(start, start + count))


def _write_notices(conn: Connection, batch: _Batch, s: _Static) -> int:
    """Write the batch's annual notices that are not there yet, and the payable notices still
    missing, in the caller's transaction; returns how many annual notices were created and
    sets ``batch.issued``."""
    if not batch.notices:
        return 0
    t, nt = AnnualTaxNotice.__table__, Notice.__table__
    year = s.tax_year
    _lock_year(conn, year)
    parcel_ids = [n[0] for n in batch.notices]
    known = {row.parcel_id: row for row in conn.execute(
        select(t.c.parcel_id, t.c.code, t.c.holder_id, t.c.amount, t.c.exempt,
               nt.c.id.is_not(None).label("payable"))
        .select_from(t.outerjoin(nt, nt.c.code == t.c.code))
        .where(t.c.tax_year == year, t.c.parcel_id.between(min(parcel_ids), max(parcel_ids))))}
    data = batch.provinces
    new, due = [], []
    for pid, holder, amount, ex, province in batch.notices:
        row = known.get(pid)
        if row is None:
            pdata = data[province]
            code = annual_notice_code(year, pid)
            new.append((code, pid, holder, amount, ex, pdata.price_table_version, pdata.quota_m2,
                        pdata.quota_version, year, s.rule_version, s.due_on, s.created_at))
            if pid in batch.inputs:
                due.append((code, pid, holder, amount))
        elif pid in batch.inputs and not row.payable and not row.exempt and row.amount > 0:
            # Assessed by an earlier run (before notices were payable, or stopped half-way):
            # payable with the amount and holder on record.
            due.append((row.code, pid, row.holder_id, row.amount))
    _insert_rows(conn, t, _ANNUAL_COLUMNS, new)
    batch.issued = _issue_payable(conn, due, batch, s)
    return len(new)


# ------------------------------------------------------------------------- payable notices


def _issue_payable(conn: Connection, due: list[tuple[str, int, int, int]], batch: _Batch,
                   s: _Static) -> int:
    """Issue the payable ``Notice`` of each ``due`` annual notice (code, parcel, holder,
    amount), in the caller's transaction. Returns how many were issued.

    The line is the rules engine's explained line for the same inputs as the batch's amount;
    should it differ from the amount on record (the data changed since that notice was
    assessed), no payable notice is issued and the mismatch is logged, rather than a notice
    with a wrong amount. The payable notice has the annual notice's code, unique on notices:
    that is the link (``AnnualTaxNotice.notice``)."""
    if not due:
        return 0
    notices, lines = [], []
    for code, pid, holder, amount in due:
        rows = _payable_rows(batch, s, pid, code, holder, amount)
        if rows is not None:
            notices.append(rows[0])
            lines.append(rows[1])
    if not notices:
        return 0
    for notice_id, notice, line in zip(_draw_ids(conn, Notice.__table__, len(notices)),
                                       notices, lines, strict=True):
        notice[0] = line[0] = notice_id
    _insert_rows(conn, Notice.__table__, _NOTICE_COLUMNS, notices)
    _insert_rows(conn, NoticeLine.__table__, _LINE_COLUMNS, lines)
    return len(notices)


def _payable_rows(batch: _Batch, s: _Static, pid: int, code: str, holder: int,
                  amount: int) -> tuple[list, list] | None:
    """The row of a payable notice (its id left to fill) and of its one explained line, or
    None, logged, when the explained line does not come to ``amount``."""
    area, price, quota, province = batch.inputs[pid]
    jan1 = s.holders_at.date()
    line = tax_calc.non_agricultural_tax_line(
        area, price, quota, RESIDENTIAL, None, jan1, notice_date=s.issued_on,
        tax_year=s.tax_year, parcel_id=str(pid))
    if line.amount != amount:
        log.warning("annual notice %s: amount on record %s, explained line %s; not issued",
                    code, amount, line.amount)
        return None
    installments = [{"due_on": on.isoformat() if on else None, "amount": part}
                    for on, part in line.installments]
    firsts = [on for on, part in line.installments if on is not None and part > 0]
    budget_code, account = batch.stamps[province]
    notice = [None, code, holder, PAYER_ROLE, _UNPAID, amount, s.created_at,
              min(firsts, default=None)]
    detail = {"base": line.base, "base_method": line.base_method_text, "rate": str(line.rate),
              "rounding": line.rounding, "legal_basis": line.legal_basis,
              "rule_version": line.rule_version, "explanation_vi": line.explanation_vi,
              "explanation_en": line.explanation_en, "tax_year": s.tax_year, "parcel_id": pid}
    return notice, [None, line.obligation, line.amount, 0, 0, installments,
                    line.installments[-1][0] if line.installments else None, detail,
                    budget_code, account]


#: How the status column stores an unpaid notice (the enum's name).
_UNPAID = NoticeStatus.UNPAID.name


def _classification(province: str) -> tuple[str | None, str | None]:
    """The budget code and treasury account of the tax in ``province``; (None, None) when the
    table has no entry (logged: a gap must not stop the notices being issued)."""
    from app.services import treasury

    try:
        found = treasury.classify(OBLIGATION, province)
    except treasury.UnknownClassification as err:
        log.warning("annual notices of %s left unclassified: %s", province, err)
        return None, None
    return found.code, found.account_label


# ------------------------------------------------------------------------- annual land rent


def rent_notice_code(year: int, lease_id: int) -> str:
    """The code of a lease's rent notice for a year: the same on every run."""
    return f"TD{year}-{lease_id:09d}"


@dataclass
class RentSummary:
    """What a run of the annual rent batch did: ``created`` counts only new notices."""

    year: int
    leases_seen: int = 0
    created: int = 0
    #: Leases whose notice for the year existed already (a re-run reports them here).
    already: int = 0
    #: Leases that could not be assessed (no holder on record, no price in force...), with
    #: up to ``EXAMPLES`` of them as (lease id, reason).
    skipped: int = 0
    skipped_examples: list[tuple[int, str]] = field(default_factory=list)
    total_assessed: int = 0

    def lines(self) -> list[str]:
        out = [f"annual land rent {self.year}",
               f"leases with annual rent seen: {self.leases_seen}",
               f"notices created: {self.created}; already present: {self.already}",
               f"total assessed: {self.total_assessed:,} VND",
               f"skipped: {self.skipped}"]
        if self.skipped_examples:
            out.append("skipped leases: " + ", ".join(
                f"{lease_id} ({why})" for lease_id, why in self.skipped_examples[:10]))
        return out


class _Skip(Exception):
    """A lease the batch cannot assess this year; the message says why."""


def run_annual_rent(year: int, *, progress: bool = False) -> RentSummary:
    """Issue the year's rent notice of every lease with annual rent that runs in ``year``
    (its first year is the lease dossier's own notice). One transaction per lease; a
    lease's notice for a year is written once (unique lease and year), so a re-run, or two
    runs at once, only add what is missing. The notice goes to the parcel's holders on
    record when the batch runs (the lessee, or whoever the lease passed to)."""
    from sqlalchemy.exc import IntegrityError

    from app.models.annual import Lease, LeaseRentYear

    if not 1900 <= year <= 9999:
        raise AnnualTaxError(f"year {year} is out of range")
    lease_ids = db.session.scalars(
        select(Lease.id).where(Lease.rent_mode == "annual",
                               func.extract("year", Lease.starts_on) < year,
                               func.extract("year", Lease.ends_on) >= year)
        .order_by(Lease.id)).all()
    db.session.rollback()  # nothing is held while the batch runs
    summary = RentSummary(year=year)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(lease_ids), unit="lease", desc=f"annual land rent {year}")
    try:
        for lease_id in lease_ids:
            summary.leases_seen += 1
            done = db.session.scalar(select(LeaseRentYear.id).where(
                LeaseRentYear.lease_id == lease_id, LeaseRentYear.year == year))
            if done is not None:
                summary.already += 1
            else:
                try:
                    summary.total_assessed += _issue_rent(db.session.get(Lease, lease_id), year)
                    db.session.commit()
                    summary.created += 1
                except IntegrityError:
                    db.session.rollback()  # another run issued it first
                    summary.already += 1
                except _Skip as why:
                    db.session.rollback()
                    summary.skipped += 1
                    if len(summary.skipped_examples) < EXAMPLES:
                        summary.skipped_examples.append((lease_id, str(why)))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return summary


def _issue_rent(lease, year: int) -> int:
    """Assess one lease's rent for ``year`` with the rules engine (the price table in force
    on 1 January, the lease's rate), issue its notice to the first-named holder on record,
    and record the year. Returns the amount."""
    from app.models import Assessment, AssessmentStatus, Notice, NoticeStatus, PartyRole
    from app.models.annual import LeaseRentYear
    from app.services import workflow
    from app.services.dossiers import _notice_due_on, _notice_line, assessment_lines, today_local

    jan1 = date(year, 1, 1)
    parcel = lease.parcel
    holders = sorted((h for h in parcel.holdings if h.valid_to is None), key=lambda h: h.position)
    if not holders:
        raise _Skip("no holder on record")
    version = price_version_in_force(parcel.province, jan1)
    if version is None:
        raise _Skip("no price table in force on 1 January")
    price = db.session.scalar(select(PriceEntry.price_per_m2).where(
        PriceEntry.version_id == version.id, PriceEntry.price_key == parcel.price_key,
        PriceEntry.position == parcel.position, PriceEntry.land_type == parcel.land_type))
    if price is None:
        raise _Skip("no price for the parcel")
    issued = max(today_local(), jan1)
    case = {
        "procedure": "land_rent_annual", "valid_on": jan1.isoformat(),
        "notice_date": issued.isoformat(), "province": parcel.province,
        "price_table_version": version.label, "rent_rate": str(lease.rent_rate),
        "first_year": False, "tax_year": year,
        "parcels": [{"land_type": parcel.land_type, "area_m2": str(parcel.area_m2),
                     "table_price_per_m2": price}],
    }
    try:
        result = tax_calc.assess(case)
    except tax_calc.CaseError as err:
        raise _Skip(str(err)) from None
    dossier = lease.dossier
    now = datetime.now(LOCAL_TZ)
    assessment = Assessment(
        dossier=dossier, tax_office_id=dossier.tax_office_id, status=AssessmentStatus.CONFIRMED,
        total=result.total, price_table_version=version.label,
        rule_versions={**dict(result.rule_versions), "data": {"price_table": version.label}},
        valid_on=jan1, case=case, review_reasons=[r.to_dict() for r in result.review_reasons],
        confirmed_at=now, auto_confirmed=True)
    assessment.lines.extend(assessment_lines(result))
    db.session.add(assessment)
    db.session.flush()
    lines = [_notice_line(line, issued) for line in assessment.lines]
    # The lessee's side of the lease dossier while the lessee holds the parcel; once it has
    # passed to others, only the holder on record (``payer_id``) sees and pays the notice.
    role = PartyRole.TRANSFEREE if holders[0].party_id in {
        p.party_id for p in dossier.parties_in(PartyRole.TRANSFEREE)} else PartyRole.HOLDER
    notice = Notice(code=rent_notice_code(year, lease.id), dossier=dossier, assessment=assessment,
                    payer_id=holders[0].party_id, payer_role=role.value,
                    status=NoticeStatus.UNPAID, total=result.total, due_on=_notice_due_on(lines),
                    lines=lines)
    db.session.add(notice)
    db.session.flush()
    db.session.add(LeaseRentYear(lease_id=lease.id, year=year, notice_id=notice.id))
    workflow.record(dossier, "annual_rent_notice_issued", actor_label="system",
                    data={"year": year, "notice_code": notice.code, "total": notice.total,
                          "payer_id": notice.payer_id})
    db.session.flush()
    return result.total
