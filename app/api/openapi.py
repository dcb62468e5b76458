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
                               "..."]},
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
        "response": {"items": [{"code": "HS...", "status": "paid", "filed_at": "...", "due_on": "..."}, "..."]},
    },
    ("/dossiers/{code}/complete", "post"): {
        "status": 200,
        "response": {"code": "HS...", "status": "completed", "completed_at": "...", "...": "..."},
    },
    ("/assessments", "get"): {
        "status": 200,
        "response": {"items": [{"id": "...", "dossier_code": "HS...", "status": "pending", "total": 1500000000,
                                "...": "..."}, "..."]},
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
                                "...": "..."}, "..."]},
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
    ("/sync/dead-letter", "get"): {"status": 200, "response": {"items": []}},
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


def _op(summary, *, tag, auth=True, body=None, ok=200, ok_schema=None, errors=(401, 403, 404), params=(),
        query=(), description=None, idempotent=False):
    if idempotent:
        errors = tuple(sorted({*errors, 409, 422}))
    responses = {str(ok): {"description": "OK"}}
    if ok_schema:
        responses[str(ok)]["content"] = {"application/json": {"schema": ok_schema}}
    for code in errors:
        responses[str(code)] = {"description": "Error", "content": {"application/json": {"schema": ERROR}}}
    op = {"summary": summary, "tags": [tag], "responses": responses}
    if description:
        op["description"] = description
    if not auth:
        op["security"] = []
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "integer" if p.endswith("id") else "string"}}
            for p in params
        ]
    if query:
        op.setdefault("parameters", []).extend(query)
    if idempotent:
        op.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
    return op


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


