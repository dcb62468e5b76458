"""The supervisors' figures, computed from the recorded events (never typed in).

One row per dossier and agency step (``step_rows``), from the clocks of
``app/services/clocks.py``; the figures are counts over those rows, grouped by agency,
procedure, office or month (``summarise``). Beside them, the national portal's own figures
(computed by the portal from what it received) and ours computed by the portal's rule from
our events, so that a difference shows either an event the portal lacks or a rule that
differs; and the sync completeness of ``app/services/delivery.py``.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

import requests
from flask import current_app
from sqlalchemy import select

from app import deadlines as dl
from app.extensions import db
from app.models import Dossier, Event, Office
from app.services import clocks as ck

GROUPS = ("agency", "procedure", "office", "period")


@dataclass(frozen=True)
class StepRow:
    dossier_code: str
    procedure: str
    agency: str
    office: str
    state: str
    started_on: date | None
    finished_on: date | None
    #: The month the step finished in (YYYY-MM, Vietnam time); None while it is open.
    period: str | None
    limit_days: int
    used_days: int
    due_on: date | None
    on_time: bool | None
    overdue: bool
    promised_on: date | None

    @property
    def late(self) -> bool:
        return self.on_time is False or self.overdue

    def to_json(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Filters:
    agency: str | None = None
    procedure: str | None = None
    office: str | None = None
    period: str | None = None

    @classmethod
    def from_args(cls, args) -> Filters:
        def pick(name: str, allowed=None) -> str | None:
            value = (args.get(name) or "").strip()[:30]
            if not value or (allowed is not None and value not in allowed):
                return None
            return value

        period = pick("period")
        if period and not (len(period) == 7 and period[4] == "-" and
                           period[:4].isdigit() and period[5:].isdigit()):
            period = None
        return cls(agency=pick("agency", ck.AGENCIES), procedure=pick("procedure"),
                   office=pick("office"), period=period)

    def keep(self, row: StepRow) -> bool:
        return ((self.agency is None or row.agency == self.agency)
                and (self.procedure is None or row.procedure == self.procedure)
                and (self.office is None or row.office == self.office)
                and (self.period is None or row.period == self.period))

    def to_json(self) -> dict:
        return asdict(self)


def _events_by_dossier(ids: list[int]) -> dict[int, list[Event]]:
    by: dict[int, list[Event]] = defaultdict(list)
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        for event in db.session.scalars(select(Event).where(Event.dossier_id.in_(chunk))):
            by[event.dossier_id].append(event)
    return by


def step_rows(now: datetime | None = None) -> list[StepRow]:
    """Every dossier's registry and tax steps, as their clocks stand at ``now``. Read-only
    across offices: supervisors see the whole city."""
    now = now or datetime.now(UTC)
    offices = {o.id: o.code for o in db.session.scalars(select(Office))}
    dossiers = db.session.execute(
        select(Dossier.id, Dossier.code, Dossier.procedure, Dossier.registry_office_id,
               Dossier.tax_office_id).order_by(Dossier.id)).all()
    events = _events_by_dossier([d.id for d in dossiers])
    rows: list[StepRow] = []
    for d in dossiers:
        clocks = ck.clocks_from_events(d.procedure, ck.facts(events.get(d.id, [])), now)
        for step, office_id in ((clocks.registry, d.registry_office_id), (clocks.tax, d.tax_office_id)):
            if step.state == "not_started":
                continue
            finished = step.finished_on if step.state == "done" else None
            rows.append(StepRow(
                dossier_code=d.code, procedure=d.procedure, agency=step.agency,
                office=offices.get(office_id, "?"), state=step.state,
                started_on=step.started_on, finished_on=finished,
                period=finished.strftime("%Y-%m") if finished else None,
                limit_days=step.limit.days, used_days=step.used, due_on=step.due_on,
                on_time=step.on_time, overdue=step.overdue, promised_on=step.promised_on,
            ))
    return rows


def summarise(rows: Iterable[StepRow], by: str) -> list[dict]:
    """Counts per value of ``by``: finished steps, on time, late, the on-time rate (of the
    finished ones, 4 decimals as the portal gives it), open steps and open overdue ones."""
    groups: dict[str, dict] = {}
    for row in rows:
        key = getattr(row, by)
        if key is None:
            continue  # open steps belong to no month yet
        g = groups.setdefault(key, {by: key, "finished": 0, "on_time": 0, "late": 0,
                                    "on_time_rate": None, "open": 0, "open_overdue": 0})
        if row.state == "done":
            g["finished"] += 1
            g["on_time"] += int(bool(row.on_time))
            g["late"] += int(not row.on_time)
        else:
            g["open"] += 1
            g["open_overdue"] += int(row.overdue)
    for g in groups.values():
        if g["finished"]:
            g["on_time_rate"] = round(g["on_time"] / g["finished"], 4)
    return [groups[k] for k in sorted(groups, key=str)]


def as_the_portal_counts() -> list[dict]:
    """Ours by the portal's rule, per procedure: a dossier is on time when the day (Vietnam
    time) of its completion event is not after the due date it carries."""
    completions = dict(db.session.execute(
        select(Event.dossier_id, Event.at).where(Event.kind == "dossier_completed")).all())
    per: dict[str, dict] = {}
    for dossier_id, procedure, due_on in db.session.execute(
            select(Dossier.id, Dossier.procedure, Dossier.due_on)):
        row = per.setdefault(procedure, {"procedure": procedure, "dossiers": 0, "completed": 0,
                                         "on_time": 0, "on_time_rate": None})
        row["dossiers"] += 1
        if dossier_id in completions:
            row["completed"] += 1
            row["on_time"] += int(dl.local_day(completions[dossier_id]) <= due_on)
    for row in per.values():
        if row["completed"]:
            row["on_time_rate"] = round(row["on_time"] / row["completed"], 4)
    return [per[k] for k in sorted(per)]


def fetch_portal_figures() -> dict | None:
    """The national portal's own figures (its public ``GET /api/figures``), or None when it
    cannot be reached: the page then says so instead of showing stale numbers."""
    base = current_app.config.get("PORTAL_BASE_URL")
    if not base:
        return None
    try:
        response = requests.get(base.rstrip("/") + "/api/figures", timeout=(1, 3))
        data = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None
    return data if isinstance(data, dict) else None


def sync_completeness() -> dict | None:
    try:
        from app.services.delivery import sync_status
    except ImportError:  # pragma: no cover - the delivery module is part of the app
        return None
    return sync_status()


def side_by_side(ours: list[dict], portal: dict | None) -> list[dict]:
    theirs = {row.get("procedure"): row for row in (portal or {}).get("procedures", [])
              if isinstance(row, dict)}
    rows = []
    for procedure in sorted({r["procedure"] for r in ours} | set(theirs)):
        mine = next((r for r in ours if r["procedure"] == procedure), None)
        other = theirs.get(procedure)
        rows.append({
            "procedure": procedure,
            "ours": mine,
            "portal": other,
            "agree": portal is not None and mine is not None and other is not None and all(
                mine.get(k) == other.get(k) for k in ("dossiers", "completed", "on_time")),
        })
    return rows


def dashboard(filters: Filters, now: datetime | None = None, with_portal: bool = True,
              all_rows: list[StepRow] | None = None) -> dict:
    """Everything the page and the API show, for these filters (``all_rows``: the step
    rows already computed at ``now``, to compute them once per request)."""
    rows = [r for r in (all_rows if all_rows is not None else step_rows(now)) if filters.keep(r)]
    ours = as_the_portal_counts()
    portal = fetch_portal_figures() if with_portal else None
    return {
        "generated_at": (now or datetime.now(UTC)).isoformat(),
        "filters": filters.to_json(),
        "by": {by: summarise(rows, by) for by in GROUPS},
        "total": _total(rows),
        "portal_comparison": {"available": portal is not None,
                              "procedures": side_by_side(ours, portal)},
        "sync": sync_completeness(),
        "rows": rows,
    }


def _total(rows: list[StepRow]) -> dict:
    finished = [r for r in rows if r.state == "done"]
    on_time = sum(1 for r in finished if r.on_time)
    return {"finished": len(finished), "on_time": on_time, "late": len(finished) - on_time,
            "on_time_rate": round(on_time / len(finished), 4) if finished else None,
            "open": len(rows) - len(finished), "open_overdue": sum(1 for r in rows if r.overdue)}


CSV_COLUMNS = ("dossier_code", "procedure", "agency", "office", "state", "started_on",
               "finished_on", "period", "limit_days", "used_days", "due_on", "on_time",
               "overdue", "promised_on")


def rows_csv(rows: list[StepRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = row.to_json()
        writer.writerow(["" if data[c] is None else
                         ("yes" if data[c] is True else "no" if data[c] is False else data[c])
                         for c in CSV_COLUMNS])
    return out.getvalue()
