"""The OpenAPI 3.1 document of API v1, built from one table of operations.

The examples are the answers of the executed walk-through (README.md and the pages of
docs/): a test runs those pages against the real processes and checks that each
example below matches the answer the same operation gave there. ``...`` stands for a value
that changes from run to run (a token, a code, a time): a whole value, or the rest of a
string (``"HS..."``), or more members of an object (key ``"..."``). An answer without a body
(204) has the example ``None``; an answer that is not JSON names its ``media_type`` and its
example is the text of the body. Every operation the walk-through calls has an example,
except those that answer an image.
"""

from __future__ import annotations

from tax_calc.parse import LAND_TYPES, LEASES, MAX_LEASE_YEARS, RECOGNITION_KINDS

ERROR = {"$ref": "#/components/schemas/Error"}

#: (path, method) -> {"status": ..., "request": body or None, "response": body}.
EXAMPLES: dict[tuple[str, str], dict] = {
    ("/tokens", "post"): {
        "status": 201,
        "request": {"username": "registry", "password": "demo-pass-2026"},
        "response": {"token": "...", "expires_at": "...", "role": "registry_officer"},
    },
    ("/me", "get"): {
        "status": 200,
        "response": {"username": "binh", "full_name": "Trần Thị Bình", "role": "landholder",
                     "office": None, "citizen_id": "079085000002"},
    },
    ("/parcels", "get"): {
        "status": 200,
        "response": {"items": [{"id": 1, "label": "10/101", "address": "...", "land_type": "residential",
                                "area_m2": "72.50",
                                "holder": {"full_name": "Nguyễn Văn An", "citizen_id": "079080000001"}},
                               "..."], "next_cursor": "..."},
    },
    ("/dossiers", "post"): {
        "status": 201,
        "request": {"parcel_id": 1,
                    "transferor": {"full_name": "Nguyễn Văn An", "citizen_id": "079080000001"},
                    "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"},
                    "declared_price": 60000000000},
        "response": {"code": "HS...", "procedure": "transfer", "status": "awaiting_confirmation",
                     "declared_price": 60000000000,
                     "assessment": {"id": "...", "status": "pending", "total": 1500000000,
                                    "review_reasons": [{"code": "total_above_auto_confirmation_ceiling",
                                                        "field": "tax_office", "text": "..."}],
                                    "lines": [{"obligation": "registration_fee", "amount": 300000000, "...": "..."},
                                              {"obligation": "personal_income_tax", "amount": 1200000000,
                                               "...": "..."}],
                                    "...": "..."},
                     "notice": None, "payments": [], "...": "..."},
    },
    ("/dossiers", "get"): {
        "status": 200,
        "response": {"items": [{"code": "HS...", "status": "paid", "filed_at": "...", "due_on": "..."}, "..."],
                     "next_cursor": "..."},
    },
    ("/dossiers/{code}/complete", "post"): {
        "status": 200,
        "response": {"code": "HS...", "status": "completed", "completed_at": "...", "...": "..."},
    },
    ("/assessments", "get"): {
        "status": 200,
        "response": {"items": [{"id": "...", "dossier_code": "HS...", "status": "pending", "total": 1500000000,
                                "...": "..."}, "..."], "next_cursor": "..."},
    },
    ("/assessments/{assessment_id}/confirm", "post"): {
        "status": 201,
        "response": {"code": "TB...", "dossier_code": "HS...", "status": "unpaid", "payer": "Trần Thị Bình",
                     "total": 1500000000, "outstanding": 1500000000, "lines": "...", "...": "..."},
    },
    ("/notices/{code}", "get"): {
        "status": 200,
        "response": {"code": "TB...", "status": "paid", "total": 1500000000, "outstanding": 0,
                     "lines": [{"obligation": "registration_fee", "amount": 300000000, "paid": 300000000,
                                "explanation": {"vi": "...", "en": "Registration fee 0.5% x ..."},
                                "legal_basis": "Decree 10/2022/ND-CP ...", "...": "..."}, "..."],
                     "...": "..."},
    },
    ("/notices/{code}/payments", "post"): {
        "status": 201,
        "response": {"ref": "LP...", "notice_code": "TB...", "amount": 1500000000, "status": "started",
                     "redirect_url": "http://...:.../checkout?lp_version=1&...", "...": "..."},
    },
    ("/payments/{ref}", "get"): {
        "status": 200,
        "response": {"ref": "LP...", "status": "succeeded", "bank_ref": "MB...", "receipt_number": "BL...",
                     "...": "..."},
    },
    ("/receipts/{number}", "get"): {
        "status": 200,
        "response": {"number": "BL...", "kid": "landpay-1", "token": "eyJ...",
                     "claims": {"notice_code": "TB...", "dossier_code": "HS...", "total": 1500000000,
                                "currency": "VND", "payer_name": "Trần Thị Bình", "...": "..."},
                     "...": "..."},
    },
    ("/tokens/current", "delete"): {"status": 204, "response": None},
    ("/dossiers/{code}", "get"): {
        "status": 200,
        "response": {"code": "HS...", "procedure": "transfer", "status": "paid", "declared_price": 90000000000,
                     "transferor": {"full_name": "Lê Văn Cường", "citizen_id": "079070000003"},
                     "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"},
                     "assessment": {"status": "confirmed", "total": 2250000000, "...": "..."},
                     "notice": {"code": "TB...", "status": "paid", "outstanding": 0, "...": "..."},
                     "payments": [{"ref": "LP...", "status": "succeeded", "receipt_number": "BL...", "...": "..."}],
                     "events": [{"id": "...", "kind": "dossier_filed", "from": None, "to": "filed",
                                 "actor": "registry_officer", "at": "..."}, "..."],
                     "...": "..."},
    },
    ("/assessments/{assessment_id}", "get"): {
        "status": 200,
        "response": {"id": "...", "dossier_code": "HS...", "status": "confirmed", "total": 1500000000,
                     "valid_on": "...", "price_table_version": "HCM-2026.1", "auto_confirmed": False,
                     "confirmed_at": "...",
                     "review_reasons": [{"code": "total_above_auto_confirmation_ceiling", "field": "tax_office",
                                         "text": {"vi": "...", "en": "Total above the auto-confirmation ceiling ..."}}],
                     "lines": [{"obligation": "registration_fee", "base": 60000000000, "rate": "0.005",
                                "amount": 300000000, "...": "..."},
                               {"obligation": "personal_income_tax", "base": 60000000000, "rate": "0.02",
                                "amount": 1200000000, "...": "..."}],
                     "...": "..."},
    },
    ("/notices", "get"): {
        "status": 200,
        "response": {"items": [{"code": "TB...", "dossier_code": "HS...", "status": "paid", "payer": "Trần Thị Bình",
                                "total": 1500000000, "outstanding": 0, "vietqr": None, "lines": "...",
                                "...": "..."}, "..."], "next_cursor": "..."},
    },
    ("/tax/assess", "post"): {
        "status": 200,
        "request": {"procedure": "transfer", "valid_on": "2026-11-27", "province": "HCM",
                    "price_table_version": "HCM-2026.1",
                    "parcels": [{"land_type": "residential", "area_m2": "120.5", "table_price_per_m2": 50000000,
                                 "adjustment_coefficient": "1.0"}],
                    "declared_price": 8000000000, "relationship": None},
        "response": {"procedure": "transfer", "price_table_version": "HCM-2026.1",
                     "lines": [{"obligation": "registration_fee", "base": 8000000000, "rate": "0.005",
                                "amount": 40000000, "...": "..."},
                               {"obligation": "personal_income_tax", "base": 8000000000, "rate": "0.02",
                                "amount": 160000000, "...": "..."}],
                     "...": "..."},
    },
    ("/sync/status", "get"): {
        "status": 200,
        "response": {"dossiers": {"local": "...", "acknowledged": "..."},
                     "events": {"local": "...", "acknowledged": "..."},
                     "dead_letter": 0, "oldest_unacknowledged_at": "..."},
    },
    ("/sync/dead-letter", "get"): {"status": 200, "response": {"items": [], "next_cursor": None}},
    # The walk replays an event that is not in the dead letter: refused, nothing changes.
    ("/sync/dead-letter/{event_id}/replay", "post"): {
        "status": 404, "response": {"error": {"code": "not_found", "message": "..."}}},
    ("/openapi.json", "get"): {
        "status": 200,
        "response": {"openapi": "3.1.0", "info": {"title": "LandPay API", "version": "1", "...": "..."},
                     "paths": "...", "...": "..."},
    },
    ("/docs", "get"): {"status": 200, "media_type": "text/html", "response": "...LandPay API v1..."},
}


