"""Officers' decisions on a dossier and the landholder's withdrawal.

Each route is one use case of ``app.services.decisions``: the table of
``app.services.workflow.DECISIONS`` says who may take it in which state (403 for a role that
never takes it, 409 for a state that does not allow it now; nothing changes either way)."""

from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from app.api import api_auth, bp, json_body
from app.extensions import db
from app.models import AssessmentAdjustment, Dossier, Event, Role
from app.services import decisions as svc
from app.services import workflow
from app.services.scoping import get_assessment, get_dossier
from app.uploads import allow_large_body


def decision_json(dossier: Dossier) -> dict:
    """The dossier after a decision: its state, the decision's event, and what the user may
    decide now."""
    event = db.session.scalar(select(Event).where(Event.dossier_id == dossier.id)
                              .where(Event.kind.in_(DECISION_KINDS))
                              .order_by(Event.id.desc()).limit(1))
    return {
        "dossier_code": dossier.code,
        "status": dossier.status.value,
        "event": {"id": event.uid, "kind": event.kind, "at": event.at.isoformat(),
                  "actor": event.actor_label, "from": event.from_status, "to": event.to_status,
                  "data": event.data} if event else None,
        "decisions_now": [d.value for d in workflow.Decision
                          if svc.can(d, g.api_user, dossier)],
    }


#: The events a decision records (what ``decision_json`` shows).
DECISION_KINDS = ("dossier_rejected", "dossier_withdrawn", "dossier_returned", "papers_supplied",
                  "assessment_adjusted", "adjustment_approved")


def adjustment_json(a: AssessmentAdjustment) -> dict:
    return {
        "id": a.id,
        "dossier_code": a.dossier.code,
        "status": a.status.value,
        "reason": a.reason,
        "changes": a.changes,
        "total_before": a.total_before,
        "total_after": a.total_after,
        "difference": a.difference,
        "assessment_id": a.assessment_id,
        "new_assessment_id": a.new_assessment_id,
        "new_version": a.new_assessment.version if a.new_assessment else None,
        "requested_by": a.requested_by.username,
        "approved_by": a.approved_by.username if a.approved_by else None,
        "dossier_status": a.dossier.status.value,
    }


@bp.post("/dossiers/<code>/reject")
@api_auth(Role.REGISTRY_OFFICER)
def reject_dossier(code: str):
    data = json_body()
    dossier = svc.reject(g.api_user, get_dossier(g.api_user, code),
                         legal_ground=data.get("legal_ground"), reason=data.get("reason"))
    return jsonify(decision_json(dossier))


@bp.post("/dossiers/<code>/withdraw")
@api_auth(Role.LANDHOLDER)
def withdraw_dossier(code: str):
    data = json_body()
    dossier = svc.withdraw(g.api_user, get_dossier(g.api_user, code), reason=data.get("reason"))
    return jsonify(decision_json(dossier))


@bp.post("/dossiers/<code>/return")
@api_auth(Role.REGISTRY_OFFICER)
def return_dossier(code: str):
    data = json_body()
    record = svc.return_dossier(g.api_user, get_dossier(g.api_user, code),
                                missing=data.get("missing"), reason=data.get("reason"))
    return jsonify(decision_json(record.dossier))


# A paper may be larger than the body limit of every other request.
allow_large_body("api.supply_papers", svc.paper_max_bytes)


@bp.post("/dossiers/<code>/papers")
@api_auth(Role.LANDHOLDER, Role.REGISTRY_OFFICER)
def supply_papers(code: str):
    """A landholder sends the paper as ``multipart/form-data`` (``file``, optional ``note``);
    a registry officer records it with JSON ``{"note": ...}``."""
    dossier = get_dossier(g.api_user, code)
    paper = None
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        note = request.form.get("note")
        if upload is not None:
            paper = svc.Paper(upload.filename or "", upload.read(svc.paper_max_bytes() + 1))
    else:
        note = json_body().get("note")
    record = svc.supply_papers(g.api_user, dossier, paper=paper, note=note)
    return jsonify(decision_json(record.dossier))


@bp.post("/assessments/<int(max=2147483647):assessment_id>/adjust")
@api_auth(Role.TAX_OFFICER)
def adjust_assessment(assessment_id: int):
    data = json_body()
    adjustment = svc.adjust(g.api_user, get_assessment(g.api_user, assessment_id),
                            changes=data.get("changes"), reason=data.get("reason"))
    return jsonify(adjustment_json(adjustment)), 201


@bp.post("/adjustments/<int(max=2147483647):adjustment_id>/approve")
@api_auth(Role.TAX_OFFICER)
def approve_adjustment(adjustment_id: int):
    data = json_body()
    adjustment = svc.adjustment_for(g.api_user, adjustment_id)
    adjustment = svc.approve(g.api_user, adjustment, reason=data.get("reason"))
    return jsonify(adjustment_json(adjustment))
