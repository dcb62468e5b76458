"""The bank's server-to-server notification endpoint (no session, no CSRF: signed)."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, request

from app.extensions import db
from app.services import paying
from payments.gateway import IpnCode, ipn_response

bp = Blueprint("bank", __name__)
log = logging.getLogger(__name__)


@bp.post("/notify")
def notify():
    params = request.form.to_dict() or request.args.to_dict()
    try:
        return jsonify(paying.handle_notification(params))
    except Exception:
        # The bank understands only its JSON codes: 99 makes it retry later.
        db.session.rollback()
        log.exception("bank notification could not be processed")
        return jsonify(ipn_response(IpnCode.UNKNOWN))


@bp.post("/credits")
def credit():
    """A credit on the collecting account (a VietQR transfer): docs/protocols/bank-transfer.md."""
    from app.services.credits import handle_credit_notification
    from payments.credits import CreditAnswer, answer

    params = request.form.to_dict()
    try:
        return jsonify(handle_credit_notification(params))
    except Exception:
        # 99 makes the bank send it again later; nothing was recorded.
        db.session.rollback()
        log.exception("credit notification could not be processed")
        return jsonify(answer(CreditAnswer.RETRY))
