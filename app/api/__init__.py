"""The versioned JSON API (v1): the same flow as the pages, for integrators and tests.

Authentication is a bearer token from ``POST /api/v1/tokens``; session cookies are
never accepted here, so the API needs no CSRF token. Errors have one shape (see
``app.errors``). The OpenAPI document is served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import wraps

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.api.idempotency import idempotent
from app.api.validation import check_public_request, check_request
from app.auth import authenticate, issue_token, load_user_from_request, revoke_token
from app.errors import Forbidden, Unauthorized, ValidationFailed
from app.extensions import db
from app.models import (
    CLOSED_STATUSES,
    Dossier,
    Role,
)
from app.services import dossiers as svc
from app.services import lists, pages, paying
from app.services.holdings import search_parcels
from app.services.scoping import get_assessment, get_dossier, get_notice
from app.services.scoping import get_payment as get_payment_for
from app.services.views import (
    assessment_json,
    dossier_json,
    notice_json,
    parcel_json,
    payment_json,
    vietqr_image,
)

bp = Blueprint("api", __name__)
# Every request is validated against the OpenAPI document before its view runs.
bp.before_request(check_public_request)


def json_body() -> dict:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting
        data = None
    if not isinstance(data, dict):
        raise ValidationFailed(_("The request body must be a JSON object."))
    return data


def api_auth(*roles: Role):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = load_user_from_request(request)
            if user is None:
                raise Unauthorized(_("A valid bearer token is required."))
            if roles and user.role not in roles:
                raise Forbidden(_("Your role may not do this."))
            g.api_user = user
            check_request()  # the body and parameters, against the OpenAPI document
            return view(*args, **kwargs)

        wrapped.api_authenticates = True
        return wrapped

    return decorator


def form_errors(form) -> dict[str, str]:
    return {name: str(errors[0]) for name, errors in form.errors.items()}


@bp.post("/tokens")
def create_token():
    data = json_body()  # two non-empty strings, by the OpenAPI document
    user = authenticate(data["username"].strip(), data["password"])
    if user is None:
        raise Unauthorized(_("Wrong username or password."))
    token, expires = issue_token(user)
    return jsonify({"token": token, "expires_at": expires.isoformat(), "role": user.role.value}), 201


@bp.delete("/tokens/current")
@api_auth()
def delete_token():
    revoke_token(request.headers["Authorization"][7:].strip())
    return "", 204


@bp.get("/me")
@api_auth()
def me():
    """Who the token belongs to. A landholder also gets their own citizen id (the one a
    registry officer files a dossier with); nobody else's is ever shown here."""
    u = g.api_user
    return jsonify({"username": u.username, "full_name": u.full_name, "role": u.role.value,
                    "office": u.office.code if u.office else None,
                    "citizen_id": u.party.citizen_id if u.role is Role.LANDHOLDER and u.party else None})


@bp.get("/parcels")
@api_auth(Role.REGISTRY_OFFICER)
def parcels():
    """The office's parcels with their current holders (``q``: search as the filing form
    does, at most 20). ``holder`` is the first-named holder, kept for older clients."""
    q = request.args.get("q", "").strip()[:200]
    page = None
    if q:
        items, _more = search_parcels(g.api_user, q)
    else:
        page = pages.fetch(lists.parcels(g.api_user), request.args)
        items = page.items
    open_codes = dict(db.session.execute(
        select(Dossier.parcel_id, Dossier.code).where(
            Dossier.parcel_id.in_([p.id for p in items]), Dossier.status.not_in(CLOSED_STATUSES))
    ).all()) if items else {}
    body = [parcel_json(p, open_codes.get(p.id)) for p in items]
    if page is None:
        return jsonify({"items": body, "next_cursor": None})
    return pages.api_page(page, body, "api.parcels")


def _party(item: dict) -> svc.PartyInput:
    return svc.PartyInput(item["full_name"].strip(), item["citizen_id"].strip())


