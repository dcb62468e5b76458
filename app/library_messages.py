"""Messages that come from the libraries we use (WTForms' validators and fields, Flask-WTF's
CSRF check) and reach people, listed here so that the translation catalogue carries them:
WTForms has no Vietnamese catalogue of its own. ``app/__init__.py`` points WTForms at our
catalogue for each request, and the form templates pass error texts through ``_()`` for those
that are raised untranslated (the CSRF messages)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _n

MESSAGES = (
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Not a valid choice."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Not a valid date value."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _n("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1),
    _n("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1),
    _n("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1),
    _l("The CSRF token is missing."),
    _l("The CSRF session token is missing."),
    _l("The CSRF token has expired."),
    _l("The CSRF token is invalid."),
    _l("The CSRF tokens do not match."),
)
