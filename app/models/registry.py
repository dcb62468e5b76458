"""The registry's domain: parcels, dossiers, their parties and their events."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import BigId, Money, UTCDateTime, utcnow
from app.models.people import Office, Party, User


class Parcel(db.Model):
    """A parcel of the cadastral map. Who holds it is in its holdings (with their history),
    never on the parcel itself."""

    __tablename__ = "parcels"
    __table_args__ = (
        UniqueConstraint("province", "map_sheet", "parcel_no"),
        # The filing form finds a parcel of the officer's office by map sheet and number.
        Index("ix_parcels_office_sheet_no", "registry_office_id", "map_sheet", "parcel_no"),
    )

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
    #: The last day of the land use term (a lease's or an allocation's); None for land used
    #: without a term limit. A lease sets it on completion, an extension moves it.
    term_ends_on: Mapped[date | None] = mapped_column(Date)

    registry_office: Mapped[Office] = relationship()
    holdings: Mapped[list[Holding]] = relationship(
        back_populates="parcel", order_by="Holding.id", cascade="all, delete-orphan"
    )

    def __init__(self, *, holder: Party | None = None, holder_id: int | None = None, **kwargs):
        """A parcel entered into the registry; ``holder`` (or ``holder_id``) registers its
        first holder with a share of 1 (several holders: add ``Holding`` rows instead)."""
        super().__init__(**kwargs)
        if holder is not None or holder_id is not None:
            who = {"party": holder} if holder is not None else {"party_id": holder_id}
            self.holdings.append(Holding(**who, share_num=1, share_den=1, position=1))

    @property
    def label(self) -> str:
        return f"{self.map_sheet}/{self.parcel_no}"

    @property
    def current_holdings(self) -> list[Holding]:
        """The current set of holders, in the order of the certificate."""
        return sorted((h for h in self.holdings if h.valid_to is None), key=lambda h: h.position)

    @property
    def holders(self) -> list[Party]:
        return [h.party for h in self.current_holdings]

    @property
    def holder(self) -> Party | None:
        """The first-named current holder: the only one, or the co-holders' representative
        (who receives the parcel's notices)."""
        current = self.current_holdings
        return current[0].party if current else None

    @property
    def holder_id(self) -> int | None:
        current = self.current_holdings
        return current[0].party_id if current else None


class Holding(db.Model):
    """One holder's share of a parcel over a period. The current set of a parcel (valid_to
    empty) has shares adding up to 1; completing a dossier that changes holders closes it
    (valid_to) and opens the next one (valid_from) in the same transaction."""

    __tablename__ = "holdings"
    __table_args__ = (
        CheckConstraint("share_num > 0 AND share_den > 0 AND share_num <= share_den", name="share"),
        CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_from <= valid_to",
                        name="period"),
        # A party appears once in a parcel's current set, and each place on it is taken once.
        Index("uq_holdings_current_party", "parcel_id", "party_id", unique=True,
              sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL")),
        Index("uq_holdings_current_position", "parcel_id", "position", unique=True,
              sqlite_where=text("valid_to IS NULL"), postgresql_where=text("valid_to IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    #: The share as an exact fraction (never a float): share_num / share_den.
    share_num: Mapped[int]
    share_den: Mapped[int]
    #: Place among the co-holders on the certificate; 1 is the first named.
    position: Mapped[int] = mapped_column(default=1)
    #: When the holding began; None for a holding recorded before the registry kept history.
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it ended (the completion of the dossier that moved the parcel); None while current.
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The completed dossier that opened this holding (None for holdings recorded before).
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)

    parcel: Mapped[Parcel] = relationship(back_populates="holdings")
    party: Mapped[Party] = relationship()
    dossier: Mapped[Dossier | None] = relationship()

    @property
    def share(self) -> Fraction:
        return Fraction(self.share_num, self.share_den)

    @property
    def share_text(self) -> str:
        return f"{self.share_num}/{self.share_den}"


class DossierStatus(enum.StrEnum):
    FILED = "filed"  # received, cadastral data sent to tax
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # assessed, a tax officer must confirm
    AWAITING_PAYMENT = "awaiting_payment"  # notice issued
    PAID = "paid"  # proof of payment received
    COMPLETED = "completed"  # registry finished the dossier
    RETURNED = "returned"  # returned to the landholder for a missing paper (agency clock paused)
    REJECTED = "rejected"  # refused by the registry on a legal ground (closed)
    WITHDRAWN = "withdrawn"  # withdrawn by a landholder before completion (closed)


#: States in which a dossier is over; in any other it is open. At most one open dossier per
#: parcel (they all change its holders), enforced by a partial unique index.
CLOSED_STATUSES = frozenset({DossierStatus.COMPLETED, DossierStatus.REJECTED,
                             DossierStatus.WITHDRAWN})
_OPEN = "status NOT IN ({})".format(", ".join(f"'{s.name}'" for s in sorted(CLOSED_STATUSES)))


class Dossier(db.Model):
    __tablename__ = "dossiers"
    __table_args__ = (
        Index("uq_dossiers_one_open_per_parcel", "parcel_id", unique=True,
              sqlite_where=text(_OPEN), postgresql_where=text(_OPEN)),
        # The lists (app/services/lists.py), newest first: an office's inbox (by state or
        # not), a tax office's, every dossier (administrators), one parcel's.
        Index("ix_dossiers_registry_filed", "registry_office_id", "filed_at", "id"),
        Index("ix_dossiers_registry_status_filed", "registry_office_id", "status", "filed_at", "id"),
        Index("ix_dossiers_tax_filed", "tax_office_id", "filed_at", "id"),
        Index("ix_dossiers_filed", "filed_at", "id"),
        Index("ix_dossiers_parcel", "parcel_id"),
        # The registry's paid dossiers, oldest payment first.
        Index("ix_dossiers_registry_status_paid", "registry_office_id", "status", "paid_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    procedure: Mapped[str] = mapped_column(String(30), default="transfer")
    status: Mapped[DossierStatus] = mapped_column(
        Enum(DossierStatus, native_enum=False, length=30), index=True
    )
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    registry_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    tax_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    declared_price: Mapped[int] = mapped_column(Money)
    #: Who pays which line of a transfer (``TAX_PAYER_CLAUSES``): by law (``default``: the
    #: registration fee the transferees, the income tax the transferors) or as the contract
    #: puts every line on one side.
    tax_payer_clause: Mapped[str] = mapped_column(String(20), default="default",
                                                  server_default="default")
    #: A change of use: the parcel's land type after it (before it: the parcel's own, kept
    #: here on completion), and the land money before (given, or the old table price per m2).
    new_land_type: Mapped[str | None] = mapped_column(String(40))
    old_land_type: Mapped[str | None] = mapped_column(String(40))
    old_table_price_per_m2: Mapped[int | None] = mapped_column(Money)
    old_land_money: Mapped[int | None] = mapped_column(Money)
    #: Recognition: which case of the levy on recognition applies (``tax_calc``'s
    #: ``recognition_kind``). Allocation: the infrastructure cost per m2 the transfer form shows.
    recognition_kind: Mapped[str | None] = mapped_column(String(50))
    infrastructure_cost_per_m2: Mapped[int | None] = mapped_column(Money)
    #: A lease: ``one_time`` or ``annual`` rent, the term in years and, for annual rent, the
    #: province's rate (a fraction such as 0.01).
    rent_mode: Mapped[str | None] = mapped_column(String(10))
    lease_term_years: Mapped[int | None]
    rent_rate: Mapped[Decimal | None] = mapped_column(Numeric(8, 6))
    #: An extension: the months granted, and the term's end before and after (the parcel's
    #: ``term_ends_on`` moves on completion).
    months_extended: Mapped[int | None]
    old_term_end: Mapped[date | None] = mapped_column(Date)
    new_term_end: Mapped[date | None] = mapped_column(Date)
    #: Family relationship between the parties (exempts the transfer), or None.
    relationship_kind: Mapped[str | None] = mapped_column(String(40))
    sole_residence: Mapped[bool] = mapped_column(Boolean, default=False)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The date the dossier became valid: the rules and prices of this day apply.
    valid_on: Mapped[date] = mapped_column(Date)
    #: Statutory due date of the registry (working days from filing).
    due_on: Mapped[date] = mapped_column(Date)
    #: When the dossier last became paid (set by the state change itself).
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Number of the certificate issued on completion (one new number per completion).
    certificate_no: Mapped[str | None] = mapped_column(String(30), unique=True)

    parcel: Mapped[Parcel] = relationship()
    registry_office: Mapped[Office] = relationship(foreign_keys=[registry_office_id])
    tax_office: Mapped[Office] = relationship(foreign_keys=[tax_office_id])
    parties: Mapped[list[DossierParty]] = relationship(
        back_populates="dossier", order_by="DossierParty.id",
        cascade="all, delete-orphan",
    )
    filed_by: Mapped[User] = relationship()
    events: Mapped[list[Event]] = relationship(
        back_populates="dossier", order_by="Event.id", cascade="all, delete-orphan"
    )

    def parties_in(self, role: str) -> list[DossierParty]:
        return sorted((p for p in self.parties if p.role == role), key=lambda p: p.position)

    @property
    def transferors(self) -> list[Party]:
        return [p.party for p in self.parties_in(PartyRole.TRANSFEROR)]

    @property
    def transferees(self) -> list[Party]:
        return [p.party for p in self.parties_in(PartyRole.TRANSFEREE)]

    @property
    def holders(self) -> list[Party]:
        """The holders a change of use is filed for (they stay the holders)."""
        return [p.party for p in self.parties_in(PartyRole.HOLDER)]

    @property
    def transferor(self) -> Party | None:
        """The first-named transferor (for a change of use: the first-named holder)."""
        first = self.transferors or self.holders
        return first[0] if first else None

    @property
    def transferee(self) -> Party | None:
        """The first-named transferee (None for a change of use)."""
        first = self.transferees
        return first[0] if first else None

    @property
    def transferor_id(self) -> int | None:
        return self.transferor.id if self.transferor else None

    @property
    def transferee_id(self) -> int | None:
        return self.transferee.id if self.transferee else None

    @property
    def party_ids(self) -> set[int]:
        return {p.party_id for p in self.parties}


class PartyRole(enum.StrEnum):
    TRANSFEROR = "transferor"  # gives up the parcel (seller, donor, the deceased)
    TRANSFEREE = "transferee"  # receives it, with a share (buyer, donee, heir; the applicant
    # of a recognition or an allocation, the lessee of a lease)
    HOLDER = "holder"  # holds it and keeps it (change of use, extension)


#: Contract clauses on who pays a transfer's lines (a dossier's ``tax_payer_clause``).
TAX_PAYER_CLAUSES = ("default", "buyer_pays_all", "seller_pays_all")


class DossierParty(db.Model):
    """A party of a dossier in one role, in the order of the dossier; a transferee has the
    share of the parcel they receive (an exact fraction, never a float)."""

    __tablename__ = "dossier_parties"
    __table_args__ = (
        UniqueConstraint("dossier_id", "role", "position"),
        UniqueConstraint("dossier_id", "role", "party_id", name="uq_dossier_parties_party"),
        CheckConstraint("(share_num IS NULL AND share_den IS NULL) OR "
                        "(share_num > 0 AND share_den > 0 AND share_num <= share_den)",
                        name="share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=1)
    share_num: Mapped[int | None]
    share_den: Mapped[int | None]

    dossier: Mapped[Dossier] = relationship(back_populates="parties")
    party: Mapped[Party] = relationship()

    @property
    def share(self) -> Fraction | None:
        return Fraction(self.share_num, self.share_den) if self.share_num else None

    @property
    def share_text(self) -> str | None:
        return f"{self.share_num}/{self.share_den}" if self.share_num else None


class Event(db.Model):
    """An append-only record of a state change: what, when, by whom."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: Unique and made here: it tells the rows of one batched insert apart (insert_sentinel).
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()),
                                     insert_sentinel=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Who acted when no user did: "bank", "system", "auto-confirmation".
    actor_label: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    #: The tamper-evident history (app/services/history.py): the event's place in the chain,
    #: the hash of the one before it and its own hash, set by the sealer shortly after commit.
    chain_seq: Mapped[int | None] = mapped_column(BigId, unique=True)
    chain_prev: Mapped[str | None] = mapped_column(String(64))
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    dossier: Mapped[Dossier] = relationship(back_populates="events")


class OutboxMessage(db.Model):
    """A message to the national public service portal, written with its event.

    Delivery (app/services/delivery.py): ``pending`` until the portal acknowledges it
    (``delivered``, with the portal's ``acknowledged_at``); after too many failed attempts
    ``dead`` until an administrator replays it. The messages of one dossier go in ``id``
    order: one is never sent while an earlier one of its dossier is undelivered."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_next_attempt", "state", "next_attempt_at"),
        Index("ix_outbox_dossier_order", "dossier_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_uid: Mapped[str] = mapped_column(String(36), unique=True, insert_sentinel=True)
    destination: Mapped[str] = mapped_column(String(40), default="national_portal")
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    #: The dossier whose event this is (the order of delivery is kept per dossier).
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"))
    #: pending | delivered | dead
    state: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    #: Not sent again before this time (exponential backoff); None: as soon as possible.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The time the portal gave in its acknowledgement (``received_at``).
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