def dossier_input(data: dict) -> svc.TransferInput:
    """A dossier from the API's JSON. Types, bounds and formats were checked against the
    OpenAPI document before the view ran (app/api/validation.py); what is checked here is what
    the schema cannot say: which parties a procedure needs, and the transferees' shares."""
    errors: dict[str, str] = {}
    procedure = data.get("procedure", "transfer")
    declared_price = data.get("declared_price")
    if procedure == "transfer" and declared_price is None:
        errors["declared_price"] = _("Required.")
    single = {}
    for side in ("transferor", "transferee"):
        if side in data and f"{side}s" in data:
            errors[f"{side}s"] = _("Give either %(one)s or %(many)s, not both.",
                                   one=side, many=f"{side}s")
        elif side in data:
            single[side] = _party(data[side])
        elif f"{side}s" not in data and procedure not in svc.HOLDER_PROCEDURES \
                and not (side == "transferor" and procedure in svc.ACQUIRING_PROCEDURES):
            errors[side] = _("Give full_name and citizen_id.")
    transferors = tuple(_party(item) for item in data.get("transferors", ()))
    transferees: list[tuple[svc.PartyInput, Fraction]] = []
    items = data.get("transferees", ())
    for i, item in enumerate(items):
        try:
            share = svc.parse_share(item.get("share", 1 if len(items) == 1 else None))
        except ValueError:
            errors[f"transferees[{i}].share"] = _("A share such as \"1/2\" or \"0.5\" (a "
                                                 "string, never a float), above 0 and at most 1.")
            continue
        transferees.append((_party(item), share))
    if errors:
        raise ValidationFailed(_("Invalid input."), fields=errors)
    rent_rate = data.get("rent_rate")
    return svc.TransferInput(
        parcel_id=data["parcel_id"], transferor=single.get("transferor"),
        transferee=single.get("transferee"), declared_price=declared_price,
        relationship=data.get("relationship") or None, sole_residence=data.get("sole_residence", False),
        transferors=transferors, transferees=tuple(transferees),
        procedure=procedure, tax_payer_clause=data.get("tax_payer_clause", "default"),
        new_land_type=data.get("new_land_type"),
        old_table_price_per_m2=data.get("old_table_price_per_m2"), old_land_money=data.get("old_land_money"),
        recognition_kind=data.get("recognition_kind"),
        infrastructure_cost_per_m2=data.get("infrastructure_cost_per_m2"),
        rent_mode=data.get("rent_mode"), lease_term_years=data.get("lease_term_years"),
        rent_rate=Decimal(rent_rate) if rent_rate is not None else None,
        months_extended=data.get("months_extended"),
    )


@bp.post("/dossiers")
@api_auth(Role.REGISTRY_OFFICER)
@idempotent
def create_dossier():
    dossier = svc.file_transfer(g.api_user, dossier_input(json_body()))
    response = jsonify(dossier_json(dossier))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_dossier_", code=dossier.code)
    return response


@bp.get("/dossiers")
@api_auth()
def list_dossiers():
    """The dossiers the user may see, newest first, a page at a time (``limit``, ``cursor``).
    ``?status=`` keeps one state; ``paid`` means paid and not yet completed (completion is the
    later state); also ``from``, ``to``, ``code``, ``citizen_id``, ``parcel``."""
    filters = lists.Filters.from_args(request.args, statuses=lists.DOSSIER_STATUSES)
    page = pages.fetch(lists.dossiers(g.api_user, filters, with_parties=False), request.args)
    return pages.api_page(page, [
        {"code": d.code, "status": d.status.value, "filed_at": d.filed_at.isoformat(), "due_on": d.due_on.isoformat()}
        for d in page.items
    ], "api.list_dossiers")


@bp.get("/dossiers/<code>")
@api_auth()
def get_dossier_(code: str):
    from app.services.decisions import can
    from app.services.workflow import Decision

    dossier = get_dossier(g.api_user, code)
    # What this user may decide on the dossier now (docs/decisions.md).
    allowed = [d.value for d in Decision if can(d, g.api_user, dossier)]
    return jsonify({**dossier_json(dossier), "decisions_now": allowed})


@bp.post("/dossiers/<code>/complete")
@api_auth(Role.REGISTRY_OFFICER)
def complete_dossier(code: str):
    d = svc.complete_dossier(g.api_user, get_dossier(g.api_user, code))
    return jsonify(dossier_json(d))


@bp.get("/assessments")
@api_auth(Role.TAX_OFFICER)
def list_assessments():
    """The office's assessments, oldest first, a page at a time (``limit``, ``cursor``);
    filters ``status``, ``from``, ``to``, ``code``, ``citizen_id``, ``parcel``."""
    filters = lists.Filters.from_args(request.args, statuses=lists.ASSESSMENT_STATUSES)
    page = pages.fetch(lists.assessments(g.api_user, filters, with_lines=True), request.args)
    return pages.api_page(page, [assessment_json(a) for a in page.items], "api.list_assessments")


@bp.get("/assessments/<int(max=2147483647):assessment_id>")
@api_auth(Role.TAX_OFFICER)
def get_assessment_(assessment_id: int):
    return jsonify(assessment_json(get_assessment(g.api_user, assessment_id)))


@bp.post("/assessments/<int(max=2147483647):assessment_id>/confirm")
@api_auth(Role.TAX_OFFICER)
@idempotent
def confirm_assessment(assessment_id: int):
    # The service locks the assessment's row.
    notices = svc.confirm_assessment(g.api_user, get_assessment(g.api_user, assessment_id))
    # The first notice, as before, with every notice of the dossier (one per payer side).
    return jsonify({**notice_json(notices[0]), "notices": [notice_json(n) for n in notices]}), 201


