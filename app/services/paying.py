"""Paying a notice at the bank: start an order, take the bank's signed
notification as the truth, issue the signed e-receipt.

The browser's return from the bank only displays the state; the server-to-server
notification is what marks a payment succeeded, under a row lock so duplicate or
concurrent notifications end in one payment and one receipt.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.errors import BadGateway, Conflict, Forbidden
from app.extensions import db
from app.models import (
    BankNotification,
    DossierStatus,
    Notice,
    NoticeStatus,
    PaymentOrder,
    Receipt,
    Role,
    User,
)
from app.services import workflow
from app.services.keys import receipt_signer
from payments.errors import GatewayError, MalformedNotification, SignatureError
from payments.gateway import BankGateway, BankResult, IpnCode, ipn_response
from payments.ipn import decide_notification
from payments.receipts import build_receipt_claims
from payments.states import FINAL, PaymentStatus, check_transition

log = logging.getLogger(__name__)


def gateway() -> BankGateway:
    cfg = current_app.config
    return BankGateway(
        cfg["BANK_BASE_URL"], cfg["BANK_MERCHANT_ID"], cfg["BANK_SECRET"], timeout=cfg["BANK_TIMEOUT"]
    )


def _order_ref() -> str:
    return "LP" + datetime.now(UTC).strftime("%y%m%d") + secrets.token_hex(5).upper()


def _lock_order(ref: str) -> PaymentOrder | None:
    return db.session.scalar(
        select(PaymentOrder).where(PaymentOrder.ref == ref).with_for_update()
        .execution_options(populate_existing=True)
    )


def start_payment(user: User, notice: Notice) -> tuple[PaymentOrder, str]:
    """Create a payment order for the notice's outstanding amount; return it and the bank URL."""
    if user.role is not Role.LANDHOLDER:
        raise Forbidden(_("Only a landholder pays a notice."))
    notice = db.session.scalar(
        select(Notice).where(Notice.id == notice.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    if notice.status is NoticeStatus.PAID or notice.outstanding <= 0:
        raise Conflict(_("This notice is already paid."))
    # An earlier attempt still open at the bank may have succeeded: ask before paying again.
    for earlier in db.session.scalars(
        select(PaymentOrder).where(
            PaymentOrder.notice_id == notice.id, PaymentOrder.status == PaymentStatus.STARTED
        )
    ):
        _settle_from_query(earlier)
    if notice.status is NoticeStatus.PAID:
        db.session.commit()
        raise Conflict(_("This notice is already paid."))
    order = PaymentOrder(
        ref=_order_ref(),
        notice=notice,
        amount=notice.outstanding,
        status=PaymentStatus.STARTED,
        created_by=user,
    )
    db.session.add(order)
    db.session.flush()
    workflow.record(
        notice.dossier, "payment_started", actor=user,
        data={"notice_code": notice.code, "order_ref": order.ref, "amount": order.amount},
    )
    url = gateway().checkout_url(
        order_ref=order.ref,
        amount=order.amount,
        description=f"Thanh toan thong bao {notice.code}",
        return_url=current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("landholder.bank_return"),
        created_at=order.created_at,
        locale="en" if str(get_locale()) == "en" else "vn",
    )
    db.session.commit()
    return order, url


def _settle_from_query(order: PaymentOrder) -> None:
    """Ask the bank about an open order and apply what it says (used before a retry)."""
    try:
        result = gateway().query(order.ref)
    except GatewayError:
        raise BadGateway(_("The bank cannot be reached; please try again in a moment.")) from None
    if result is None:
        # The payer never confirmed at the bank. Expired, not cancelled: should the bank still
        # take the money on that old checkout page, the late success is recorded, not lost.
        check_transition(order.status, PaymentStatus.EXPIRED)
        order.status = PaymentStatus.EXPIRED
        order.finished_at = datetime.now(UTC)
        return
    if result.amount == order.amount and result.response_code not in ("", None):
        _apply(order, result, actor_label="bank-query")


def _apply(order: PaymentOrder, result: BankResult, *, actor_label: str) -> None:
    """Move a locked, non-final order to its final state and, on success, pay the notice."""
    new = PaymentStatus.SUCCEEDED if result.succeeded else PaymentStatus.FAILED
    check_transition(order.status, new)
    notice = order.notice
    dossier = notice.dossier
    # Read before any change, so no half-changed order is flushed early.
    already_paid = result.succeeded and notice.outstanding <= 0
    order.needs_refund = already_paid
    order.status = new
    order.bank_ref = result.bank_ref
    order.response_code = result.response_code
    order.finished_at = result.paid_at or datetime.now(UTC)
    if not result.succeeded:
        workflow.record(
            dossier, "payment_failed", actor_label=actor_label,
            data={"order_ref": order.ref, "response_code": result.response_code},
        )
        return
    if already_paid:
        # Paid already through another attempt: keep the money's trace and flag it for refund.
        log.warning("payment %s received for notice %s that was already paid", order.ref, notice.code)
        workflow.record(
            dossier, "duplicate_payment_received", actor_label=actor_label,
            data={"order_ref": order.ref, "bank_ref": order.bank_ref, "amount": order.amount},
        )
        return
    remaining = order.amount
    shares = []
    for line in notice.lines:
        share = min(line.outstanding, remaining)
        line.paid += share
        remaining -= share
        if share:
            shares.append({"obligation": line.obligation, "amount": share})
    notice.status = NoticeStatus.PAID if notice.outstanding == 0 else NoticeStatus.UNPAID
    notice.paid_at = order.finished_at
    db.session.flush()
    _issue_receipt(order, shares)
    if notice.status is NoticeStatus.PAID and dossier.status is DossierStatus.AWAITING_PAYMENT:
        workflow.move(
            dossier, DossierStatus.PAID, actor_label=actor_label,
            data={"order_ref": order.ref, "bank_ref": order.bank_ref, "amount": order.amount,
                  "receipt": order.receipt.number if order.receipt else None},
        )


def _issue_receipt(order: PaymentOrder, shares: list[dict]) -> Receipt:
    signer = receipt_signer()
    notice = order.notice
    number = "BL" + order.ref[2:]
    claims = build_receipt_claims(
        receipt_id=number,
        payment_id=str(order.id),
        order_ref=order.ref,
        notice_code=notice.code,
        dossier_code=notice.dossier.code,
        payer_name=notice.payer.full_name,
        lines=shares,
        total=order.amount,
        bank_ref=order.bank_ref,
        paid_at=order.finished_at,
        issued_at=datetime.now(UTC),
        issuer=current_app.config.get("RECEIPT_ISSUER", "LandPay"),
    )
    receipt = Receipt(
        number=number, payment=order, notice=notice, token=signer.sign(claims),
        kid=signer.kid, claims=claims,
    )
    db.session.add(receipt)
    db.session.flush()
    return receipt


def handle_notification(params: dict[str, str]) -> dict:
    """The bank's server-to-server notification; returns the JSON answer for the bank."""
    safe_params = {k: v for k, v in params.items() if "hash" not in k.lower() and "secure" not in k.lower()}
    result: BankResult | None = None
    signature_ok = True
    try:
        result = gateway().parse_notification(params)
    except SignatureError:
        signature_ok = False
    except MalformedNotification:
        return _log_answer(None, IpnCode.UNKNOWN, "malformed notification", safe_params)

    order = _lock_order(result.order_ref) if result else None
    code, new_status = decide_notification(
        result,
        order_found=order is not None,
        order_amount=order.amount if order else None,
        order_status=order.status if order else None,
        signature_ok=signature_ok,
    )
    ref = result.order_ref if result else params.get("lp_order_ref")
    if code is IpnCode.OK and order is not None and new_status is not None:
        _apply(order, result, actor_label="bank")
        detail = f"order {order.ref} -> {new_status.value}"
    else:
        detail = f"refused: {code.name}"
        if code in (IpnCode.BAD_SIGNATURE, IpnCode.WRONG_AMOUNT):
            log.warning("bank notification refused (%s) for order %s", code.name, ref)
    return _log_answer(ref, code, detail, safe_params)


def _log_answer(ref: str | None, code: IpnCode, detail: str, params: dict) -> dict:
    db.session.add(BankNotification(order_ref=ref, answer_code=code.value, detail=detail, params=params))
    db.session.commit()
    return ipn_response(code)


def order_for_return(params: dict[str, str]) -> PaymentOrder | None:
    """The order the browser came back for, if the return's signature is good (display only)."""
    try:
        result = gateway().parse_return(params)
    except (SignatureError, MalformedNotification):
        return None
    return db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == result.order_ref))


def is_final(order: PaymentOrder) -> bool:
    return order.status in FINAL
