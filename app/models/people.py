"""Offices, users and the parties who hold land."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Enum, ForeignKey, String
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import Money, UTCDateTime, utcnow


class Role(enum.StrEnum):
    LANDHOLDER = "landholder"
    TAX_OFFICER = "tax_officer"
    REGISTRY_OFFICER = "registry_officer"
    ADMIN = "admin"
    #: Treasury-side staff who work the reconciliation queue (all offices, money only).
    ACCOUNTANT = "accountant"
    #: The city's leaders: read-only across offices, on-time figures and sync completeness.
    SUPERVISOR = "supervisor"


class OfficeKind(enum.StrEnum):
    TAX = "tax"
    REGISTRY = "registry"


class Office(db.Model):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OfficeKind] = mapped_column(Enum(OfficeKind, native_enum=False, length=20))
    province: Mapped[str] = mapped_column(String(10))
    #: For a registry office: the tax office its dossiers go to.
    tax_office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    #: Auto-confirmation rule of a tax office: off, or on for totals up to a ceiling.
    auto_confirm: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_confirm_max_total: Mapped[int | None] = mapped_column(Money)

    tax_office: Mapped[Office | None] = relationship(remote_side=[id])


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    #: A landholder's party record (their citizen id links them to their dossiers).
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: How to reach the user (their contact page): where notifications go, and in which language.
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="vi", server_default="vi")
    notify_by_email: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())
    notify_by_sms: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())

    office: Mapped[Office | None] = relationship()
    party: Mapped[Party | None] = relationship()

    def set_password(self, password: str) -> None:
        from flask import current_app

        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active


class Party(db.Model):
    """A person or organisation holding or acquiring land."""

    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    #: Citizen identity number (12 digits) or an organisation's tax code.
    citizen_id: Mapped[str] = mapped_column(String(20), unique=True)
    address: Mapped[str | None] = mapped_column(String(300))


class LoginThrottle(db.Model):
    """Failed attempts counted per key: logins (a hash of the username, alone or with the
    client's address) and public notice look-ups (a hash of the notice code, or of the client's
    address), so guessing is slowed for every web process alike and unknown usernames or codes
    are treated exactly like real ones."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """A logged-in browser session, known on the server: the cookie carries only a random id
    whose hash is kept here, so logging out (or ending all of a user's sessions) makes a copied
    cookie worthless at once instead of when it expires."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

