"""The dossier's state machine, the table of who may take which decision in which state,
and the event + outbox record of every change."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _

from app.errors import Conflict, Forbidden
from app.extensions import db
from app.models import Dossier, DossierStatus, Event, OutboxMessage, Role, User

S = DossierStatus


class Decision(enum.StrEnum):
    """A decision someone takes on a dossier (each one an event with its reason)."""

    CONFIRM = "confirm"  # the tax officer confirms the assessment: the notices are issued
    ADJUST = "adjust"  # the tax officer adjusts the assessment (a new version)
    APPROVE_ADJUSTMENT = "approve_adjustment"  # a second tax officer approves a large one
    RETURN = "return"  # the registry returns the dossier for a missing paper
    SUPPLY_PAPERS = "supply_papers"  # the landholder supplies it (or the registry records it)
    REJECT = "reject"  # the registry rejects the dossier on a legal ground
    WITHDRAW = "withdraw"  # a landholder of the dossier withdraws it
    COMPLETE = "complete"  # the registry completes a paid dossier


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    states: frozenset[DossierStatus]


def _rule(roles, states) -> Rule:
    return Rule(frozenset(roles), frozenset(states))


#: States in which a dossier is still being worked on (it can be returned, rejected...).
_WORKING = (S.FILED, S.AWAITING_CONFIRMATION, S.AWAITING_PAYMENT, S.PAID)
#: The assessment can be adjusted from its first reading until the dossier is completed.
_ASSESSED = (S.AWAITING_CONFIRMATION, S.AWAITING_PAYMENT, S.PAID)

#: Who may take which decision in which state: the one table every use case asks
#: (``require``) and the pages and API read (``allowed``) to offer only what may be done now.
DECISIONS: dict[Decision, Rule] = {
    Decision.CONFIRM: _rule({Role.TAX_OFFICER}, {S.AWAITING_CONFIRMATION}),
    Decision.ADJUST: _rule({Role.TAX_OFFICER}, _ASSESSED),
    Decision.APPROVE_ADJUSTMENT: _rule({Role.TAX_OFFICER}, _ASSESSED),
    Decision.RETURN: _rule({Role.REGISTRY_OFFICER}, _WORKING),
    Decision.SUPPLY_PAPERS: _rule({Role.LANDHOLDER, Role.REGISTRY_OFFICER}, {S.RETURNED}),
    Decision.REJECT: _rule({Role.REGISTRY_OFFICER}, (*_WORKING, S.RETURNED)),
    Decision.WITHDRAW: _rule({Role.LANDHOLDER}, (*_WORKING, S.RETURNED)),
    Decision.COMPLETE: _rule({Role.REGISTRY_OFFICER}, {S.PAID}),
}


def allowed(decision: Decision, role: Role, status: DossierStatus) -> bool:
    """Whether the table lets this role take this decision in this state."""
    rule = DECISIONS[decision]
    return role in rule.roles and status in rule.states


def decisions_for(role: Role, status: DossierStatus) -> list[Decision]:
    """The decisions the role may take now (what a page offers)."""
    return [d for d in Decision if allowed(d, role, status)]


def require(decision: Decision, user: User, dossier: Dossier) -> None:
    """Refuse a decision the table does not allow: 403 for a role that never takes it, 409
    for a state that does not allow it now. The caller checks the user's office or party."""
    rule = DECISIONS[decision]
    if user.role not in rule.roles:
        raise Forbidden(_("Your role may not do this."))
    if dossier.status not in rule.states:
        raise Conflict(_("This decision cannot be taken on a dossier in state %(status)s.",
                         status=dossier.status.value))


