"""Receipt signing keys: the active one and the retired ones that still verify.

Only public keys live here. A private key stays where configuration says: the first key is
the configured one (``RECEIPT_SIGNING_KEY`` or its file); keys added by rotation are files
in the key directory (``RECEIPT_KEY_DIR``), readable by the service alone.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

__all__ = ["KeySource", "KeyStatus", "ReceiptKey"]


class KeyStatus(enum.StrEnum):
    #: Signs new receipts; exactly one key is active.
    ACTIVE = "active"
    #: Signs nothing any more; receipts it signed still verify, so it stays published.
    RETIRED = "retired"
    #: Compromised: no longer published, receipts it signed no longer verify.
    REVOKED = "revoked"


class KeySource(enum.StrEnum):
    #: The private key is the configured one (the key the service started with).
    CONFIG = "config"
    #: The private key is a file named after the kid in the key directory.
    FILE = "file"


class ReceiptKey(db.Model):
    __tablename__ = "receipt_keys"
    __table_args__ = (
        # One active key at a time, enforced by the database: two rotations at once cannot
        # leave two keys signing.
        Index("uq_receipt_keys_one_active", "status", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(40), unique=True)
    #: The raw Ed25519 public key, base64url without padding (the JWK's ``x``).
    public_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[KeyStatus] = mapped_column(
        Enum(KeyStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    source: Mapped[KeySource] = mapped_column(
        Enum(KeySource, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
