"""The accountant's pages: the reconciliation queue and its actions (docs/reconciliation.md)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.auth import role_required
from app.errors import AppError
from app.extensions import db
from app.models import ItemKind, ItemStatus, ReconciliationItem, Role
from app.services import lists, pages, reconciliation
from app.services.paying import LOCAL_TZ

bp = Blueprint("accounting", __name__)

KIND_LABELS = {
    ItemKind.UNKNOWN_CREDIT: _l("Unknown credit"),
    ItemKind.SHORT: _l("Short payment"),
    ItemKind.OVER: _l("Overpayment"),
    ItemKind.DUPLICATE: _l("Duplicate"),
    ItemKind.MISSING: _l("Missing from the statement"),
    ItemKind.OTHER_DAY: _l("On another day's statement"),
    ItemKind.AMOUNT_DIFFERS: _l("Amount differs from the statement"),
    ItemKind.UNKNOWN_DEBIT: _l("Unknown debit"),
}
STATUS_LABELS = {
    ItemStatus.OPEN: _l("Open"),
    ItemStatus.MATCHED: _l("Matched to a notice"),
    ItemStatus.REFUND_REQUESTED: _l("Refund requested"),
    ItemStatus.ACCEPTED: _l("Accepted"),
}


class ResolveForm(FlaskForm):
    action = RadioField(_l("Decision"), validators=[DataRequired()], choices=[
        SelectChoice("match", _l("Match the money to a notice")),
        SelectChoice("refund", _l("Send the money back to the payer")),
        SelectChoice("accept", _l("Accept: explained, nothing to do with the money")),
    ])
    notice_code = StringField(_l("Notice code (to match)"), validators=[Optional(), Length(max=30)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=3, max=2000)])


def _local(moment):
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""


@bp.get("/")
@role_required(Role.ACCOUNTANT, Role.ADMIN)
def index():
    filters = lists.Filters.from_args(request.args, statuses=lists.ITEM_STATUSES,
                                      kinds=lists.ITEM_KINDS, default_status="open")
    page = pages.fetch(lists.reconciliation_items(filters), request.args)
    return render_template("accounting/index.html", items=page.items, page=page, filters=filters,
                           status=filters.status, kind=filters.kind,
                           kinds=KIND_LABELS, statuses=STATUS_LABELS, local=_local)


def _item(item_id: int) -> ReconciliationItem:
    item = db.session.get(ReconciliationItem, item_id)
    if item is None:
        abort(404)
    return item


@bp.get("/items/<int(max=2147483647):item_id>")
@role_required(Role.ACCOUNTANT, Role.ADMIN)
def item(item_id: int):
    return render_template("accounting/item.html", item=_item(item_id), form=ResolveForm(),
                           kinds=KIND_LABELS, statuses=STATUS_LABELS, local=_local)


@bp.post("/items/<int(max=2147483647):item_id>/resolve")
@role_required(Role.ACCOUNTANT, Role.ADMIN)
def resolve(item_id: int):
    form = ResolveForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            flash(_("The form has expired; please try again."), "error")
            return redirect(url_for("accounting.item", item_id=item_id))
        return render_template("accounting/item.html", item=_item(item_id), form=form, kinds=KIND_LABELS,
                               statuses=STATUS_LABELS, local=_local), 422
    try:
        done = reconciliation.resolve(item_id, current_user, action=form.action.data,
                                      reason=form.reason.data, notice_code=form.notice_code.data)
    except AppError as err:
        db.session.rollback()
        for name, message in err.fields.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        flash(err.message, "error")
        return render_template("accounting/item.html", item=_item(item_id), form=form, kinds=KIND_LABELS,
                               statuses=STATUS_LABELS, local=_local), err.status
    flash(_("Item %(id)s: %(status)s.", id=done.id, status=str(STATUS_LABELS[done.status])), "success")
    return redirect(url_for("accounting.index"))
