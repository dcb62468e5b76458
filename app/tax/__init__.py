"""The tax officer's portal: the queue of assessments and their confirmation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from app.auth import role_required
from app.models import AssessmentStatus, Role
from app.services import dossiers as svc
from app.services import lists, pages
from app.services.scoping import get_assessment

bp = Blueprint("tax", __name__)


class ConfirmForm(FlaskForm):
    pass


class CalculatorForm(FlaskForm):
    case = TextAreaField(_l("Case (JSON)"), validators=[DataRequired(), Length(max=100_000)])


@bp.route("/calculator", methods=["GET", "POST"])
@role_required(Role.TAX_OFFICER, Role.REGISTRY_OFFICER, Role.ADMIN)
def calculator():
    """Assess a case with the rules engine and show each line explained; stores nothing. A
    form per procedure (app/tax/calculator_forms.py); the engine's JSON, as the API takes it, in a
    form of its own."""
    import json

    import tax_calc
    from app.tax import calculator_forms as calc
    from tax_calc.parse import load_json

    procedure = request.args.get("procedure", "transfer")
    if procedure not in calc.PROCEDURES:
        procedure = "transfer"
    posted_json = "case" in request.form
    json_form = CalculatorForm() if posted_json else CalculatorForm(formdata=None)
    form = None if posted_json else calc.procedure_form(procedure)
    result = error = case = None
    try:
        if form is not None and form.validate_on_submit():
            case = calc.case_from_form(procedure, form)
            result = tax_calc.assess(case)
        elif posted_json and json_form.validate_on_submit():
            case = load_json(json_form.case.data)
            if not isinstance(case, dict):
                raise tax_calc.CaseError("case", _("The case must be a JSON object."))
            result = tax_calc.assess(case)
    except tax_calc.CaseError as err:
        target = calc.field_of(err.field, form)
        if target is not None:
            form[target].errors = [*form[target].errors, err.message]
        elif err.field == "json":
            error = _("Not valid JSON: %(reason)s", reason=err.message)
        elif err.field == "case":
            error = err.message
        else:
            error = str(err)
    except tax_calc.TableError as err:
        error = str(err)
    failed = error or (form.errors if form is not None else json_form.errors)
    return render_template(
        "tax/calculator.html", form=form, json_form=json_form, procedure=procedure,
        procedures=calc.PROCEDURES, result=result, error=error,
        case_json=json.dumps(case, ensure_ascii=False, indent=2, default=str) if result is not None else None,
    ), 422 if failed else 200


@bp.get("/")
@role_required(Role.TAX_OFFICER, Role.ADMIN)
def queue():
    filters = lists.Filters.from_args(request.args, statuses=[AssessmentStatus.PENDING.value],
                                      default_status=AssessmentStatus.PENDING.value)
    page = pages.fetch(lists.assessments(current_user, filters), request.args)
    recent = pages.fetch(lists.recently_confirmed(current_user), request.args, prefix="recent_",
                         default_limit=20)
    return render_template("tax/queue.html", pending=page.items, page=page, filters=filters,
                           recent=recent.items, recent_page=recent)


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
    # The service locks the row, so two officers confirming at once issue one notice.
    notices = svc.confirm_assessment(current_user, get_assessment(current_user, assessment_id))
    flash(_("Confirmed. Payment notice %(code)s issued.",
            code=", ".join(n.code for n in notices)), "success")
    return redirect(url_for("tax.queue"))
