"""Anyone may pay: a public page where a notice code and the payer's citizen id open what is due."""

from __future__ import annotations

import base64

from flask import Blueprint, make_response, redirect, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length

from app.errors import AppError, NotFound, TooManyRequests, ValidationFailed
from app.extensions import db
from app.services import public_pay
from app.services.documents import compact_code
from payments.receipts import receipt_qr_png
from payments.vietqr import qr_svg

bp = Blueprint("pay", __name__)


@bp.after_request
def no_store(response):
    """These pages hold what a payer typed, or a payment's signed reference: never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


class LookupForm(FlaskForm):
    code = StringField(_l("Notice code"), validators=[DataRequired(), Length(max=30)])
    citizen_id = StringField(_l("Citizen id of the payer"), validators=[DataRequired(), Length(max=20)])


class PayForm(FlaskForm):
    code = HiddenField(validators=[DataRequired(), Length(max=30)])
    citizen_id = HiddenField(validators=[DataRequired(), Length(max=20)])
    payer_name = StringField(_l("Your full name (printed on the receipt)"),
                             validators=[DataRequired(), Length(max=200)])


def _failed(err: AppError):
    """The look-up page again, empty (a failure never echoes what was typed, so a wrong code
    and a wrong citizen id give the same page), with the reason and its status."""
    db.session.rollback()
    form = LookupForm(formdata=None)
    response = make_response(render_template("pay/lookup.html", form=form, error=err.message,
                                             fields=err.fields), err.status)
    if isinstance(err, public_pay.TooManyLookups):
        response.headers["Retry-After"] = str(err.retry_after)
    return response


@bp.route("/", methods=["GET", "POST"])
def lookup():
    form = LookupForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("pay/lookup.html", form=form, error=None, fields={}), status
    try:
        found = public_pay.find(form.code.data, form.citizen_id.data)
    except (NotFound, TooManyRequests, ValidationFailed) as err:
        return _failed(err)
    return _due(found, PayForm(formdata=None, code=found.notice.code, citizen_id=found.party.citizen_id))


def _due(found: public_pay.Found, form: PayForm, status: int = 200):
    due = public_pay.due_json(found)
    qr = None
    if due["vietqr"]:
        qr = "data:image/svg+xml;base64," + base64.b64encode(_svg_bytes(due["vietqr"]["payload"])).decode()
    return render_template("pay/due.html", due=due, form=form, qr=qr,
                           current_locale=str(get_locale())), status


def _svg_bytes(payload: str) -> bytes:
    svg = qr_svg(payload)
    return svg if isinstance(svg, bytes) else svg.encode()


@bp.post("/start")
def start():
    form = PayForm()
    if not form.validate_on_submit():
        if form.payer_name.errors and form.code.data and form.citizen_id.data and not form.csrf_token.errors:
            # Only the name is missing: the same notice again, with the name asked for.
            try:
                found = public_pay.find(form.code.data, form.citizen_id.data)
            except (NotFound, TooManyRequests, ValidationFailed) as err:
                return _failed(err)
            return _due(found, form, 422)
        return _failed(ValidationFailed(_("The form has expired; please try again.")))
    try:
        _order, url = public_pay.start(form.code.data, form.citizen_id.data, form.payer_name.data)
    except (NotFound, TooManyRequests, ValidationFailed) as err:
        return _failed(err)
    return redirect(url, code=303)


@bp.get("/payments/<token>")
def payment(token: str):
    """Where the bank sends the payer's browser back, and where they may come again: shows the
    state by the signed reference, changes nothing (the bank's notification is the truth)."""
    order = public_pay.order_for_token(token)
    return render_template("pay/payment.html", order=order, token=token,
                           paid_for=public_pay.mask_name(order.paid_for.full_name) if order.paid_for else "")


@bp.get("/payments/<token>/receipt")
def receipt(token: str):
    order = public_pay.order_for_token(token)
    if order.receipt is None:
        raise NotFound(_("No such receipt."))
    # The printed code: the compact signed receipt, small enough for a phone camera.
    qr = "data:image/png;base64," + base64.b64encode(receipt_qr_png(compact_code(order.receipt))).decode()
    return render_template("pay/receipt.html", receipt=order.receipt, order=order, token=token, qr=qr)
