"""OpenAPI operations of app/api/decisions.py."""

from __future__ import annotations

_TEXT = {"type": "string", "minLength": 1, "maxLength": 2000}

#: What an adjustment may change (app/services/decisions.py, ADJUSTABLE).
_CHANGES = {
    "declared_price": {"type": "integer", "minimum": 1, "maximum": 10**15},
    "relationship": {"type": ["string", "null"], "enum": [
        None, "", "spouse", "parent_child", "parent_in_law_child_in_law", "adoptive_parent_child",
        "grandparent_grandchild", "siblings"], "description": "null or \"\" for none"},
    "sole_residence": {"type": "boolean"},
    "area_m2": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,2})?$", "maxLength": 16},
}

#: Component schemas this area adds.
SCHEMAS: dict[str, dict] = {
    "DecisionResult": {
        "type": "object", "required": ["dossier_code", "status", "event", "decisions_now"],
        "properties": {
            "dossier_code": {"type": "string"},
            "status": {"type": "string", "enum": [
                "filed", "awaiting_confirmation", "awaiting_payment", "paid", "completed",
                "returned", "rejected", "withdrawn"]},
            "event": {"type": ["object", "null"],
                      "description": "The decision's event, as sent to the national portal."},
            "decisions_now": {"type": "array", "items": {"type": "string"},
                              "description": "What the caller may decide on the dossier now."},
        },
    },
    "Adjustment": {
        "type": "object",
        "required": ["id", "dossier_code", "status", "reason", "changes", "total_before",
                     "total_after", "difference"],
        "properties": {
            "id": {"type": "integer"},
            "dossier_code": {"type": "string"},
            "status": {"type": "string", "enum": ["pending_approval", "applied", "discarded"]},
            "reason": {"type": "string"},
            "changes": {"type": "object"},
            "total_before": {"type": "integer"}, "total_after": {"type": "integer"},
            "difference": {"type": "integer"},
            "assessment_id": {"type": "integer"},
            "new_assessment_id": {"type": ["integer", "null"]},
            "new_version": {"type": ["integer", "null"]},
            "requested_by": {"type": "string"},
            "approved_by": {"type": ["string", "null"]},
            "dossier_status": {"type": "string"},
        },
    },
}

#: (path, method) -> example, as in app/api/openapi.py: the answers of the walk-through in
#: docs/decisions.md ("..." stands for what changes from run to run).
EXAMPLES: dict[tuple[str, str], dict] = {
    ("/dossiers/{code}/reject", "post"): {
        "status": 200,
        "request": {"legal_ground": "Điểm c khoản 1 Điều 37 Nghị định 101/2024/NĐ-CP",
                    "reason": "The parcel is under a court's order not to transfer it."},
        "response": {"dossier_code": "HS...", "status": "rejected", "decisions_now": [],
                     "event": {"kind": "dossier_rejected", "actor": "registry_officer",
                               "to": "rejected", "data": {
                                   "legal_ground": "Điểm c khoản 1 Điều 37 Nghị định "
                                                   "101/2024/NĐ-CP",
                                   "reason": "The parcel is under a court's order not to "
                                             "transfer it.",
                                   "notices_cancelled": "..."}}},
    },
    ("/dossiers/{code}/withdraw", "post"): {
        "status": 200,
        "request": {"reason": "The seller and I cancelled the contract."},
        "response": {"dossier_code": "HS...", "status": "withdrawn", "decisions_now": [],
                     "event": {"kind": "dossier_withdrawn", "actor": "landholder",
                               "from": "awaiting_payment", "to": "withdrawn",
                               "data": {"reason": "The seller and I cancelled the contract.",
                                        "notices_cancelled": [{"notice_code": "TB...",
                                                               "total": "...", "paid": 0}]}}},
    },
    ("/dossiers/{code}/return", "post"): {
        "status": 200,
        "request": {"missing": "Notarised copy of the sale contract",
                    "reason": "The copy filed is not notarised."},
        "response": {"dossier_code": "HS...", "status": "returned",
                     "decisions_now": ["supply_papers", "reject"],
                     "event": {"kind": "dossier_returned", "actor": "registry_officer",
                               "from": "awaiting_payment", "to": "returned",
                               "data": {"return_id": "...",
                                        "missing": "Notarised copy of the sale contract",
                                        "reason": "The copy filed is not notarised."}}},
    },
    ("/dossiers/{code}/papers", "post"): {
        "status": 200,
        "request": {"note": "Notarised contract handed in at the counter, 3 pages."},
        "response": {"dossier_code": "HS...", "status": "awaiting_payment",
                     "decisions_now": ["return", "reject"],
                     "event": {"kind": "papers_supplied", "actor": "registry_officer",
                               "from": "returned", "to": "awaiting_payment",
                               "data": {"how": "officer_record",
                                        "missing": "Notarised copy of the sale contract",
                                        "note": "Notarised contract handed in at the counter, "
                                                "3 pages."}}},
    },
    ("/assessments/{assessment_id}/adjust", "post"): {
        "status": 201,
        "request": {"changes": {"declared_price": 101000000000},
                    "reason": "Declared price below the comparable sales of the street."},
        "response": {"id": "...", "dossier_code": "HS...", "status": "applied",
                     "reason": "Declared price below the comparable sales of the street.",
                     "changes": {"declared_price": 101000000000}, "difference": "...",
                     "new_version": 2, "requested_by": "tax", "approved_by": None,
                     "dossier_status": "awaiting_payment"},
    },
    ("/adjustments/{adjustment_id}/approve", "post"): {
        "status": 403,
        "request": {"reason": "Looks right to me."},
        "response": {"error": {"code": "forbidden", "message": "..."}},
    },
}


