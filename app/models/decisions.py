"""Officers' decisions: assessment versions, returns for missing papers, rejections and withdrawals.

The decision itself is always an event of the dossier (``app.services.workflow``); these rows
keep what an event cannot: an adjustment waiting for a second officer, and a return waiting
for the landholder's paper (with the file they supplied)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Money, UTCDateTime, utcnow
from app.models.people import User
from app.models.registry import Dossier
from app.models.tax import Assessment

__all__ = ["AdjustmentStatus", "AssessmentAdjustment", "DossierReturn"]


class AdjustmentStatus(enum.StrEnum):
    PENDING_APPROVAL = "pending_approval"  # above the threshold: a second officer must approve
    APPLIED = "applied"  # the new assessment version is in force
    DISCARDED = "discarded"  # the dossier ended (rejected, withdrawn) before approval


class AssessmentAdjustment(db.Model):
    """A tax officer's adjustment of an assessment: what changed in the case and why. Below
    the threshold it is applied at once; above it, it waits until another tax officer
    approves it (four eyes). ``assessment_id`` is the version adjusted, ``new_assessment_id``
    the version it made."""

    __tablename__ = "assessment_adjustments"
    __table_args__ = (
        # At most one adjustment of a dossier waits for approval at a time.
        Index("uq_assessment_adjustments_one_pending", "dossier_id", unique=True,
              sqlite_where=text("status = 'PENDING_APPROVAL'"),
              postgresql_where=text("status = 'PENDING_APPROVAL'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"), index=True)
    new_assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessments.id"))
    status: Mapped[AdjustmentStatus] = mapped_column(
        Enum(AdjustmentStatus, native_enum=False, length=20))
    #: The case inputs changed: ``{"declared_price": 9000000000, "relationship": null, ...}``.
    changes: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    #: Totals of the adjusted version and of the reassessment when it was asked for.
    total_before: Mapped[int] = mapped_column(Money)
    total_after: Mapped[int] = mapped_column(Money)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dossier: Mapped[Dossier] = relationship()
    assessment: Mapped[Assessment] = relationship(foreign_keys=[assessment_id])
    new_assessment: Mapped[Assessment | None] = relationship(foreign_keys=[new_assessment_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    @property
    def difference(self) -> int:
        return self.total_after - self.total_before


class DossierReturn(db.Model):
    """A dossier returned to the landholder for a missing paper, and how it came back: a file
    the landholder uploaded, or the officer's record that the paper was handed in."""

    __tablename__ = "dossier_returns"
    __table_args__ = (
        # One open return per dossier (the dossier is in state ``returned`` meanwhile).
        Index("uq_dossier_returns_one_open", "dossier_id", unique=True,
              sqlite_where=text("supplied_at IS NULL"),
              postgresql_where=text("supplied_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    #: The state the dossier resumes when the paper is supplied.
    returned_from: Mapped[str] = mapped_column(String(30))
    #: What is missing, in the officer's words, and the reason given.
    missing: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    returned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    returned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    supplied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supplied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: ``upload`` (the landholder's file) or ``officer_record`` (handed in at the office).
    supplied_how: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    #: The uploaded file: its name as given, where it is kept (relative to the papers
    #: folder), its type, size and SHA-256.
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_path: Mapped[str | None] = mapped_column(String(300))
    file_type: Mapped[str | None] = mapped_column(String(60))
    file_size: Mapped[int | None]
    file_sha256: Mapped[str | None] = mapped_column(String(64))

    dossier: Mapped[Dossier] = relationship()
    returned_by: Mapped[User] = relationship(foreign_keys=[returned_by_id])
    supplied_by: Mapped[User | None] = relationship(foreign_keys=[supplied_by_id])
