"""Receipts: fetch one the user may see (JSON or printable PDF); verify any receipt token."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g, jsonify
from flask_babel import gettext as _

from app.api import api_auth, bp, json_body
from app.errors import ValidationFailed
from app.models import Receipt
from app.services import documents
from app.services.keys import verification_jwks
from app.services.scoping import get_receipt as visible_receipt
from app.services.views import receipt_json
from payments.errors import InvalidReceipt
from payments.receipts import verify_any


def _visible_receipt(number: str) -> Receipt:
    return visible_receipt(g.api_user, number)


@bp.get("/receipts/<number>")
@api_auth()
def get_receipt(number: str):
    return jsonify(receipt_json(_visible_receipt(number)))


@bp.get("/receipts/<number>.pdf")
@api_auth()
def get_receipt_pdf(number: str):
    receipt = _visible_receipt(number)
    return documents.pdf_response(documents.receipt_pdf(receipt),
                                  documents.pdf_filename("bien-lai", receipt.number))


@bp.post("/receipts/verify")
def verify():
    """Either kind of token: the full JWS or the compact text of a printed QR code."""
    data = json_body()
    token = data.get("token")
    if not isinstance(token, str) or not token.strip():
        raise ValidationFailed(_("Invalid input."), fields={"token": _("Required.")})
    try:
        kind, claims = verify_any(token.strip(), verification_jwks(), now=datetime.now(UTC))
    except InvalidReceipt as err:
        raise ValidationFailed(_("The receipt is not valid: %(reason)s", reason=str(err)),
                               fields={"token": str(err)}) from None
    return jsonify({"valid": True, "kind": kind, "claims": claims})
