"""A test national public service portal that speaks docs/protocols/national-portal.md.

A separate process with its own database; it shares no code with LandPay, so a misreading
of the protocol on either side shows up as a failing test. It receives signed dossier
events, stores each once by event id, acknowledges them, and shows figures computed only
from what it received. Never use it with real data or real secrets.
"""

from __future__ import annotations

import os
import random
import threading
from typing import Any

from flask import Flask, jsonify

from mock_portal import config as portal_config
from mock_portal.models import Base, make_engine, make_sessionmaker


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the test portal. ``config`` overrides the values read from MOCK_PORTAL_*
    variables. Keys: SECRET, DATABASE_URL, TEST_HOOKS, REPLAY_WINDOW, ENV_NAME, FAULTS."""
    app = Flask(__name__, instance_relative_config=True)
    cfg = portal_config.from_env()
    cfg.update(config or {})
    cfg = portal_config.finish(cfg)
    if not cfg.get("DATABASE_URL"):
        os.makedirs(app.instance_path, exist_ok=True)
        cfg["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "mock_portal.sqlite3")
    engine = make_engine(cfg["DATABASE_URL"])
    Base.metadata.create_all(engine)
    app.extensions["mock_portal"] = {
        "config": cfg,
        "engine": engine,
        "sessions": make_sessionmaker(engine),
        "faults": dict(cfg["FAULTS"]),
        "lock": threading.RLock(),
        "counter": 0,
        "random": random.Random(int(cfg["FAULTS"]["seed"])),  # noqa: S311 - test faults, not security
    }

    from mock_portal.views import bp, hooks

    app.register_blueprint(bp)
    app.register_blueprint(hooks)

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _not_found(exc):  # type: ignore[no-untyped-def]
        return jsonify({"error": "not_found", "message": "Not found."}), exc.code

    @app.errorhandler(500)
    def _server_error(exc):  # type: ignore[no-untyped-def]
        return jsonify({"error": "server_error", "message": "Internal error."}), 500

    return app


__all__ = ["create_app"]