def _image_op(summary, media_type):
    """A GET of the notice's VietQR image: the image, or an error of the usual shape (409 once
    nothing is left to pay). Never cached."""
    op = _op(summary, tag="payment", errors=(401, 403, 404, 409), params=("code",))
    op["responses"]["200"]["content"] = {media_type: {"schema": {"type": "string", "format": "binary"}}}
    op["responses"]["200"]["headers"] = {"Cache-Control": {"schema": {"type": "string", "const": "no-store"}}}
    return op


#: One request of ``POST /dossiers`` per procedure (in the request schema's ``examples``).
PROCEDURE_EXAMPLES: dict[str, dict] = {
    "transfer": {"parcel_id": 1, "procedure": "transfer",
                 "transferor": {"full_name": "Nguyễn Văn An", "citizen_id": "079080000001"},
                 "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"},
                 "declared_price": 60000000000, "tax_payer_clause": "default"},
    "gift": {"parcel_id": 1, "procedure": "gift", "relationship": "parent_child",
             "transferor": {"full_name": "Nguyễn Văn An", "citizen_id": "079080000001"},
             "transferees": [{"full_name": "Trần Thị Bình", "citizen_id": "079085000002",
                              "share": "1/2"},
                             {"full_name": "Lê Văn Cường", "citizen_id": "079070000003",
                              "share": "1/2"}]},
    "inheritance": {"parcel_id": 1, "procedure": "inheritance",
                    "transferor": {"full_name": "Nguyễn Văn An", "citizen_id": "079080000001"},
                    "transferee": {"full_name": "Lê Văn Cường", "citizen_id": "079070000003"}},
    "change_of_use": {"parcel_id": 2, "procedure": "change_of_use",
                      "new_land_type": "residential", "old_table_price_per_m2": 100000},
    "recognition": {"parcel_id": 3, "procedure": "recognition",
                    "recognition_kind": "without_authority_no_payment_proof",
                    "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"}},
    "allocation": {"parcel_id": 4, "procedure": "allocation",
                   "infrastructure_cost_per_m2": 1000000,
                   "transferee": {"full_name": "Lê Văn Cường", "citizen_id": "079070000003"}},
    "lease": {"parcel_id": 5, "procedure": "lease", "rent_mode": "annual",
              "lease_term_years": 20, "rent_rate": "0.01",
              "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"}},
    "lease_one_time": {"parcel_id": 6, "procedure": "lease", "rent_mode": "one_time",
                       "lease_term_years": 50,
                       "transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002"}},
    "extension": {"parcel_id": 5, "procedure": "extension", "months_extended": 12},
}


