"""Every answer of the JSON API in the tests is checked against the OpenAPI document.

``SchemaCheckingClient`` is the Flask test client of the test apps (tests/conftest.py): each
answer to a request under ``/api/v1/`` must have a status the operation documents, and a JSON
body must validate against the schema documented for that status. The schemas are read
closed: an object schema that lists its properties allows no other, so a field the document
does not describe fails the test as a wrong type would. A path the API does not have answers
the error shape; a method it does not allow, the error shape with ``Allow``.
"""

from __future__ import annotations

import copy
from functools import cache

from flask.testing import FlaskClient

PREFIX = "/api/v1"


def closed(schema):
    """A copy of ``schema`` in which every object schema that lists ``properties`` and says
    nothing about others allows no other property."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: closed(value) if key not in ("example", "examples", "default", "const", "enum") else value
           for key, value in schema.items()}
    if "properties" in schema and not {"additionalProperties", "unevaluatedProperties"} & schema.keys():
        out["additionalProperties"] = False
    return out


@cache
def closed_document() -> dict:
    """The API's OpenAPI document with every described object closed (for the tests)."""
    from app.api.openapi import document

    doc = copy.deepcopy(document())
    doc["components"] = closed(doc["components"])
    for methods in doc["paths"].values():
        for op in methods.values():
            for answer in op["responses"].values():
                for media in answer.get("content", {}).values():
                    if "schema" in media:
                        media["schema"] = closed(media["schema"])
    return doc


@cache
def _validator(path: str, method: str, status: str, media_type: str):
    from jsonschema import Draft202012Validator

    from app.api.validation import StrictValidator

    doc = closed_document()
    if path is None:
        schema = {"$ref": "#/components/schemas/Error"}
    else:
        schema = doc["paths"][path][method]["responses"][status]["content"][media_type]["schema"]
    return StrictValidator({**schema, "components": doc["components"]},
                           format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(app, method: str, url_path: str, response) -> list[str]:
    """What is wrong with ``response`` to ``method url_path`` by the document; empty if
    nothing."""
    from werkzeug.exceptions import MethodNotAllowed, NotFound

    from app.api.validation import rule_path

    method = method.lower()
    try:
        rule, _args = app.url_map.bind("localhost").match(url_path, method.upper(), return_rule=True)
    except MethodNotAllowed:
        if response.status_code != 405:
            return [f"{response.status_code} for a method the path does not allow"]
        found = [] if response.headers.get("Allow") else ["405 without an Allow header"]
        return found + _body_problems(_validator(None, None, None, None), response)
    except NotFound:
        return _body_problems(_validator(None, None, None, None), response) if response.is_json else [
            "a path the API does not have answered without the error shape"]
    if method == "head":
        return []
    path = rule_path(rule.rule)
    op = closed_document()["paths"].get(path, {}).get(method)
    if op is None:
        return [f"{method.upper()} {path} is not in the document"]
    status = str(response.status_code)
    answer = op["responses"].get(status)
    if answer is None:
        return [f"{method.upper()} {path} answered {status}, which the document does not list "
                f"({', '.join(op['responses'])}): {response.get_data(as_text=True)[:300]}"]
    content = answer.get("content", {})
    if not content:
        return [f"{status} has a body the document does not describe"] if response.get_data() else []
    media_type = response.mimetype
    if media_type not in content:
        return [f"{status} answered {media_type}, the document says {', '.join(content)}"]
    if media_type != "application/json" or "schema" not in content[media_type]:
        return []
    return _body_problems(_validator(path, method, status, media_type), response)


def _body_problems(validator, response) -> list[str]:
    if not response.is_json:
        return [f"{response.status_code} answered {response.mimetype}, not JSON"]
    body = response.get_json(silent=True)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:300]}"
            for e in validator.iter_errors(body)]


class SchemaCheckingClient(FlaskClient):
    """The Flask test client, failing the test on an API answer the document does not
    describe."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = getattr(response, "request", None)
        if request is not None and request.path.startswith(PREFIX + "/"):
            found = problems(self.application, request.method, request.path, response)
            assert not found, f"{request.method} {request.path}: " + "; ".join(found)
        return response
