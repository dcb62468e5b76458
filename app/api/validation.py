"""Every API request is checked against the OpenAPI document before its view runs.

The document (``app.api.openapi.document``) is the one description of what the API takes: the
operation is found by the request's URL rule and method, its query and header parameters and
its JSON body are validated with ``jsonschema`` against the operation's schemas, and every
problem comes back at once in the API's one error shape (422 ``validation_failed``, ``fields``
keyed by the path of the value in the body, ``transferees[0].citizen_id``, or by the name of
the parameter), in the client's language. Nothing is coerced: ``"yes"`` is not a boolean and
``"12"`` is not a number in a JSON body. A query string is text: a parameter documented as an
integer must be written in ASCII digits.

Checks of meaning (does the parcel exist, is the citizen id the holder's, may this state
change) stay in the services; the schema covers shape, type, bounds and format.

A view that authenticates (``api_auth``) runs the check after authentication, so a caller
without a token learns 401 before anything about the body; a public view is checked in the
blueprint's ``before_request``.
"""

from __future__ import annotations

import re
from functools import cache

from flask import g, request
from flask_babel import gettext as _
from jsonschema import Draft202012Validator, ValidationError, validators

from app.errors import ValidationFailed

#: The blueprint's URL prefix, which the document's ``servers`` entry carries instead.
PREFIX = "/api/v1"


@cache
def _compiled(pattern: str) -> re.Pattern:
    """A schema pattern as ECMA-262 reads it: ``$`` is the end of the text (Python's ``$`` also
    matches before a final newline). ``[0-9]`` is ASCII digits in both; full-width digits
    never match it."""
    return re.compile(re.sub(r"(?<!\\)\$$", r"\\Z", pattern))


def _pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not _compiled(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _strict_integer(checker, instance) -> bool:
    """An integer is a JSON integer: neither ``true`` nor ``1.0``."""
    return isinstance(instance, int) and not isinstance(instance, bool)


#: Draft 2020-12 with strict integers and ECMA-262 end anchors.
StrictValidator = validators.extend(
    Draft202012Validator,
    {"pattern": _pattern},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer),
)


def rule_path(rule: str) -> str:
    """The document's path of a Flask URL rule: ``/api/v1/assessments/<int(max=...):id>`` ->
    ``/assessments/{id}``."""
    if rule.startswith(PREFIX):
        rule = rule[len(PREFIX):]
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule)


@cache
def _document() -> dict:
    from app.api.openapi import document

    return document()


@cache
def _validator(pointer: tuple) -> StrictValidator:
    """A validator of the schema at ``pointer`` in the document; its ``$ref``s resolve
    against the document's components."""
    node = _document()
    for key in pointer:
        node = node[key]
    return StrictValidator({**node, "components": _document()["components"]})


def operation(rule: str, method: str) -> dict | None:
    return _document()["paths"].get(rule_path(rule), {}).get(method.lower())


def _field(path) -> str:
    """``("transferees", 0, "citizen_id")`` -> ``transferees[0].citizen_id``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


_TYPE_MESSAGES = {
    "integer": lambda: _("Must be a whole number."),
    "boolean": lambda: _("Must be true or false."),
    "string": lambda: _("Must be text."),
    "number": lambda: _("Must be a number."),
    "array": lambda: _("Must be a list."),
    "object": lambda: _("Must be an object."),
}


def _problems(error: ValidationError, prefix: str) -> list[tuple[str, str]]:
    """(field, message) pairs for one schema error, in the client's language."""
    field = _join(prefix, _field(error.absolute_path)) if prefix else _field(error.absolute_path)
    kind, value = error.validator, error.validator_value
    if kind == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        return [(_join(field, name), _("Required.")) for name in value if name not in present]
    if kind in ("additionalProperties", "unevaluatedProperties"):
        known = error.schema.get("properties", {})
        extra = [name for name in error.instance if name not in known] if isinstance(error.instance, dict) else []
        return [(_join(field, str(name)), _("Unknown field.")) for name in extra] or [(field, _("Invalid input."))]
    if kind == "type":
        types = value if isinstance(value, list) else [value]
        if "null" in types and len(types) == 2:
            other = next(t for t in types if t != "null")
            message = _("Must be a string or null.") if other == "string" else _TYPE_MESSAGES[other]()
        else:
            message = _TYPE_MESSAGES.get(types[0], lambda: _("Invalid input."))()
        return [(field, message)]
    if kind in ("enum", "const"):
        return [(field, _("Choose from the list."))]
    if kind == "pattern":
        return [(field, _("Not in the expected format."))]
    if kind in ("minimum", "exclusiveMinimum"):
        return [(field, _("Must be at least %(n)s.", n=value + (1 if kind == "exclusiveMinimum" else 0)))]
    if kind in ("maximum", "exclusiveMaximum"):
        return [(field, _("Must be at most %(n)s.", n=value - (1 if kind == "exclusiveMaximum" else 0)))]
    if kind == "minLength":
        return [(field, _("Required.") if value == 1 else _("At least %(n)s characters.", n=value))]
    if kind == "maxLength":
        return [(field, _("At most %(n)s characters.", n=value))]
    if kind in ("minItems", "maxItems"):
        low = error.schema.get("minItems", 0)
        high = error.schema.get("maxItems")
        if high is None:
            return [(field, _("Give at least %(n)s.", n=low))]
        return [(field, _("Give %(low)s to %(high)s items.", low=low, high=high))]
    if kind == "minProperties":
        return [(field, _("Required."))]
    return [(field, _("Invalid input."))]


