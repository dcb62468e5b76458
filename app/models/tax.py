"""Price tables as imported versions, assessments and payment notices."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import BigId, Money, UTCDateTime, utcnow
from app.models.people import Party, User
from app.models.registry import Dossier


class PriceTableVersion(db.Model):
    """One imported land price table file; never changed after import."""

    __tablename__ = "price_table_versions"
    __table_args__ = (UniqueConstraint("province", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[date] = mapped_column(Date)
    #: The last day the table applies (None: until a newer table replaces it).
    effective_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    #: SHA-256 of the imported file, to spot a re-import of the same data.
    checksum: Mapped[str] = mapped_column(String(64))
    #: Province-level parameters of this version (adjustment coefficient, quotas...).
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PriceEntry(db.Model):
    __tablename__ = "price_entries"
    __table_args__ = (
        UniqueConstraint("version_id", "price_key", "position", "land_type"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("price_table_versions.id"), index=True)
    price_key: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(default=1)
    land_type: Mapped[str] = mapped_column(String(40))
    #: VND per square metre.
    price_per_m2: Mapped[int] = mapped_column(Money)
    label: Mapped[str | None] = mapped_column(String(300))


class AssessmentStatus(enum.StrEnum):
    PENDING = "pending"  # waits for a tax officer
    CONFIRMED = "confirmed"
    #: Replaced by a newer version after a tax officer's adjustment (kept as it was).
    SUPERSEDED = "superseded"


class Assessment(db.Model):
    __tablename__ = "assessments"
    __table_args__ = (
        # The lists (app/services/lists.py): a tax office's queue by state, oldest first; its
        # confirmed ones, last confirmed first; all of an office's, and everyone's.
        Index("ix_assessments_office_status_created", "tax_office_id", "status", "created_at", "id"),
        Index("ix_assessments_office_status_confirmed", "tax_office_id", "status", "confirmed_at", "id"),
        Index("ix_assessments_office_created", "tax_office_id", "created_at", "id"),
        Index("ix_assessments_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    tax_office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    status: Mapped[AssessmentStatus] = mapped_column(
        Enum(AssessmentStatus, native_enum=False, length=20), index=True
    )
    total: Mapped[int] = mapped_column(Money)
    price_table_version: Mapped[str] = mapped_column(String(40))
    rule_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    valid_on: Mapped[date] = mapped_column(Date)
    #: The case given to the rules engine, so the result can be reproduced.
    case: Mapped[dict] = mapped_column(JSON)
    #: Why an officer must look, each ``{"code", "field", "text_vi", "text_en"}``: the rules
    #: engine's reasons, then the tax office's own policy (empty: confirmed at once).
    review_reasons: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    auto_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: 1 for the first assessment of a dossier; an adjustment adds the next version and
    #: keeps this one (``supersedes_id`` names the version it replaced).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))

    dossier: Mapped[Dossier] = relationship()
    confirmed_by: Mapped[User | None] = relationship()
    lines: Mapped[list[AssessmentLine]] = relationship(
        back_populates="assessment", order_by="AssessmentLine.id", cascade="all, delete-orphan"
    )


class AssessmentLine(db.Model):
    __tablename__ = "assessment_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    obligation: Mapped[str] = mapped_column(String(40))
    base: Mapped[int] = mapped_column(Money)
    base_method: Mapped[str] = mapped_column(Text)
    #: Decimal rate kept as text, exactly as the rules engine gave it.
    rate: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Money)
    rounding: Mapped[str] = mapped_column(String(60))
    legal_basis: Mapped[str] = mapped_column(Text)
    rule_version: Mapped[str] = mapped_column(String(60))
    explanation_vi: Mapped[str] = mapped_column(Text)
    explanation_en: Mapped[str] = mapped_column(Text)
    #: When the amount falls due, as the rules engine gave it: ``DueTerm.to_dict()`` items
    #: (a share, days after the notice or a fixed date). Dated when the notice is issued.
    due_terms: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))

    assessment: Mapped[Assessment] = relationship(back_populates="lines")


class NoticeStatus(enum.StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    #: Closed by a decision (rejection, withdrawal, adjustment): nothing is owed on it; what
    #: was paid was refunded or counted on the notice that replaces it.
    CANCELLED = "cancelled"


class Notice(db.Model):
    """A payment notice: what the payer owes, line by line, and by when."""

    __tablename__ = "notices"
    __table_args__ = (
        # The lists, newest first (app/services/lists.py).
        Index("ix_notices_issued", "issued_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    #: None for a notice that belongs to no dossier (the annual non-agricultural land use
    #: tax, ``AnnualTaxNotice.notice``): only its payer sees and pays it.
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    #: One notice per payer side: an assessment may have several notices. None with the
    #: dossier: such a notice's lines explain themselves (``NoticeLine.detail``).
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"), index=True)
    #: The first-named party of the side that owes this notice's lines.
    payer_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    #: The side that owes it (a ``PartyRole`` of the dossier): each of its parties sees and
    #: may pay it.
    payer_role: Mapped[str] = mapped_column(String(20), default="transferee",
                                            server_default="transferee")
    status: Mapped[NoticeStatus] = mapped_column(Enum(NoticeStatus, native_enum=False, length=20))
    total: Mapped[int] = mapped_column(Money)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: "Due by": the first date a part of the notice falls due (None when nothing is due).
    due_on: Mapped[date | None] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The notice this one corrects (after an adjustment), if any.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))

    dossier: Mapped[Dossier | None] = relationship()
    assessment: Mapped[Assessment | None] = relationship()
    payer: Mapped[Party] = relationship()
    lines: Mapped[list[NoticeLine]] = relationship(
        back_populates="notice", order_by="NoticeLine.id", cascade="all, delete-orphan"
    )
    # ``annual``: the AnnualTaxNotice of a dossier-less notice (a backref, app/models/annual.py).

    @property
    def payers(self) -> list[Party]:
        """Who owes the notice, each of whom sees and may pay it: the parties of the payer's
        side of the dossier, or the payer alone for a notice without a dossier."""
        if self.dossier is None:
            return [self.payer]
        return [p.party for p in self.dossier.parties_in(self.payer_role)]

    @property
    def parcel(self):
        """The parcel the notice is for: the dossier's, or the annual notice's."""
        if self.dossier is not None:
            return self.dossier.parcel
        annual = getattr(self, "annual", None)
        return annual.parcel if annual is not None else None

    @property
    def tax_office(self):
        """The tax office that issued the notice: the dossier's, or (annual tax) the one the
        parcel's registry office sends its dossiers to."""
        if self.dossier is not None:
            return self.dossier.tax_office
        parcel = self.parcel
        return parcel.registry_office.tax_office if parcel is not None else None

    @property
    def outstanding(self) -> int:
        return sum(line.outstanding for line in self.lines)

    def refresh_status(self) -> None:
        """A notice's status follows from what is outstanding (a cancelled notice stays so:
        what it still shows as outstanding is no longer owed)."""
        if self.status is not NoticeStatus.CANCELLED:
            self.status = NoticeStatus.PAID if self.outstanding <= 0 else NoticeStatus.UNPAID


