"""Money downstream of the notice: the reconciliation queue (docs/reconciliation.md)."""

from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from app.api import api_auth, bp, json_body
from app.errors import ValidationFailed
from app.extensions import db
from app.models import ReconciliationItem, Role
from app.services import lists, pages, reconciliation

STATUSES = ("open", "resolved", "all")


@bp.get("/reconciliation/items")
@api_auth(Role.ACCOUNTANT, Role.ADMIN)
def list_reconciliation_items():
    """The accountants' queue, newest first, a page at a time (``limit``, ``cursor``); filters
    ``status`` (open, resolved or all), ``kind``, ``from``, ``to``, ``code`` (the notice's)."""
    if request.args.get("status", "open") not in STATUSES:
        raise ValidationFailed(_("Check the filters."), fields={"status": _("Choose open, resolved or all.")})
    filters = lists.Filters.from_args(request.args, statuses=STATUSES, kinds=lists.ITEM_KINDS,
                                      default_status="open")
    page = pages.fetch(lists.reconciliation_items(filters), request.args)
    return pages.api_page(page, [reconciliation.item_json(i) for i in page.items],
                          "api.list_reconciliation_items")


@bp.post("/reconciliation/items/<int(max=2147483647):item_id>/resolve")
@api_auth(Role.ACCOUNTANT, Role.ADMIN)
def resolve_reconciliation_item(item_id: int):
    data = json_body()
    values = {name: data.get(name) for name in ("action", "reason", "notice_code")}  # text, by the document
    item = reconciliation.resolve(item_id, g.api_user, action=values["action"] or "",
                                  reason=values["reason"] or "", notice_code=values["notice_code"])
    return jsonify(reconciliation.item_json(db.session.get(ReconciliationItem, item.id)))
