"""An explained line's wording written the way its table is.

The calculator words its lines the way a Vietnamese notice does whatever the language: dong
with dot thousands ("8.000.000.000 đ" / "8.000.000.000 VND"), rates and areas with a decimal
point ("0.5%", "120.5 m2"), an "x" for times and ISO dates. Next to a table whose amounts the
reader's locale formats ("8,000,000,000 ₫" in English), the same amount must read the same:
this module rewrites the wording for the reader's locale, as the ``vnd`` and ``percent``
filters format the table, with × for times, m² for square metres and dates as dd/mm/yyyy.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal

#: An amount with its unit: "8.000.000.000 đ", "50.000 VND/m2", "12.345,67 đ".
_AMOUNT_UNIT = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})*(?:,\d+)?)\s?(?:đ|VND)(?=$|[^\w])(/m2)?")
#: An amount without its unit, known by its two or more groups of thousands: "687.200.000".
_AMOUNT = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3}){2,}(?:,\d+)?)(?![\d.,]\d)")
_AREA = re.compile(r"(?<![\d.,])(\d+(?:\.\d+)?)\s?m2\b")
_RATE = re.compile(r"(?<![\d.,])(\d+(?:\.\d+)?)%")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
#: A decimal left in the wording (a coefficient "1.0"), not a group of thousands.
_DECIMAL = re.compile(r"(?<![\d.,])(\d+)\.(\d{1,2}|\d{4,})(?![\d.,])")
_TIMES = re.compile(r"(?<=[\s)\d])x(?=\s)")


def _dong(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def _fmt(value: Decimal, pattern: str, locale: str) -> str:
    return format_decimal(value, format=pattern, locale=locale)


def explanation_in(text: str | None, locale: str) -> str:
    """``text`` (an explained line's wording) written for a reader of ``locale``."""
    if not text:
        return text or ""
    locale = "vi" if str(locale).startswith("vi") else "en"
    try:
        def amount_unit(m: re.Match) -> str:
            per = "/m²" if m.group(2) else ""
            return _fmt(_dong(m.group(1)), "#,##0.##", locale) + " ₫" + per

        out = _AMOUNT_UNIT.sub(amount_unit, text)
        out = _AMOUNT.sub(lambda m: _fmt(_dong(m.group(1)), "#,##0.##", locale), out)
        out = _AREA.sub(lambda m: _fmt(Decimal(m.group(1)), "#,##0.##", locale) + " m²", out)
        out = _RATE.sub(lambda m: _fmt(Decimal(m.group(1)), "#,##0.####", locale) + "%", out)
    except InvalidOperation:  # pragma: no cover - the patterns only match numbers
        out = text
    if locale == "vi":
        out = _DECIMAL.sub(r"\1,\2", out)
    out = _ISO_DATE.sub(r"\3/\2/\1", out)
    return _TIMES.sub("×", out)


def explained(text: str | None) -> str:
    """``text`` for the current request's language (a Jinja filter)."""
    from flask_babel import get_locale

    return explanation_in(text, str(get_locale() or "vi"))
