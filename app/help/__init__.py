"""Help for landholders: what each obligation is and who pays it, how to pay, what happens
after paying, deadlines and late interest, checking a receipt, whom to contact. Each topic is
written once per language (a template per language: long prose reads better whole than as
catalogue fragments) and linked from the places where people get stuck."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Office

bp = Blueprint("help", __name__)

#: Topic slug -> title, in the order of the help index.
TOPICS = {
    "obligations": _l("What you pay, and who pays it"),
    "paying": _l("How to pay"),
    "after-paying": _l("After you pay"),
    "deadlines": _l("Deadlines and late-payment interest"),
    "receipts": _l("Checking a receipt"),
    "contact": _l("Whom to contact"),
}


def _lang() -> str:
    return "vi" if str(get_locale()) == "vi" else "en"


@bp.get("/")
def index():
    return render_template("help/index.html", topics=TOPICS)


@bp.get("/<topic>")
def topic(topic: str):
    if topic not in TOPICS:
        abort(404)
    offices = []
    if topic == "contact":
        offices = db.session.scalars(select(Office).order_by(Office.province, Office.kind, Office.name)).all()
    return render_template(f"help/{_lang()}/{topic}.html", topics=TOPICS, slug=topic,
                           title=TOPICS[topic], offices=offices)
