"""Money after the notice: bank credits by transfer, refunds, bank statements, the reconciliation queue."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import BigId, Money, UTCDateTime, utcnow
from app.models.payment import PaymentOrder
from app.models.people import User
from app.models.tax import Notice

__all__ = ["BankCredit", "BankStatement", "ItemKind", "ItemStatus", "ReconciliationItem", "StatementLine"]


def _enum(cls: type[enum.Enum], length: int = 30) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class BankCredit(db.Model):
    """Money that arrived on the collecting account by transfer, once per bank transaction id,
    whether the bank's notification or its statement told us first."""

    __tablename__ = "bank_credits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The bank's transaction id: a repeat of the same credit is recognised by it.
    transaction_id: Mapped[str] = mapped_column(String(60), unique=True)
    account: Mapped[str] = mapped_column(String(19))
    amount: Mapped[int] = mapped_column(Money)
    purpose: Mapped[str] = mapped_column(String(255), default="")
    payer_name: Mapped[str] = mapped_column(String(120), default="")
    payer_account: Mapped[str] = mapped_column(String(40), default="")
    value_date: Mapped[date] = mapped_column(Date, index=True)
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: notification or statement: which told us first.
    source: Mapped[str] = mapped_column(String(20))
    #: The notice code read from the purpose (None when it names none or several).
    notice_code: Mapped[str | None] = mapped_column(String(30))
    #: pays, unknown_credit, short, over or duplicate (payments.credits.CreditOutcome).
    outcome: Mapped[str] = mapped_column(String(20))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), index=True)
    #: The payment it became, when it paid a notice (at once or by an accountant's match).
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment_orders.id"), unique=True)

    notice: Mapped[Notice | None] = relationship()
    payment: Mapped[PaymentOrder | None] = relationship()


class BankStatement(db.Model):
    """A daily statement of the collecting account as the bank signed it, imported once."""

    __tablename__ = "bank_statements"
    __table_args__ = (UniqueConstraint("account", "statement_date", name="uq_bank_statements_account_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(19))
    statement_date: Mapped[date] = mapped_column(Date)
    opening_balance: Mapped[int] = mapped_column(Money)
    closing_balance: Mapped[int] = mapped_column(Money)
    credit_total: Mapped[int] = mapped_column(Money)
    debit_total: Mapped[int] = mapped_column(Money)
    #: The bank's HMAC of the document, kept as the proof of what was imported.
    signature: Mapped[str] = mapped_column(String(128))
    document: Mapped[dict] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[StatementLine]] = relationship(back_populates="statement", order_by="StatementLine.position")


class StatementLine(db.Model):
    __tablename__ = "statement_lines"
    __table_args__ = (UniqueConstraint("statement_id", "position", name="uq_statement_lines_position"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("bank_statements.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[str] = mapped_column(String(60), index=True)
    direction: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))
    amount: Mapped[int] = mapped_column(Money)
    purpose: Mapped[str] = mapped_column(String(255), default="")
    value_date: Mapped[date] = mapped_column(Date)
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: matched, new, amount_differs, other_day or duplicate_line (payments.statements.LineKind).
    match: Mapped[str] = mapped_column(String(20))

    statement: Mapped[BankStatement] = relationship(back_populates="lines")


class ItemKind(enum.StrEnum):
    UNKNOWN_CREDIT = "unknown_credit"  #: money whose purpose names no notice we issued
    SHORT = "short"  #: less than the notice owes
    OVER = "over"  #: more than the notice owes
    DUPLICATE = "duplicate"  #: for a notice already paid, or a statement line repeated
    MISSING = "missing_from_statement"  #: counted by us, absent from the day's statement
    OTHER_DAY = "other_day"  #: on the statement of another day than we counted it
    AMOUNT_DIFFERS = "amount_differs"  #: the statement and the notification disagree
    UNKNOWN_DEBIT = "unknown_debit"  #: money out that we did not order


class ItemStatus(enum.StrEnum):
    OPEN = "open"
    MATCHED = "matched"  #: the money was applied to a notice by an accountant
    REFUND_REQUESTED = "refund_requested"  #: the money goes back to the payer
    ACCEPTED = "accepted"  #: explained, nothing to do with the money


class ReconciliationItem(db.Model):
    """One thing about the money that needs a person: opened by a rule, closed by an
    accountant with a reason."""

    __tablename__ = "reconciliation_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: What made the item (kind, transaction, day): the same finding never opens two items.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind), index=True)
    status: Mapped[ItemStatus] = mapped_column(_enum(ItemStatus, 20), index=True, default=ItemStatus.OPEN)
    amount: Mapped[int] = mapped_column(Money)
    transaction_id: Mapped[str | None] = mapped_column(String(60), index=True)
    statement_date: Mapped[date | None] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(Text, default="")
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("bank_credits.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment_orders.id"), index=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    #: The refund asked for, when the money goes back (its id in the refunds ledger).
    refund_ref: Mapped[str | None] = mapped_column(String(60))

    credit: Mapped[BankCredit | None] = relationship()
    payment: Mapped[PaymentOrder | None] = relationship(foreign_keys=[payment_id])
    notice: Mapped[Notice | None] = relationship()
    resolved_by: Mapped[User | None] = relationship()
