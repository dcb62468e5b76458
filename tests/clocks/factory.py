"""Dossiers with events at chosen times, written straight to the database: the clocks and
the figures are computed from the event table, so the tests set the table as they need it
(the flow's own services always stamp events with the present time)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select

VN = timezone(timedelta(hours=7))
_numbers = itertools.count(1)

STATUS_AFTER = {
    "dossier_filed": "filed", "assessment_waits_for_officer": "awaiting_confirmation",
    "notice_issued": "awaiting_payment", "payment_confirmed": "paid",
    "dossier_completed": "completed",
}


def at(text: str) -> datetime:
    """'2026-02-11 09:00' in Vietnam time."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def make_dossier(db, *, office: str = "REG1", procedure: str = "transfer",
                 events: list[tuple[str, str] | tuple[str, str, dict]],
                 due_on: date | None = None) -> str:
    """A dossier of ``office`` (a registry office code) with these events (kind, Vietnam
    time[, data]); its own parcel; returns its code. Call inside an app context."""
    from app.models import Dossier, DossierStatus, Event, Office, Parcel, User

    registry = db.session.scalar(select(Office).where(Office.code == office))
    officer = db.session.scalar(select(User).where(User.office_id == registry.id))
    n = next(_numbers)
    parcel = Parcel(province="HCM", map_sheet="90", parcel_no=f"C{n}-{id(db) % 1000}",
                    address=f"{n} Đường Đồng Hồ", land_type="residential", area_m2=Decimal("40"),
                    price_key="Q1-LE-LOI", position=1, registry_office_id=registry.id)
    db.session.add(parcel)
    status = "filed"
    for event in events:
        status = STATUS_AFTER.get(event[0], status)
    filed = at(events[0][1])
    code = f"HSCLOCK{n:05d}{id(db) % 100:02d}"
    dossier = Dossier(code=code, procedure=procedure, status=DossierStatus(status), parcel=parcel,
                      registry_office_id=registry.id, tax_office_id=registry.tax_office_id,
                      declared_price=1_000_000_000, filed_by_id=officer.id, filed_at=filed,
                      valid_on=filed.date(), due_on=due_on or filed.date() + timedelta(days=12))
    db.session.add(dossier)
    db.session.flush()
    for event in events:
        db.session.add(Event(dossier_id=dossier.id, kind=event[0], at=at(event[1]),
                             actor_label="system", data=event[2] if len(event) > 2 else {},
                             to_status=STATUS_AFTER.get(event[0])))
        db.session.flush()
    db.session.commit()
    return code
