"""The administrator's pages: the national portal's dead letter and sync completeness."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from app.auth import role_required
from app.models import Role

bp = Blueprint("admin", __name__)


class ReplayForm(FlaskForm):
    """No fields: the CSRF token is the point."""


@bp.get("/")
@role_required(Role.ADMIN)
def dead_letter():
    from flask import request

    from app.services import lists, pages
    from app.services.delivery import sync_status

    page = pages.fetch(lists.dead_letter(), request.args)
    return render_template("admin/dead_letter.html", items=page.items, page=page, status=sync_status(),
                           form=ReplayForm())


@bp.post("/dead-letter/replay")
@bp.post("/dead-letter/<event_id>/replay")
@role_required(Role.ADMIN)
def replay(event_id: str | None = None):
    from app.services.delivery import replay as replay_events

    if not ReplayForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("admin.dead_letter"))
    count = replay_events(event_id[:64] if event_id else None)
    flash(_("%(count)d event(s) put back in the delivery queue.", count=count), "success")
    return redirect(url_for("admin.dead_letter"))
