from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SubmitField

from mock_bank.accounts import ACCOUNTS, DEFAULT_ACCOUNT

try:  # WTForms 3.3+ prefers choice objects to tuples
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms
    SelectChoice = None  # type: ignore[assignment,misc]


def _choices() -> list:  # type: ignore[type-arg]
    pairs = [(a.number, f"{a.number} — {a.label}") for a in ACCOUNTS.values()]
    if SelectChoice is None:
        return pairs
    return [SelectChoice(value, label) for value, label in pairs]


class CheckoutForm(FlaskForm):
    """The payer's choice. The signed request travels in hidden lp_ fields beside it."""

    account = RadioField("Test account", choices=_choices(), default=DEFAULT_ACCOUNT)
    confirm = SubmitField("Pay")
    cancel = SubmitField("Cancel payment")


# -- the banking app -----------------------------------------------------------------------------

from flask_wtf.file import FileField  # noqa: E402
from wtforms import HiddenField, IntegerField, PasswordField, StringField, TextAreaField  # noqa: E402
from wtforms.validators import DataRequired, NumberRange, Optional  # noqa: E402


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])
    submit = SubmitField("Sign in")


class ScanForm(FlaskForm):
    """A VietQR code, pasted as text or uploaded as a picture."""

    payload = TextAreaField("VietQR payload (the text inside the code)", validators=[Optional()])
    image = FileField("…or a picture of the QR code")
    submit = SubmitField("Read the code")


class ConfirmForm(FlaskForm):
    payload = HiddenField(validators=[DataRequired()])
    #: Only for a static code (no amount in it): the payer types the amount.
    amount = IntegerField("Amount (dong)", validators=[Optional(), NumberRange(min=1)])
    confirm = SubmitField("Confirm transfer")
