"""Money downstream of the notice: the reconciliation queue (docs/reconciliation.md)."""

from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from app.api import api_auth, bp, json_body
from app.errors import ValidationFailed
from app.extensions import db
from app.models import ItemKind, ReconciliationItem, Role
from app.services import reconciliation

STATUSES = ("open", "resolved", "all")


@bp.get("/reconciliation/items")
@api_auth(Role.ACCOUNTANT, Role.ADMIN)
def list_reconciliation_items():
    status = request.args.get("status", "open")
    kind = request.args.get("kind") or None
    errors = {}
    if status not in STATUSES:
        errors["status"] = _("Choose open, resolved or all.")
    if kind is not None and kind not in {k.value for k in ItemKind}:
        errors["kind"] = _("Unknown kind of item.")
    if errors:
        raise ValidationFailed(_("Check the filters."), fields=errors)
    items = reconciliation.open_items(kind=kind, status=status)
    return jsonify({"items": [reconciliation.item_json(i) for i in items]})


@bp.post("/reconciliation/items/<int(max=2147483647):item_id>/resolve")
@api_auth(Role.ACCOUNTANT, Role.ADMIN)
def resolve_reconciliation_item(item_id: int):
    data = json_body()
    values = {name: data.get(name) for name in ("action", "reason", "notice_code")}
    for name, value in values.items():
        if value is not None and not isinstance(value, str):
            raise ValidationFailed(_("Check the decision."), fields={name: _("Must be text.")})
    item = reconciliation.resolve(item_id, g.api_user, action=values["action"] or "",
                                  reason=values["reason"] or "", notice_code=values["notice_code"])
    return jsonify(reconciliation.item_json(db.session.get(ReconciliationItem, item.id)))
