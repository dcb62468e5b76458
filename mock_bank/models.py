"""The test bank's own database: transactions and every notification attempt."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (UniqueConstraint("merchant_id", "order_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_no: Mapped[str] = mapped_column(String(64), unique=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    order_ref: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)  #: whole dong
    order_info: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(2))
    return_url: Mapped[str] = mapped_column(String(1000))
    create_date: Mapped[str] = mapped_column(String(14))  #: as the merchant sent it
    account: Mapped[str | None] = mapped_column(String(32))  #: test account; None if cancelled
    response_code: Mapped[str] = mapped_column(String(2))
    notify_mode: Mapped[str] = mapped_column(String(10))
    pay_date: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    notifications: Mapped[list[Notification]] = relationship(
        back_populates="transaction", order_by="Notification.id"
    )


class Notification(Base):
    """One HTTP attempt to deliver a notification, and what came back."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id"))
    delivery: Mapped[int] = mapped_column(Integer)  #: 1 for the first delivery, 2 for a replay...
    attempt: Mapped[int] = mapped_column(Integer)  #: 1..IPN_ATTEMPTS within a delivery
    trigger: Mapped[str] = mapped_column(String(20))  #: confirm | duplicate | delayed | renotify
    url: Mapped[str] = mapped_column(String(1000))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    http_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    rsp_code: Mapped[str | None] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(String(255))

    transaction: Mapped[Transaction] = relationship(back_populates="notifications")

    def as_dict(self) -> dict[str, object]:
        return {
            "delivery": self.delivery,
            "attempt": self.attempt,
            "trigger": self.trigger,
            "url": self.url,
            "sent_at": self.sent_at.isoformat(),
            "http_status": self.http_status,
            "response_body": self.response_body,
            "rsp_code": self.rsp_code,
            "error": self.error,
        }


class Customer(Base):
    """A test customer of the banking app, seeded by the bank itself (accounts.CUSTOMERS)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    account: Mapped[str] = mapped_column(String(19), unique=True)
    balance: Mapped[int] = mapped_column(BigInteger)  #: whole dong


class Entry(Base):
    """One movement of money between accounts (a transfer, or a credit made by a test hook)."""

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[str] = mapped_column(String(60), unique=True)
    direction: Mapped[str] = mapped_column(String(10))  #: credit or debit, seen from to/from
    channel: Mapped[str] = mapped_column(String(10))  #: transfer, refund, other
    from_account: Mapped[str] = mapped_column(String(19))
    from_name: Mapped[str] = mapped_column(String(120))
    to_bin: Mapped[str] = mapped_column(String(6))
    to_account: Mapped[str] = mapped_column(String(19))
    amount: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(255))
    value_date: Mapped[str] = mapped_column(String(10))  #: YYYY-MM-DD, the day it counts for
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: For credits to a collecting account: notify (send the notification) or silent.
    notify: Mapped[str] = mapped_column(String(10), default="notify")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    attempts: Mapped[list[CreditAttempt]] = relationship(order_by="CreditAttempt.id")

    def as_dict(self) -> dict[str, object]:
        return {
            "transaction_id": self.transaction_id,
            "channel": self.channel,
            "from_account": self.from_account,
            "to_account": self.to_account,
            "amount": self.amount,
            "purpose": self.purpose,
            "value_date": self.value_date,
            "booked_at": self.booked_at.isoformat(),
            "acknowledged": self.acknowledged_at is not None,
            "attempts": [a.as_dict() for a in self.attempts],
        }


class CreditAttempt(Base):
    """One HTTP attempt to deliver a credit notification, and what came back."""

    __tablename__ = "credit_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    http_status: Mapped[int | None] = mapped_column(Integer)
    rsp_code: Mapped[str | None] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(String(255))

    def as_dict(self) -> dict[str, object]:
        return {"sent_at": self.sent_at.isoformat(), "http_status": self.http_status,
                "rsp_code": self.rsp_code, "error": self.error}


class RefundTransfer(Base):
    """Money the bank sent back to a payer's account at a merchant's request (mock_bank/refunds.py)."""

    __tablename__ = "refund_transfers"
    __table_args__ = (UniqueConstraint("merchant_id", "refund_ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refund_no: Mapped[str] = mapped_column(String(64), unique=True)
    merchant_id: Mapped[str] = mapped_column(String(32))
    refund_ref: Mapped[str] = mapped_column(String(64))  #: the merchant's key: one refund each
    #: The card payment refunded, or (``entry_id``) the transfer credit refunded.
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    account: Mapped[str | None] = mapped_column(String(32))  #: the payer's account credited
    refund_date: Mapped[datetime] = mapped_column(UTCDateTime())

    transaction: Mapped[Transaction | None] = relationship()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        kwargs: dict[str, object] = {"connect_args": {"check_same_thread": False}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        return create_engine(url, **kwargs)
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)
