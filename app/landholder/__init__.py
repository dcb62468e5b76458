"""The landholder's portal: notices, paying at the bank, e-receipts."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from app.auth import role_required
from app.errors import NotFound
from app.extensions import db
from app.models import PaymentOrder, Receipt, Role
from app.services import documents, lists, pages, paying
from app.services.refunds import refunds_of_notice, refunds_of_payment
from app.services.scoping import get_notice, get_receipt, payments_for
from app.services.views import (
    dossier_view,
    explained_lines,
    late_interest_today,
    notice_view,
    vietqr_image,
    vietqr_payload,
)
from payments.receipts import receipt_qr_png

bp = Blueprint("landholder", __name__)


class PayForm(FlaskForm):
    pass


@bp.get("/")
@role_required(Role.LANDHOLDER)
def notices():
    filters = lists.Filters.from_args(request.args, statuses=lists.NOTICE_STATUSES)
    items = pages.fetch(lists.notices(current_user, filters), request.args)
    dossiers = pages.fetch(lists.dossiers(current_user), request.args, prefix="dossiers_")
    annual = pages.fetch(lists.annual_notices(current_user), request.args, prefix="annual_")
    return render_template("landholder/notices.html", notices=items.items, dossiers=dossiers.items,
                           annual=annual.items, page=items, dossiers_page=dossiers,
                           annual_page=annual, filters=filters)


@bp.get("/notices/<code>")
@role_required(Role.LANDHOLDER)
def notice(code: str):
    n = get_notice(current_user, code)
    # A notice of the annual tax has no dossier: its own payments and receipts only.
    view = dossier_view(n.dossier) if n.dossier is not None else notice_view(n)
    return render_template("landholder/notice.html", notice=n, form=PayForm(),
                           explained=explained_lines(n),
                           may_pay=current_user.party_id in {p.id for p in n.payers},
                           late_interest=late_interest_today(n), vietqr=vietqr_payload(n),
                           refunds=refunds_of_notice(n.id),
                           current_locale=str(get_locale()), **{
        k: v for k, v in view.items() if k not in ("notice", "notices")
    })


@bp.get("/notices/<code>/vietqr.png")
@role_required(Role.LANDHOLDER)
def notice_vietqr_png(code: str):
    return vietqr_image(get_notice(current_user, code), "png")


@bp.get("/notices/<code>/vietqr.svg")
@role_required(Role.LANDHOLDER)
def notice_vietqr_svg(code: str):
    return vietqr_image(get_notice(current_user, code), "svg")


@bp.post("/notices/<code>/pay")
@role_required(Role.LANDHOLDER)
def pay(code: str):
    if not PayForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("landholder.notice", code=code))
    n = get_notice(current_user, code)
    _order, url = paying.start_payment(current_user, n)
    return redirect(url, code=303)


@bp.get("/bank-return")
@role_required(Role.LANDHOLDER)
def bank_return():
    """Where the bank sends the browser back: shows the state, changes nothing."""
    order = paying.order_for_return(request.args.to_dict())
    if order is None or db.session.scalar(
            payments_for(current_user).with_only_columns(PaymentOrder.id).where(PaymentOrder.id == order.id)) is None:
        raise NotFound(_("This payment is not known, or it is not yours to see."))
    return render_template("landholder/payment.html", order=order, notice=order.notice)


@bp.get("/payments/<ref>")
@role_required(Role.LANDHOLDER)
def payment(ref: str):
    order = db.session.scalar(payments_for(current_user).where(PaymentOrder.ref == ref))
    if order is None:
        raise NotFound(_("This payment is not known, or it is not yours to see."))
    return render_template("landholder/payment.html", order=order, notice=order.notice)


def _own_receipt(number: str) -> Receipt:
    return get_receipt(current_user, number)


@bp.get("/receipts/<number>")
@role_required(Role.LANDHOLDER)
def receipt(number: str):
    r = _own_receipt(number)
    return render_template("landholder/receipt.html", receipt=r, notice=r.notice,
                           refunds=refunds_of_payment(r.payment_id),
                           verify_link=documents.verification_link(r.number))


@bp.get("/receipts/<number>/qr.png")
@role_required(Role.LANDHOLDER)
def receipt_qr(number: str):
    r = _own_receipt(number)
    return Response(receipt_qr_png(documents.compact_code(r)), mimetype="image/png")


@bp.get("/receipts/<number>.pdf")
@role_required(Role.LANDHOLDER)
def receipt_pdf(number: str):
    r = _own_receipt(number)
    return documents.pdf_response(documents.receipt_pdf(r), documents.pdf_filename("bien-lai", r.number))


@bp.get("/notices/<code>.pdf")
@role_required(Role.LANDHOLDER)
def notice_pdf(code: str):
    n = get_notice(current_user, code)
    return documents.pdf_response(documents.notice_pdf(n), documents.pdf_filename("thong-bao", n.code))


@bp.get("/receipts/<number>.jws")
@role_required(Role.LANDHOLDER)
def receipt_token(number: str):
    r = _own_receipt(number)
    return Response(r.token, mimetype="application/jose",
                    headers={"Content-Disposition": f'attachment; filename="{r.number}.jws"'})
