"""The versioned JSON API (v1): the same flow as the pages, for integrators and tests.

Authentication is a bearer token from ``POST /api/v1/tokens``; session cookies are
never accepted here, so the API needs no CSRF token. Errors have one shape (see
``app.errors``). The OpenAPI document is served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from functools import wraps

from flask import Blueprint, g, jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.api.idempotency import idempotent
from app.auth import authenticate, issue_token, load_user_from_request, revoke_token
from app.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from app.extensions import db
from app.models import (
    CLOSED_STATUSES,
    TAX_PAYER_CLAUSES,
    Assessment,
    AssessmentStatus,
    Dossier,
    DossierStatus,
    Holding,
    Notice,
    Parcel,
    PaymentOrder,
    Role,
)
from app.services import dossiers as svc
from app.services import paying
from app.services.holdings import search_parcels
from app.services.scoping import (
    assessments_for,
    dossiers_for,
    get_assessment,
    get_dossier,
    get_notice,
    notices_for,
    parcels_for,
)
from app.services.views import (
    assessment_json,
    dossier_json,
    notice_json,
    parcel_json,
    payment_json,
    vietqr_image,
)

bp = Blueprint("api", __name__)


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
            return view(*args, **kwargs)

        return wrapped

    return decorator


def form_errors(form) -> dict[str, str]:
    return {name: str(errors[0]) for name, errors in form.errors.items()}


@bp.post("/tokens")
def create_token():
    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise ValidationFailed(
            _("Give a username and a password."),
            fields={k: _("Required.") for k in ("username", "password") if not isinstance(data.get(k), str) or not data.get(k)},
        )
    user = authenticate(username.strip(), password)
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
    if q:
        items, _more = search_parcels(g.api_user, q)
    else:
        items = db.session.scalars(
            parcels_for(g.api_user).order_by(Parcel.id)
            .options(selectinload(Parcel.holdings).selectinload(Holding.party))
        ).all()
    open_codes = dict(db.session.execute(
        select(Dossier.parcel_id, Dossier.code).where(
            Dossier.parcel_id.in_([p.id for p in items]), Dossier.status.not_in(CLOSED_STATUSES))
    ).all()) if items else {}
    return jsonify({"items": [parcel_json(p, open_codes.get(p.id)) for p in items]})


#: At most this many transferors, or transferees, in one dossier.
MAX_PARTIES = 20


def _whole(data: dict, key: str, errors: dict, *, minimum: int = 0) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 10**15:
        errors[key] = _("Must be a whole number.")
        return None
    return value


def _party_input(item, field: str, errors: dict) -> svc.PartyInput | None:
    if not isinstance(item, dict):
        errors[field] = _("Give full_name and citizen_id.")
        return None
    name, citizen_id = item.get("full_name"), item.get("citizen_id")
    sep = "." if "[" in field else "_"
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors[f"{field}{sep}{'full_name' if sep == '.' else 'name'}"] = _("Required.")
    if not isinstance(citizen_id, str) or not citizen_id.strip():
        errors[f"{field}{sep}citizen_id"] = _("Required.")
    if any(k.startswith(field) for k in errors):
        return None
    return svc.PartyInput(name.strip(), citizen_id.strip())


def dossier_input(data: dict) -> svc.TransferInput:
    """A dossier from the API's JSON: every field checked, every problem named at once."""
    errors: dict[str, str] = {}
    parcel_id = _whole(data, "parcel_id", errors)
    if parcel_id is None and "parcel_id" not in errors:
        errors["parcel_id"] = _("Required.")
    procedure = data.get("procedure", "transfer")
    if procedure not in svc.PROCEDURES:
        errors["procedure"] = _("Choose from the list.")
    declared_price = _whole(data, "declared_price", errors, minimum=1)
    if procedure == "transfer" and declared_price is None and "declared_price" not in errors:
        errors["declared_price"] = _("Required.")
    single = {}
    for side in ("transferor", "transferee"):
        if side in data and f"{side}s" in data:
            errors[f"{side}s"] = _("Give either %(one)s or %(many)s, not both.",
                                   one=side, many=f"{side}s")
        elif side in data:
            single[side] = _party_input(data[side], side, errors)
        elif f"{side}s" not in data and procedure not in svc.HOLDER_PROCEDURES \
                and not (side == "transferor" and procedure in svc.ACQUIRING_PROCEDURES):
            errors[side] = _("Give full_name and citizen_id.")
    transferors: list[svc.PartyInput] = []
    transferees: list[tuple[svc.PartyInput, Fraction]] = []
    for side in ("transferors", "transferees"):
        if side not in data:
            continue
        items = data[side]
        if not isinstance(items, list) or not items or len(items) > MAX_PARTIES:
            errors[side] = _("Give a list of 1 to %(n)s people.", n=MAX_PARTIES)
            continue
        for i, item in enumerate(items):
            party = _party_input(item, f"{side}[{i}]", errors)
            if side == "transferors":
                if party:
                    transferors.append(party)
                continue
            raw = item.get("share", 1 if len(items) == 1 else None) \
                if isinstance(item, dict) else None
            try:
                share = svc.parse_share(raw)
            except ValueError:
                errors[f"{side}[{i}].share"] = _("A share such as \"1/2\" or \"0.5\" (a "
                                                 "string, never a float), above 0 and at most 1.")
                continue
            if party:
                transferees.append((party, share))
    relationship = data.get("relationship")
    if relationship is not None and not isinstance(relationship, str):
        errors["relationship"] = _("Must be a string or null.")
    sole_residence = data.get("sole_residence", False)
    if not isinstance(sole_residence, bool):
        errors["sole_residence"] = _("Must be true or false.")
    clause = data.get("tax_payer_clause", "default")
    if clause not in TAX_PAYER_CLAUSES:
        errors["tax_payer_clause"] = _("Choose from the list.")
    new_land_type = data.get("new_land_type")
    if new_land_type is not None and not isinstance(new_land_type, str):
        errors["new_land_type"] = _("Must be a string or null.")
    old_price = _whole(data, "old_table_price_per_m2", errors)
    old_money = _whole(data, "old_land_money", errors)
    for key in ("recognition_kind", "rent_mode"):
        if data.get(key) is not None and not isinstance(data.get(key), str):
            errors[key] = _("Must be a string or null.")
    infrastructure = _whole(data, "infrastructure_cost_per_m2", errors)
    term_years = _whole(data, "lease_term_years", errors, minimum=1)
    months = _whole(data, "months_extended", errors, minimum=1)
    rent_rate = _rate(data, "rent_rate", errors)
    if errors:
        raise ValidationFailed(_("Invalid input."), fields=errors)
    return svc.TransferInput(
        parcel_id=parcel_id, transferor=single.get("transferor"),
        transferee=single.get("transferee"), declared_price=declared_price,
        relationship=relationship or None, sole_residence=sole_residence,
        transferors=tuple(transferors), transferees=tuple(transferees),
        procedure=procedure, tax_payer_clause=clause, new_land_type=new_land_type,
        old_table_price_per_m2=old_price, old_land_money=old_money,
        recognition_kind=data.get("recognition_kind"), infrastructure_cost_per_m2=infrastructure,
        rent_mode=data.get("rent_mode"), lease_term_years=term_years, rent_rate=rent_rate,
        months_extended=months,
    )


