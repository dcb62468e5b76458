"""The registry officer's portal: file a transfer dossier, see the inbox, complete."""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from app.auth import role_required
from app.citizen_ids import citizen_id_problem
from app.errors import AppError
from app.extensions import db
from app.forms import AmountField
from app.models import DossierStatus, Parcel, Role
from app.services import dossiers as svc
from app.services import lists, pages
from app.services.holdings import SEARCH_LIMIT, search_parcels
from app.services.scoping import get_dossier, parcels_for
from app.services.views import dossier_view
from tax_calc.parse import LAND_TYPES

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


PROCEDURE_CHOICES = [
    SelectChoice("transfer", _l("Transfer")),
    SelectChoice("gift", _l("Gift")),
    SelectChoice("inheritance", _l("Inheritance")),
    SelectChoice("change_of_use", _l("Change of land use purpose")),
    SelectChoice("recognition", _l("First certificate: recognition of land use rights")),
    SelectChoice("allocation", _l("Land allocation with land use levy")),
    SelectChoice("lease", _l("Land lease")),
    SelectChoice("extension", _l("Extension of the land use term")),
]
RECOGNITION_CHOICES = [
    SelectChoice("", "—"),
    SelectChoice("without_authority_no_payment_proof",
                 _l("Used without papers and without proof of payment")),
]
RENT_MODE_CHOICES = [
    SelectChoice("", "—"),
    SelectChoice("one_time", _l("One-time rent for the whole term")),
    SelectChoice("annual", _l("Annual rent")),
]
CLAUSE_CHOICES = [
    SelectChoice("default", _l("As the law says: the transferee the registration fee, the "
                               "transferor the income tax")),
    SelectChoice("buyer_pays_all", _l("The contract puts everything on the transferee")),
    SelectChoice("seller_pays_all", _l("The contract puts everything on the transferor")),
]
LAND_TYPE_CHOICES = [SelectChoice("", "—")] + [
    SelectChoice(t, t) for t in sorted(LAND_TYPES)]


def REQUIRED_PARTY(form, field):  # noqa: N802 - used like the validator classes beside it
    """Required, except for a change of use or an extension (the holders are the parcel's)
    and, on the transferor's side, for a grant of the State (nobody gives the land)."""
    procedure = form.procedure.data
    not_asked = procedure in svc.HOLDER_PROCEDURES or (
        procedure in svc.ACQUIRING_PROCEDURES and field.name.startswith("transferor"))
    if not_asked and not (field.data or "").strip():
        field.errors[:] = []
        raise StopValidation()
    if not (field.data or "").strip():
        raise StopValidation(_("This field is required."))


def _people(text: str, with_share: bool) -> list[tuple]:
    """Lines "full name; citizen id" (and "; share"), one person a line."""
    people = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split(";")]
        if len(parts) != (3 if with_share else 2) or not parts[0] or not parts[1]:
            raise ValueError(line)
        if citizen_id_problem(parts[1]) is not None:
            raise ValueError(line)
        people.append((svc.PartyInput(parts[0], parts[1]),
                       svc.parse_share(parts[2])) if with_share
                      else svc.PartyInput(parts[0], parts[1]))
    return people


