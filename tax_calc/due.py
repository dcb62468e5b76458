"""Due dates: one place turns a line's due terms into dates and instalments.

Each obligation says *when* it falls due as data (``DueTerm``: so many days after the
notice, or a fixed date such as 31 October of the tax year, with a share of the amount).
The dates themselves follow from the date the notice is issued, which the caller may not
know yet when the case is assessed: the terms are kept with the assessment and ``schedule``
is asked again when the notice is issued.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from .model import DueTerm
from .money import ONE, round_dong

Installments = tuple[tuple[date | None, int], ...]


def after_notice(*days: int, shares: Sequence[Decimal] | None = None) -> tuple[DueTerm, ...]:
    """Terms falling due ``days`` after the notice; one term takes the whole amount."""
    if shares is None:
        shares = [ONE / len(days)] * len(days) if days else []
    return tuple(DueTerm(share, days_after_notice=d) for d, share in zip(days, shares,
                                                                          strict=True))


def on_dates(*dates: date, shares: Sequence[Decimal] | None = None) -> tuple[DueTerm, ...]:
    """Terms falling due on fixed dates."""
    if shares is None:
        shares = [ONE / len(dates)] * len(dates) if dates else []
    return tuple(DueTerm(share, on=d) for d, share in zip(dates, shares, strict=True))


def term_date(term: DueTerm, notice_date: date | None) -> date | None:
    if term.on is not None:
        return term.on
    if term.days_after_notice is None or notice_date is None:
        return None
    return notice_date + timedelta(days=term.days_after_notice)


def schedule(amount: int, terms: Sequence[DueTerm], notice_date: date | None) -> Installments:
    """The instalments of ``amount``: each term's date and part. Every term but the last
    takes its share rounded half up to the dong; the last takes the rest, so the parts
    always add up to ``amount``. Nothing is due on a zero amount."""
    if amount == 0 or not terms:
        return ()
    parts: list[tuple[date | None, int]] = []
    left = amount
    for term in terms[:-1]:
        part = round_dong(amount * term.share)
        parts.append((term_date(term, notice_date), part))
        left -= part
    parts.append((term_date(terms[-1], notice_date), left))
    return tuple(parts)


def line_dues(amount: int, terms: Sequence[DueTerm], notice_date: date | None) -> dict:
    """The due fields of a ``Line``: its terms, and the instalments and dates they give."""
    parts = schedule(amount, terms, notice_date)
    return {"due_terms": tuple(terms) if amount else (), "installments": parts,
            "due_dates": tuple(d for d, _ in parts if d is not None)}
