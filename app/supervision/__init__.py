"""The supervisor's pages: on-time figures across offices, read-only.

Every figure is computed from the recorded events when the page is asked for
(``app/supervision/figures.py``): nothing here is typed in or stored.

The officers' pages of the deadline clocks (``clocks_views.py``, at ``/clocks``) are
registered on the application together with this blueprint.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth import role_required
from app.models import Role
from app.supervision import charts
from app.supervision import figures as fig
from app.supervision.clocks_views import bp as clocks_bp

bp = Blueprint("supervision", __name__)


@bp.record_once
def _register_clocks(state) -> None:
    state.app.register_blueprint(clocks_bp, url_prefix="/clocks")


AGENCY_LABELS = {"registry": _l("Land registry"), "tax": _l("Tax authority")}


def _labels() -> dict[str, str]:
    """Names to show for agencies and procedures (the filing form's names of procedures)."""
    from app.registry import PROCEDURE_CHOICES

    names = {choice.value: str(choice.label) for choice in PROCEDURE_CHOICES}
    return names | {k: str(v) for k, v in AGENCY_LABELS.items()}


def _drill(filters: fig.Filters, **more) -> str:
    args = {k: v for k, v in {**filters.to_json(), **more}.items() if v}
    return url_for("supervision.late", **args)


@bp.get("/")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def index():
    filters = fig.Filters.from_args(request.args)
    all_rows = fig.step_rows()
    data = fig.dashboard(filters, all_rows=all_rows)
    choices = {
        "procedure": sorted({r.procedure for r in all_rows}),
        "office": sorted({r.office for r in all_rows}),
        "period": sorted({r.period for r in all_rows if r.period}, reverse=True),
    }
    labels = _labels()
    chart_titles = {"agency": _l("On time per agency"), "procedure": _l("On time per procedure"),
                    "office": _l("On time per office"), "period": _l("On time per month")}
    svgs = {by: charts.bars(data["by"][by], by, title=str(chart_titles[by]), labels=labels,
                            open_text=_("%(n)s open"),
                            link=lambda g, by=by: _drill(filters, **{by: g[by]}))
            for by in fig.GROUPS}
    return render_template("supervision/index.html", data=data, filters=filters,
                           choices=choices, svgs=svgs, labels=labels,
                           drill=lambda **more: _drill(filters, **more),
                           legend=charts.legend(str(_l("on time")), str(_l("late")),
                                                str(_l("open"))))


@bp.get("/late")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def late():
    """The late steps behind a figure: finished late, or open past their due date."""
    filters = fig.Filters.from_args(request.args)
    from datetime import date

    from app.services import pages

    def when(r):
        return r.due_on or r.finished_on or r.started_on or date.min

    keys = (when, lambda r: r.dossier_code, lambda r: r.agency)
    rows = [r for r in fig.step_rows() if r.late and filters.keep(r)]
    rows.sort(key=lambda r: tuple(k(r) for k in keys))
    page = pages.fetch_in_memory("late", rows, keys, request.args)
    back = {k: v for k, v in filters.to_json().items() if v}
    return render_template("supervision/late.html", rows=page.items, page=page, filters=filters,
                           labels=_labels(), back_url=url_for("supervision.index", **back))


@bp.get("/steps.csv")
@role_required(Role.SUPERVISOR, Role.ADMIN)
def steps_csv():
    """Every step behind the figures (with the page's filters), one row each."""
    filters = fig.Filters.from_args(request.args)
    rows = [r for r in fig.step_rows() if filters.keep(r)]
    if request.args.get("late") == "1":
        rows = [r for r in rows if r.late]
    return Response(fig.rows_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=on-time-steps.csv",
                             "Cache-Control": "no-store"})
