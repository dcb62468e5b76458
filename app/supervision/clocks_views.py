"""The officers' side of the deadline clocks: a dossier's clocks, the reason of a late step
and the written apology with its new date; and the template helpers that show a dossier's
clocks on the officers' and the landholders' pages."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, TextAreaField
from wtforms.validators import InputRequired, Length

from app import deadlines as dl
from app.auth import role_required
from app.errors import AppError
from app.extensions import db
from app.models import Dossier, Event, Role
from app.services import clocks as ck
from app.services.scoping import get_dossier, get_readable_dossier

bp = Blueprint("clocks", __name__)

#: Who may open a dossier's clocks and its apology letters: the officers of its offices and
#: its parties (through ``scoping``), administrators, and supervisors (read-only, all).
VIEWERS = (Role.REGISTRY_OFFICER, Role.TAX_OFFICER, Role.LANDHOLDER, Role.ADMIN, Role.SUPERVISOR)


class LateForm(FlaskForm):
    reason = TextAreaField(_l("Why the step will be late"),
                           validators=[InputRequired(message=_l("Write the reason for the delay.")),
                                       Length(max=1000)])
    new_due_on = DateField(_l("New date promised to the landholder"),
                           validators=[InputRequired(message=_l("Give the new date."))])


def _visible_dossier(code: str) -> Dossier:
    return get_readable_dossier(current_user, code[:30])


@bp.app_template_global("dossier_clocks")
def dossier_clocks(dossier: Dossier) -> ck.DossierClocks:
    """The dossier's clocks as they stand now (for the pages that include
    clocks/_timeline.html or clocks/_landholder_timeline.html)."""
    return ck.dossier_clocks(dossier)


@bp.app_template_global("clocks_for")
def clocks_for(dossiers) -> dict[int, ck.DossierClocks]:
    """The clocks of the dossiers of a queue, by dossier id (one query for their events)."""
    return ck.clocks_for(list(dossiers))


@bp.app_template_global("late_form")
def late_form() -> LateForm:
    return LateForm(formdata=None)


@bp.app_template_global("can_record_late")
def can_record_late(dossier: Dossier, clocks: ck.DossierClocks) -> bool:
    """Whether the current user is an officer of the agency whose step runs now."""
    try:
        agency = ck.agency_of(current_user, dossier)
    except AppError:
        return False
    return clocks.step(agency).state == "running"


@bp.app_template_global("working_days_left")
def working_days_left(due_on: date | None) -> int | None:
    if due_on is None:
        return None
    today = dl.local_day(datetime.now(UTC))
    return dl.working_days_between(today, due_on) if due_on >= today else \
        -dl.working_days_between(due_on, today)


@bp.get("/<code>")
@role_required(Role.REGISTRY_OFFICER, Role.TAX_OFFICER, Role.ADMIN, Role.SUPERVISOR)
def dossier(code: str):
    d = _visible_dossier(code)
    return render_template("clocks/dossier.html", dossier=d, events=d.events, form=LateForm())


@bp.post("/<code>/late")
@role_required(Role.REGISTRY_OFFICER, Role.TAX_OFFICER)
def late(code: str):
    d = get_dossier(current_user, code[:30])
    form = LateForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
        return render_template("clocks/dossier.html", dossier=d, events=d.events, form=form), 422
    try:
        ck.record_late_reason(current_user, d, form.reason.data, form.new_due_on.data)
    except AppError as err:
        db.session.rollback()
        for name, message in err.fields.items():
            if name in form:
                form[name].errors = list(form[name].errors) + [message]
        flash(err.message, "error")
        d = get_dossier(current_user, code[:30])
        return render_template("clocks/dossier.html", dossier=d, events=d.events,
                               form=form), err.status
    flash(_("The reason is recorded and the apology letter is ready to send."), "success")
    return redirect(url_for("clocks.dossier", code=d.code))


@bp.get("/<code>/apologies")
@role_required(*VIEWERS)
def apologies(code: str):
    """The written apologies with their new dates (form 04 of the one-stop-shop rules) of a
    dossier, printable; ``#apology-<event id>`` points at one of them."""
    d = _visible_dossier(code)
    events = db.session.scalars(select(Event).where(
        Event.dossier_id == d.id, Event.kind == ck.LATE_REASON).order_by(Event.id)).all()
    return render_template("clocks/apology.html", dossier=d, events=events,
                           source=dl.APOLOGY_SOURCE)
