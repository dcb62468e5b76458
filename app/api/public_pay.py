"""Anyone may pay: look up what is due by notice code and payer's citizen id, and start a
bank payment, without an account (app/services/public_pay.py). No bearer token is read here:
these operations are the same for everybody, and rate-limited per client address and per
notice code."""

from __future__ import annotations

from flask import jsonify, make_response

from app.api import bp, json_body
from app.api.idempotency import idempotent
from app.errors import error_response
from app.services import public_pay


def _text(data: dict, name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) else None


@bp.errorhandler(public_pay.TooManyLookups)
def too_many_lookups(err: public_pay.TooManyLookups):
    from app.extensions import db

    db.session.rollback()
    answer = make_response(error_response(err.status, err.code, err.message))
    answer.headers["Retry-After"] = str(err.retry_after)
    return answer


@bp.post("/public/notices/lookup")
def public_notice_lookup():
    data = json_body()
    found = public_pay.find(_text(data, "code"), _text(data, "citizen_id"))
    return jsonify(public_pay.due_json(found))


@bp.post("/public/notices/<code>/payments")
@idempotent
def public_notice_payment(code: str):
    data = json_body()
    order, url = public_pay.start(code, _text(data, "citizen_id"), _text(data, "payer_name"))
    token = public_pay.order_token(order)
    body = public_pay.payment_json(order, token)
    body["redirect_url"] = url
    return jsonify(body), 201


@bp.get("/public/payments/<token>")
def public_payment(token: str):
    """A payment made without an account, by its signed reference (in ``status_url``)."""
    return jsonify(public_pay.payment_json(public_pay.order_for_token(token), token))
