"""The bank's server-to-server notification endpoint (no session, no CSRF: signed)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from app.services import paying

bp = Blueprint("bank", __name__)


@bp.post("/notify")
def notify():
    params = request.form.to_dict() or request.args.to_dict()
    return jsonify(paying.handle_notification(params))
