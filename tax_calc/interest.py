"""Late-payment interest."""

from __future__ import annotations

from datetime import date, timedelta

from .context import Ctx
from .errors import CaseError
from .model import Line
from .money import ZERO, fmt_rate, fmt_vnd, round_dong
from .rules import RULES, rule_for


def late_interest(amount: int, due: date, paid_on: date) -> Line:
    """Late-payment interest: 0.03% a day from the day after ``due`` to the day before
    ``paid_on``; days falling under different rule versions are counted under each."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise CaseError("amount", f"must be whole dong >= 0, got {amount!r}")
    if paid_on < due:
        raise CaseError("paid_on", "is before the due date")
    first, last = due + timedelta(days=1), paid_on - timedelta(days=1)
    segments = []
    exact = ZERO
    versions = []
    bases = []
    days_total = 0
    if first <= last:
        cursor = first
        for rule in sorted((r for r in RULES if r.code == "late_interest"),
                           key=lambda r: r.effective_from):
            if rule.effective_to is not None and rule.effective_to < cursor:
                continue
            if rule.effective_from > cursor:
                break
            end = last if rule.effective_to is None else min(last, rule.effective_to)
            days = (end - cursor).days + 1
            rate = rule.params["daily_rate"]
            exact += amount * rate * days
            segments.append((("rule_version", rule.version), ("from", cursor), ("to", end),
                             ("days", days), ("daily_rate", rate)))
            versions.append(rule.version)
            bases.append(rule.legal_basis)
            days_total += days
            cursor = end + timedelta(days=1)
            if cursor > last:
                break
        if cursor <= last:
            raise CaseError("due_date", f"no late-interest rule covers {cursor.isoformat()}")
        rate = segments[0][4][1]
    else:
        rule = rule_for("late_interest", max(due, date(2020, 7, 1)), "due_date")
        versions, bases, rate = [rule.version], [rule.legal_basis], rule.params["daily_rate"]
    result = round_dong(exact)
    return Line(
        obligation="late_interest", base=amount, base_method="overdue_amount_x_days",
        base_method_text=f"overdue amount x {days_total} days (day after the deadline to the "
                         f"day before payment)",
        rate=rate, amount=result, legal_basis="; ".join(bases),
        rule_version="+".join(versions),
        explanation_vi=(f"Tiền chậm nộp: {fmt_vnd(amount)} đ x {fmt_rate(rate)}/ngày x "
                        f"{days_total} ngày (từ {first.isoformat()} đến {last.isoformat()})"),
        explanation_en=(f"Late-payment interest: {fmt_vnd(amount)} VND x {fmt_rate(rate)}/day x "
                        f"{days_total} days ({first.isoformat()} to {last.isoformat()})"),
        inputs=(("amount", amount), ("due_date", due), ("paid_on", paid_on),
                ("days", days_total)),
        components=tuple(segments),
    )


def late_interest_lines(ctx: Ctx) -> list[Line]:
    case = ctx.case
    assert case.amount is not None and case.due_date and case.paid_on
    line = late_interest(case.amount, case.due_date, case.paid_on)
    for v in line.rule_version.split("+"):
        ctx.used.setdefault("late_interest", set()).add(v)
    return [line]
