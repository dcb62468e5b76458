"""The deadline clocks of a dossier, computed from its recorded events (never typed in).

Who holds a dossier changes with its events:

| event | holder after it |
|---|---|
| ``dossier_filed`` | the registry |
| ``cadastral_data_sent_to_tax`` | the tax authority |
| ``notice_issued`` | the landholder (to pay) |
| ``payment_confirmed`` | the registry |
| ``dossier_returned`` | the landholder (to supply a missing paper) |
| ``papers_supplied`` | the agency that returned it |
| ``dossier_completed`` | nobody: done |

Each agency has its own clock: its limit in working days (``app/deadlines.py``), counted
only while it holds the dossier, from the legal day of receipt (``deadlines.received_on``).
The landholder's time (paying, supplying a paper) pauses the agency's clock and is shown
as citizen time; the citizen's action restarts it with the working days that remain. The
registry's clock also stops while the tax authority holds the dossier: time spent
determining and paying obligations is not counted against the registry
(``deadlines.REGISTRY_EXCLUDES_SOURCE``).

The functions over plain event tuples (``clocks_from_events``) are pure; those taking a
``Dossier`` read its events; ``record_late_reason`` is the one use case that writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import gettext as _

from app import deadlines as dl
from app.errors import Forbidden, ValidationFailed
from app.extensions import db
from app.models import Dossier, Event, Role, User

REGISTRY = "registry"
TAX = "tax"
CITIZEN = "citizen"
AGENCIES = (REGISTRY, TAX)

#: The event of a late step's reason and apology (``record_late_reason``).
LATE_REASON = "step_late_reason"
#: Events that hand the dossier to someone; any other event leaves the holder as it is.
HANDOVERS = {
    "dossier_filed": REGISTRY,
    "cadastral_data_sent_to_tax": TAX,
    "notice_issued": CITIZEN,
    "payment_confirmed": REGISTRY,
    "dossier_returned": CITIZEN,
    "papers_supplied": None,  # back to the agency that returned it
    "dossier_completed": None,
}
#: Why the landholder holds the dossier, by the event that handed it over.
CITIZEN_WAITS = {"notice_issued": "payment", "dossier_returned": "papers"}
#: A running step with at most this many working days left is flagged "due soon".
DUE_SOON_WORKING_DAYS = 1


@dataclass(frozen=True)
class EventFact:
    """What the clocks need of an event."""

    kind: str
    at: datetime
    data: dict = field(default_factory=dict)


@dataclass
class Segment:
    """A stretch of time during which one party holds the dossier."""

    holder: str
    start: datetime
    end: datetime | None = None
    #: For the landholder: "payment" or "papers"; for an agency: None.
    waits_for: str | None = None
    #: For the landholder: the agency whose clock resumes when they act.
    resumes: str | None = None


@dataclass
class StepClock:
    """One agency's clock on one dossier."""

    agency: str
    limit: dl.Limit | None = None
    #: not_started | running | paused | done
    state: str = "not_started"
    started_on: date | None = None
    #: Working days used so far (up to today while it runs).
    used: int = 0
    #: While it runs: the last day allowed; once done: the last day that was allowed; while
    #: paused: None (it depends on when the landholder acts).
    due_on: date | None = None
    finished_at: datetime | None = None
    on_time: bool | None = None
    overdue: bool = False
    due_soon: bool = False
    #: The latest recorded reason for lateness and the new date promised in the apology.
    late_reason: str | None = None
    promised_on: date | None = None
    late_event_uid: str | None = None

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else self.limit.days - self.used

    @property
    def finished_on(self) -> date | None:
        return dl.local_day(self.finished_at) if self.finished_at else None


