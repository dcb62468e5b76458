"""The tax officer's portal: the queue of assessments and their confirmation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.auth import role_required
from app.extensions import db
from app.models import Assessment, AssessmentStatus, Role
from app.services import dossiers as svc
from app.services.scoping import assessments_for, get_assessment

bp = Blueprint("tax", __name__)


class ConfirmForm(FlaskForm):
    pass


class CalculatorForm(FlaskForm):
    case = TextAreaField(_l("Case (JSON)"), validators=[DataRequired(), Length(max=100_000)])


@bp.route("/calculator", methods=["GET", "POST"])
@role_required(Role.TAX_OFFICER, Role.REGISTRY_OFFICER, Role.ADMIN)
def calculator():
    """Assess any case with the rules engine and show each line explained; stores nothing."""
    import tax_calc
    from tax_calc.parse import load_json

    form = CalculatorForm()
    result = error = None
    if form.validate_on_submit():
        try:
            data = load_json(form.case.data)
            if not isinstance(data, dict):
                raise tax_calc.CaseError("case", _("The case must be a JSON object."))
            result = tax_calc.assess(data)
        except tax_calc.CaseError as err:
            if err.field == "json":
                error = _("Not valid JSON: %(reason)s", reason=err.message)
            elif err.field == "case":
                error = err.message
            else:
                error = str(err)
        except tax_calc.TableError as err:
            error = str(err)
    status = 422 if (error or form.errors) else 200
    return render_template("tax/calculator.html", form=form, result=result, error=error), status


@bp.get("/")
@role_required(Role.TAX_OFFICER, Role.ADMIN)
def queue():
    pending = db.session.scalars(
        assessments_for(current_user)
        .where(Assessment.status == AssessmentStatus.PENDING)
        .order_by(Assessment.created_at)
    ).all()
    recent = db.session.scalars(
        assessments_for(current_user)
        .where(Assessment.status == AssessmentStatus.CONFIRMED)
        .order_by(Assessment.confirmed_at.desc())
        .limit(20)
    ).all()
    return render_template("tax/queue.html", pending=pending, recent=recent)


@bp.get("/assessments/<int(max=2147483647):assessment_id>")
@role_required(Role.TAX_OFFICER, Role.ADMIN)
def assessment(assessment_id: int):
    a = get_assessment(current_user, assessment_id)
    return render_template("tax/assessment.html", assessment=a, form=ConfirmForm())


@bp.post("/assessments/<int(max=2147483647):assessment_id>/confirm")
@role_required(Role.TAX_OFFICER)
def confirm(assessment_id: int):
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("tax.assessment", assessment_id=assessment_id))
    a = get_assessment(current_user, assessment_id)
    # Lock the row so two officers confirming at once issue one notice.
    a = db.session.scalar(
        select(Assessment).where(Assessment.id == a.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    notices = svc.confirm_assessment(current_user, a)
    flash(_("Confirmed. Payment notice %(code)s issued.",
            code=", ".join(n.code for n in notices)), "success")
    return redirect(url_for("tax.queue"))