class TransferForm(FlaskForm):
    procedure = SelectField(_l("Procedure"), choices=PROCEDURE_CHOICES, default="transfer")
    #: Chosen with the parcel search above the form.
    parcel_id = IntegerField(_l("Parcel"), widget=HiddenInput(),
                             validators=[InputRequired(message=_l("Find and choose the parcel."))])
    transferor_name = StringField(_l("Transferor's full name"), validators=[REQUIRED_PARTY, Length(max=200)])
    transferor_citizen_id = StringField(_l("Transferor's citizen id"), validators=[REQUIRED_PARTY, CITIZEN_ID])
    other_transferors = TextAreaField(
        _l("Other co-holders transferring (one a line: full name; citizen id)"),
        validators=[Length(max=4000)])
    transferee_name = StringField(_l("Transferee's full name"), validators=[REQUIRED_PARTY, Length(max=200)])
    transferee_citizen_id = StringField(_l("Transferee's citizen id"), validators=[REQUIRED_PARTY, CITIZEN_ID])
    transferee_share = StringField(_l("Transferee's share"), default="1",
                                   validators=[Length(max=30)])
    other_transferees = TextAreaField(
        _l("Other transferees (one a line: full name; citizen id; share such as 1/2)"),
        validators=[Length(max=4000)])
    declared_price = AmountField(
        _l("Declared contract price (VND)"),
        validators=[Optional(), NumberRange(min=1, max=10**15, message=_l("Enter a positive amount in dong."))],
    )
    tax_payer_clause = SelectField(_l("Who pays (the contract's clause)"), choices=CLAUSE_CHOICES,
                                   default="default")
    relationship = SelectField(_l("Family relationship"), choices=RELATIONSHIP_CHOICES, default="")
    sole_residence = BooleanField(_l("Transferor's sole residence, held at least 183 days, transferred whole"))
    new_land_type = SelectField(_l("Land type after the change of use"), choices=LAND_TYPE_CHOICES,
                                default="")
    old_table_price_per_m2 = AmountField(
        _l("Table price per m2 of the land before (VND)"),
        validators=[Optional(), NumberRange(min=0, max=10**15)])
    old_land_money = AmountField(
        _l("Or: the land money before (VND)"),
        validators=[Optional(), NumberRange(min=0, max=10**15)])
    recognition_kind = SelectField(_l("Case of the recognition"), choices=RECOGNITION_CHOICES,
                                   default="")
    infrastructure_cost_per_m2 = AmountField(
        _l("Infrastructure cost per m2 on the transfer form (VND)"),
        validators=[Optional(), NumberRange(min=0, max=10**15)])
    rent_mode = SelectField(_l("Rent"), choices=RENT_MODE_CHOICES, default="")
    lease_term_years = IntegerField(
        _l("Lease term (years)"), validators=[Optional(), NumberRange(min=1, max=99)])
    rent_rate = StringField(_l("Annual rent rate of the province (a fraction such as 0.01)"),
                            validators=[Length(max=10)])
    months_extended = IntegerField(
        _l("Months of extension"), validators=[Optional(), NumberRange(min=1, max=1000)])

    def validate_rent_rate(self, field):
        if (field.data or "").strip() and not re.fullmatch(r"0(\.[0-9]{1,6})?",
                                                           field.data.strip()):
            raise ValidationError(_("A fraction such as 0.01."))

    def validate_transferee_share(self, field):
        try:
            svc.parse_share((field.data or "1").strip())
        except ValueError:
            raise ValidationError(_("A share such as 1/2 or 0.5, above 0 and at most 1.")) from None

    def validate_other_transferors(self, field):
        try:
            _people(field.data, with_share=False)
        except ValueError as err:
            raise ValidationError(_("Not understood: %(line)s", line=str(err))) from None

    def validate_other_transferees(self, field):
        try:
            _people(field.data, with_share=True)
        except ValueError as err:
            raise ValidationError(_("Not understood: %(line)s", line=str(err))) from None


def transfer_input(form: TransferForm) -> svc.TransferInput:
    procedure = form.procedure.data
    holders_only = procedure in svc.HOLDER_PROCEDURES
    granted = procedure in svc.ACQUIRING_PROCEDURES

    def person(name, citizen_id):
        return svc.PartyInput(name.data.strip(), citizen_id.data.strip())

    def own(name):
        """A field of this procedure's, None for any other (the page shows them all)."""
        value = form[name].data
        return value if name in svc.OWN_FIELDS[procedure] and value not in ("", None) else None

    transferor = None if holders_only or granted else \
        person(form.transferor_name, form.transferor_citizen_id)
    transferee = None if holders_only else person(form.transferee_name, form.transferee_citizen_id)
    others_from = [] if granted else _people(form.other_transferors.data, with_share=False)
    others_to = _people(form.other_transferees.data, with_share=True)
    several = not holders_only and (others_from or others_to)
    rate = own("rent_rate")
    extra = {
        "recognition_kind": own("recognition_kind"),
        "infrastructure_cost_per_m2": own("infrastructure_cost_per_m2"),
        "rent_mode": own("rent_mode"),
        "lease_term_years": own("lease_term_years"),
        "rent_rate": Decimal(rate.strip()) if rate else None,
        "months_extended": own("months_extended"),
    }
    if granted or procedure == "extension":
        return svc.TransferInput(
            parcel_id=form.parcel_id.data, procedure=procedure,
            transferee=None if several else transferee,
            transferees=((transferee, svc.parse_share((form.transferee_share.data or "1").strip())),
                         *others_to) if several and transferee else (),
            **extra)
    return svc.TransferInput(
        parcel_id=form.parcel_id.data,
        procedure=form.procedure.data,
        transferor=None if several else transferor,
        transferee=None if several else transferee,
        transferors=(transferor, *others_from) if several else (),
        transferees=((transferee, svc.parse_share((form.transferee_share.data or "1").strip())),
                     *others_to) if several else (),
        declared_price=form.declared_price.data,
        relationship=form.relationship.data or None,
        sole_residence=bool(form.sole_residence.data),
        tax_payer_clause=form.tax_payer_clause.data,
        new_land_type=form.new_land_type.data or None,
        old_table_price_per_m2=form.old_table_price_per_m2.data,
        old_land_money=form.old_land_money.data,
    )


class CompleteForm(FlaskForm):
    pass


@bp.get("/")
@role_required(Role.REGISTRY_OFFICER, Role.ADMIN)
def inbox():
    filters = lists.Filters.from_args(request.args, statuses=lists.DOSSIER_STATUSES)
    page = pages.fetch(lists.dossiers(current_user, filters), request.args)
    # Proof of payment arrives by itself: paid dossiers with their receipts, oldest first.
    ready = pages.fetch(lists.paid_ready(current_user), request.args, prefix="ready_")
    return render_template("registry/inbox.html", dossiers=page.items, page=page, filters=filters,
                           status=filters.status or "", statuses=list(DossierStatus),
                           ready=ready.items, ready_page=ready)


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
