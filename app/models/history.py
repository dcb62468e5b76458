"""The tamper-evident history: the head of the events' hash chain and its signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import BigId, UTCDateTime, utcnow

__all__ = ["HistoryCheckpoint", "HistoryHead"]


class HistoryHead(db.Model):
    """The end of the chain so far (one row, locked by the sealer)."""

    __tablename__ = "history_head"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    #: The hash of the last sealed event (64 zeros before the first).
    head: Mapped[str] = mapped_column(String(64))


class HistoryCheckpoint(db.Model):
    """The chain's head at ``seq``, signed (a JWS with the service's Ed25519 key) and published,
    so that rewriting the history, even recomputing every hash, shows."""

    __tablename__ = "history_checkpoints"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    head: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text)
    kid: Mapped[str] = mapped_column(String(40))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