def _rate(data: dict, key: str, errors: dict) -> Decimal | None:
    """A rate written as a decimal string such as ``"0.01"`` (never a float)."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"0(\.[0-9]{1,6})?|1(\.0{1,6})?", value):
        errors[key] = _("A fraction written as a string, such as \"0.01\" (never a float).")
        return None
    return Decimal(value)


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
    """The dossiers the user may see, newest first (at most 200). ``?status=`` keeps one
    state; ``paid`` means paid and not yet completed (completion is the later state)."""
    query = dossiers_for(g.api_user)
    status = request.args.get("status")
    if status is not None:
        try:
            query = query.where(Dossier.status == DossierStatus(status))
        except ValueError:
            raise ValidationFailed(_("Invalid input."), fields={"status": _("Unknown status.")}) from None
    items = db.session.scalars(query.order_by(Dossier.id.desc()).limit(200)).all()
    return jsonify({"items": [
        {"code": d.code, "status": d.status.value, "filed_at": d.filed_at.isoformat(), "due_on": d.due_on.isoformat()}
        for d in items
    ]})


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
    query = assessments_for(g.api_user).order_by(Assessment.id)
    status = request.args.get("status")
    if status:
        try:
            query = query.where(Assessment.status == AssessmentStatus(status))
        except ValueError:
            raise ValidationFailed(_("Invalid input."), fields={"status": _("Unknown status.")}) from None
    return jsonify({"items": [assessment_json(a) for a in db.session.scalars(query.limit(500))]})


@bp.get("/assessments/<int(max=2147483647):assessment_id>")
@api_auth(Role.TAX_OFFICER)
def get_assessment_(assessment_id: int):
    return jsonify(assessment_json(get_assessment(g.api_user, assessment_id)))


@bp.post("/assessments/<int(max=2147483647):assessment_id>/confirm")
@api_auth(Role.TAX_OFFICER)
@idempotent
def confirm_assessment(assessment_id: int):
    a = get_assessment(g.api_user, assessment_id)
    a = db.session.scalar(
        select(Assessment).where(Assessment.id == a.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    notices = svc.confirm_assessment(g.api_user, a)
    # The first notice, as before, with every notice of the dossier (one per payer side).
    return jsonify({**notice_json(notices[0]), "notices": [notice_json(n) for n in notices]}), 201


@bp.get("/notices")
@api_auth()
def list_notices():
    items = db.session.scalars(notices_for(g.api_user).order_by(Notice.id.desc()).limit(200)).all()
    return jsonify({"items": [notice_json(n) for n in items]})


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


def _payment_for(user, ref: str) -> PaymentOrder:
    order = db.session.scalar(
        select(PaymentOrder).where(
            PaymentOrder.ref == ref,
            PaymentOrder.notice_id.in_(notices_for(user).with_only_columns(Notice.id).scalar_subquery()),
        )
    )
    if order is None:
        raise NotFound(_("No such payment."))
    return order


@bp.get("/payments/<ref>")
@api_auth()
def get_payment(ref: str):
    return jsonify(payment_json(_payment_for(g.api_user, ref)))


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