#: What each error status means; every error answer has the Error schema.
ERROR_STATUSES = {
    400: "The request could not be read: a NUL character or half of a UTF-16 surrogate pair "
         "(`\\ud800`) anywhere in it (`bad_request`)",
    401: "No bearer token, a wrong or expired one, or a wrong password (`unauthorized`)",
    403: "The role may not do this (`forbidden`)",
    404: "No such thing, or not yours to see: deliberately the same (`not_found`)",
    409: "The state does not allow it now (`conflict`), or a request with the same "
         "Idempotency-Key is still running (`request_in_progress`, with `Retry-After`)",
    413: "The request body is larger than the service accepts (`request_entity_too_large`)",
    422: "The input does not match this document, or the data behind it does not allow it "
         "(`validation_failed`; `fields` names each wrong field)",
    429: "Too many attempts; wait `Retry-After` seconds (`too_many_attempts`)",
    500: "Unexpected; nothing was changed (`internal_error`)",
    502: "The bank could not be reached (`bank_unavailable`)",
}

#: Answers every operation may give, whatever it does: a request that cannot be read, a body
#: above the size limit, an unexpected failure.
GENERIC_ERRORS = (400, 413, 500)


def _error_answer(code: int) -> dict:
    answer = {"description": ERROR_STATUSES.get(code, "Error"),
              "content": {"application/json": {"schema": ERROR}}}
    if code == 429 or code == 409:
        answer["headers"] = {"Retry-After": {
            "description": "Seconds to wait before trying again (429 always; 409 when a request "
                           "with the same Idempotency-Key is still running)",
            "required": code == 429, "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
    return answer


def _op(summary, *, tag, auth=True, body=None, ok=200, ok_schema=None, errors=(401, 403, 404), params=(),
        query=(), description=None, idempotent=False):
    errors = {*errors, *GENERIC_ERRORS}
    if idempotent:
        errors |= {409, 422}
    if body or any(q["in"] == "query" for q in query):  # validated: 422 names each wrong field
        errors.add(422)
    if auth:
        errors.add(401)
    responses = {str(ok): {"description": "OK"}}
    if ok_schema:
        responses[str(ok)]["content"] = {"application/json": {"schema": ok_schema}}
    for code in sorted(errors):
        responses[str(code)] = _error_answer(code)
    op = {"summary": summary, "tags": [tag], "responses": responses}
    if description:
        op["description"] = description
    if not auth:
        op["security"] = []
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID} if p.endswith("_id")
             else {"type": "string", "minLength": 1}}
            for p in params
        ]
    if query:
        op.setdefault("parameters", []).extend(query)
    if idempotent:
        op.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
    return op


#: The largest id a path accepts (ids are 32-bit integers).
MAX_ID = 2147483647
#: The largest amount of money, in dong, an input may carry.
MAX_DONG = 10**15

#: The optional header of the creating requests (app/api/idempotency.py).
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Recommended. A key of the client's choosing (1 to 255 printable ASCII characters) "
    "that makes a retry safe: the same key with the same request within 24 hours gets the first "
    "answer again, with the header `Idempotent-Replayed: true`, instead of creating a second thing. "
    "The same key with another request: 422 `idempotency_key_reused`; while the first request with "
    "the key runs: 409 `request_in_progress` (retry after `Retry-After` seconds). A 5xx answer is not "
    "kept: a retry runs again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
}


def _with_examples(paths: dict) -> dict:
    """Put each example on its operation: the request body's and the answer's."""
    for (path, method), ex in EXAMPLES.items():
        op = paths[path][method]
        if ex.get("request") is not None:
            op["requestBody"]["content"]["application/json"]["example"] = ex["request"]
        if ex["response"] is None:  # no body (204)
            continue
        media_type = ex.get("media_type", "application/json")
        answer = op["responses"][str(ex["status"])]
        answer.setdefault("content", {}).setdefault(media_type, {})["example"] = ex["response"]
    return paths


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


#: A person named in a request: a name with a letter in it, a citizen id of 12 ASCII digits
#: (full-width or other digits are refused, never normalised).
PARTY_PROPERTIES = {
    "full_name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
    "citizen_id": {"type": "string", "pattern": "^[0-9]{12}$"},
}
PARTY = {"type": "object", "required": ["full_name", "citizen_id"], "additionalProperties": False,
         "properties": PARTY_PROPERTIES}