def paths() -> dict:
    from app.api.openapi import _op, _ref

    def decision(summary, body, description, *, errors=(401, 403, 404, 409, 422)):
        return _op(summary, tag="decisions", params=("code",), body=body,
                   ok_schema=_ref("DecisionResult"), errors=errors, description=description)

    papers = decision(
        "Supply the missing paper: a landholder uploads it, a registry officer records it",
        {"type": "object", "additionalProperties": False, "properties": {"note": _TEXT}},
        "A landholder of the dossier sends multipart/form-data with `file` (PDF, PNG or JPEG, "
        "recognised by its content; at most DECISIONS_PAPER_MAX_BYTES) and an optional `note`; "
        "a registry officer sends JSON `{\"note\": ...}` saying what was handed in. The dossier "
        "resumes the state it was returned from (event `papers_supplied`).",
        errors=(401, 403, 404, 409, 413, 422))
    papers["requestBody"]["content"]["multipart/form-data"] = {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}, "note": _TEXT}}}
    return {
        "/dossiers/{code}/reject": {"post": decision(
            "Reject a dossier on a legal ground (registry officer)",
            {"type": "object", "required": ["legal_ground", "reason"], "additionalProperties": False,
             "properties": {"legal_ground": _TEXT, "reason": _TEXT}},
            "The dossier ends (`rejected`): its notices are cancelled, everything paid is "
            "refunded through the bank, and the parcel is free for a new dossier.")},
        "/dossiers/{code}/withdraw": {"post": decision(
            "Withdraw a dossier before completion (a landholder of the dossier)",
            {"type": "object", "required": ["reason"], "additionalProperties": False,
             "properties": {"reason": _TEXT}},
            "The dossier ends (`withdrawn`), with the same consequences as a rejection.")},
        "/dossiers/{code}/return": {"post": decision(
            "Return a dossier for a missing paper (registry officer)",
            {"type": "object", "required": ["missing", "reason"], "additionalProperties": False,
             "properties": {"missing": _TEXT, "reason": _TEXT}},
            "The dossier waits (`returned`) for the paper; the agency's clock pauses "
            "(event `dossier_returned`).")},
        "/dossiers/{code}/papers": {"post": papers},
        "/assessments/{assessment_id}/adjust": {"post": _op(
            "Adjust an assessment with a written reason (tax officer)", tag="decisions",
            params=("assessment_id",), ok=201, ok_schema=_ref("Adjustment"),
            errors=(401, 403, 404, 409, 422),
            description="The rules engine reassesses the case with the changes; the assessment "
            "gets a new version (the old one kept). Issued notices are replaced by corrected "
            "ones: what was paid counts toward the new amounts, what is left is an additional "
            "notice, any excess is refunded. A change of the total above "
            "DECISIONS_APPROVAL_ABOVE dong waits (`pending_approval`) for another tax officer.",
            body={"type": "object", "required": ["changes", "reason"], "additionalProperties": False,
                  # Errors name a change by its own name, as the adjustment form does.
                  "x-field-names": {f"changes.{name}": name for name in _CHANGES},
                  "properties": {
                      "changes": {"type": "object", "minProperties": 1, "properties": _CHANGES,
                                  "additionalProperties": False},
                      "reason": _TEXT}})},
        "/adjustments/{adjustment_id}/approve": {"post": _op(
            "Approve another tax officer's adjustment (four eyes)", tag="decisions",
            params=("adjustment_id",), ok_schema=_ref("Adjustment"),
            errors=(401, 403, 404, 409, 422),
            description="The officer who asked for the adjustment cannot approve it (403).",
            body={"type": "object", "required": ["reason"], "additionalProperties": False,
                  "properties": {"reason": _TEXT}})},
    }
