"""The Ed25519 key that signs e-receipts, loaded from configuration."""

from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

from payments.receipts import ReceiptSigner, generate_signing_key


def receipt_signer() -> ReceiptSigner:
    signer = current_app.extensions.get("landpay_receipt_signer")
    if signer is None:
        signer = ReceiptSigner(_load_pem(), current_app.config["RECEIPT_KEY_ID"])
        current_app.extensions["landpay_receipt_signer"] = signer
    return signer


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
