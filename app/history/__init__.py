"""The published heads of the tamper-evident history (app/services/history.py)."""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("history", __name__)


@bp.get("/.well-known/landpay-history.json")
def checkpoints():
    """The latest signed heads of the event chain; verify them with /.well-known/jwks.json."""
    from app.services.history import published

    return jsonify({"checkpoints": published()})
