"""The registry's domain: parcels, dossiers, their parties and their events."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import BigId, Money, UTCDateTime, utcnow
from app.models.people import Office, Party, User


class Parcel(db.Model):
    __tablename__ = "parcels"
    __table_args__ = (UniqueConstraint("province", "map_sheet", "parcel_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(String(10))
    map_sheet: Mapped[str] = mapped_column(String(20))
    parcel_no: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(300))
    land_type: Mapped[str] = mapped_column(String(40))
    area_m2: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    #: Key of the parcel's row in the province's land price table (street, segment).
    price_key: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=1)
    registry_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)

    registry_office: Mapped[Office] = relationship()
    holder: Mapped[Party] = relationship()

    @property
    def label(self) -> str:
        return f"{self.map_sheet}/{self.parcel_no}"


class DossierStatus(enum.StrEnum):
    FILED = "filed"  # received, cadastral data sent to tax
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # assessed, a tax officer must confirm
    AWAITING_PAYMENT = "awaiting_payment"  # notice issued
    PAID = "paid"  # proof of payment received
    COMPLETED = "completed"  # registry finished the dossier


class Dossier(db.Model):
    __tablename__ = "dossiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    procedure: Mapped[str] = mapped_column(String(30), default="transfer")
    status: Mapped[DossierStatus] = mapped_column(
        Enum(DossierStatus, native_enum=False, length=30), index=True
    )
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    registry_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    tax_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    transferor_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    transferee_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    declared_price: Mapped[int] = mapped_column(Money)
    #: Family relationship between the parties (exempts the transfer), or None.
    relationship_kind: Mapped[str | None] = mapped_column(String(40))
    sole_residence: Mapped[bool] = mapped_column(Boolean, default=False)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The date the dossier became valid: the rules and prices of this day apply.
    valid_on: Mapped[date] = mapped_column(Date)
    #: Statutory due date of the registry (working days from filing).
    due_on: Mapped[date] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parcel: Mapped[Parcel] = relationship()
    registry_office: Mapped[Office] = relationship(foreign_keys=[registry_office_id])
    tax_office: Mapped[Office] = relationship(foreign_keys=[tax_office_id])
    transferor: Mapped[Party] = relationship(foreign_keys=[transferor_id])
    transferee: Mapped[Party] = relationship(foreign_keys=[transferee_id])
    filed_by: Mapped[User] = relationship()
    events: Mapped[list[Event]] = relationship(
        back_populates="dossier", order_by="Event.id", cascade="all, delete-orphan"
    )

    @property
    def party_ids(self) -> set[int]:
        return {self.transferor_id, self.transferee_id}


class Event(db.Model):
    """An append-only record of a state change: what, when, by whom."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Who acted when no user did: "bank", "system", "auto-confirmation".
    actor_label: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    dossier: Mapped[Dossier] = relationship(back_populates="events")


class OutboxMessage(db.Model):
    """A message to the national public service portal, written with its event."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_uid: Mapped[str] = mapped_column(String(36), unique=True)
    destination: Mapped[str] = mapped_column(String(40), default="national_portal")
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