def _optional(schema: dict) -> dict:
    """``schema`` or null (a field that may be sent as null, meaning not given)."""
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    out = {**schema, "type": [*types, "null"]}
    if "enum" in schema:
        out["enum"] = [*schema["enum"], None]
    return out


def dossier_request() -> dict:
    """The body of ``POST /dossiers``: every procedure's fields; a field nobody knows is
    refused by name (a misspelt field must never drop a fact, such as an exemption, silently)."""
    money = {"type": "integer", "minimum": 0, "maximum": MAX_DONG}
    return {
        "type": "object", "required": ["parcel_id"], "additionalProperties": False,
        "examples": list(PROCEDURE_EXAMPLES.values()),
        # Errors name the single party's fields as the filing form does.
        "x-field-names": {f"{side}.{key}": f"{side}_{'name' if key == 'full_name' else key}"
                          for side in ("transferor", "transferee") for key in PARTY_PROPERTIES},
        "properties": {
            "parcel_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "procedure": {"type": "string", "enum": [
                "transfer", "gift", "inheritance", "change_of_use", "recognition", "allocation",
                "lease", "extension"], "default": "transfer"},
            "transferor": PARTY, "transferee": PARTY,
            "transferors": {"type": "array", "items": PARTY, "minItems": 1, "maxItems": 20},
            "transferees": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
                "type": "object", "required": ["full_name", "citizen_id"], "additionalProperties": False,
                "properties": {**PARTY_PROPERTIES, "share": {
                    "type": "string", "pattern": "^[0-9./ ]+$", "maxLength": 40,
                    "description": "A fraction such as \"1/2\" or \"0.5\" (a string, never a float); "
                    "may be left out for a single transferee (a share of 1)"}}}},
            "declared_price": _optional({**money, "minimum": 1}),
            "relationship": {"type": ["string", "null"], "enum": [
                None, "spouse", "parent_child", "parent_in_law_child_in_law", "adoptive_parent_child",
                "grandparent_grandchild", "siblings"]},
            "sole_residence": {"type": "boolean", "default": False},
            "tax_payer_clause": {"type": "string", "enum": [
                "default", "buyer_pays_all", "seller_pays_all"], "default": "default"},
            "new_land_type": _optional({"type": "string", "enum": sorted(LAND_TYPES)}),
            "old_table_price_per_m2": _optional(money),
            "old_land_money": _optional(money),
            "recognition_kind": _optional({"type": "string", "enum": sorted(RECOGNITION_KINDS)}),
            "infrastructure_cost_per_m2": _optional(money),
            "rent_mode": _optional({"type": "string", "enum": sorted(LEASES)}),
            "lease_term_years": _optional({"type": "integer", "minimum": 1, "maximum": MAX_LEASE_YEARS}),
            "rent_rate": _optional({"type": "string", "pattern": "^(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)$"}),
            "months_extended": _optional({"type": "integer", "minimum": 1, "maximum": MAX_DONG}),
        },
    }


