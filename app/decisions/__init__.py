"""Officers' decisions on a dossier (adjust, return, reject) and the landholder's withdrawal.

The forms are shown on the pages people already use (the registry's dossier page, the tax
officer's assessment page, the landholder's notice page) through the ``decisions/_*.html``
includes, each offering only what the user may decide now (``app.services.workflow``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.auth import role_required
from app.errors import AppError
from app.extensions import db
from app.models import (
    AdjustmentStatus,
    AssessmentAdjustment,
    Dossier,
    DossierReturn,
    Role,
)
from app.registry import RELATIONSHIP_CHOICES
from app.services import decisions as svc
from app.services.decisions import MAX_TEXT
from app.services.scoping import get_assessment, get_dossier
from app.services.views import dossier_view
from app.services.workflow import Decision
from app.uploads import allow_large_body

bp = Blueprint("decisions", __name__)

REASON = [DataRequired(message=_l("Give the reason.")), Length(max=MAX_TEXT)]


class RejectForm(FlaskForm):
    legal_ground = StringField(_l("Legal ground"), validators=[
        DataRequired(message=_l("Name the legal ground.")), Length(max=MAX_TEXT)])
    reason = TextAreaField(_l("Reason"), validators=REASON)


class ReturnForm(FlaskForm):
    missing = TextAreaField(_l("What is missing"), validators=[
        DataRequired(message=_l("Name the missing paper.")), Length(max=MAX_TEXT)])
    reason = TextAreaField(_l("Reason"), validators=REASON)


class PapersForm(FlaskForm):
    file = FileField(_l("The missing paper (PDF, PNG or JPEG)"))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=MAX_TEXT)])


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Why you withdraw the dossier"), validators=REASON)


UNCHANGED = SelectChoice("", _l("Unchanged"))


class AdjustForm(FlaskForm):
    declared_price = IntegerField(_l("Price the tax is based on (VND)"), validators=[
        Optional(), NumberRange(min=1, max=10**15, message=_l("Enter a positive amount in dong."))])
    relationship = SelectField(_l("Family exemption"), default="", choices=[
        UNCHANGED, SelectChoice("none", _l("No exemption (not family)")),
        *[c for c in RELATIONSHIP_CHOICES if c.value]])
    sole_residence = SelectField(_l("Sole residence exemption"), default="", choices=[
        UNCHANGED, SelectChoice("yes", _l("Granted")), SelectChoice("no", _l("Refused"))])
    area_m2 = StringField(_l("Area the lines are based on (m2)"),
                          validators=[Optional(), Length(max=20)])
    reason = TextAreaField(_l("Reason"), validators=REASON)

    def changes(self) -> dict:
        changes = {}
        if self.declared_price.data is not None:
            changes["declared_price"] = self.declared_price.data
        if self.relationship.data:
            changes["relationship"] = None if self.relationship.data == "none" \
                else self.relationship.data
        if self.sole_residence.data:
            changes["sole_residence"] = self.sole_residence.data == "yes"
        if (self.area_m2.data or "").strip():
            changes["area_m2"] = self.area_m2.data.strip().replace(",", ".")
        return changes


class ApproveForm(FlaskForm):
    reason = TextAreaField(_l("Reason for approving"), validators=REASON)


def _back(dossier: Dossier | None = None, assessment_id: int | None = None):
    if current_user.role is Role.TAX_OFFICER and assessment_id is not None:
        return redirect(url_for("tax.assessment", assessment_id=assessment_id))
    if current_user.role is Role.LANDHOLDER and dossier is not None:
        return redirect(url_for("decisions.dossier", code=dossier.code))
    if dossier is not None:
        return redirect(url_for("registry.dossier", code=dossier.code))
    return redirect(url_for("public.index"))


def _refused(form: FlaskForm | None = None, err: AppError | None = None) -> None:
    """Tell what was wrong, field by field; nothing was changed."""
    db.session.rollback()
    if err is not None:
        flash(err.message, "error")
        for message in err.fields.values():
            flash(message, "error")
    if form is not None:
        for errors in form.errors.values():
            flash(str(errors[0]), "error")


def context(dossier: Dossier) -> dict:
    """What the decision includes show for a dossier: the decisions the user may take now,
    the open return, the adjustment waiting for approval, the decisions taken so far."""
    can = {d.value: svc.can(d, current_user, dossier) for d in Decision}
    returns = db.session.scalars(select(DossierReturn).where(
        DossierReturn.dossier_id == dossier.id).order_by(DossierReturn.id)).all()
    adjustments = db.session.scalars(select(AssessmentAdjustment).where(
        AssessmentAdjustment.dossier_id == dossier.id).order_by(AssessmentAdjustment.id)).all()
    pending = next((a for a in adjustments if a.status is AdjustmentStatus.PENDING_APPROVAL), None)
    return {"can": can, "open_return": next((r for r in returns if r.supplied_at is None), None),
            "returns": returns, "adjustments": adjustments, "pending": pending,
            "in_force": svc.assessment_in_force(dossier), "max_kb": svc.paper_max_bytes() // 1024,
            "relationships": [c for c in RELATIONSHIP_CHOICES if c.value]}


@bp.app_context_processor
def _inject():
    return {"decision_context": context}


@bp.get("/dossiers/<code>")
@role_required(Role.LANDHOLDER)
def dossier(code: str):
    """A landholder's own dossier: where it stands, what is missing, what they may decide."""
    d = get_dossier(current_user, code)
    return render_template("decisions/dossier.html", **dossier_view(d))


