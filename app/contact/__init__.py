"""A landholder's contact page: the email address and phone number notifications go to, which
of the two to use, and the language to write in."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, Optional, ValidationError

from app.auth import role_required
from app.extensions import db
from app.models import Role

bp = Blueprint("contact", __name__)

#: A Vietnamese mobile number: 0 or +84, then a mobile prefix (3, 5, 7, 8, 9) and 8 digits.
MOBILE = re.compile(r"^(?:\+84|0)([35789]\d{8})$")


def normalise_phone(text: str) -> str | None:
    """``text`` as ``0xxxxxxxxx`` if it is a Vietnamese mobile number (spaces, dots and dashes
    allowed between digits), else None."""
    compact = re.sub(r"[\s.\-]", "", text or "")
    match = MOBILE.fullmatch(compact) if compact.isascii() else None
    return "0" + match.group(1) if match else None


class ContactForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[Optional(), Length(max=254),
                                                        Email(message=_l("Enter an email address like name@example.vn."),
                                                              check_deliverability=False)])
    phone = StringField(_l("Mobile phone number"), validators=[Optional(), Length(max=20)])
    notify_by_email = BooleanField(_l("Tell me by email"))
    notify_by_sms = BooleanField(_l("Tell me by text message"))
    language = RadioField(_l("Language of the messages"), choices=[SelectChoice("vi", "Tiếng Việt"),
                                                                      SelectChoice("en", "English")],
                          default="vi")

    def validate_phone(self, field):
        if field.data and normalise_phone(field.data) is None:
            raise ValidationError(_("Enter a Vietnamese mobile number like 0912 345 678."))

    def validate_notify_by_email(self, field):
        if field.data and not (self.email.data or "").strip():
            raise ValidationError(_("Give an email address to be told by email."))

    def validate_notify_by_sms(self, field):
        if field.data and not (self.phone.data or "").strip():
            raise ValidationError(_("Give a mobile number to be told by text message."))


@bp.route("/contact", methods=["GET", "POST"])
@role_required(Role.LANDHOLDER)
def contact():
    user = current_user
    form = ContactForm(obj=None if user.email is None and user.phone is None else user)
    if not form.is_submitted():
        form.language.data = user.language or "vi"
        form.notify_by_email.data = user.notify_by_email
        form.notify_by_sms.data = user.notify_by_sms
    if form.validate_on_submit():
        user.email = (form.email.data or "").strip() or None
        user.phone = normalise_phone(form.phone.data) if form.phone.data else None
        user.notify_by_email = bool(form.notify_by_email.data)
        user.notify_by_sms = bool(form.notify_by_sms.data)
        user.language = form.language.data
        db.session.commit()
        flash(_("Your contact details are saved."), "info")
        return redirect(url_for("contact.contact"))
    return render_template("contact/contact.html", form=form), 422 if form.errors else 200