def response_schemas() -> dict:
    """The answers' schemas of the core operations: every field each answer has."""
    text = {"type": "string"}
    maybe_text = {"type": ["string", "null"]}
    date = {"type": "string", "format": "date"}
    maybe_date = {"type": ["string", "null"], "format": "date"}
    when = {"type": "string", "format": "date-time"}
    maybe_when = {"type": ["string", "null"], "format": "date-time"}
    integer = {"type": "integer"}
    both_languages = {"type": "object", "properties": {"vi": maybe_text, "en": maybe_text}}
    person = {"type": "object", "required": ["full_name", "citizen_id"],
              "properties": {"full_name": text, "citizen_id": text}}
    notice = {
        "code": text,
        "dossier_code": {"type": ["string", "null"],
                         "description": "null for an annual non-agricultural land use tax notice"},
        "annual": {"oneOf": [{"type": "object", "properties": {
            "tax_year": integer, "parcel": _ref("ParcelRef")}}, {"type": "null"}],
            "description": "For an annual non-agricultural land use tax notice (no dossier): "
            "its tax year and parcel"},
        "status": {"type": "string", "enum": ["unpaid", "paid", "cancelled"]},
        "payer": {"type": "string", "description": "Who the notice is addressed to (the first payer)"},
        "payer_role": {"type": ["string", "null"],
                       "description": "The payer side: transferor, transferee or holder"},
        "payers": {"type": "array", "items": person, "description": "Everyone who owes the notice"},
        "late_interest_today": {"oneOf": [_ref("LateInterest"), {"type": "null"}],
                                "description": "The late-payment interest a payment today would add; "
                                "null when nothing is overdue"},
        "total": integer, "outstanding": integer,
        "issued_at": when,
        "due_on": {**maybe_date, "description": "Due by: the first date a part of the notice falls due; "
                   "null when nothing is due"},
        "paid_at": {**maybe_when, "description": "When the notice was paid in full; null until then"},
        "vietqr": {"oneOf": [_ref("VietQR"), {"type": "null"}],
                   "description": "While the notice is unpaid and an amount is outstanding: "
                   "a VietQR transfer code to the treasury collection account; null otherwise"},
        "lines": {"type": "array", "items": _ref("NoticeLine")},
    }
    return {
        "Parcel": {"type": "object", "required": ["id", "label", "holders"], "properties": {
            "id": integer, "label": {"type": "string", "description": "Map sheet / parcel number"},
            "map_sheet": text, "parcel_no": text, "address": text, "land_type": text,
            "area_m2": {"type": "string", "description": "Square metres, exact decimal text"},
            "term_ends_on": {**maybe_date, "description": "The end of a land use term; null when unlimited"},
            "open_dossier": {**maybe_text, "description": "The code of its open dossier: no other can be "
                             "filed until it ends"},
            "holders": {"type": "array", "items": {"type": "object", "properties": {
                "full_name": text, "citizen_id": text,
                "share": {"type": "string", "description": "An exact fraction such as \"1/2\""},
                "since": {**maybe_when, "description": "When the holding began (the completion of "
                          "the dossier that gave it); null for one recorded before"},
                "certificate_no": maybe_text}}},
            "holder": {"oneOf": [person, {"type": "null"}],
                       "description": "The first-named holder (kept for older clients)"}}},
        "ParcelRef": {"type": "object", "properties": {
            "province": text, "map_sheet": text, "parcel_no": text, "address": text,
            "area_m2": {"type": "string", "description": "Square metres, exact decimal text"}}},
        "Line": {"type": "object", "properties": {
            "obligation": text, "base": integer, "base_method": maybe_text, "rate": text,
            "amount": integer, "rounding": maybe_text, "legal_basis": text, "rule_version": maybe_text,
            "explanation": both_languages}},
        "Installment": {"type": "object", "required": ["due_on", "amount"], "properties": {
            "due_on": maybe_date, "amount": integer}},
        "NoticeLine": {"type": "object", "properties": {
            "obligation": text, "amount": integer, "paid": integer, "refunded": integer,
            "outstanding": integer,
            "due_on": {**maybe_date, "description": "The line's last instalment date; null when nothing is due"},
            "installments": {"type": "array", "items": _ref("Installment"),
                             "description": "When the line falls due, dated from the notice's issue "
                             "date by the tax rules; the amounts add up to the line's amount"},
            "explanation": both_languages, "legal_basis": maybe_text,
            "base": {"type": ["integer", "null"]}, "rate": maybe_text}},
        "LateInterest": {"type": "object", "properties": {
            "obligation": {"type": "string", "const": "late_interest"}, "as_of": date, "amount": integer,
            "amount_due_today": {"type": "integer", "description": "The outstanding amount with the interest"},
            "legal_basis": maybe_text, "rate": maybe_text, "explanation": both_languages}},
        "Notice": {"type": "object", "properties": notice},
        "IssuedNotices": {"type": "object", "description": "The first notice issued, as before, with "
                          "`notices`: every notice of the dossier (one per payer side)",
                          "properties": {**notice, "notices": {"type": "array", "items": _ref("Notice")}}},
        "VietQR": {"type": "object", "required": ["payload", "png", "svg"], "properties": {
            "payload": {"type": "string", "description": "The EMVCo/NAPAS payload (dynamic): the "
                        "outstanding amount in dong, the bank's BIN and the collection account, the "
                        "notice code as bill number (62-01) and purpose (62-08), CRC-16 last"},
            "png": {"type": "string", "format": "uri-reference",
                    "description": "The code as a PNG image (same authorisation as the notice)"},
            "svg": {"type": "string", "format": "uri-reference",
                    "description": "The code as an SVG image (same authorisation as the notice)"}}},
        "ReviewReason": {"type": "object", "required": ["code", "field", "text"], "properties": {
            "code": {"type": "string", "examples": [
                "declared_price_below_floor", "exemption_claimed", "levy_recorded_as_debt",
                "special_case_once_per_household", "rule_unverified",
                "office_confirms_every_assessment", "total_above_auto_confirmation_ceiling"]},
            "field": {"type": ["string", "null"],
                      "description": "The input concerned (for a claimed exemption, its code; "
                      "tax_office for the office's own policy)"},
            "text": both_languages}},
        "Assessment": {"type": "object", "properties": {
            "id": integer, "dossier_code": text,
            "status": {"type": "string", "enum": ["pending", "confirmed", "superseded"],
                       "description": "superseded: replaced by a newer version after an adjustment"},
            "total": integer, "valid_on": date, "price_table_version": text,
            "rule_versions": {"type": "object"},
            "review_reasons": {"type": "array", "items": _ref("ReviewReason"),
                               "description": "Why it waits for a tax officer: the tax rules' reasons, "
                               "then the tax office's policy; empty when it was confirmed at once"},
            "auto_confirmed": {"type": "boolean"},
            "confirmed_at": maybe_when,
            "lines": {"type": "array", "items": _ref("Line")}}},
        "Payment": {"type": "object", "properties": {
            "ref": text, "notice_code": text, "amount": integer,
            "status": {"type": "string", "enum": ["created", "started", "succeeded", "failed", "expired"]},
            "bank_ref": maybe_text, "created_at": when, "finished_at": maybe_when,
            "receipt_number": maybe_text,
            "redirect_url": {"type": "string", "description": "The bank's checkout page (on creation only)"}}},
        "Receipt": {"type": "object", "required": ["number", "kid", "token", "claims", "issued_at"],
                    "properties": {
                        "number": text, "kid": {"type": "string", "description": "The signing key's id"},
                        "token": {"type": "string", "description": "The signed receipt (JWS)"},
                        "claims": {"type": "object", "description": "What the receipt says"},
                        "issued_at": when}},
        "DossierEvent": {"type": "object", "properties": {
            "id": text, "kind": text, "from": maybe_text, "to": maybe_text, "actor": maybe_text, "at": when}},
        "Dossier": {"type": "object", "properties": {
            "code": text, "procedure": text,
            "status": {"type": "string", "enum": ["filed", "awaiting_confirmation", "awaiting_payment", "paid",
                                                  "completed", "returned", "rejected", "withdrawn"]},
            "parcel": {"type": "object", "properties": {
                "id": integer, "label": text, "address": text, "land_type": text, "area_m2": text}},
            "transferor": {"oneOf": [person, {"type": "null"}]},
            "transferee": {"oneOf": [person, {"type": "null"}]},
            "transferors": {"type": "array", "items": person},
            "transferees": {"type": "array", "items": {"type": "object", "properties": {
                "full_name": text, "citizen_id": text, "share": text}}},
            "holders": {"type": "array", "items": person},
            "tax_payer_clause": maybe_text, "new_land_type": maybe_text, "old_land_type": maybe_text,
            "declared_price": {"type": ["integer", "null"]}, "relationship": maybe_text,
            "sole_residence": {"type": ["boolean", "null"]},
            "recognition_kind": maybe_text, "infrastructure_cost_per_m2": {"type": ["integer", "null"]},
            "rent_mode": maybe_text, "lease_term_years": {"type": ["integer", "null"]},
            "rent_rate": maybe_text, "months_extended": {"type": ["integer", "null"]},
            "old_term_end": maybe_date, "new_term_end": maybe_date,
            "filed_at": when, "valid_on": date, "due_on": date, "completed_at": maybe_when,
            "certificate_no": maybe_text,
            "assessment": {"oneOf": [_ref("Assessment"), {"type": "null"}]},
            "notice": {"oneOf": [_ref("Notice"), {"type": "null"}],
                       "description": "The first notice (kept for older clients); see notices"},
            "notices": {"type": "array", "items": _ref("Notice")},
            "payments": {"type": "array", "items": _ref("Payment")},
            "events": {"type": "array", "items": _ref("DossierEvent")},
            "decisions_now": {"type": "array", "items": text,
                              "description": "GET only: what the caller may decide on the dossier now"}}},
        "ReplayQueued": {"type": "object", "required": ["event_id", "state"], "properties": {
            "event_id": text, "state": {"type": "string", "const": "pending"}}},
    }


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LandPay API",
            "version": "1",
            "description": "File a transfer dossier, confirm its assessment, pay the notice and fetch "
            "the signed e-receipt. Amounts are whole dong (integers). Every error has the shape "
            "of the Error schema.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": _with_examples(_with_parts({
            "/tokens": {"post": _op("Log in and get a bearer token", tag="auth", auth=False, ok=201,
                                    body={"type": "object", "required": ["username", "password"],
                                          "additionalProperties": False, "properties": {
                                              "username": {"type": "string", "minLength": 1},
                                              "password": {"type": "string", "minLength": 1}}},
                                    ok_schema=_ref("Token"), errors=(401, 422, 429),
                                    description="Failed logins are limited per username: past the limit "
                                    "the answer is 429 `too_many_attempts` with `Retry-After` (seconds).")},
            "/tokens/current": {"delete": _op("Revoke the token in use", tag="auth", ok=204, errors=(401,))},
            "/me": {"get": _op("The authenticated user", tag="auth", errors=(401,), ok_schema=_ref("Me"),
                               description="A landholder also gets their own citizen id (the one a "
                               "registry officer files a dossier with); officers and admins get null.")},
            "/parcels": {"get": _op("Parcels of the registry officer's office", tag="registry",
                                    ok_schema={"type": "object", "required": ["items"], "properties": {
                                        "items": {"type": "array", "items": _ref("Parcel")}}})},
            "/dossiers": {
                "get": _op("Dossiers the user may see, newest first (at most 200)", tag="registry",
                           errors=(401, 422), query=[{
                               "name": "status", "in": "query", "required": False,
                               "description": "Only dossiers in this state. `paid` means paid and not yet "
                               "completed (completion is the later state): what a registry system "
                               "asks for to find the dossiers it must finish.",
                               "schema": {"type": "string", "enum": [
                                   "filed", "awaiting_confirmation", "awaiting_payment", "paid", "completed"]}}],
                           description="An unknown `status` is refused with 422 `validation_failed` "
                           "naming the field `status`."),
                "post": _op("File a dossier of any procedure (assessed at once)",
                            tag="registry", ok=201,
                            description="Parties: `transferors` and `transferees` (each transferee with a "
                            "`share`, a string such as \"1/2\"; shares add up to 1), or the single "
                            "`transferor` and `transferee` (a share of 1). `declared_price` is required "
                            "for a transfer. `tax_payer_clause` (transfer only): `default` (the transferees "
                            "pay the registration fee, the transferors the income tax), `buyer_pays_all`, "
                            "`seller_pays_all`; one notice per payer side. A change of use names no parties "
                            "(its holders pay) and needs `new_land_type` and `old_table_price_per_m2` or "
                            "`old_land_money`. A recognition, an allocation or a lease grants land "
                            "nobody holds: no transferor; the applicants (lessees) are the "
                            "`transferee` or `transferees`, who hold the parcel on completion. "
                            "Recognition: `recognition_kind`; the land use levy on recognition and the "
                            "registration fee. Allocation: optional `infrastructure_cost_per_m2`; the "
                            "levy and the registration fee. Lease: `rent_mode` (`one_time` or "
                            "`annual`), `lease_term_years`, and for annual rent `rent_rate` (a "
                            "string such as \"0.01\"); the notice is the one-time rent or the first "
                            "year's rent (later years: the annual rent batch). Extension: "
                            "`months_extended` for a parcel with a land use term; the holders pay "
                            "the surcharge and the term moves on completion. A field of another "
                            "procedure is refused by name. See docs/procedures.md.",
                            body=dossier_request(),
                            ok_schema=_ref("Dossier"), errors=(401, 403, 422), idempotent=True),
            },
            "/dossiers/{code}": {"get": _op("One dossier with its assessment, notice, payments and events",
                                            tag="registry", ok_schema=_ref("Dossier"), params=("code",))},
            "/dossiers/{code}/complete": {"post": _op("Complete a paid dossier", tag="registry",
                                                      ok_schema=_ref("Dossier"), errors=(401, 403, 404, 409), params=("code",))},
            "/assessments": {"get": _op("Assessments of the tax officer's office (?status=pending|confirmed)", tag="tax",
                                        errors=(401, 403, 422))},
            "/assessments/{assessment_id}": {"get": _op("One assessment", tag="tax", ok_schema=_ref("Assessment"),
                                                        params=("assessment_id",))},
            "/assessments/{assessment_id}/confirm": {"post": _op("Confirm; issues the payment notice", tag="tax", ok=201,
                                                                 ok_schema=_ref("IssuedNotices"), errors=(401, 403, 404, 409),
                                                                 idempotent=True, params=("assessment_id",))},
            "/tax/assess": {"post": _op("Assess a case with the rules engine (nothing is stored); the case "
                                        "format is the rules engine's command-line format", tag="tax",
                                        body={"type": "object", "required": ["procedure"],
                                              "properties": {"procedure": {"type": "string"}}},
                                        errors=(401, 422))},
            "/notices": {"get": _op("Notices the user may see", tag="payment", errors=(401,))},
            "/notices/{code}": {"get": _op("One notice, each line explained", tag="payment", ok_schema=_ref("Notice"),
                                           params=("code",))},
            "/notices/{code}/vietqr.png": {"get": _image_op("The notice's VietQR code as a PNG image", "image/png")},
            "/notices/{code}/vietqr.svg": {"get": _image_op("The notice's VietQR code as an SVG image",
                                                            "image/svg+xml")},
            "/notices/{code}/payments": {"post": _op("Start paying a notice at the bank; returns the redirect URL",
                                                     tag="payment", ok=201, ok_schema=_ref("Payment"),
                                                     errors=(401, 403, 404, 409, 502), idempotent=True, params=("code",))},
            "/payments/{ref}": {"get": _op("A payment's state", tag="payment", ok_schema=_ref("Payment"), params=("ref",))},
            "/receipts/{number}": {"get": _op("A signed e-receipt", tag="receipt", params=("number",),
                                              ok_schema=_ref("Receipt"))},
            "/receipts/verify": {"post": _op("Verify an e-receipt with the published keys", tag="receipt", auth=False,
                                             body={"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
                                             errors=(422,))},
            "/sync/status": {"get": _op("National-portal sync completeness (administrators and supervisors)", tag="sync",
                                        ok_schema=_ref("SyncStatus"), errors=(401, 403))},
            "/sync/dead-letter": {"get": _op("Events the worker gave up sending (administrators)", tag="sync",
                                             errors=(401, 403))},
            "/sync/dead-letter/{event_id}/replay": {"post": _op(
                "Queue an event of the dead letter again (administrators)", tag="sync",
                errors=(401, 403, 404, 409), ok_schema=_ref("ReplayQueued"),
                query=[{"name": "event_id", "in": "path", "required": True, "schema": {"type": "string"}}])},
            "/openapi.json": {"get": _op("This document (OpenAPI 3.1)", tag="reference", auth=False, errors=())},
            "/docs": {"get": _op("This document as a readable HTML page", tag="reference", auth=False, errors=())},
        })),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string", "examples": ["validation_failed", "not_found", "forbidden"]},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}},
                "Me": {"type": "object", "properties": {
                    "username": {"type": "string"}, "full_name": {"type": "string"}, "role": {"type": "string"},
                    "office": {"type": ["string", "null"]},
                    "citizen_id": {"type": ["string", "null"], "description": "A landholder's own citizen id"}}},
                "SyncStatus": {"type": "object", "properties": {
                    "dossiers": {"type": "object", "properties": {"local": {"type": "integer"},
                                                                  "acknowledged": {"type": "integer"}}},
                    "events": {"type": "object", "properties": {"local": {"type": "integer"},
                                                                "acknowledged": {"type": "integer"}}},
                    "dead_letter": {"type": "integer"},
                    "oldest_unacknowledged_at": {"type": ["string", "null"], "format": "date-time"}}},
                "Token": {"type": "object", "properties": {"token": {"type": "string"},
                                                           "expires_at": {"type": "string", "format": "date-time"},
                                                           "role": {"type": "string"}}},
                **response_schemas(),
                **{name: schema for part in PARTS for name, schema in part.SCHEMAS.items()},
            },
        },
    }


