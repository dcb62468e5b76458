"""The registry officer's portal: file a transfer dossier, see the inbox, complete."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import HiddenInput

from app.auth import role_required
from app.citizen_ids import citizen_id_problem
from app.errors import AppError
from app.extensions import db
from app.models import Dossier, DossierStatus, Notice, Parcel, PaymentOrder, Receipt, Role
from app.services import dossiers as svc
from app.services.holdings import SEARCH_LIMIT, search_parcels
from app.services.scoping import dossiers_for, get_dossier, parcels_for
from app.services.views import dossier_view

bp = Blueprint("registry", __name__)


def CITIZEN_ID(form, field):  # noqa: N802 - used like the validator classes beside it
    """The one citizen id check of ``app.citizen_ids``."""
    problem = citizen_id_problem((field.data or "").strip())
    if problem is not None:
        raise ValidationError(problem)


RELATIONSHIP_CHOICES = [
    SelectChoice("", _l("None (not family)")),
    SelectChoice("spouse", _l("Spouses")),
    SelectChoice("parent_child", _l("Parent and child")),
    SelectChoice("parent_in_law_child_in_law", _l("Parent-in-law and child-in-law")),
    SelectChoice("adoptive_parent_child", _l("Adoptive parent and child")),
    SelectChoice("grandparent_grandchild", _l("Grandparent and grandchild")),
    SelectChoice("siblings", _l("Siblings")),
]


class TransferForm(FlaskForm):
    #: Chosen with the parcel search above the form.
    parcel_id = IntegerField(_l("Parcel"), widget=HiddenInput(),
                             validators=[InputRequired(message=_l("Find and choose the parcel."))])
    transferor_name = StringField(_l("Transferor's full name"), validators=[DataRequired(), Length(max=200)])
    transferor_citizen_id = StringField(_l("Transferor's citizen id"), validators=[DataRequired(), CITIZEN_ID])
    transferee_name = StringField(_l("Transferee's full name"), validators=[DataRequired(), Length(max=200)])
    transferee_citizen_id = StringField(_l("Transferee's citizen id"), validators=[DataRequired(), CITIZEN_ID])
    declared_price = IntegerField(
        _l("Declared contract price (VND)"),
        validators=[InputRequired(), NumberRange(min=1, max=10**15, message=_l("Enter a positive amount in dong."))],
    )
    relationship = SelectField(_l("Family relationship"), choices=RELATIONSHIP_CHOICES, default="")
    sole_residence = BooleanField(_l("Transferor's sole residence, held at least 183 days, transferred whole"))


def transfer_input(form: TransferForm) -> svc.TransferInput:
    return svc.TransferInput(
        parcel_id=form.parcel_id.data,
        transferor=svc.PartyInput(form.transferor_name.data.strip(), form.transferor_citizen_id.data.strip()),
        transferee=svc.PartyInput(form.transferee_name.data.strip(), form.transferee_citizen_id.data.strip()),
        declared_price=form.declared_price.data,
        relationship=form.relationship.data or None,
        sole_residence=bool(form.sole_residence.data),
    )


class CompleteForm(FlaskForm):
    pass


@bp.get("/")
@role_required(Role.REGISTRY_OFFICER, Role.ADMIN)
def inbox():
    status = request.args.get("status", "")
    query = dossiers_for(current_user).order_by(Dossier.filed_at.desc())
    if status in DossierStatus.__members__.values() or status in [s.value for s in DossierStatus]:
        query = query.where(Dossier.status == DossierStatus(status))
    dossiers = db.session.scalars(query.limit(200)).all()
    # Proof of payment arrives by itself: paid dossiers with their receipts, oldest first.
    ready = db.session.execute(
        dossiers_for(current_user)
        .add_columns(Receipt.number, Receipt.issued_at)
        .join(Notice, Notice.dossier_id == Dossier.id)
        .join(Receipt, Receipt.notice_id == Notice.id)
        .join(PaymentOrder, PaymentOrder.id == Receipt.payment_id)
        .where(Dossier.status == DossierStatus.PAID, PaymentOrder.needs_refund.is_(False))
        .order_by(Receipt.issued_at)
    ).all()
    return render_template("registry/inbox.html", dossiers=dossiers, status=status,
                           statuses=list(DossierStatus), ready=ready)


def _office_parcel(parcel_id: int | None) -> Parcel | None:
    if not parcel_id:
        return None
    return db.session.scalar(parcels_for(current_user).where(Parcel.id == parcel_id))


@bp.route("/dossiers/new", methods=["GET", "POST"])
@role_required(Role.REGISTRY_OFFICER)
def new_dossier():
    """Find the parcel (map sheet/number, address or a holder's citizen id; the officer's
    office only, a few results at a time), choose it, and file: the transferor is filled in
    from the registry's current holders."""
    form = TransferForm()
    q = request.args.get("q", "").strip()[:200]
    results, more = search_parcels(current_user, q)
    if request.method == "GET":
        parcel = _office_parcel(request.args.get("parcel_id", type=int))
        if parcel is not None:
            form.parcel_id.data = parcel.id
            current = parcel.current_holdings
            if current:
                form.transferor_name.data = current[0].party.full_name
                form.transferor_citizen_id.data = current[0].party.citizen_id
    else:
        parcel = _office_parcel(form.parcel_id.data)

    def page(status: int):
        return render_template("registry/new.html", form=form, parcel=parcel, q=q, results=results,
                               more=more, limit=SEARCH_LIMIT), status

    if form.validate_on_submit():
        try:
            dossier = svc.file_transfer(current_user, transfer_input(form))
        except AppError as err:
            db.session.rollback()
            parcel = _office_parcel(form.parcel_id.data)
            for name, message in err.fields.items():
                if name in form:
                    form[name].errors = list(form[name].errors) + [message]
            flash(err.message, "error")
            return page(err.status)
        flash(_("Dossier %(code)s filed and sent to tax.", code=dossier.code), "success")
        return redirect(url_for("registry.dossier", code=dossier.code))
    return page(422 if form.errors else 200)


@bp.get("/dossiers/<code>")
@role_required(Role.REGISTRY_OFFICER, Role.ADMIN)
def dossier(code: str):
    d = get_dossier(current_user, code)
    return render_template("registry/dossier.html", **dossier_view(d), form=CompleteForm())


@bp.post("/dossiers/<code>/complete")
@role_required(Role.REGISTRY_OFFICER)
def complete(code: str):
    form = CompleteForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("registry.dossier", code=code))
    d = get_dossier(current_user, code)
    svc.complete_dossier(current_user, d)
    flash(_("Dossier %(code)s completed.", code=d.code), "success")
    return redirect(url_for("registry.dossier", code=code))
