"""Pages anyone may open: home, health, the published receipt keys, receipt verification."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import text
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.auth import HOME_BY_ROLE
from app.extensions import db
from app.services.keys import receipt_signer
from payments.errors import InvalidReceipt
from payments.receipts import jwks, verify_receipt

bp = Blueprint("public", __name__)


class VerifyForm(FlaskForm):
    token = TextAreaField(_l("Receipt code (the text in the QR code)"), validators=[DataRequired(), Length(max=8000)])


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE[current_user.role]))
    return render_template("index.html")


@bp.get("/healthz")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


@bp.get("/.well-known/jwks.json")
def published_keys():
    return jsonify(jwks([receipt_signer()]))


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Check an e-receipt with the published keys alone: no database look-up is trusted."""
    form = VerifyForm()
    claims = error = None
    if form.validate_on_submit():
        try:
            claims = verify_receipt(form.token.data.strip(), jwks([receipt_signer()]))
        except InvalidReceipt as err:
            error = str(err)
    status = 422 if (error or form.errors) else 200
    return render_template("public/verify.html", form=form, claims=claims, error=error), status
