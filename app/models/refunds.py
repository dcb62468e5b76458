"""Refunds: money LandPay gives back through the bank, per payment and per notice line.

A payment's money is kept split by notice line (:class:`PaymentLine`), and so is each refund
(:class:`RefundLine`), so that for every line the books balance from their own rows:
assessed = paid - refunded + outstanding. The part of a payment that settled no line (a
duplicate payment, or the surplus of an overpayment) has no line: ``notice_line_id`` is None.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Money, UTCDateTime, utcnow
from app.models.payment import PaymentOrder
from app.models.people import User
from app.models.tax import Notice, NoticeLine
from payments.states import RefundReason, RefundState

__all__ = ["PaymentLine", "Refund", "RefundLine", "RefundReason", "RefundState"]


class PaymentLine(db.Model):
    """The share of a succeeded payment that settled one notice line."""

    __tablename__ = "payment_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    notice_line_id: Mapped[int] = mapped_column(ForeignKey("notice_lines.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)

    payment: Mapped[PaymentOrder] = relationship()
    notice_line: Mapped[NoticeLine] = relationship()


class Refund(db.Model):
    """Money of one payment to give back. Requested inside a use case's transaction; sent to
    the bank later by the refund worker, which the bank treats idempotently by ``ref``."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Our reference sent to the bank: the same on every attempt, so a retry never pays twice.
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    reason: Mapped[RefundReason] = mapped_column(
        Enum(RefundReason, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[RefundState] = mapped_column(
        Enum(RefundState, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        index=True,
    )
    #: Attempts made at the bank, and when the next one may be made (backoff after a failure).
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why the last attempt failed (no secrets: a code and a short text).
    last_error: Mapped[str | None] = mapped_column(String(200))
    bank_ref: Mapped[str | None] = mapped_column(String(60), unique=True)
    response_code: Mapped[str | None] = mapped_column(String(10))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment: Mapped[PaymentOrder] = relationship()
    notice: Mapped[Notice] = relationship()
    requested_by: Mapped[User | None] = relationship()
    lines: Mapped[list[RefundLine]] = relationship(
        back_populates="refund", order_by="RefundLine.id", cascade="all, delete-orphan"
    )


class RefundLine(db.Model):
    """The part of a refund taken from one notice line (None: from money that settled no line)."""

    __tablename__ = "refund_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("refunds.id"), index=True)
    notice_line_id: Mapped[int | None] = mapped_column(ForeignKey("notice_lines.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)

    refund: Mapped[Refund] = relationship(back_populates="lines")
    notice_line: Mapped[NoticeLine | None] = relationship()
