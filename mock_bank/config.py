"""Configuration of the test bank, read from MOCK_BANK_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

#: Used only when MOCK_BANK_ENV is not production (config.finish refuses it there).
DEV_SECRET_KEY = "mock-bank-development-key-not-secret"  # noqa: S105


@dataclass(frozen=True)
class Merchant:
    merchant_id: str
    secret: str
    notify_url: str

    def __repr__(self) -> str:  # keep the secret out of logs
        return f"Merchant({self.merchant_id!r}, notify_url={self.notify_url!r})"


def parse_merchants(text: str) -> dict[str, Merchant]:
    """``MERCHANTID:SECRET:NOTIFY_URL[,...]``; the URL may itself contain colons."""
    merchants: dict[str, Merchant] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        pieces = entry.split(":", 2)
        if len(pieces) != 3 or not all(pieces):
            raise ValueError("MOCK_BANK_MERCHANTS entries are MERCHANTID:SECRET:NOTIFY_URL")
        merchants[pieces[0]] = Merchant(*pieces)
    return merchants


@dataclass(frozen=True)
class Collecting:
    """A merchant's collecting account: transfers to it are notified to ``credit_url``, signed
    with the merchant's secret, and its daily statement is signed the same way."""

    account: str
    merchant_id: str
    credit_url: str


def parse_collecting(text: str) -> dict[str, Collecting]:
    """``ACCOUNT:MERCHANTID:CREDIT_URL[,...]``; the URL may itself contain colons."""
    found: dict[str, Collecting] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        pieces = entry.split(":", 2)
        if len(pieces) != 3 or not all(pieces):
            raise ValueError("MOCK_BANK_COLLECTING entries are ACCOUNT:MERCHANTID:CREDIT_URL")
        found[pieces[0]] = Collecting(*pieces)
    return found


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    mode = env.get("MOCK_BANK_ENV", "development")
    secret_key = env.get("MOCK_BANK_SECRET_KEY")
    return {
        "ENV_NAME": mode,
        "SECRET_KEY": secret_key,
        "DATABASE_URL": env.get("MOCK_BANK_DATABASE_URL"),
        "MERCHANTS": parse_merchants(env.get("MOCK_BANK_MERCHANTS", "")),
        "TEST_HOOKS": env.get("MOCK_BANK_TEST_HOOKS", "0") == "1",
        "CHECKOUT_TTL": int(env.get("MOCK_BANK_CHECKOUT_TTL", "900")),
        "IPN_ATTEMPTS": int(env.get("MOCK_BANK_IPN_ATTEMPTS", "3")),
        "IPN_BACKOFF": _floats(env.get("MOCK_BANK_IPN_BACKOFF", "1,2")),
        "IPN_TIMEOUT": float(env.get("MOCK_BANK_IPN_TIMEOUT", "5")),
        "IPN_DELAY": float(env.get("MOCK_BANK_IPN_DELAY", "3")),
        "BANK_BIN": env.get("MOCK_BANK_BIN", "970436"),
        "COLLECTING": parse_collecting(env.get("MOCK_BANK_COLLECTING", "")),
        "CREDIT_ATTEMPTS": int(env.get("MOCK_BANK_CREDIT_ATTEMPTS", "6")),
        "CREDIT_BACKOFF": _floats(env.get("MOCK_BANK_CREDIT_BACKOFF", "1,2,4,8,16")),
        "CREDIT_TIMEOUT": float(env.get("MOCK_BANK_CREDIT_TIMEOUT", "5")),
    }


def finish(config: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults and refuse an unsafe production configuration."""
    if not config.get("SECRET_KEY"):
        if config.get("ENV_NAME") == "production":
            raise RuntimeError("MOCK_BANK_SECRET_KEY must be set when MOCK_BANK_ENV=production")
        config["SECRET_KEY"] = DEV_SECRET_KEY
    merchants = config.get("MERCHANTS")
    if isinstance(merchants, str):
        config["MERCHANTS"] = parse_merchants(merchants)
    collecting = config.get("COLLECTING")
    if isinstance(collecting, str):
        config["COLLECTING"] = parse_collecting(collecting)
    for account in (config.get("COLLECTING") or {}).values():
        if account.merchant_id not in config["MERCHANTS"]:
            raise RuntimeError(f"collecting account {account.account}: no merchant {account.merchant_id}")
    return config
