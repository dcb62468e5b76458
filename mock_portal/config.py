"""Configuration of the test portal, read from MOCK_PORTAL_* environment variables."""

from __future__ import annotations

import os
from typing import Any

#: Fault switches and their defaults (docs/protocols/national-portal.md, "The test portal").
FAULT_DEFAULTS: dict[str, Any] = {
    "down": False,  # every /api/ request answers 503
    "slow": 0.0,  # seconds to wait before answering
    "fail_every": 0,  # every Nth event delivery answers 500 (0: never)
    "fail_probability": 0.0,  # or a 500 with this probability...
    "seed": 0,  # ...drawn from a generator seeded with this
    "duplicate_acks": False,  # store a new event, lose its first acknowledgement (502)
}


def _bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("1", "true", "yes", "on")


def faults_from_env(env: dict[str, str]) -> dict[str, Any]:
    return {
        "down": _bool(env.get("MOCK_PORTAL_DOWN")),
        "slow": float(env.get("MOCK_PORTAL_SLOW", "0") or 0),
        "fail_every": int(env.get("MOCK_PORTAL_FAIL_EVERY", "0") or 0),
        "fail_probability": float(env.get("MOCK_PORTAL_FAIL_PROBABILITY", "0") or 0),
        "seed": int(env.get("MOCK_PORTAL_SEED", "0") or 0),
        "duplicate_acks": _bool(env.get("MOCK_PORTAL_DUPLICATE_ACKS")),
    }


def from_env(environ: dict[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    return {
        "ENV_NAME": env.get("MOCK_PORTAL_ENV", "development"),
        "SECRET": env.get("MOCK_PORTAL_SECRET"),
        "DATABASE_URL": env.get("MOCK_PORTAL_DATABASE_URL"),
        "TEST_HOOKS": _bool(env.get("MOCK_PORTAL_TEST_HOOKS")),
        "REPLAY_WINDOW": int(env.get("MOCK_PORTAL_REPLAY_WINDOW", "300")),
        "FAULTS": faults_from_env(env),
    }


def finish(config: dict[str, Any]) -> dict[str, Any]:
    """Check the configuration: without the shared secret no message could be verified."""
    if not config.get("SECRET"):
        raise RuntimeError("MOCK_PORTAL_SECRET (the secret shared with the sender) must be set")
    if config.get("TEST_HOOKS") and config.get("ENV_NAME") == "production":
        raise RuntimeError("MOCK_PORTAL_TEST_HOOKS must not be on when MOCK_PORTAL_ENV=production")
    faults = dict(FAULT_DEFAULTS)
    faults.update(config.get("FAULTS") or {})
    config["FAULTS"] = faults
    return config
