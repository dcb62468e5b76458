"""OpenAPI operations of app/api/supervision.py."""

from __future__ import annotations

_COUNTS = {
    "type": "object",
    "required": ["finished", "on_time", "late", "on_time_rate", "open", "open_overdue"],
    "properties": {
        "finished": {"type": "integer", "description": "Steps finished"},
        "on_time": {"type": "integer"},
        "late": {"type": "integer"},
        "on_time_rate": {"type": ["number", "null"], "description": "on_time / finished, 4 decimals"},
        "open": {"type": "integer", "description": "Steps still running or paused"},
        "open_overdue": {"type": "integer"},
    },
}
_PORTAL_ROW = {"type": ["object", "null"], "properties": {
    "procedure": {"type": "string"}, "dossiers": {"type": "integer"},
    "completed": {"type": "integer"}, "on_time": {"type": "integer"},
    "on_time_rate": {"type": ["number", "null"]}}}

#: Component schemas this area adds.
SCHEMAS: dict[str, dict] = {
    "SupervisionFigures": {
        "type": "object",
        "required": ["generated_at", "filters", "by", "total", "portal_comparison", "sync"],
        "properties": {
            "generated_at": {"type": "string", "format": "date-time"},
            "filters": {"type": "object", "properties": {
                k: {"type": ["string", "null"]} for k in ("agency", "procedure", "office", "period")}},
            "by": {"type": "object", "description": "Counts per agency, procedure, office and period "
                   "(the month a step finished, Vietnam time)",
                   "properties": {k: {"type": "array", "items": {
                       **_COUNTS, "required": [k, *_COUNTS["required"]],
                       "properties": {k: {"type": "string"}, **_COUNTS["properties"]}}}
                                  for k in ("agency", "procedure", "office", "period")}},
            "total": _COUNTS,
            "portal_comparison": {"type": "object", "properties": {
                "available": {"type": "boolean"},
                "procedures": {"type": "array", "items": {"type": "object", "properties": {
                    "procedure": {"type": "string"}, "ours": _PORTAL_ROW, "portal": _PORTAL_ROW,
                    "agree": {"type": "boolean"}}}}}},
            "sync": {"type": ["object", "null"], "description": "As GET /sync/status"},
            "steps": {"type": "array", "description": "With steps=1: one row per dossier step",
                      "items": {"type": "object"}},
        },
    },
}

#: (path, method) -> example, as in app/api/openapi.py.
EXAMPLES: dict[tuple[str, str], dict] = {
    ("/supervision/figures", "get"): {
        "status": 200,
        "response": {
            "generated_at": "...",
            "filters": {"agency": None, "procedure": None, "office": None, "period": None},
            "by": {"agency": [{"agency": "registry", "...": "..."},
                              {"agency": "tax", "...": "..."}], "...": "..."},
            "total": {"finished": "...", "on_time": "...", "...": "..."},
            "portal_comparison": {"available": "...", "procedures": "..."},
            "sync": {"dossiers": {"local": "...", "acknowledged": "..."}, "...": "..."},
        },
    },
}


def paths() -> dict:
    from app.api.openapi import _op, _ref

    query = [{"name": name, "in": "query", "required": False, "schema": schema, "description": text}
             for name, schema, text in (
                 ("agency", {"type": "string", "enum": ["registry", "tax"]}, "One agency"),
                 ("procedure", {"type": "string"}, "One procedure"),
                 ("office", {"type": "string"}, "One office, by code"),
                 ("period", {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                  "The month the steps finished in"),
                 ("steps", {"type": "string", "enum": ["1"]}, "Add the step rows"))]
    return {
        "/supervision/figures": {"get": _op(
            "On-time figures per agency, procedure, office and month (supervisors, administrators)",
            tag="supervision", ok_schema=_ref("SupervisionFigures"), errors=(401, 403),
            query=query,
            description="Computed at the time of the request from the recorded events; the "
                        "landholder's time is not counted against the agencies. The national "
                        "portal's own figures stand beside ours (`portal_comparison`), with the "
                        "sync completeness (`sync`).")},
    }