def _collect(errors, names: dict[str, str]) -> dict[str, str]:
    """The fields and their messages; ``names`` (the body schema's ``x-field-names``) renames
    a path to the name the use case gives the same field in its own errors (the single
    party of a dossier is ``transferee_citizen_id``, as on the filing form)."""
    fields: dict[str, str] = {}
    for error in sorted(errors, key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path)))):
        for field, message in _problems(error, ""):
            fields.setdefault(names.get(field, field), message)
    return fields


def _parameter_value(raw: str, schema: dict):
    """A query or header value as the type its schema names; a value that cannot be read as
    that type is returned as the text, and the schema refuses it."""
    types = schema.get("type")
    types = types if isinstance(types, list) else [types]
    if "integer" in types and re.fullmatch(r"-?[0-9]{1,20}", raw):
        return int(raw)
    if "number" in types and re.fullmatch(r"-?[0-9]{1,20}(\.[0-9]{1,20})?", raw):
        return float(raw) if "." in raw else int(raw)
    if "boolean" in types and raw in ("true", "false"):
        return raw == "true"
    return raw


def check_request() -> None:
    """Validate the request against its operation in the document; raise ``ValidationFailed``
    naming every wrong field. Runs once per request."""
    if g.get("api_request_checked") or request.url_rule is None:
        return
    g.api_request_checked = True
    path = rule_path(request.url_rule.rule)
    method = request.method.lower()
    op = _document()["paths"].get(path, {}).get(method)
    if op is None:
        return
    fields: dict[str, str] = {}
    for index, param in enumerate(op.get("parameters", ())):
        source = {"query": request.args, "header": request.headers}.get(param["in"])
        if source is None:
            continue
        name = param["name"]
        values = source.getlist(name) if param["in"] == "query" else (
            [source[name]] if name in source else [])
        if not values:
            if param.get("required"):
                fields[name] = _("Required.")
            continue
        validator = _validator(("paths", path, method, "parameters", index, "schema"))
        for raw in values:
            for error in validator.iter_errors(_parameter_value(raw, param["schema"])):
                for _field_name, message in _problems(error, ""):
                    fields.setdefault(name, message)
    body = (op.get("requestBody") or {}).get("content", {}).get("application/json")
    if body is not None and request.is_json:
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # absurdly deep nesting: the view answers as for any bad body
            data = None
        if data is not None:
            validator = _validator(("paths", path, method, "requestBody", "content", "application/json",
                                    "schema"))
            errors = list(validator.iter_errors(data))
            if any(not e.absolute_path and e.validator == "type" for e in errors):
                raise ValidationFailed(_("The request body must be a JSON object."))
            names = body["schema"].get("x-field-names", {})
            fields.update({k: v for k, v in _collect(errors, names).items() if k not in fields})
    if fields:
        raise ValidationFailed(_("Invalid input."), fields=fields)


def check_public_request() -> None:
    """The blueprint's ``before_request``: validate a view that does not authenticate now (an
    authenticating view validates after ``api_auth``)."""
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "api_authenticates", False):
        return
    check_request()
