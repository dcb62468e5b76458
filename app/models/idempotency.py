"""Idempotency keys of the API: the first answer to a creating request, kept for a day so
that a retry with the same key gets that answer instead of creating a second thing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import BigId, UTCDateTime, utcnow


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (
        # One row per key and user: the row inserted first wins, concurrent ones see it.
        UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
        Index("uq_idempotency_keys_anonymous_key", "key", unique=True,
              sqlite_where=text("user_id IS NULL"), postgresql_where=text("user_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: None for a caller without an account (the public payment API): ``key`` is then a
    #: hash of the client's key and the notice code, unique among such rows.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    #: SHA-256 (hex) of the method, the path and the canonical body of the first request.
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: None while the first request runs; then its status code.
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    #: The headers worth replaying (Content-Type, Location).
    response_headers: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
