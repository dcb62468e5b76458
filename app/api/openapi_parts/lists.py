"""The OpenAPI description of the API's lists: each is read a page at a time (``limit``,
``cursor``), with its own filters; each answer carries ``next_cursor`` and, when there is a
next page, a ``Link`` header (app/services/pages.py, app/services/lists.py).

``paginate(paths)`` adds this to the list operations the other parts describe, so each part
keeps describing its items and the paging is described once, here."""

from __future__ import annotations

from app.models import DossierStatus
from app.services.pages import MAX_LIMIT

_DATE = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}

#: Every parameter a list may take.
PARAMETERS: dict[str, dict] = {
    "limit": {"description": f"How many items a page holds, 1 to {MAX_LIMIT} (default 50).",
              "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}},
    "cursor": {"description": "Where the page starts: the `next_cursor` of the page before (opaque; "
                              "a cursor of another list, or one that was altered, is refused with 422 "
                              "naming `cursor`). Leave it out for the first page. Keep the other "
                              "parameters as they were for the first page.",
               "schema": {"type": "string", "minLength": 1, "maxLength": 400, "pattern": "^[A-Za-z0-9_-]+$"}},
    "from": {"description": "Only items of this day or later (Vietnam time).", "schema": _DATE},
    "to": {"description": "Only items of this day or earlier (Vietnam time).", "schema": _DATE},
    "code": {"description": "Only the item of this code.",
             "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,30}$"}},
    "citizen_id": {"description": "Only items of the party with this citizen id.",
                   "schema": {"type": "string", "pattern": "^[0-9]{12}$"}},
    "parcel": {"description": "Only items of this parcel: its id, or its map sheet and number such as `10/101`.",
               "schema": {"type": "string", "pattern": "^([0-9]{1,10}|[^/\\s]{1,20}\\s*/\\s*[^/\\s]{1,20})$"}},
}

#: The list operations: (path, the filters it takes beyond ``limit`` and ``cursor``, the
#: statuses it filters on (None: it has no status filter), what each filter means there).
LISTS: dict[str, dict] = {
    "/dossiers": {"filters": ("from", "to", "code", "citizen_id", "parcel"),
                  "item": {"type": "object", "required": ["code", "status", "filed_at", "due_on"], "properties": {
                      "code": {"type": "string"},
                      "status": {"type": "string", "enum": [s.value for s in DossierStatus]},
                      "filed_at": {"type": "string", "format": "date-time"},
                      "due_on": {"type": "string", "format": "date"}}},
                  "status": [s.value for s in DossierStatus],
                  "order": "newest first (time of filing, then id)",
                  "means": {"from": "Only dossiers filed on this day or later (Vietnam time).",
                            "to": "Only dossiers filed on this day or earlier (Vietnam time).",
                            "code": "Only the dossier of this code.",
                            "citizen_id": "Only dossiers with a party of this citizen id."}},
    "/assessments": {"filters": ("from", "to", "code", "citizen_id", "parcel"),
                     "item": {"$ref": "#/components/schemas/Assessment"},
                     "status": ["pending", "confirmed", "superseded"],
                     "order": "oldest first (time of assessment, then id): the order of the queue",
                     "means": {"from": "Only assessments made on this day or later (Vietnam time).",
                               "to": "Only assessments made on this day or earlier (Vietnam time).",
                               "code": "Only the assessments of the dossier of this code.",
                               "citizen_id": "Only assessments of dossiers with a party of this citizen id."}},
    "/notices": {"filters": ("from", "to", "code", "citizen_id"),
                 "item": {"$ref": "#/components/schemas/Notice"},
                 "status": ["unpaid", "paid", "cancelled"],
                 "order": "newest first (time of issue, then id)",
                 "means": {"from": "Only notices issued on this day or later (Vietnam time).",
                           "to": "Only notices issued on this day or earlier (Vietnam time).",
                           "code": "Only the notice of this code.",
                           "citizen_id": "Only notices naming the party of this citizen id as payer."}},
    "/parcels": {"filters": (), "status": None, "item": {"type": "object"}, "order": "by id (without `q`; a search answers at most 20)"},
    "/reconciliation/items": {"filters": ("from", "to", "code"), "status": None,
                              "item": {"$ref": "#/components/schemas/ReconciliationItem"},
                              "order": "newest first (id)",
                              "means": {"from": "Only items opened on this day or later (Vietnam time).",
                                        "to": "Only items opened on this day or earlier (Vietnam time).",
                                        "code": "Only items of the notice of this code."}},
    "/sync/dead-letter": {"filters": (), "status": None, "order": "oldest first",
                          "item": {"type": "object", "required": ["event_id", "attempts", "created_at"], "properties": {
                              "event_id": {"type": "string"}, "dossier_code": {"type": ["string", "null"]},
                              "kind": {"type": ["string", "null"]}, "attempts": {"type": "integer"},
                              "last_error": {"type": ["string", "null"]},
                              "created_at": {"type": "string", "format": "date-time"}}}},
}

NEXT_CURSOR = {"type": ["string", "null"],
               "description": "The `cursor` of the next page; null on the last page."}
LINK = {"description": "`<...>; rel=\"next\"`: the next page's address (absent on the last page).",
        "schema": {"type": "string"}}


def _parameter(name: str, spec: dict) -> dict:
    param = {"name": name, "in": "query", "required": False, **PARAMETERS[name]}
    if name in spec.get("means", {}):
        param["description"] = spec["means"][name]
    return param


def paginate(paths: dict) -> dict:
    """Add paging and the filters to each list operation of ``paths``."""
    for path, spec in LISTS.items():
        op = paths.get(path, {}).get("get")
        if op is None:
            continue
        params = op.setdefault("parameters", [])
        names = {p["name"] for p in params}
        for name in ("limit", "cursor", *spec["filters"]):
            if name not in names:
                params.append(_parameter(name, spec))
        if spec["status"] is not None:
            status = next((p for p in params if p["name"] == "status"), None)
            if status is None:
                params.append({"name": "status", "in": "query", "required": False,
                               "description": "Only items in this state.",
                               "schema": {"type": "string", "enum": spec["status"]}})
            else:
                status["schema"] = {**status["schema"], "enum": spec["status"]}
        op["description"] = (op.get("description", "") + " " if op.get("description") else "") + (
            f"A page at a time, {spec['order']}: the answer's `next_cursor` (null on the last "
            "page) is the `cursor` of the next page, whose address is also in the `Link` header. "
            "A bad `limit`, `cursor` or filter is refused with 422 naming it.")
        ok = op["responses"]["200"]
        ok.setdefault("headers", {})["Link"] = LINK
        media = ok.setdefault("content", {}).setdefault("application/json", {})
        schema = media.get("schema")
        if schema is None or "properties" not in schema:
            schema = {"type": "object", "properties": {"items": {"type": "array", "items": spec["item"]}}}
        media["schema"] = {**schema, "required": sorted({*schema.get("required", ()), "items", "next_cursor"}),
                           "properties": {**schema["properties"], "next_cursor": NEXT_CURSOR}}
    return paths
