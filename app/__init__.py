"""LandPay web application: the three portals, the JSON API and the bank's callbacks."""

from __future__ import annotations

import logging
import os

from flask import Flask, abort, has_request_context, request, session
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from app.config import Config, get_config


def select_locale() -> str:
    from flask import current_app

    # Pages: Vietnamese unless the user chose English in the header; the browser's language
    # is not a choice (a public service in Vietnam speaks Vietnamese first). The API has no
    # header to click: its messages follow the client's Accept-Language, Vietnamese by default.
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):
        asked = request.accept_languages.best_match(current_app.config["LANGUAGES"])
        return asked or current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
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
    # Shown in the user's language, as information rather than an error.
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from app import models  # noqa: F401  (registers the tables)
    from app.auth import bp as auth_bp
    from app.errors import register_error_handlers

    login_manager.user_loader(_load_user)
    app.register_blueprint(auth_bp)

    from app.accounting import bp as accounting_bp
    from app.admin import bp as admin_bp
    from app.api import bp as api_bp
    from app.bank import bp as bank_bp
    from app.contact import bp as contact_bp
    from app.decisions import bp as decisions_bp
    from app.help import bp as help_bp
    from app.history import bp as history_bp
    from app.landholder import bp as landholder_bp
    from app.pay import bp as pay_bp
    from app.public import bp as public_bp
    from app.registry import bp as registry_bp
    from app.supervision import bp as supervision_bp
    from app.tax import bp as tax_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(registry_bp, url_prefix="/registry")
    app.register_blueprint(tax_bp, url_prefix="/tax")
    app.register_blueprint(landholder_bp, url_prefix="/me")
    app.register_blueprint(bank_bp, url_prefix="/bank")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(pay_bp, url_prefix="/pay")
    app.register_blueprint(accounting_bp, url_prefix="/accounting")
    app.register_blueprint(supervision_bp, url_prefix="/supervision")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(decisions_bp, url_prefix="/decisions")
    app.register_blueprint(help_bp, url_prefix="/help")
    app.register_blueprint(contact_bp, url_prefix="/me")
    app.register_blueprint(history_bp)
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

    from app.legal_words import legal_basis

    app.jinja_env.filters["legal_basis"] = legal_basis
    from app.amount_words import explained

    app.jinja_env.filters["explained"] = explained

    @app.before_request
    def wtforms_speaks_our_language():
        """WTForms looks for its messages in its own catalogues, which have no Vietnamese: give
        it ours (app/library_messages.py lists the messages it may raise)."""
        from flask_babel import get_translations

        request.wtforms_translations = get_translations()

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
            if b"\\u0000" in raw or b"\x00" in raw or _lone_surrogate(raw):
                abort(400)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; "
            "form-action 'self' " + app.config["BANK_BASE_URL"],
        )
        # Pages and answers carry personal data (or a token): no cache, shared or private,
        # may keep them; only the static files may be cached.
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    # First of all request hooks, whatever registered its own before: the pages that take a
    # large file (app/uploads.py) raise the body limit before anything reads the body.
    from app.uploads import apply_upload_limit

    app.before_request_funcs.setdefault(None, []).insert(0, apply_upload_limit)

    # Behind proxies (docs/operations.md, "Production"): the client's address and scheme as
    # the trusted proxies forwarded them, never as a client claims them.
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


def _lone_surrogate(raw: bytes) -> bool:
    """Whether a JSON body spells a UTF-16 surrogate that is not half of a pair (``"\\ud800"``):
    such a string cannot be stored or even encoded as UTF-8, so it is refused up front. Only
    bodies with a ``\\u`` escape of a surrogate are parsed here."""
    import json
    import re

    if not re.search(rb"\\u[dD][89abcdefABCDEF]", raw):
        return False
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return False  # not JSON, or too deep: the view's own parsing answers

    # Walk the structure with a stack of our own: a deeply nested body must not exhaust
    # Python's recursion (json.loads accepts more depth than a recursive walk would).
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _load_user(user_id: str):
    from app.auth import session_user

    return session_user(user_id)