#: Allowed transitions: (from, to) -> event kind.
TRANSITIONS: dict[tuple[DossierStatus | None, DossierStatus], str] = {
    (None, S.FILED): "dossier_filed",
    (S.FILED, S.AWAITING_CONFIRMATION): "assessment_waits_for_officer",
    (S.FILED, S.AWAITING_PAYMENT): "notice_issued",
    (S.AWAITING_CONFIRMATION, S.AWAITING_PAYMENT): "notice_issued",
    (S.AWAITING_PAYMENT, S.PAID): "payment_confirmed",
    (S.PAID, S.COMPLETED): "dossier_completed",
    # An adjustment that leaves something more to pay on a paid dossier.
    (S.PAID, S.AWAITING_PAYMENT): "additional_notice_issued",
    **{(state, S.RETURNED): "dossier_returned" for state in DECISIONS[Decision.RETURN].states},
    **{(S.RETURNED, state): "papers_supplied" for state in DECISIONS[Decision.RETURN].states},
    **{(state, S.REJECTED): "dossier_rejected" for state in DECISIONS[Decision.REJECT].states},
    **{(state, S.WITHDRAWN): "dossier_withdrawn" for state in DECISIONS[Decision.WITHDRAW].states},
}


def check_transition(current: DossierStatus | None, new: DossierStatus) -> str:
    try:
        return TRANSITIONS[(current, new)]
    except KeyError:
        raise Conflict(
            f"a dossier in state {current.value if current else 'new'} cannot become {new.value}"
        ) from None


#: The events a use case records while it still builds its rows (``recorded_after_flush``).
_HELD = "landpay_held_events"


def record(
    dossier: Dossier,
    kind: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    data: dict | None = None,
    from_status: DossierStatus | None = None,
    to_status: DossierStatus | None = None,
) -> Event:
    """Append an event and its outbox message for the national portal (same transaction).

    Nothing is sent to the database here: the rows are written with the use case's next
    flush, every event of the step in one batched insert and every outbox row in another,
    in the order they were recorded (so the ids, which order the history chain and the
    delivery, follow it)."""
    at = datetime.now(UTC)
    held = db.session.info.get(_HELD)
    if held is None:
        data = _resolved(data)
    event = Event(
        uid=str(uuid.uuid4()),
        kind=kind,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.role.value if actor else "system"),
        at=at,
        data=data or {},
    )
    outbox = OutboxMessage(
        event_uid=event.uid,
        payload={
            "event_id": event.uid,
            "dossier_code": dossier.code,
            "procedure": dossier.procedure,
            "kind": kind,
            "status": event.to_status,
            "at": at.isoformat(),
            "due_on": dossier.due_on.isoformat(),
        },
    )
    if held is not None:
        held.append((dossier, event, outbox))
    else:
        _add(dossier, event, outbox)
    return event


def _resolved(data: dict | None) -> dict | None:
    """The event's data with each value given as a function (an id not yet known when a held
    event was recorded) replaced by its value."""
    if not data or not any(callable(value) for value in data.values()):
        return data
    return {key: value() if callable(value) else value for key, value in data.items()}


def _add(dossier: Dossier, event: Event, outbox: OutboxMessage) -> None:
    if dossier.id is None:
        db.session.flush()  # a new dossier: its id first
    event.data = _resolved(event.data)
    event.dossier = dossier
    outbox.dossier_id = dossier.id
    db.session.add_all((event, outbox))


@contextmanager
def recorded_after_flush() -> Iterator[None]:
    """Hold the events recorded in the block until it ends, then add them in order: a use
    case that creates its dossier flushes its rows once inside the block (an event may name
    a row's id), and the events follow in one batch rather than one flush each. On an error
    nothing held is added."""
    if db.session.info.get(_HELD) is not None:
        yield  # already held by an enclosing block
        return
    held: list = []
    db.session.info[_HELD] = held
    try:
        yield
    finally:
        db.session.info.pop(_HELD, None)
    for dossier, event, outbox in held:
        _add(dossier, event, outbox)


def commit() -> None:
    """Commit the use case's one transaction and keep what it loaded and wrote as it is: the
    answer is built from those objects (they are what was just committed) instead of reading
    every one of them again, as expiring them on commit would."""
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


def move(
    dossier: Dossier,
    new: DossierStatus,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    data: dict | None = None,
) -> Event:
    """Change the dossier's state if the table allows it, and record the event."""
    current = dossier.status
    kind = check_transition(current, new)
    dossier.status = new
    if new is S.PAID:
        dossier.paid_at = datetime.now(UTC)  # written by the same UPDATE as the state
    return record(
        dossier, kind, actor=actor, actor_label=actor_label, data=data,
        from_status=current, to_status=new,
    )
