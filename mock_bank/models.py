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


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        kwargs: dict[str, object] = {"connect_args": {"check_same_thread": False}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        return create_engine(url, **kwargs)
    return create_engine(url, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)
