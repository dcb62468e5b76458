"""Expected failures carry a message safe to show; anything else is logged and
answered with a generic message. The API has one JSON error shape:

    {"error": {"code": "validation_failed", "message": "...", "fields": {"name": "..."}}}
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(AppError):
    status = 422
    code = "validation_failed"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class TooManyRequests(AppError):
    status = 429
    code = "too_many_requests"


class BadGateway(AppError):
    status = 502
    code = "bank_unavailable"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if fields:
            body["error"]["fields"] = fields
        return jsonify(body), status
    return render_template("error.html", status=status, message=message, fields=fields or {}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(err: AppError):
        from app.extensions import db

        db.session.rollback()
        return error_response(err.status, err.code, err.message, err.fields)

    @app.errorhandler(CSRFError)
    def handle_csrf(err: CSRFError):
        return error_response(
            400, "csrf_failed", _("The form has expired or was not sent from this site. Please try again.")
        )

    @app.errorhandler(HTTPException)
    def handle_http(err: HTTPException):
        messages = {
            400: _("The request could not be understood."),
            401: _("Please log in."),
            403: _("You are not allowed to see this page."),
            404: _("This page does not exist, or it is not yours to see."),
            405: _("This action is not allowed here."),
            413: _("The request is too large."),
            429: _("Too many requests; please wait a moment."),
        }
        code = (err.name or "error").lower().replace(" ", "_")
        body, status = error_response(err.code or 500, code, messages.get(err.code or 500, err.description))
        response = make_response(body, status)
        # A 405 says which methods the address allows (RFC 9110): Werkzeug's own headers that
        # carry meaning are kept, its Content-Type is not.
        for name, value in err.get_headers():
            if name in ("Allow", "Retry-After"):
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(err: Exception):
        from app.extensions import db

        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            500, "internal_error", _("Something went wrong on our side. Nothing was changed; please try again.")
        )
