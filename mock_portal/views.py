"""The test portal's endpoints (docs/protocols/national-portal.md)."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mock_portal.models import Base, PortalDossier, PortalEvent
from mock_portal.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, check

bp = Blueprint("portal", __name__)

#: Vietnam's civil time (no daylight saving): a due date is a day in this zone.
VIETNAM = timezone(timedelta(hours=7))
REQUIRED = ("event_id", "dossier_code", "procedure", "kind", "at", "due_on")


def state() -> dict[str, Any]:
    return current_app.extensions["mock_portal"]


def now() -> datetime:
    return datetime.now(UTC)


def refused(code: str, message: str, status: int):  # type: ignore[no-untyped-def]
    return jsonify({"error": code, "message": message}), status


@bp.before_request
def _faults_and_signature():  # type: ignore[no-untyped-def]
    if not request.path.startswith("/api/") or request.path == "/api/figures":
        return None
    faults = state()["faults"]
    if faults["down"]:
        return refused("unavailable", "The portal is down for maintenance.", 503)
    if faults["slow"]:
        time.sleep(float(faults["slow"]))
    cfg = state()["config"]
    reason = check(cfg["SECRET"], request.headers.get(TIMESTAMP_HEADER),
                   request.headers.get(SIGNATURE_HEADER), request.get_data(cache=True),
                   time.time(), cfg["REPLAY_WINDOW"])
    if reason:
        return refused(reason, "The message is not signed as agreed.", 401)
    return None


def _failure_now() -> bool:
    """The "500 now and then" switch: every Nth delivery, or at random with a seed."""
    faults = state()["faults"]
    with state()["lock"]:
        state()["counter"] += 1
        count = state()["counter"]
        every = int(faults["fail_every"] or 0)
        if every and count % every == 0:
            return True
        probability = float(faults["fail_probability"] or 0)
        return bool(probability) and state()["random"].random() < probability


def _parse(body: Any) -> tuple[dict[str, Any] | None, dict[str, str]]:
    if not isinstance(body, dict):
        return None, {"body": "must be a JSON object"}
    errors = {}
    for name in REQUIRED:
        if not isinstance(body.get(name), str) or not body[name] or len(body[name]) > 64:
            errors[name] = "required text of at most 64 characters"
    if body.get("status") is not None and not isinstance(body.get("status"), str):
        errors["status"] = "text or null"
    if errors:
        return None, errors
    try:
        at = datetime.fromisoformat(body["at"])
        if at.tzinfo is None:
            raise ValueError
    except ValueError:
        errors["at"] = "an ISO 8601 time with its offset"
    try:
        due_on = date.fromisoformat(body["due_on"])
    except ValueError:
        errors["due_on"] = "an ISO 8601 date"
    if errors:
        return None, errors
    return {**body, "at": at, "due_on": due_on}, {}


def _ack(event: PortalEvent):  # type: ignore[no-untyped-def]
    return jsonify({"event_id": event.event_id, "received_at": event.received_at.isoformat()}), 200


@bp.post("/api/events")
def receive_event():  # type: ignore[no-untyped-def]
    if _failure_now():
        return refused("server_error", "Internal error (test fault).", 500)
    raw = request.get_json(silent=True)
    parsed, errors = _parse(raw)
    if parsed is None:
        return jsonify({"error": "invalid_event", "message": "The event is not valid.",
                        "fields": errors}), 422
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    with state()["lock"], state()["sessions"]() as db:
        known = db.scalar(select(PortalEvent).where(PortalEvent.event_id == parsed["event_id"]))
        if known is not None:
            if known.body != canonical:
                return refused("conflict", "This event id was used with another body.", 409)
            known.deliveries += 1
            db.commit()
            return _ack(known)
        dossier = db.scalar(select(PortalDossier).where(PortalDossier.code == parsed["dossier_code"]))
        if dossier is None:
            dossier = PortalDossier(code=parsed["dossier_code"], procedure=parsed["procedure"],
                                    due_on=parsed["due_on"])
            db.add(dossier)
            db.flush()
        dossier.due_on = parsed["due_on"]
        if parsed.get("status") == "completed":
            dossier.completed_at = parsed["at"]
        event = PortalEvent(event_id=parsed["event_id"], dossier_id=dossier.id, kind=parsed["kind"],
                            status=parsed.get("status"), at=parsed["at"], due_on=parsed["due_on"],
                            body=canonical, received_at=now(), deliveries=1)
        db.add(event)
        try:
            db.commit()
        except IntegrityError:  # the same id stored by another process sharing the database
            db.rollback()
            return refused("server_error", "Try again.", 500)
        if state()["faults"]["duplicate_acks"]:
            return refused("ack_lost", "Stored, but this acknowledgement is lost (test fault).", 502)
        return _ack(event)


@bp.post("/api/events/lookup")
def lookup_events():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True)
    ids = body.get("event_ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or len(ids) > 1000 or not all(isinstance(i, str) for i in ids):
        return jsonify({"error": "invalid_request", "message": "Send {\"event_ids\": [...]} (at most 1000).",
                        "fields": {"event_ids": "a list of at most 1000 ids"}}), 422
    with state()["sessions"]() as db:
        held = db.scalars(select(PortalEvent.event_id).where(PortalEvent.event_id.in_(ids))).all()
    return jsonify({"held": sorted(held)})


def figures() -> dict[str, Any]:
    """Computed only from what the portal received."""
    with state()["sessions"]() as db:
        dossiers = db.scalars(select(PortalDossier)).all()
        events = db.scalar(select(func.count()).select_from(PortalEvent)) or 0
        deliveries = db.scalar(select(func.coalesce(func.sum(PortalEvent.deliveries), 0))) or 0
        completions = db.execute(
            select(PortalEvent.dossier_id, PortalEvent.at, PortalEvent.due_on)
            .where(PortalEvent.status == "completed")
        ).all()
    completed = {dossier_id: at.astimezone(VIETNAM).date() <= due_on
                 for dossier_id, at, due_on in completions}
    per: dict[str, dict[str, Any]] = {}
    for d in dossiers:
        row = per.setdefault(d.procedure, {"procedure": d.procedure, "dossiers": 0, "completed": 0,
                                           "on_time": 0, "on_time_rate": None})
        row["dossiers"] += 1
        if d.id in completed:
            row["completed"] += 1
            row["on_time"] += int(completed[d.id])
    for row in per.values():
        if row["completed"]:
            row["on_time_rate"] = round(row["on_time"] / row["completed"], 4)
    return {"dossiers": len(dossiers), "events": events, "deliveries": deliveries,
            "procedures": sorted(per.values(), key=lambda r: r["procedure"])}


@bp.get("/api/figures")
def figures_json():  # type: ignore[no-untyped-def]
    return jsonify(figures())


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("index.html", figures=figures(), faults=state()["faults"])


# -- test hooks (MOCK_PORTAL_TEST_HOOKS=1 only) ---------------------------------------------

hooks = Blueprint("test_hooks", __name__, url_prefix="/test")


@hooks.before_request
def _hooks_enabled():  # type: ignore[no-untyped-def]
    if not state()["config"]["TEST_HOOKS"]:
        abort(404)


@hooks.get("/faults")
def get_faults():  # type: ignore[no-untyped-def]
    return jsonify(state()["faults"])


@hooks.post("/faults")
def set_faults():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True)
    faults = state()["faults"]
    if not isinstance(body, dict) or set(body) - set(faults):
        return jsonify({"error": "invalid_request", "message": f"Known switches: {sorted(faults)}"}), 422
    with state()["lock"]:
        faults.update(body)
        if "seed" in body or "fail_probability" in body or "fail_every" in body:
            state()["random"].seed(int(faults["seed"]))
            state()["counter"] = 0
    return jsonify(faults)


@hooks.post("/reset")
def reset():  # type: ignore[no-untyped-def]
    """Forget everything received and switch every fault off."""
    from mock_portal.config import FAULT_DEFAULTS

    with state()["lock"]:
        engine = state()["engine"]
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        state()["faults"].clear()
        state()["faults"].update(FAULT_DEFAULTS)
        state()["counter"] = 0
        state()["random"].seed(0)
    return jsonify({"reset": True})


@hooks.get("/events")
def list_events():  # type: ignore[no-untyped-def]
    """Every event in the order it was stored, with its dossier code and delivery count."""
    with state()["sessions"]() as db:
        rows = db.execute(
            select(PortalEvent, PortalDossier.code).join(PortalDossier).order_by(PortalEvent.id)
        ).all()
    return jsonify({"events": [
        {"event_id": e.event_id, "dossier_code": code, "kind": e.kind, "status": e.status,
         "at": e.at.isoformat(), "received_at": e.received_at.isoformat(), "deliveries": e.deliveries}
        for e, code in rows
    ]})
