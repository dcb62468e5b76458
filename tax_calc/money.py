"""Money and rounding.

VND has no minor unit. Every intermediate value is a ``Decimal``; each line is rounded
exactly once, at the end, half up to the whole dong (``ROUNDING_RULE``). No float anywhere.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ROUNDING_RULE = "half_up_dong_once_per_line"
ROUNDING_TEXT = (
    "Rounded once at the end of the line, half up to the whole dong "
    "(Decimal.quantize(1, ROUND_HALF_UP))."
)
ONE = Decimal(1)
ZERO = Decimal(0)


def round_dong(value: Decimal) -> int:
    """Round a Decimal amount half up to a whole dong (the one rounding rule)."""
    return int(value.quantize(ONE, rounding=ROUND_HALF_UP))


def fmt_vnd(amount: int | Decimal) -> str:
    """Format dong with dot thousands separators, as written in Vietnamese notices."""
    if isinstance(amount, Decimal) and amount != amount.to_integral_value():
        whole = int(amount)
        frac = str(abs(amount - whole)).split(".")[1]
        return f"{whole:,}".replace(",", ".") + "," + frac
    return f"{int(amount):,}".replace(",", ".")


def fmt_rate(rate: Decimal) -> str:
    """A rate as a percentage string, e.g. Decimal('0.005') -> '0.5%'."""
    pct = (rate * 100).normalize()
    text = format(pct, "f")
    return f"{text}%"