class NoticeLine(db.Model):
    """One obligation on a notice; money is conserved per line:
    amount = paid - refunded + outstanding."""

    __tablename__ = "notice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    #: None for a line added when paying (late-payment interest).
    assessment_line_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_lines.id"))
    obligation: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(Money)
    paid: Mapped[int] = mapped_column(Money, default=0)
    refunded: Mapped[int] = mapped_column(Money, default=0)
    #: The line's instalments for the notice's issue date, ``[{"due_on", "amount"}]``, from
    #: ``tax_calc.schedule`` (the parts add up to ``amount``; empty when nothing is due).
    installments: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    #: The last instalment's date (None when nothing is due).
    due_on: Mapped[date | None] = mapped_column(Date)
    #: For a line with no assessment line (late interest): what the rules engine said of it,
    #: ``{"base", "rate", "legal_basis", "rule_version", "explanation_vi", "explanation_en"}``.
    detail: Mapped[dict | None] = mapped_column(JSON)
    #: The State budget classification (chapter-sub-item) and the collecting treasury account,
    #: fixed at issuance from app.services.treasury (None: the table had no entry).
    budget_code: Mapped[str | None] = mapped_column(String(20))
    treasury_account: Mapped[str | None] = mapped_column(String(120))

    notice: Mapped[Notice] = relationship(back_populates="lines")
    assessment_line: Mapped[AssessmentLine | None] = relationship()

    def info(self, key: str):
        """A fact of the line (explanation_vi, legal_basis, base, rate...), from its
        assessment line or, for late interest, from its own detail."""
        if self.assessment_line is not None:
            return getattr(self.assessment_line, key)
        return (self.detail or {}).get(key)

    @property
    def outstanding(self) -> int:
        return self.amount - self.paid + self.refunded


Index("ix_assessments_office_status", Assessment.tax_office_id, Assessment.status)


class DataTable(db.Model):
    """Any other imported data file (adjustment coefficients, position factors, quotas,
    fee schedules): one version, its rows kept as imported."""

    __tablename__ = "data_tables"
    __table_args__ = (UniqueConstraint("kind", "province", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    province: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    rows: Mapped[list] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