@dataclass
class DossierClocks:
    registry: StepClock
    tax: StepClock
    segments: list[Segment]
    #: Who holds the dossier now (registry, tax, citizen) or None once completed.
    holder: str | None
    holder_since: datetime | None
    #: Working days the landholder has held the dossier, in total.
    citizen_working_days: int = 0
    #: Why the landholder holds it now ("payment", "papers"), if they do.
    citizen_waits_for: str | None = None

    def step(self, agency: str) -> StepClock:
        return self.registry if agency == REGISTRY else self.tax

    @property
    def steps(self) -> list[StepClock]:
        return [self.registry, self.tax]

    @property
    def flagged(self) -> bool:
        return any(s.overdue or s.due_soon for s in self.steps)


def _segments(events: list[EventFact]) -> list[Segment]:
    segments: list[Segment] = []
    returned_by: str | None = None
    for event in events:
        if event.kind not in HANDOVERS:
            continue
        current = segments[-1] if segments and segments[-1].end is None else None
        holder = HANDOVERS[event.kind]
        if event.kind == "dossier_returned":
            returned_by = (event.data or {}).get("agency") or (current.holder if current else None)
            if returned_by not in AGENCIES:
                returned_by = REGISTRY
        if event.kind == "papers_supplied":
            holder = returned_by or REGISTRY
            returned_by = None
        if current is not None:
            if current.holder == holder:
                continue  # no change of hands
            current.end = event.at
        if holder == CITIZEN:
            segments.append(Segment(holder, event.at, waits_for=CITIZEN_WAITS[event.kind],
                                    resumes=returned_by if event.kind == "dossier_returned"
                                    else REGISTRY))
        elif holder is not None:
            segments.append(Segment(holder, event.at))
    return segments


def _run_step(step: StepClock, segments: list[Segment], today: date) -> None:
    """Count ``step``'s working days over its agency's segments, and its state."""
    used = 0
    for segment in (s for s in segments if s.holder == step.agency):
        start = dl.received_on(segment.start)
        if step.started_on is None:
            step.started_on = start
        remaining = max(step.limit.days - used, 0)
        step.due_on = dl.add_working_days(start, remaining)
        end_day = dl.local_day(segment.end) if segment.end else today
        used += dl.working_days_between(start, end_day)
        step.finished_at = segment.end
    step.used = used
    if step.started_on is None:
        return
    current = segments[-1] if segments and segments[-1].end is None else None
    last_holder = current.holder if current else None
    if last_holder == step.agency:
        step.state = "running"
        step.finished_at = None
        step.overdue = today > step.due_on
        step.due_soon = not step.overdue and \
            dl.working_days_between(today, step.due_on) <= DUE_SOON_WORKING_DAYS
    elif (current is not None and current.resumes == step.agency) or \
            (step.agency == REGISTRY and current is not None):
        # The landholder holds it and this clock resumes when they act, or (the registry's)
        # the tax authority or the landholder holds it: paused.
        step.state = "paused"
        step.due_on = None
        step.finished_at = None
    else:
        step.state = "done"
        step.on_time = used <= step.limit.days


def clocks_from_events(procedure: str, events: Iterable[EventFact],
                       now: datetime | None = None) -> DossierClocks:
    """The clocks of a dossier of ``procedure`` with these events (in the order they
    happened), as they stand at ``now``."""
    now = now or datetime.now(UTC)
    today = dl.local_day(now)
    ordered = list(events)
    segments = _segments(ordered)
    registry = StepClock(REGISTRY, dl.registry_limit(procedure) if procedure in
                         dl.REGISTRY_DUE_WORKING_DAYS else dl.Limit(8, "UNVERIFIED", False))
    tax = StepClock(TAX)
    tax_start = next((s.start for s in segments if s.holder == TAX), None)
    tax.limit = dl.tax_limit(procedure, dl.received_on(tax_start) if tax_start else today)
    _run_step(registry, segments, today)
    _run_step(tax, segments, today)
    for event in ordered:
        if event.kind == LATE_REASON:
            step = tax if (event.data or {}).get("agency") == TAX else registry
            step.late_reason = (event.data or {}).get("reason")
            promised = (event.data or {}).get("new_due_on")
            step.promised_on = date.fromisoformat(promised) if promised else None
            step.late_event_uid = (event.data or {}).get("event_uid")
    citizen_days = 0
    for segment in (s for s in segments if s.holder == CITIZEN):
        end_day = dl.local_day(segment.end) if segment.end else today
        citizen_days += dl.working_days_between(dl.local_day(segment.start), end_day)
    current = segments[-1] if segments and segments[-1].end is None else None
    return DossierClocks(
        registry=registry, tax=tax, segments=segments,
        holder=current.holder if current else None,
        holder_since=current.start if current else None,
        citizen_working_days=citizen_days,
        citizen_waits_for=current.waits_for if current else None,
    )


