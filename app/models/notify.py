"""Notifications to people: what was sent (or is to be sent) to whom, by which channel, and
how far the events have been read to find what to send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import BigId, UTCDateTime, utcnow

__all__ = ["Notification", "NotificationCursor"]


class Notification(db.Model):
    """One message to one user by one channel about one event: at most one (the unique key),
    so reading the same event twice never sends twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_uid", "user_id", "channel"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_uid: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: "email" or "sms".
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    #: pending, sent, or failed (gave up after the last attempt).
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))

    user = relationship("User")


class NotificationCursor(db.Model):
    """The id of the last event read for notifications (one row)."""

    __tablename__ = "notification_cursor"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigId, default=0)
