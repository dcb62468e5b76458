"""Supervisors' figures: on-time rates per agency, procedure, office and period."""

from __future__ import annotations

from flask import jsonify, request

from app.api import api_auth, bp
from app.models import Role


@bp.get("/supervision/figures")
@api_auth(Role.SUPERVISOR, Role.ADMIN)
def supervision_figures():
    """The dashboard's figures, computed now from the recorded events, with the national
    portal's own figures beside ours and the sync completeness. Filters as on the page:
    ``agency``, ``procedure``, ``office``, ``period`` (YYYY-MM); ``steps=1`` adds the step
    rows behind the figures."""
    from app.supervision import figures as fig

    filters = fig.Filters.from_args(request.args)
    data = fig.dashboard(filters)
    rows = data.pop("rows")
    if request.args.get("steps") == "1":
        data["steps"] = [r.to_json() for r in rows]
    return jsonify(data)
