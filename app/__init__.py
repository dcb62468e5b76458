"""LandPay web application: the three portals, the JSON API and the bank's callbacks."""

from __future__ import annotations

import logging
import os

from flask import Flask, abort, has_request_context, request, session
from flask_babel import format_decimal

from config import Config, get_config


def select_locale() -> str:
    from flask import current_app

    # Vietnamese unless the user chose English in the header; the browser's language is not
    # a choice (a public service in Vietnam speaks Vietnamese first).
    chosen = session.get("lang") if has_request_context() else None
    if chosen in current_app.config["LANGUAGES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def create_app(config: type[Config] | str | None = None, overrides: dict | None = None) -> Flask:
    config_class = config if isinstance(config, type) else get_config(config)
    config_class.validate()
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)

    from app.extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        from app.extensions import sqlite_write_lock_at_begin

        for engine in db.engines.values():
            sqlite_write_lock_at_begin(engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    from app import models  # noqa: F401  (registers the tables)
    from app.auth import bp as auth_bp
    from app.errors import register_error_handlers

    login_manager.user_loader(_load_user)
    app.register_blueprint(auth_bp)

    from app.api import bp as api_bp
    from app.bank import bp as bank_bp
    from app.landholder import bp as landholder_bp
    from app.public import bp as public_bp
    from app.registry import bp as registry_bp
    from app.tax import bp as tax_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(registry_bp, url_prefix="/registry")
    app.register_blueprint(tax_bp, url_prefix="/tax")
    app.register_blueprint(landholder_bp, url_prefix="/me")
    app.register_blueprint(bank_bp, url_prefix="/bank")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(bank_bp)
    csrf.exempt(api_bp)
    register_error_handlers(app)

    from app.cli import register_cli

    register_cli(app)

    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale

    @app.template_filter("vnd")
    def vnd(amount: int | None) -> str:
        return "" if amount is None else format_decimal(amount, format="#,##0") + " ₫"

    @app.template_filter("percent")
    def percent(rate) -> str:
        """A rate kept as exact text ("0.005") shown as a percentage ("0.5%"), without floats."""
        from decimal import Decimal, InvalidOperation

        try:
            value = (Decimal(str(rate)) * 100).normalize()
        except InvalidOperation:
            return str(rate)
        return format_decimal(value, format="#,##0.####") + "%"

    @app.before_request
    def refuse_nul_characters():
        """No text of ours ever contains NUL; PostgreSQL refuses it, so refuse it first."""
        if "\x00" in request.path or any(
            "\x00" in key or "\x00" in value
            for source in (request.args, request.form)
            for key, values in source.lists()
            for value in values
        ):
            abort(400)
        if request.is_json:
            raw = request.get_data(cache=True)
            if b"\\u0000" in raw or b"\x00" in raw:
                abort(400)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; form-action 'self' "
            + app.config["BANK_BASE_URL"],
        )
        return response

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


def _load_user(user_id: str):
    from app.extensions import db
    from app.models import User

    try:
        return db.session.get(User, int(user_id))
    except ValueError:
        return None
