"""A test bank that speaks the bank-gateway protocol (docs/protocols/bank-gateway.md).

It is a separate process with its own database and shares no code with LandPay, so that a
misreading of the protocol on either side shows up as a failing test. Never use it with real
money or real secrets.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, render_template, request

from mock_bank import config as bank_config
from mock_bank.models import Base, make_engine, make_sessionmaker


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the test bank. ``config`` overrides the values read from MOCK_BANK_* variables.

    Keys: SECRET_KEY, DATABASE_URL, MERCHANTS (dict of Merchant or the env string), TEST_HOOKS,
    CHECKOUT_TTL, IPN_ATTEMPTS, IPN_BACKOFF, IPN_TIMEOUT, IPN_DELAY, ENV_NAME, CLOCK,
    BANK_BIN, COLLECTING (dict of Collecting or the env string), CREDIT_ATTEMPTS, CREDIT_BACKOFF,
    CREDIT_TIMEOUT.
    """
    app = Flask(__name__, instance_relative_config=True)
    cfg = bank_config.from_env()
    cfg.update(config or {})
    cfg = bank_config.finish(cfg)
    cfg.setdefault("CLOCK", lambda: datetime.now(UTC))
    if not cfg.get("DATABASE_URL"):
        os.makedirs(app.instance_path, exist_ok=True)
        cfg["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "mock_bank.sqlite3")

    app.config["SECRET_KEY"] = cfg["SECRET_KEY"]
    # Its own cookie name: cookies are not kept apart by port on a shared host name.
    app.config["SESSION_COOKIE_NAME"] = "mock_bank_session"
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the checkout window limits the page instead
    app.config["TESTING"] = bool(cfg.get("TESTING", False))

    engine = make_engine(cfg["DATABASE_URL"])
    Base.metadata.create_all(engine)
    app.extensions["mock_bank"] = {
        "config": cfg,
        "engine": engine,
        "sessions": make_sessionmaker(engine),
    }

    from mock_bank.banking import banking, credit_hooks, seed_customers, statements
    from mock_bank.refunds import bp as refunds_bp
    from mock_bank.views import bp, hooks

    seed_customers(app.extensions["mock_bank"]["sessions"])
    app.register_blueprint(bp)
    app.register_blueprint(hooks)
    app.register_blueprint(banking)
    app.register_blueprint(statements)
    app.register_blueprint(credit_hooks, name="credit_hooks")
    app.register_blueprint(refunds_bp)

    from mock_bank.i18n import init_app as init_words

    init_words(app)

    def wants_json() -> bool:
        return request.path.startswith(("/api/", "/test/")) or request.path.endswith(".json")

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _not_found(exc):  # type: ignore[no-untyped-def]
        if wants_json():
            return jsonify({"error": "not_found", "message": "Not found."}), exc.code
        return render_template("error.html", message="Page not found."), exc.code

    @app.errorhandler(500)
    def _server_error(exc):  # type: ignore[no-untyped-def]
        if wants_json():
            return jsonify({"error": "server_error", "message": "Internal error."}), 500
        return render_template("error.html", message="Something went wrong."), 500

    return app


__all__ = ["create_app"]