@bp.get("/notices")
@api_auth()
def list_notices():
    """The notices the user may see, newest first, a page at a time (``limit``, ``cursor``);
    filters ``status``, ``from``, ``to``, ``code``, ``citizen_id`` (the payer's)."""
    filters = lists.Filters.from_args(request.args, statuses=lists.NOTICE_STATUSES)
    page = pages.fetch(lists.notices(g.api_user, filters, full=True), request.args)
    return pages.api_page(page, [notice_json(n) for n in page.items], "api.list_notices")


@bp.get("/notices/<code>")
@api_auth()
def get_notice_(code: str):
    return jsonify(notice_json(get_notice(g.api_user, code)))


@bp.get("/notices/<code>/vietqr.png")
@api_auth()
def notice_vietqr_png(code: str):
    return vietqr_image(get_notice(g.api_user, code), "png")


@bp.get("/notices/<code>/vietqr.svg")
@api_auth()
def notice_vietqr_svg(code: str):
    return vietqr_image(get_notice(g.api_user, code), "svg")


@bp.post("/notices/<code>/payments")
@api_auth(Role.LANDHOLDER)
@idempotent
def start_payment(code: str):
    order, url = paying.start_payment(g.api_user, get_notice(g.api_user, code))
    body = payment_json(order)
    body["redirect_url"] = url
    return jsonify(body), 201


@bp.get("/payments/<ref>")
@api_auth()
def get_payment(ref: str):
    return jsonify(payment_json(get_payment_for(g.api_user, ref)))


@bp.post("/tax/assess")
@api_auth()
def assess_case():
    """Assess any case with the rules engine (the same JSON as its command line); stores nothing.

    The body is parsed by the engine's own JSON reader, not Flask's: decimals stay exact,
    absurdly long numbers and deep nesting are refused naming the field (or ``json``)."""
    import tax_calc
    from tax_calc.parse import load_json

    if not request.is_json:
        raise ValidationFailed(_("The request body must be a JSON object."))
    try:
        data = load_json(request.get_data(cache=True))
        if not isinstance(data, dict):
            raise ValidationFailed(_("The request body must be a JSON object."))
        result = tax_calc.assess(data)
    except tax_calc.CaseError as err:
        field = getattr(err, "field", None) or "case"
        raise ValidationFailed(_("The case cannot be assessed: %(reason)s", reason=str(err)),
                               fields={field: str(err)}) from None
    except tax_calc.TableError as err:
        raise ValidationFailed(_("The case cannot be assessed: %(reason)s", reason=str(err)),
                               fields={"data_file": str(err)}) from None
    return jsonify(result.to_dict())


@bp.get("/openapi.json")
def openapi():
    from app.api.openapi import document

    return jsonify(document())


@bp.get("/docs")
def reference():
    """The OpenAPI document as a readable page: rendered here, no script, nothing fetched
    from elsewhere; it shows the public document only."""
    import json

    from flask import render_template

    from app.api.openapi import document

    def pretty(value) -> str:
        return json.dumps(value, indent=2, ensure_ascii=False)

    def schema_text(schema) -> str:
        if not schema:
            return ""
        if "$ref" in schema:
            return schema["$ref"].rsplit("/", 1)[1]
        return pretty(schema) if "properties" in schema or "oneOf" in schema else \
            " | ".join(schema["enum"]) if "enum" in schema else str(schema.get("type", ""))

    doc = document()
    operations = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
            responses = []
            for status, answer in op["responses"].items():
                content = answer.get("content", {}).get("application/json", {})
                responses.append({"status": status, "description": answer["description"],
                                  "schema": schema_text(content.get("schema")),
                                  "example": pretty(content["example"]) if "example" in content else None})
            operations.append({
                "method": method, "path": path, "summary": op["summary"], "description": op.get("description"),
                "anchor": f"{method}-{path.strip('/').replace('/', '-').replace('{', '').replace('}', '')}",
                "public": op.get("security") == [],
                "parameters": [dict(p, schema_text=schema_text(p["schema"])) for p in op.get("parameters", ())],
                "body": pretty(body["schema"]) if body else None,
                "body_example": pretty(body["example"]) if "example" in body else None,
                "responses": responses,
            })
    schemas = [(name, pretty(schema)) for name, schema in doc["components"]["schemas"].items()]
    return render_template("api/reference.html", doc=doc, operations=operations, schemas=schemas,
                           base=doc["servers"][0]["url"])


# The API's other areas, each in its own module, register their routes on ``bp``.
from app.api import (  # noqa: E402,F401
    decisions,
    money,
    public_pay,
    receipts,
    supervision,
    sync,
)
