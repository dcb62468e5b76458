"""OpenAPI operations of app/api/receipts.py."""

from __future__ import annotations

#: Component schemas this area adds.
SCHEMAS: dict[str, dict] = {
    "ReceiptVerification": {
        "type": "object", "required": ["valid", "kind", "claims"],
        "properties": {
            "valid": {"type": "boolean", "const": True},
            "kind": {"type": "string", "enum": ["jws", "compact"],
                     "description": "jws: the full signed receipt; compact: a printed QR code's text "
                                    "(LP1: + Base45 COSE_Sign1), which carries receipt_id, notice_code, "
                                    "total, currency, paid_at and kid only"},
            "claims": {"type": "object"},
        },
    },
}

#: (path, method) -> example, as in app/api/openapi.py.
EXAMPLES: dict[tuple[str, str], dict] = {
    # The walk-through verifies the full signed receipt; a printed QR code's text ("LP1:...")
    # answers the same with "kind": "compact" and the claims the code carries.
    ("/receipts/verify", "post"): {
        "status": 200,
        "request": {"token": "eyJ..."},
        "response": {"valid": True, "kind": "jws",
                     "claims": {"receipt_id": "BL...", "total": 1500000000, "...": "..."}},
    },
}


def paths() -> dict:
    from app.api.openapi import _op, _ref

    pdf = _op("A signed e-receipt as a printable PDF (Vietnamese text, compact QR code)",
              tag="receipt", params=("number",))
    pdf["responses"]["200"]["content"] = {"application/pdf": {"schema": {"type": "string",
                                                                         "format": "binary"}}}
    return {
        "/receipts/{number}.pdf": {"get": pdf},
        "/receipts/verify": {"post": _op(
            "Verify an e-receipt with the published keys: the full JWS or a printed QR code's "
            "compact text", tag="receipt", auth=False, ok_schema=_ref("ReceiptVerification"),
            body={"type": "object", "required": ["token"], "additionalProperties": False,
                  "properties": {"token": {"type": "string", "maxLength": 8000}}},
            errors=(422,))},
    }