@bp.post("/dossiers/<code>/reject")
@role_required(Role.REGISTRY_OFFICER)
def reject(code: str):
    d = get_dossier(current_user, code)
    form = RejectForm()
    if not form.validate_on_submit():
        _refused(form)
        return _back(d)
    try:
        svc.reject(current_user, d, legal_ground=form.legal_ground.data, reason=form.reason.data)
    except AppError as err:
        _refused(err=err)
        return _back(d)
    flash(_("Dossier %(code)s rejected; its notices are cancelled and any payment is being "
            "refunded.", code=d.code), "success")
    return _back(d)


@bp.post("/dossiers/<code>/return")
@role_required(Role.REGISTRY_OFFICER)
def return_(code: str):
    d = get_dossier(current_user, code)
    form = ReturnForm()
    if not form.validate_on_submit():
        _refused(form)
        return _back(d)
    try:
        svc.return_dossier(current_user, d, missing=form.missing.data, reason=form.reason.data)
    except AppError as err:
        _refused(err=err)
        return _back(d)
    flash(_("Dossier %(code)s returned for the missing paper.", code=d.code), "success")
    return _back(d)


# A paper may be larger than the body limit of every other request.
allow_large_body("decisions.papers", svc.paper_max_bytes)


@bp.post("/dossiers/<code>/papers")
@role_required(Role.LANDHOLDER, Role.REGISTRY_OFFICER)
def papers(code: str):
    d = get_dossier(current_user, code)
    form = PapersForm()
    if not form.validate_on_submit():
        _refused(form)
        return _back(d)
    paper = None
    upload = form.file.data
    if upload is not None and getattr(upload, "filename", None):
        paper = svc.Paper(upload.filename, upload.read(svc.paper_max_bytes() + 1))
    try:
        svc.supply_papers(current_user, d, paper=paper, note=form.note.data)
    except AppError as err:
        _refused(err=err)
        return _back(d)
    flash(_("The missing paper is recorded; dossier %(code)s goes on.", code=d.code), "success")
    return _back(d)


@bp.post("/dossiers/<code>/withdraw")
@role_required(Role.LANDHOLDER)
def withdraw(code: str):
    d = get_dossier(current_user, code)
    form = WithdrawForm()
    if not form.validate_on_submit():
        _refused(form)
        return _back(d)
    try:
        svc.withdraw(current_user, d, reason=form.reason.data)
    except AppError as err:
        _refused(err=err)
        return _back(d)
    flash(_("Dossier %(code)s withdrawn; anything you paid is being refunded.", code=d.code),
          "success")
    return _back(d)


@bp.post("/assessments/<int(max=2147483647):assessment_id>/adjust")
@role_required(Role.TAX_OFFICER)
def adjust(assessment_id: int):
    a = get_assessment(current_user, assessment_id)
    form = AdjustForm()
    if not form.validate_on_submit():
        _refused(form)
        return _back(a.dossier, assessment_id)
    try:
        adjustment = svc.adjust(current_user, a, changes=form.changes(), reason=form.reason.data)
    except AppError as err:
        _refused(err=err)
        return _back(a.dossier, assessment_id)
    if adjustment.status is AdjustmentStatus.PENDING_APPROVAL:
        flash(_("Adjustment recorded; it waits for a second tax officer's approval."), "success")
        return _back(a.dossier, assessment_id)
    flash(_("Assessment adjusted: version %(version)s is in force.",
            version=adjustment.new_assessment.version), "success")
    return _back(a.dossier, adjustment.new_assessment_id)


@bp.post("/adjustments/<int(max=2147483647):adjustment_id>/approve")
@role_required(Role.TAX_OFFICER)
def approve(adjustment_id: int):
    adjustment = svc.adjustment_for(current_user, adjustment_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        _refused(form)
        return _back(adjustment.dossier, adjustment.assessment_id)
    try:
        adjustment = svc.approve(current_user, adjustment, reason=form.reason.data)
    except AppError as err:
        _refused(err=err)
        return _back(adjustment.dossier, adjustment.assessment_id)
    flash(_("Adjustment approved: version %(version)s is in force.",
            version=adjustment.new_assessment.version), "success")
    return _back(adjustment.dossier, adjustment.new_assessment_id)
