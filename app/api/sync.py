"""Synchronisation with the national portal: completeness, the dead letter and its replay."""

from __future__ import annotations

from flask import jsonify

from app.api import api_auth, bp
from app.models import Role


@bp.get("/sync/status")
@api_auth(Role.ADMIN, Role.SUPERVISOR)
def sync_status():
    """How much of the dossiers and events we hold the national portal has acknowledged.
    Supervisors see it too (read-only across offices): the completeness figure stands
    beside their on-time figures."""
    from app.services.delivery import sync_status as status

    return jsonify(status())


@bp.get("/sync/dead-letter")
@api_auth(Role.ADMIN)
def sync_dead_letter():
    """Events the worker gave up sending, oldest first, a page at a time (``limit``,
    ``cursor``)."""
    from flask import request

    from app.services import lists, pages
    from app.services.delivery import dead_letter_json

    page = pages.fetch(lists.dead_letter(), request.args)
    return pages.api_page(page, [dead_letter_json(m) for m in page.items], "api.sync_dead_letter")


@bp.post("/sync/dead-letter/<event_id>/replay")
@api_auth(Role.ADMIN)
def sync_replay(event_id: str):
    """Put one event of the dead letter back in the delivery queue."""
    from app.services.delivery import replay

    replay(event_id[:64])
    return jsonify({"event_id": event_id, "state": "pending"})
