"""The dossier's state machine and the event + outbox record of every change."""

from __future__ import annotations

from app.errors import Conflict
from app.extensions import db
from app.models import Dossier, DossierStatus, Event, OutboxMessage, User

S = DossierStatus

#: Allowed transitions: (from, to) -> event kind.
TRANSITIONS: dict[tuple[DossierStatus | None, DossierStatus], str] = {
    (None, S.FILED): "dossier_filed",
    (S.FILED, S.AWAITING_CONFIRMATION): "assessment_waits_for_officer",
    (S.FILED, S.AWAITING_PAYMENT): "notice_issued",
    (S.AWAITING_CONFIRMATION, S.AWAITING_PAYMENT): "notice_issued",
    (S.AWAITING_PAYMENT, S.PAID): "payment_confirmed",
    (S.PAID, S.COMPLETED): "dossier_completed",
}


def check_transition(current: DossierStatus | None, new: DossierStatus) -> str:
    try:
        return TRANSITIONS[(current, new)]
    except KeyError:
        raise Conflict(
            f"a dossier in state {current.value if current else 'new'} cannot become {new.value}"
        ) from None


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
    """Append an event and its outbox message for the national portal (same transaction)."""
    event = Event(
        dossier=dossier,
        kind=kind,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.role.value if actor else "system"),
        data=data or {},
    )
    db.session.add(event)
    db.session.flush()
    db.session.add(
        OutboxMessage(
            event_uid=event.uid,
            dossier_id=dossier.id,
            payload={
                "event_id": event.uid,
                "dossier_code": dossier.code,
                "procedure": dossier.procedure,
                "kind": kind,
                "status": event.to_status,
                "at": event.at.isoformat(),
                "due_on": dossier.due_on.isoformat(),
            },
        )
    )
    return event


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
    return record(
        dossier, kind, actor=actor, actor_label=actor_label, data=data,
        from_status=current, to_status=new,
    )
