"""Pages anyone may open: home, health, the published receipt keys, receipt verification."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select, text
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from app.auth import HOME_BY_ROLE
from app.extensions import db
from app.models import Receipt
from app.public.scan import MAX_UPLOAD_BYTES, UnreadableImage, qr_text_from_image
from app.services.keys import verification_jwks
from app.uploads import allow_large_body
from payments.errors import InvalidReceipt
from payments.receipts import verify_any

bp = Blueprint("public", __name__)

#: A receipt number as printed: letters and digits (longer input is not looked up).
_NUMBER_MAX = 40


class VerifyForm(FlaskForm):
    token = TextAreaField(_l("Receipt code (the text in the QR code)"),
                          validators=[Optional(), Length(max=8000)])
    image = FileField(_l("An image or photo of the QR code"))
    camera = FileField(_l("Take a photo of the QR code"))


# A phone photo is far larger than any form: allowed on the verification page, and there only.
allow_large_body("public.verify", lambda: MAX_UPLOAD_BYTES)


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
    """Every key a valid receipt may be signed with: the active one and the retired ones
    (revoked keys are withdrawn). Cacheable for a while; rotation adds before it retires."""
    response = jsonify(verification_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _lookup(number: str) -> dict:
    """What the verification page may say of a receipt number: facts printed on the receipt
    itself (amount, codes, dates, office), never who paid or for which parcel."""
    receipt = db.session.scalar(select(Receipt).where(Receipt.number == number))
    if receipt is None:
        return {"error": _("No receipt has this number.")}
    try:
        verify_any(receipt.token, verification_jwks())
        signature_ok = True
    except InvalidReceipt:
        signature_ok = False  # e.g. signed with a key withdrawn since
    office = receipt.notice.tax_office
    return {"kind": "lookup", "signature_ok": signature_ok, "claims": {
        "receipt_id": receipt.number, "notice_code": receipt.claims.get("notice_code"),
        "total": receipt.claims.get("total"), "paid_at": receipt.claims.get("paid_at"),
        "issued_at": receipt.issued_at, "kid": receipt.kid,
        "office": office.name if office else None,
    }}


def _check(token: str) -> dict:
    try:
        kind, claims = verify_any(token, verification_jwks(), now=datetime.now(UTC))
    except InvalidReceipt as err:
        return {"error": str(err)}
    return {"kind": kind, "claims": claims, "signature_ok": True}


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Check an e-receipt: by its number (looked up here), or by its signed code, pasted or
    read from a photo of the QR code and checked with the published keys alone."""
    form = VerifyForm()
    result: dict | None = None
    number = (request.args.get("number") or "").strip()[:_NUMBER_MAX + 1]
    if request.method == "GET" and number:
        result = _lookup(number) if len(number) <= _NUMBER_MAX else {"error": _("No receipt has this number.")}
    elif form.validate_on_submit():
        upload = form.camera.data or form.image.data
        token = (form.token.data or "").strip()
        if upload and getattr(upload, "filename", None):
            try:
                token = qr_text_from_image(upload.read(MAX_UPLOAD_BYTES + 1))
            except UnreadableImage:
                result = {"error": _("No QR code could be read from this image. Try a "
                                     "sharper photo, closer, with the whole code in view.")}
        if result is None:
            result = _check(token) if token else {
                "error": _("Enter a receipt number, paste its code, or add a photo of its QR code.")}
    status = 422 if (result and "error" in result) or form.errors else 200
    if result and "error" in result and request.method == "GET":
        status = 404
    return render_template("public/verify.html", form=form, result=result, number=number), status
