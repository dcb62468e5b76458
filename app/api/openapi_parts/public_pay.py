"""OpenAPI operations of app/api/public_pay.py."""

from __future__ import annotations

_MONEY = {"type": "integer", "minimum": 0}

#: Component schemas this area adds.
SCHEMAS: dict[str, dict] = {
    "PublicNotice": {
        "type": "object",
        "description": "What a payer without an account sees of a notice: the amounts and why, "
        "the due dates, the late interest for today; the party paid for by a partly masked name.",
        "properties": {
            "code": {"type": "string"},
            "status": {"type": "string", "enum": ["unpaid"]},
            "paid_for": {"type": "string", "description": "Partly masked: \"T. T. Bình\"."},
            "total": _MONEY, "outstanding": _MONEY, "amount_due_today": _MONEY,
            "due_on": {"type": ["string", "null"], "format": "date"},
            "late_interest_today": {"type": ["object", "null"]},
            "lines": {"type": "array", "items": {"type": "object", "properties": {
                "obligation": {"type": "string"}, "amount": _MONEY, "paid": _MONEY, "outstanding": _MONEY,
                "due_on": {"type": ["string", "null"], "format": "date"},
                "installments": {"type": "array", "items": {"type": "object"}},
                "explanation": {"type": "object", "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}},
                "legal_basis": {"type": ["string", "null"]}}}},
            "vietqr": {"type": ["object", "null"], "properties": {
                "payload": {"type": "string"}, "bank_bin": {"type": "string"}, "account": {"type": "string"},
                "amount": _MONEY, "purpose": {"type": "string"}}},
        },
    },
    "PublicPayment": {
        "type": "object",
        "properties": {
            "ref": {"type": "string"}, "notice_code": {"type": "string"}, "amount": _MONEY,
            "status": {"type": "string", "enum": ["started", "succeeded", "failed", "expired", "cancelled"]},
            "payer_name": {"type": "string"}, "paid_for": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "status_url": {"type": "string", "description": "This payment, by its signed reference."},
            "redirect_url": {"type": "string", "description": "The bank's checkout page (on creation)."},
            "receipt": {"type": ["object", "null"], "properties": {
                "number": {"type": "string"}, "kid": {"type": "string"}, "token": {"type": "string"},
                "payer_name": {"type": "string"}, "paid_for": {"type": "array", "items": {"type": "string"}}}},
        },
    },
}

#: (path, method) -> example, as in app/api/openapi.py.
EXAMPLES: dict[tuple[str, str], dict] = {
    ("/public/notices/lookup", "post"): {
        "status": 200,
        "request": {"code": "TB...", "citizen_id": "079090000123"},
        "response": {"code": "TB...", "status": "unpaid", "paid_for": "P. T. Dung", "total": 1500000000,
                     "outstanding": 1500000000, "amount_due_today": 1500000000, "late_interest_today": None,
                     "lines": [{"obligation": "registration_fee", "amount": 300000000, "...": "..."}, "..."],
                     "...": "..."},
    },
    ("/public/notices/{code}/payments", "post"): {
        "status": 201,
        "request": {"citizen_id": "079090000123", "payer_name": "Phạm Văn Hùng"},
        "response": {"ref": "LP...", "notice_code": "TB...", "amount": 1500000000, "status": "started",
                     "payer_name": "Phạm Văn Hùng", "paid_for": "P. T. Dung",
                     "status_url": "/api/v1/public/payments/...",
                     "redirect_url": "http://...", "receipt": None, "...": "..."},
    },
    ("/public/payments/{token}", "get"): {
        "status": 200,
        "response": {"ref": "LP...", "status": "succeeded", "payer_name": "Phạm Văn Hùng",
                     "receipt": {"number": "BL...", "payer_name": "Phạm Văn Hùng",
                                 "paid_for": ["Phạm Thị Dung"], "...": "..."}, "...": "..."},
    },
}

_LIMIT = ("Failed look-ups are limited per client address and per notice code; past the limit the "
          "answer is 429 `too_many_attempts` with `Retry-After` (seconds), whatever was asked. A wrong "
          "code and a right code with a wrong citizen id get the same 404.")


def paths() -> dict:
    from app.api.openapi import _op, _ref

    citizen_id = {"type": "string", "maxLength": 20, "description": "Citizen id of a party who owes the notice."}
    return {
        "/public/notices/lookup": {"post": _op(
            "What a notice asks, by its code and the payer's citizen id (no account)", tag="public payment",
            auth=False, ok_schema=_ref("PublicNotice"), errors=(404, 422, 429), description=_LIMIT,
            body={"type": "object", "required": ["code", "citizen_id"], "additionalProperties": False,
                  "properties": {
                "code": {"type": "string", "maxLength": 30}, "citizen_id": citizen_id}})},
        "/public/notices/{code}/payments": {"post": _op(
            "Start paying a notice at the bank without an account; returns the redirect URL",
            tag="public payment", auth=False, ok=201, ok_schema=_ref("PublicPayment"),
            errors=(404, 409, 422, 429, 502), idempotent=True, params=("code",),
            description=_LIMIT + " An `Idempotency-Key` sent here belongs to the notice code.",
            body={"type": "object", "required": ["citizen_id", "payer_name"], "additionalProperties": False,
                  "properties": {
                "citizen_id": citizen_id,
                "payer_name": {"type": "string", "maxLength": 200,
                               "description": "Who pays: printed on the receipt."}}})},
        "/public/payments/{token}": {"get": _op(
            "A payment made without an account, by its signed reference", tag="public payment",
            auth=False, ok_schema=_ref("PublicPayment"), errors=(404,), params=("token",))},
    }