def facts(events: Iterable[Event]) -> list[EventFact]:
    """The events in the order they happened (time, then id)."""
    ordered = sorted(events, key=lambda e: (_aware(e.at), e.id or 0))
    return [EventFact(e.kind, _aware(e.at), dict(e.data or {}, event_uid=e.uid)) for e in ordered]


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def dossier_clocks(dossier: Dossier, now: datetime | None = None) -> DossierClocks:
    return clocks_from_events(dossier.procedure, facts(dossier.events), now)


def clocks_for(dossiers: Iterable[Dossier], now: datetime | None = None) -> dict[int, DossierClocks]:
    """The clocks of many dossiers (a queue's), their events read in one query."""
    from sqlalchemy import select

    by_id = {d.id: d for d in dossiers}
    events: dict[int, list[Event]] = {i: [] for i in by_id}
    if by_id:
        for event in db.session.scalars(select(Event).where(Event.dossier_id.in_(list(by_id)))):
            events[event.dossier_id].append(event)
    return {i: clocks_from_events(by_id[i].procedure, facts(events[i]), now) for i in by_id}


# --- a late step: the reason and the apology ---------------------------------------------------

def agency_of(user: User, dossier: Dossier) -> str:
    """The agency ``user`` acts for on ``dossier``, or Forbidden."""
    if user.role is Role.REGISTRY_OFFICER and user.office_id == dossier.registry_office_id:
        return REGISTRY
    if user.role is Role.TAX_OFFICER and user.office_id == dossier.tax_office_id:
        return TAX
    raise Forbidden(_("Only an officer of the agency that holds the dossier may do this."))


def record_late_reason(officer: User, dossier: Dossier, reason: str, new_due_on: date | None,
                       now: datetime | None = None) -> Event:
    """Record why the officer's step will be late and the new date promised to the
    landholder in the written apology; one transaction. The step must be running (its
    agency holds the dossier); the new date must be a working day after the step's due date
    and not in the past."""
    agency = agency_of(officer, dossier)
    clock = dossier_clocks(dossier, now).step(agency)
    today = dl.local_day(now or datetime.now(UTC))
    if clock.state != "running":
        raise ValidationFailed(_("Your agency does not hold this dossier now."),
                               fields={"reason": _("Only a step that is running can be late.")})
    reason = (reason or "").strip()
    problems = {}
    if not reason:
        problems["reason"] = _("Write the reason for the delay.")
    elif len(reason) > 1000:
        problems["reason"] = _("At most 1000 characters.")
    if new_due_on is None:
        problems["new_due_on"] = _("Give the new date.")
    elif new_due_on <= clock.due_on or new_due_on < today:
        problems["new_due_on"] = _("The new date must be after %(date)s and not in the past.",
                                   date=clock.due_on.strftime("%d/%m/%Y"))
    elif not dl.is_working_day(new_due_on):
        problems["new_due_on"] = _("The new date must be a working day.")
    if problems:
        raise ValidationFailed(_("Invalid input."), fields=problems)
    from app.services import workflow

    event = workflow.record(
        dossier, LATE_REASON, actor=officer,
        data={"agency": agency, "reason": reason, "new_due_on": new_due_on.isoformat(),
              "due_on": clock.due_on.isoformat(), "legal_basis": dl.APOLOGY_SOURCE},
    )
    db.session.commit()
    return event
