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


def _failure_now(st: dict[str, Any] | None = None) -> bool:
    """The "500 now and then" switch: every Nth delivery, or at random with a seed."""
    st = st or state()
    faults = st["faults"]
    with st["lock"]:
        st["counter"] += 1
        count = st["counter"]
        every = int(faults["fail_every"] or 0)
        if every and count % every == 0:
            return True
        probability = float(faults["fail_probability"] or 0)
        return bool(probability) and st["random"].random() < probability


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


#: At most this many events in one batch request.
BATCH_MAX = 1000


class _Store:
    """Stores events in one database transaction: each event id once, a dossier created by
    its first event. The whole batch is looked up in two queries and written with a few
    multi-row statements, so a batch costs little more than one event."""

    def __init__(self, db, raws: list[Any]):  # type: ignore[no-untyped-def]
        self.db = db
        self.st = state()
        ids = [r["event_id"] for r in raws if isinstance(r, dict) and isinstance(r.get("event_id"), str)]
        codes = [r["dossier_code"] for r in raws if isinstance(r, dict) and isinstance(r.get("dossier_code"), str)]
        ev, dos = PortalEvent.__table__, PortalDossier.__table__
        #: event id -> [body, received_at, deliveries added, new row or None]
        self.events: dict[str, list[Any]] = {
            row.event_id: [row.body, row.received_at, 0, None]
            for row in db.execute(select(ev.c.event_id, ev.c.body, PortalEvent.received_at)
                                  .where(ev.c.event_id.in_(ids)))
        } if ids else {}
        self.dossiers: dict[str, int] = dict(
            db.execute(select(dos.c.code, dos.c.id).where(dos.c.code.in_(codes))).all()) if codes else {}
        self.new_dossiers: dict[str, dict[str, Any]] = {}
        self.changed_dossiers: dict[str, dict[str, Any]] = {}
        self.new_events: list[dict[str, Any]] = []
        self.received_at = now()

    def put(self, raw: Any) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body one event gets (a fault counts as a delivery attempt)."""
        if _failure_now(self.st):
            return 500, {"error": "server_error", "message": "Internal error (test fault)."}
        parsed, errors = _parse(raw)
        if parsed is None:
            return 422, {"error": "invalid_event", "message": "The event is not valid.", "fields": errors}
        canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        known = self.events.get(parsed["event_id"])
        if known is not None:
            if known[0] != canonical:
                return 409, {"error": "conflict", "message": "This event id was used with another body."}
            if known[3] is not None:
                known[3]["deliveries"] += 1
            else:
                known[2] += 1
            return 200, {"event_id": parsed["event_id"], "received_at": known[1].isoformat()}
        code = parsed["dossier_code"]
        if code in self.dossiers:
            target = self.changed_dossiers.setdefault(code, {"b_code": code})
        else:
            target = self.new_dossiers.setdefault(code, {"code": code, "procedure": parsed["procedure"],
                                                         "completed_at": None})
        target["due_on"] = parsed["due_on"]
        if parsed.get("status") == "completed":
            target["completed_at"] = parsed["at"]
        row = {"event_id": parsed["event_id"], "code": code, "kind": parsed["kind"],
               "status": parsed.get("status"), "at": parsed["at"], "due_on": parsed["due_on"],
               "body": canonical, "received_at": self.received_at, "deliveries": 1}
        self.new_events.append(row)
        self.events[row["event_id"]] = [canonical, self.received_at, 0, row]
        if self.st["faults"]["duplicate_acks"]:
            return 502, {"error": "ack_lost", "message": "Stored, but this acknowledgement is lost (test fault)."}
        return 200, {"event_id": row["event_id"], "received_at": self.received_at.isoformat()}

    def commit(self) -> bool:
        from sqlalchemy import bindparam, insert, update

        ev, dos = PortalEvent.__table__, PortalDossier.__table__
        try:
            if self.new_dossiers:
                self.db.execute(insert(PortalDossier), list(self.new_dossiers.values()))
                self.dossiers.update(self.db.execute(
                    select(dos.c.code, dos.c.id).where(dos.c.code.in_(list(self.new_dossiers)))).all())
            if self.changed_dossiers:
                self.db.execute(
                    update(dos).where(dos.c.code == bindparam("b_code"))
                    .values(due_on=bindparam("b_due_on", type_=dos.c.due_on.type),
                            completed_at=func.coalesce(bindparam("b_completed_at", type_=dos.c.completed_at.type),
                                                       dos.c.completed_at)),
                    [{"b_code": v["b_code"], "b_due_on": v["due_on"], "b_completed_at": v.get("completed_at")}
                     for v in self.changed_dossiers.values()])
            if self.new_events:
                self.db.execute(insert(PortalEvent), [
                    {**{k: v for k, v in row.items() if k != "code"}, "dossier_id": self.dossiers[row["code"]]}
                    for row in self.new_events])
            repeats = [{"b_id": event_id, "n": known[2]} for event_id, known in self.events.items() if known[2]]
            if repeats:
                self.db.execute(update(ev).where(ev.c.event_id == bindparam("b_id"))
                                .values(deliveries=ev.c.deliveries + bindparam("n")), repeats)
            self.db.commit()
        except IntegrityError:  # the same id stored by another process sharing the database
            self.db.rollback()
            return False
        return True


@bp.post("/api/events")
def receive_event():  # type: ignore[no-untyped-def]
    raw = request.get_json(silent=True)
    with state()["lock"], state()["sessions"]() as db:
        store = _Store(db, [raw])
        status, answer = store.put(raw)
        if not store.commit():
            return refused("server_error", "Try again.", 500)
    return jsonify(answer), status


@bp.post("/api/events/batch")
def receive_batch():  # type: ignore[no-untyped-def]
    """Many events in one signed request, one answer per event in the same order. Events
    are taken in order; after an event of a dossier is not acknowledged, the later events
    of that dossier in the batch are not looked at (``skipped``), so the portal never holds
    an event without the earlier ones of its dossier."""
    body = request.get_json(silent=True)
    raws = body.get("events") if isinstance(body, dict) else None
    if not isinstance(raws, list) or not raws or len(raws) > BATCH_MAX:
        return jsonify({"error": "invalid_request",
                        "message": f"Send {{\"events\": [...]}} (1 to {BATCH_MAX} events).",
                        "fields": {"events": f"a list of 1 to {BATCH_MAX} events"}}), 422
    results: list[dict[str, Any]] = []
    stopped: set[Any] = set()
    with state()["lock"], state()["sessions"]() as db:
        store = _Store(db, raws)
        for raw in raws:
            code = raw.get("dossier_code") if isinstance(raw, dict) else None
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            if code is not None and code in stopped:
                results.append({"event_id": event_id, "status": 409, "error": "skipped",
                                "message": "An earlier event of this dossier in the batch was not acknowledged."})
                continue
            status, answer = store.put(raw)
            if status != 200:
                stopped.add(code)
                answer = {"event_id": event_id, "status": status, **answer}
            results.append(answer)
        if not store.commit():
            return refused("server_error", "Try again.", 500)
    return jsonify({"results": results}), 200


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
