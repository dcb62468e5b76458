"""Payment orders sent to the bank, the bank's notifications, and e-receipts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import BigId, Money, UTCDateTime, utcnow
from app.models.people import Party, User
from app.models.tax import Notice
from payments.states import PaymentStatus


class PaymentOrder(db.Model):
    __tablename__ = "payment_orders"
    __table_args__ = (
        # At most one succeeded payment counts for a notice, enforced by the database itself;
        # a second one the bank took anyway is kept, flagged for refund.
        Index(
            "uq_payment_orders_one_success",
            "notice_id",
            unique=True,
            sqlite_where=text("status = 'succeeded' AND NOT needs_refund"),
            postgresql_where=text("status = 'succeeded' AND NOT needs_refund"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Our reference sent to the bank.
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    amount: Mapped[int] = mapped_column(Money)
    #: The late-payment interest included in ``amount``, computed for the day the order was
    #: made (0 when nothing was overdue); recorded as a notice line when the payment succeeds.
    late_interest: Mapped[int] = mapped_column(Money, default=0, server_default="0")
    status: Mapped[PaymentStatus] = mapped_column(
        Enum(PaymentStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    #: The bank's transaction number, unique once known.
    bank_ref: Mapped[str | None] = mapped_column(String(60), unique=True)
    response_code: Mapped[str | None] = mapped_column(String(10))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Until when the bank's checkout page for this order can still be paid.
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the bank was last asked about this order (status query).
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The bank took this payment after the notice was already paid: to be refunded.
    needs_refund: Mapped[bool] = mapped_column(Boolean, default=False)
    #: How the money came: 'card' (the bank's checkout page) or 'transfer' (VietQR, matched
    #: from the bank's credit notification or statement).
    channel: Mapped[str] = mapped_column(String(10), default="card", server_default="card")
    #: Paid without an account (the public /pay page): the name the paying person gave, and
    #: the party of the notice's side they named by citizen id, for the receipt.
    payer_name: Mapped[str | None] = mapped_column(String(200))
    paid_for_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"))

    notice: Mapped[Notice] = relationship()
    created_by: Mapped[User | None] = relationship()
    paid_for: Mapped[Party | None] = relationship()
    receipt: Mapped[Receipt | None] = relationship(back_populates="payment", uselist=False)


class BankNotification(db.Model):
    """Every notification the bank sent us, with what we answered (secrets never stored)."""

    __tablename__ = "bank_notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Our order reference, only when the bank's signature was good.
    order_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    answer_code: Mapped[str] = mapped_column(String(4))
    detail: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(JSON)


class Receipt(db.Model):
    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment_orders.id"), unique=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), index=True)
    #: The compact JWS (Ed25519) that anyone can verify with the published key.
    token: Mapped[str] = mapped_column(Text)
    kid: Mapped[str] = mapped_column(String(40))
    claims: Mapped[dict] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payment: Mapped[PaymentOrder] = relationship(back_populates="receipt")
    notice: Mapped[Notice] = relationship()
