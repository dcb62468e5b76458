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