def document() -> dict:
    party = {"type": "object", "required": ["full_name", "citizen_id"], "properties": {
        "full_name": {"type": "string", "maxLength": 200},
        "citizen_id": {"type": "string", "pattern": "^[0-9]{12}$"}}}
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
                                    body={"type": "object", "required": ["username", "password"], "properties": {
                                        "username": {"type": "string"}, "password": {"type": "string"}}},
                                    ok_schema=_ref("Token"), errors=(401, 422))},
            "/tokens/current": {"delete": _op("Revoke the token in use", tag="auth", ok=204, errors=(401,))},
            "/me": {"get": _op("The authenticated user", tag="auth", errors=(401,), ok_schema=_ref("Me"),
                               description="A landholder also gets their own citizen id (the one a "
                               "registry officer files a dossier with); officers and admins get null.")},
            "/parcels": {"get": _op("Parcels of the registry officer's office", tag="registry")},
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
                            body={"type": "object", "required": ["parcel_id"],
                                  "examples": list(PROCEDURE_EXAMPLES.values()),
                                  "properties": {"parcel_id": {"type": "integer"}, "transferor": party, "transferee": party,
                                                 "procedure": {"type": "string", "enum": [
                                                     "transfer", "gift", "inheritance", "change_of_use",
                                                     "recognition", "allocation", "lease", "extension"],
                                                     "default": "transfer"},
                                                 "recognition_kind": {"type": "string", "enum": sorted(
                                                     RECOGNITION_KINDS)},
                                                 "infrastructure_cost_per_m2": {"type": "integer", "minimum": 0},
                                                 "rent_mode": {"type": "string", "enum": sorted(LEASES)},
                                                 "lease_term_years": {"type": "integer", "minimum": 1,
                                                                      "maximum": MAX_LEASE_YEARS},
                                                 "rent_rate": {"type": "string",
                                                               "pattern": "^(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)$"},
                                                 "months_extended": {"type": "integer", "minimum": 1},
                                                 "transferors": {"type": "array", "items": party, "minItems": 1,
                                                                 "maxItems": 20},
                                                 "transferees": {"type": "array", "minItems": 1, "maxItems": 20,
                                                                 "items": {"allOf": [party, {"type": "object", "properties": {
                                                                     "share": {"type": "string", "pattern": "^[0-9./ ]+$"}}}]}},
                                                 "tax_payer_clause": {"type": "string", "enum": [
                                                     "default", "buyer_pays_all", "seller_pays_all"], "default": "default"},
                                                 "new_land_type": {"type": "string", "enum": sorted(LAND_TYPES)},
                                                 "old_table_price_per_m2": {"type": "integer", "minimum": 0},
                                                 "old_land_money": {"type": "integer", "minimum": 0},
                                                 "declared_price": {"type": "integer", "minimum": 1},
                                                 "relationship": {"type": ["string", "null"], "enum": [
                                                     None, "spouse", "parent_child", "parent_in_law_child_in_law", "adoptive_parent_child",
                                                     "grandparent_grandchild", "siblings"]},
                                                 "sole_residence": {"type": "boolean"}}},
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
                                                                 ok_schema=_ref("Notice"), errors=(401, 403, 404, 409),
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
            "/receipts/{number}": {"get": _op("A signed e-receipt", tag="receipt", params=("number",))},
            "/receipts/verify": {"post": _op("Verify an e-receipt with the published keys", tag="receipt", auth=False,
                                             body={"type": "object", "required": ["token"], "properties": {"token": {"type": "string"}}},
                                             errors=(422,))},
            "/sync/status": {"get": _op("National-portal sync completeness (administrators and supervisors)", tag="sync",
                                        ok_schema=_ref("SyncStatus"), errors=(401, 403))},
            "/sync/dead-letter": {"get": _op("Events the worker gave up sending (administrators)", tag="sync",
                                             errors=(401, 403))},
            "/sync/dead-letter/{event_id}/replay": {"post": _op(
                "Queue an event of the dead letter again (administrators)", tag="sync",
                errors=(401, 403, 404, 409),
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
                "Line": {"type": "object", "properties": {
                    "obligation": {"type": "string"}, "base": {"type": "integer"}, "rate": {"type": "string"},
                    "amount": {"type": "integer"}, "legal_basis": {"type": "string"},
                    "explanation": {"type": "object", "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}}}},
                "Installment": {"type": "object", "required": ["due_on", "amount"], "properties": {
                    "due_on": {"type": ["string", "null"], "format": "date"},
                    "amount": {"type": "integer"}}},
                "NoticeLine": {"allOf": [_ref("Line"), {"type": "object", "properties": {
                    "paid": {"type": "integer"}, "refunded": {"type": "integer"},
                    "outstanding": {"type": "integer"},
                    "due_on": {"type": ["string", "null"], "format": "date",
                               "description": "The line's last instalment date; null when nothing is due"},
                    "installments": {"type": "array", "items": _ref("Installment"),
                                     "description": "When the line falls due, dated from the notice's issue "
                                     "date by the tax rules; the amounts add up to the line's amount"}}}]},
                "Notice": {"type": "object", "properties": {
                    "code": {"type": "string"},
                    "dossier_code": {"type": ["string", "null"],
                                     "description": "null for an annual non-agricultural land use tax notice"},
                    "annual": {"oneOf": [{"type": "object", "properties": {
                        "tax_year": {"type": "integer"}, "parcel": {"type": "object"}}}, {"type": "null"}],
                        "description": "For an annual non-agricultural land use tax notice (no dossier): "
                        "its tax year and parcel"},
                    "status": {"type": "string", "enum": ["unpaid", "paid", "cancelled"]}, "total": {"type": "integer"},
                    "outstanding": {"type": "integer"},
                    "due_on": {"type": ["string", "null"], "format": "date",
                               "description": "Due by: the first date a part of the notice falls due; "
                               "null when nothing is due"},
                    "vietqr": {"oneOf": [_ref("VietQR"), {"type": "null"}],
                               "description": "While the notice is unpaid and an amount is outstanding: "
                               "a VietQR transfer code to the treasury collection account; null otherwise"},
                    "lines": {"type": "array", "items": _ref("NoticeLine")}}},
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
                    "text": {"type": "object", "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}}}},
                "Assessment": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "dossier_code": {"type": "string"},
                    "status": {"type": "string", "enum": ["pending", "confirmed"]}, "total": {"type": "integer"},
                    "valid_on": {"type": "string", "format": "date"}, "price_table_version": {"type": "string"},
                    "rule_versions": {"type": "object"},
                    "review_reasons": {"type": "array", "items": _ref("ReviewReason"),
                                       "description": "Why it waits for a tax officer: the tax rules' reasons, "
                                       "then the tax office's policy; empty when it was confirmed at once"},
                    "auto_confirmed": {"type": "boolean"},
                    "confirmed_at": {"type": ["string", "null"], "format": "date-time"},
                    "lines": {"type": "array", "items": _ref("Line")}}},
                "Payment": {"type": "object", "properties": {
                    "ref": {"type": "string"}, "amount": {"type": "integer"},
                    "status": {"type": "string", "enum": ["created", "started", "succeeded", "failed", "expired"]},
                    "bank_ref": {"type": ["string", "null"]}, "redirect_url": {"type": "string"},
                    "receipt_number": {"type": ["string", "null"]}}},
                "Dossier": {"type": "object", "properties": {
                    "code": {"type": "string"},
                    "status": {"type": "string", "enum": ["filed", "awaiting_confirmation", "awaiting_payment", "paid", "completed", "returned", "rejected", "withdrawn"]},
                    "due_on": {"type": "string", "format": "date"}, "declared_price": {"type": "integer"},
                    "assessment": {"oneOf": [_ref("Assessment"), {"type": "null"}]},
                    "notice": {"oneOf": [_ref("Notice"), {"type": "null"}]},
                    "events": {"type": "array", "items": {"type": "object"}}}},
                **{name: schema for part in PARTS for name, schema in part.SCHEMAS.items()},
            },
        },
    }


def _with_parts(paths: dict) -> dict:
    """Add the operations of the API's other areas (each module of ``PARTS``)."""
    for part in PARTS:
        for path, methods in part.paths().items():
            paths.setdefault(path, {}).update(methods)
    return paths


# Each area of the API describes its own operations: ``paths()`` (built with ``_op``),
# ``SCHEMAS`` for components and ``EXAMPLES`` as above.
from app.api.openapi_parts import decisions, money, public_pay, receipts, supervision  # noqa: E402

PARTS = (money, public_pay, receipts, supervision, decisions)
for _part in PARTS:
    EXAMPLES.update(_part.EXAMPLES)
