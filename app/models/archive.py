"""Delivered portal events kept for the retention period, moved out of the outbox.

The outbox is the delivery queue: every claim of the worker reads it, so it holds only
what is undelivered and what was delivered recently enough to be re-checked with the
portal. ``flask archive-outbox`` moves older delivered rows here in the same transaction
that deletes them, so a row is always in exactly one of the two tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import BigId, UTCDateTime, utcnow
from app.models.registry import OutboxMessage

__all__ = ["OutboxArchive"]


class OutboxArchive(db.Model):
    """A delivered outbox row, as it was when archived (same id, same event id)."""

    __tablename__ = "outbox_archive"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    event_uid: Mapped[str] = mapped_column(String(36), unique=True)
    destination: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossiers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: The delivery claim (app/services/delivery.py) reads pending rows in id order and stops at
#: its batch size; without this index it filters every delivered row still in the outbox.
ix_outbox_state_id = Index("ix_outbox_state_id", OutboxMessage.state, OutboxMessage.id)
