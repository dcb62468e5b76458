"""OpenAPI operations of app/api/money.py."""

from __future__ import annotations

_KINDS = ["unknown_credit", "short", "over", "duplicate", "missing_from_statement", "other_day",
          "amount_differs", "unknown_debit"]

#: Component schemas this area adds.
SCHEMAS: dict[str, dict] = {
    "ReconciliationItem": {
        "type": "object",
        "required": ["id", "kind", "status", "amount", "detail", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": _KINDS},
            "status": {"type": "string", "enum": ["open", "matched", "refund_requested", "accepted"]},
            "amount": {"type": "integer", "description": "whole dong"},
            "transaction_id": {"type": ["string", "null"], "description": "the bank's transaction id"},
            "statement_date": {"type": ["string", "null"], "format": "date"},
            "detail": {"type": "string"},
            "notice_code": {"type": ["string", "null"]},
            "payment_ref": {"type": ["string", "null"]},
            "purpose": {"type": ["string", "null"]},
            "payer_name": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "resolved_at": {"type": ["string", "null"], "format": "date-time"},
            "resolved_by": {"type": ["string", "null"]},
            "resolution_reason": {"type": ["string", "null"]},
            "refund_ref": {"type": ["string", "null"]},
        },
    },
}

#: (path, method) -> example, as in app/api/openapi.py (the walk of docs/reconciliation.md).
EXAMPLES: dict[tuple[str, str], dict] = {
    ("/reconciliation/items", "get"): {
        "status": 200, "request": None,
        "response": {"items": [{"id": "...", "kind": "duplicate", "status": "open", "amount": "...",
                                "notice_code": "TB...", "purpose": "...", "payer_name": "PHAM THI LAN",
                                "resolved_at": None, "...": "..."}, "..."], "next_cursor": "..."},
    },
    ("/reconciliation/items/{item_id}/resolve", "post"): {
        "status": 200,
        "request": {"action": "refund", "reason": "The payer sent the same transfer twice."},
        "response": {"id": "...", "kind": "duplicate", "status": "refund_requested", "amount": "...",
                     "resolved_by": "accountant", "resolution_reason": "The payer sent the same transfer twice.",
                     "refund_ref": "...", "...": "..."},
    },
}


def paths() -> dict:
    from app.api.openapi import _op, _ref

    listing = _op(
        "The reconciliation queue: items opened by credits and statements (accountant, admin)",
        tag="reconciliation", errors=(401, 403, 422),
        ok_schema={"type": "object", "required": ["items"],
                   "properties": {"items": {"type": "array", "items": _ref("ReconciliationItem")}}},
        query=[{"name": "status", "in": "query", "required": False,
                "schema": {"type": "string", "enum": ["open", "resolved", "all"], "default": "open"}},
               {"name": "kind", "in": "query", "required": False,
                "schema": {"type": "string", "enum": _KINDS}}])
    resolve = _op(
        "Resolve an open item with a reason: match its money to a notice, refund it, or accept it",
        tag="reconciliation", params=("item_id",), errors=(401, 403, 404, 409, 422),
        ok_schema=_ref("ReconciliationItem"),
        body={"type": "object", "required": ["action", "reason"], "additionalProperties": False, "properties": {
            "action": {"type": "string", "enum": ["match", "refund", "accept"]},
            "reason": {"type": "string", "minLength": 3, "maxLength": 2000},
            "notice_code": {"type": ["string", "null"], "maxLength": 30,
                            "description": "for match: the notice the money pays"}}})
    return {
        "/reconciliation/items": {"get": listing},
        "/reconciliation/items/{item_id}/resolve": {"post": resolve},
    }
