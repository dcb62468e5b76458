"""Provincial fees, read from the province's fee schedule (data, not code)."""

from __future__ import annotations

from .context import Ctx
from .errors import CaseError
from .model import Line
from .money import ONE, fmt_vnd
from .tables import find_table, in_force


def provincial_fee_lines(ctx: Ctx) -> list[Line]:
    case = ctx.case
    assert case.fee_schedule_version is not None
    schedule = ctx.fee_schedule
    if schedule is None:
        schedule = find_table("fee_schedule", case.fee_schedule_version, ctx.data_dir,
                              field="fee_schedule_version")
    if schedule.version != case.fee_schedule_version:
        raise CaseError("fee_schedule_version", f"case names {case.fee_schedule_version!r} but "
                                                f"schedule {schedule.version!r} was given")
    meta = in_force(schedule.meta, case.province, case.valid_on, "fee_schedule_version")
    ctx.used.setdefault("provincial_fee", set()).add(meta.version)
    lines = []
    for i, item in enumerate(case.fees):
        row = schedule.fee(item.fee_code, item.category, item.online, field=f"fees[{i}]")
        unit = row.online_amount if item.online and row.online_amount is not None else row.amount
        amount = unit * item.quantity
        lines.append(Line(
            obligation="provincial_fee", base=amount,
            base_method="online_amount" if item.online and row.online_amount is not None
            else "schedule_amount",
            base_method_text=f"{row.description} ({item.category}"
                             f"{', online' if item.online else ''}): {fmt_vnd(unit)} VND x "
                             f"{item.quantity}",
            rate=ONE, amount=amount,
            legal_basis=meta.source, rule_version=meta.version,
            explanation_vi=f"Phí, lệ phí theo nghị quyết của HĐND tỉnh: {row.description} "
                           f"{fmt_vnd(unit)} đ x {item.quantity}",
            explanation_en=f"Provincial fee ({meta.source}): {row.fee_code} for "
                           f"{item.category} {fmt_vnd(unit)} VND x {item.quantity}",
            inputs=(("fee_code", item.fee_code), ("category", item.category),
                    ("online", item.online), ("quantity", item.quantity),
                    ("unit_amount", unit)),
        ))
    return lines
