"""The Ed25519 keys that sign e-receipts: which one signs, which ones verify, and rotation.

The keys are rows of ``receipt_keys`` (public part and status only). The first row is the
configured key (``RECEIPT_SIGNING_KEY`` or ``RECEIPT_SIGNING_KEY_FILE`` under
``RECEIPT_KEY_ID``), imported on first use so that receipts signed before rotation existed
keep verifying. ``flask rotate-receipt-key`` writes a new private key file into the key
directory, makes it the active key and retires the old one, in one transaction; retired keys
stay published so the receipts they signed still verify, revoked ones are withdrawn.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models.keys import KeySource, KeyStatus, ReceiptKey
from payments.receipts import ReceiptSigner, generate_signing_key

_CACHE = "landpay_receipt_signers"


def _signers() -> dict[str, ReceiptSigner]:
    """Loaded private keys by kid, per app: reading a PEM file on every receipt is waste,
    and which key is active is still asked of the database each time."""
    return current_app.extensions.setdefault(_CACHE, {})


def _public_x(signer: ReceiptSigner) -> str:
    return signer.public_jwk()["x"]


def _configured_signer() -> ReceiptSigner:
    kid = current_app.config["RECEIPT_KEY_ID"]
    cache = _signers()
    if kid not in cache:
        cache[kid] = ReceiptSigner(_load_pem(), kid)
    return cache[kid]


def ensure_keys() -> None:
    """Import the configured key as the first, active key when there is none yet. A
    concurrent import by another process is harmless: the unique kid makes one of them win."""
    if db.session.scalar(select(ReceiptKey.id).limit(1)) is not None:
        return
    signer = _configured_signer()
    try:
        with db.session.begin_nested():
            db.session.add(ReceiptKey(kid=signer.kid, public_key=_public_x(signer),
                                      status=KeyStatus.ACTIVE, source=KeySource.CONFIG))
    except IntegrityError:
        pass  # imported meanwhile by another process


def _signer_for(key: ReceiptKey) -> ReceiptSigner:
    cache = _signers()
    signer = cache.get(key.kid)
    if signer is None:
        if key.source is KeySource.CONFIG:
            signer = _configured_signer()
            if signer.kid != key.kid:
                raise RuntimeError(f"the configured key id is {signer.kid!r}, the imported "
                                   f"key is {key.kid!r}: RECEIPT_KEY_ID changed")
        else:
            signer = ReceiptSigner(_key_file(key.kid).read_text(), key.kid)
        cache[key.kid] = signer
    if _public_x(signer) != key.public_key:
        # The private key on disk or in configuration is not the one published under this
        # kid: signing with it would issue receipts nobody can verify.
        raise RuntimeError(f"the private key of {key.kid!r} does not match its public key")
    return signer


def receipt_signer(active: ReceiptKey | None = None) -> ReceiptSigner:
    """The signer of new receipts: the one active key (the configured key imported first when
    there is no key yet). ``active``: that key, when the caller read it already in this
    transaction (paying reads it with its locks, app/services/paying.py)."""
    key = active if active is not None and active.status is KeyStatus.ACTIVE else \
        db.session.scalar(select(ReceiptKey).where(ReceiptKey.status == KeyStatus.ACTIVE))
    if key is None:
        ensure_keys()
        key = db.session.scalar(select(ReceiptKey).where(ReceiptKey.status == KeyStatus.ACTIVE))
    if key is None:
        raise RuntimeError("no active receipt signing key: run flask rotate-receipt-key")
    return _signer_for(key)


def published_keys() -> list[ReceiptKey]:
    """Every key a receipt may have been signed with and that still counts: not revoked."""
    ensure_keys()
    return list(db.session.scalars(
        select(ReceiptKey).where(ReceiptKey.status != KeyStatus.REVOKED).order_by(ReceiptKey.id)))


def verification_jwks() -> dict[str, Any]:
    """The JWK set of :func:`published_keys`, as served at /.well-known/jwks.json."""
    return {"keys": [
        {"kty": "OKP", "crv": "Ed25519", "x": key.public_key, "kid": key.kid,
         "alg": "EdDSA", "use": "sig"}
        for key in published_keys()
    ]}


def key_dir() -> Path:
    """Where rotated private keys are kept: ``RECEIPT_KEY_DIR``, else a ``receipt-keys``
    folder beside the configured key file, else in the instance folder."""
    cfg = current_app.config
    if cfg.get("RECEIPT_KEY_DIR"):
        return Path(cfg["RECEIPT_KEY_DIR"])
    if cfg.get("RECEIPT_SIGNING_KEY_FILE"):
        return Path(cfg["RECEIPT_SIGNING_KEY_FILE"]).parent / "receipt-keys"
    return Path(current_app.instance_path) / "receipt-keys"


def _key_file(kid: str) -> Path:
    return key_dir() / f"{kid}.pem"


def _new_kid(now: datetime) -> str:
    """Short (the kid is printed in every QR code), dated, and never reused."""
    return f"lp{now:%y%m%d}{secrets.token_hex(2)}"


def rotate(now: datetime | None = None) -> ReceiptKey:
    """Add a new active key and retire the current one, in one transaction. The private
    key file is written first (mode 0600, never overwritten): if the commit then fails, an
    unused file is left, never a published key without its private half."""
    now = now or datetime.now(UTC)
    ensure_keys()
    current = db.session.scalar(
        select(ReceiptKey).where(ReceiptKey.status == KeyStatus.ACTIVE).with_for_update())
    pem = generate_signing_key()
    kid = _new_kid(now)
    path = _key_file(kid)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    signer = ReceiptSigner(pem, kid)
    if current is not None:
        current.status = KeyStatus.RETIRED
        current.retired_at = now
        db.session.flush()  # the old key stops being active before the new one starts
    key = ReceiptKey(kid=kid, public_key=_public_x(signer), status=KeyStatus.ACTIVE,
                     source=KeySource.FILE, created_at=now)
    db.session.add(key)
    db.session.commit()
    _signers()[kid] = signer
    return key


def revoke(kid: str, now: datetime | None = None) -> ReceiptKey:
    """Withdraw a compromised retired key: it is no longer published, and receipts it
    signed no longer verify. The active key cannot be revoked; rotate first."""
    key = db.session.scalar(select(ReceiptKey).where(ReceiptKey.kid == kid).with_for_update())
    if key is None:
        raise LookupError(f"no receipt key {kid!r}")
    if key.status is KeyStatus.ACTIVE:
        raise ValueError("the active key cannot be revoked: rotate first")
    if key.status is not KeyStatus.REVOKED:
        key.status = KeyStatus.REVOKED
        key.revoked_at = now or datetime.now(UTC)
        db.session.commit()
    return key


def _load_pem() -> str:
    cfg = current_app.config
    if cfg.get("RECEIPT_SIGNING_KEY"):
        return cfg["RECEIPT_SIGNING_KEY"]
    path = cfg.get("RECEIPT_SIGNING_KEY_FILE")
    if path:
        file = Path(path)
        if not file.exists():
            if cfg.get("ENV_NAME") == "production":
                raise RuntimeError(f"receipt signing key file {path} is missing")
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(generate_signing_key())
            os.chmod(file, 0o600)
        return file.read_text()
    if cfg.get("TESTING"):
        # Tests get a fresh key per app.
        return generate_signing_key()
    raise RuntimeError("no receipt signing key configured")