def _with_parts(paths: dict) -> dict:
    """Add the operations of the API's other areas (each module of ``PARTS``)."""
    for part in PARTS:
        for path, methods in part.paths().items():
            paths.setdefault(path, {}).update(methods)
    from app.api.openapi_parts import lists

    return _with_links(_checked_input(lists.paginate(paths)))  # every list is read a page at a time


def _operation_ref(path: str, method: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


#: What an answer leads to (OpenAPI links): (path, method, status) -> {name: (path, method,
#: parameters, request body)}. A client, or a fuzzer, follows them from one answer to the
#: operations on what it made: a dossier to its assessment and notice, a notice to its payment,
#: a payment to its receipt.
LINKS: dict[tuple[str, str, str], dict[str, tuple]] = {
    ("/dossiers", "post", "201"): {
        "GetDossier": ("/dossiers/{code}", "get", {"code": "$response.body#/code"}, None),
        "GetAssessment": ("/assessments/{assessment_id}", "get",
                          {"assessment_id": "$response.body#/assessment/id"}, None),
        "ConfirmAssessment": ("/assessments/{assessment_id}/confirm", "post",
                              {"assessment_id": "$response.body#/assessment/id"}, None),
        "GetNotice": ("/notices/{code}", "get", {"code": "$response.body#/notice/code"}, None),
        "StartPayment": ("/notices/{code}/payments", "post", {"code": "$response.body#/notice/code"}, None),
        "ReturnDossier": ("/dossiers/{code}/return", "post", {"code": "$response.body#/code"}, None),
    },
    ("/dossiers/{code}", "get", "200"): {
        "GetNotice": ("/notices/{code}", "get", {"code": "$response.body#/notice/code"}, None),
        "CompleteDossier": ("/dossiers/{code}/complete", "post", {"code": "$response.body#/code"}, None),
    },
    ("/assessments/{assessment_id}", "get", "200"): {
        "ConfirmAssessment": ("/assessments/{assessment_id}/confirm", "post",
                              {"assessment_id": "$response.body#/id"}, None),
        "GetDossier": ("/dossiers/{code}", "get", {"code": "$response.body#/dossier_code"}, None),
    },
    ("/assessments/{assessment_id}/confirm", "post", "201"): {
        "GetNotice": ("/notices/{code}", "get", {"code": "$response.body#/code"}, None),
        "StartPayment": ("/notices/{code}/payments", "post", {"code": "$response.body#/code"}, None),
        "GetDossier": ("/dossiers/{code}", "get", {"code": "$response.body#/dossier_code"}, None),
    },
    ("/notices/{code}", "get", "200"): {
        "StartPayment": ("/notices/{code}/payments", "post", {"code": "$response.body#/code"}, None),
    },
    ("/notices/{code}/payments", "post", "201"): {
        "GetPayment": ("/payments/{ref}", "get", {"ref": "$response.body#/ref"}, None),
    },
    ("/payments/{ref}", "get", "200"): {
        "GetReceipt": ("/receipts/{number}", "get", {"number": "$response.body#/receipt_number"}, None),
        "GetReceiptPdf": ("/receipts/{number}.pdf", "get", {"number": "$response.body#/receipt_number"}, None),
    },
    ("/receipts/{number}", "get", "200"): {
        "VerifyReceipt": ("/receipts/verify", "post", {}, {"token": "$response.body#/token"}),
    },
}


def _with_links(paths: dict) -> dict:
    for (path, method, status), links in LINKS.items():
        answer = paths[path][method]["responses"][status]
        answer["links"] = {}
        for name, (target, target_method, parameters, body) in links.items():
            link = {"operationRef": _operation_ref(target, target_method)}
            if parameters:
                link["parameters"] = parameters
            if body:
                link["requestBody"] = body
            answer["links"][name] = link
    return paths


def _checked_input(paths: dict) -> dict:
    """Every operation with query parameters or a body is validated against this document
    (app/api/validation.py): it may answer 422, whoever described its parameters."""
    for methods in paths.values():
        for op in methods.values():
            if op.get("requestBody") or any(p["in"] == "query" for p in op.get("parameters", ())):
                if "422" not in op["responses"]:
                    op["responses"]["422"] = _error_answer(422)
                    op["responses"] = dict(sorted(op["responses"].items()))
    return paths


# Each area of the API describes its own operations: ``paths()`` (built with ``_op``),
# ``SCHEMAS`` for components and ``EXAMPLES`` as above.
from app.api.openapi_parts import decisions, money, public_pay, receipts, supervision  # noqa: E402

PARTS = (money, public_pay, receipts, supervision, decisions)
for _part in PARTS:
    EXAMPLES.update(_part.EXAMPLES)
