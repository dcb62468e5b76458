"""Land use levy (allocation, change of use, recognition) and the extension surcharge."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from .context import Ctx, info_rate, pfield, pid, price_of
from .due import after_notice, line_dues
from .errors import CaseError
from .model import Line, Parcel
from .money import ONE, ZERO, fmt_rate, fmt_vnd, round_dong
from .rules import Rule


def _levy_terms(rule: Rule) -> tuple:
    """Half within 30 days of the notice, the rest within 90 (Decree 103/2024)."""
    p = rule.params
    return after_notice(p["first_due_days"], p["second_due_days"],
                        shares=(p["first_share"], ONE - p["first_share"]))


def _levy_line(ctx: Ctx, rule: Rule, i: int, parcel: Parcel, base_value: Decimal,
               rate: Decimal, method: str, method_text: str, vi: str, en: str,
               inputs: tuple, components: tuple = (),
               amount_exact: Decimal | None = None) -> Line:
    case = ctx.case
    amount = round_dong(base_value * rate if amount_exact is None else amount_exact)
    terms = _levy_terms(rule)
    debt = False
    if case.record_as_debt:
        if not case.first_certificate:
            raise CaseError("record_as_debt", "recording the levy as a debt is allowed only "
                                              "for a first certificate")
        ctx.rule("land_use_levy_debt", fld="record_as_debt")
        ctx.review("levy_recorded_as_debt", "record_as_debt",
                   "ghi nợ tiền sử dụng đất: cần kiểm tra điều kiện được ghi nợ",
                   "levy recorded as a debt: the conditions must be checked")
        debt = True
        vi += "; ghi nợ tiền sử dụng đất"
        en += "; recorded as a debt"
        terms = ()
    return Line(
        obligation="land_use_levy", base=round_dong(base_value), base_method=method,
        base_method_text=method_text, rate=rate, amount=amount,
        legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en, **line_dues(amount, terms, case.notice_date),
        parcel_id=pid(i, parcel), inputs=inputs + (("recorded_as_debt", debt),),
        components=components,
    )


def allocation_lines(ctx: Ctx) -> list[Line]:
    rule = ctx.rule("land_use_levy")
    lines = []
    for i, parcel in enumerate(ctx.case.parcels):
        price = price_of(ctx, i, parcel)
        levy_price = price * parcel.adjustment_coefficient
        unit = max(ZERO, levy_price - parcel.infrastructure_cost_per_m2)
        base_value = parcel.area_m2 * unit
        text = ("area x (table price x adjustment coefficient - infrastructure cost per m2)")
        vi = (f"Tiền sử dụng đất khi giao đất: {parcel.area_m2} m2 x ({fmt_vnd(price)} x "
              f"{parcel.adjustment_coefficient} - {fmt_vnd(parcel.infrastructure_cost_per_m2)})"
              f" đ/m2")
        en = (f"Land use levy on allocation: {parcel.area_m2} m2 x ({fmt_vnd(price)} x "
              f"{parcel.adjustment_coefficient} - {fmt_vnd(parcel.infrastructure_cost_per_m2)})"
              f" VND/m2")
        lines.append(_levy_line(
            ctx, rule, i, parcel, base_value, ONE,
            "area_x_levy_price_minus_infrastructure", text, vi, en,
            (("area_m2", parcel.area_m2), ("table_price_per_m2", price),
             ("adjustment_coefficient", parcel.adjustment_coefficient),
             ("infrastructure_cost_per_m2", parcel.infrastructure_cost_per_m2))))
    return lines


def _old_money(i: int, parcel: Parcel) -> Decimal:
    if parcel.old_land_money is not None:
        return Decimal(parcel.old_land_money)
    if parcel.old_table_price_per_m2 is not None:
        return parcel.area_m2 * parcel.old_table_price_per_m2
    raise CaseError(f"{pfield(i)}.old_table_price_per_m2",
                    "is required for a change of use (the table price of the land before, "
                    "or old_land_money)")


def change_of_use_lines(ctx: Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("land_use_levy")
    lines = []
    if case.special_same_parcel:
        if case.special_case_used_before:
            raise CaseError("special_same_parcel", "the special change-of-use levy applies once "
                                                   "per household and was used before")
        if len(case.parcels) != 1:
            raise CaseError("parcels", "the special change-of-use levy applies to one parcel of "
                                       "the household's choice")
        special = ctx.rule("land_use_levy_special_change_of_use", fld="special_same_parcel")
        ctx.review("special_case_once_per_household", "special_same_parcel",
                   "mức thu 30%/50% chỉ áp dụng một lần cho mỗi hộ: cần kiểm tra hộ chưa hưởng",
                   "the 30%/50% levy applies once per household: check it was not used before")
    for i, parcel in enumerate(case.parcels):
        price = price_of(ctx, i, parcel)
        new_value = parcel.area_m2 * price * parcel.adjustment_coefficient
        old_value = _old_money(i, parcel)
        diff = max(ZERO, new_value - old_value)
        inputs = (("area_m2", parcel.area_m2), ("table_price_per_m2", price),
                  ("adjustment_coefficient", parcel.adjustment_coefficient),
                  ("levy_at_new_use", round_dong(new_value)),
                  ("land_money_before", round_dong(old_value)))
        if not case.special_same_parcel:
            vi = (f"Tiền sử dụng đất chuyển mục đích: {fmt_vnd(round_dong(new_value))} - "
                  f"{fmt_vnd(round_dong(old_value))} đ (không âm)")
            en = (f"Land use levy on change of use: {fmt_vnd(round_dong(new_value))} - "
                  f"{fmt_vnd(round_dong(old_value))} VND (never below zero)")
            lines.append(_levy_line(ctx, rule, i, parcel, diff, ONE,
                                    "levy_new_use_minus_land_money_before",
                                    "levy at the new use less the land money before", vi, en,
                                    inputs))
            continue
        if parcel.quota_m2 is None:
            raise CaseError(f"{pfield(i)}.quota_m2", "the residential allocation quota is required "
                                                 "for the special change-of-use case")
        per_m2 = diff / parcel.area_m2 if parcel.area_m2 else ZERO
        remaining = parcel.area_m2
        lower = ZERO
        exact = ZERO
        comps = []
        for multiple, pct in special.params["tiers"]:
            if remaining <= 0:
                break
            cap = None if multiple is None else parcel.quota_m2 * multiple
            take = remaining if cap is None else min(remaining, cap - lower)
            exact += take * per_m2 * pct
            comps.append((("tier_share", pct), ("area_m2", take),
                          ("difference", round_dong(take * per_m2)),
                          ("amount_exact", take * per_m2 * pct)))
            remaining -= take
            if cap is not None:
                lower = cap
        rate = info_rate(exact / diff) if diff else Decimal("0.30")
        vi = (f"Tiền sử dụng đất chuyển mục đích (đất vườn, ao cùng thửa đất ở): 30% chênh lệch "
              f"trong hạn mức {parcel.quota_m2} m2, 50% phần tiếp theo đến một hạn mức, 100% "
              f"phần còn lại; tổng chênh lệch {fmt_vnd(round_dong(diff))} đ")
        en = (f"Land use levy on change of use (garden/pond land in a residential parcel): 30% "
              f"of the difference within the quota {parcel.quota_m2} m2, 50% up to one more "
              f"quota, 100% beyond; total difference {fmt_vnd(round_dong(diff))} VND")
        line = _levy_line(ctx, rule, i, parcel, diff, rate,
                          "difference_by_quota_tiers_30_50_100",
                          "difference between the levy at the new use and the land money "
                          "before, 30%/50%/100% by the quota", vi, en,
                          inputs + (("quota_m2", parcel.quota_m2),), tuple(comps),
                          amount_exact=exact)
        lines.append(replace(line, legal_basis=f"{special.legal_basis}; {rule.legal_basis}",
                             rule_version=special.version))
    return lines


def recognition_lines(ctx: Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("land_use_levy_recognition")
    levy = ctx.rule("land_use_levy")
    share: Decimal = rule.params["share"]
    lines = []
    for i, parcel in enumerate(case.parcels):
        if parcel.land_type != "residential":
            raise CaseError(f"{pfield(i)}.land_type", "recognition levy is computed on residential "
                                                  "land (give the residential table price)")
        price = price_of(ctx, i, parcel)
        base_value = parcel.area_m2 * price
        vi = (f"Tiền sử dụng đất khi công nhận (không có giấy tờ, không chứng từ nộp tiền): "
              f"{parcel.area_m2} m2 x {fmt_vnd(price)} đ/m2 x {fmt_rate(share)}")
        en = (f"Land use levy on recognition without authority or proof of payment: "
              f"{parcel.area_m2} m2 x {fmt_vnd(price)} VND/m2 x {fmt_rate(share)}")
        line = _levy_line(ctx, levy, i, parcel, base_value, share,
                          "area_x_residential_table_price",
                          "area x residential table price", vi, en,
                          (("area_m2", parcel.area_m2), ("table_price_per_m2", price)))
        lines.append(replace(line, legal_basis=rule.legal_basis, rule_version=rule.version))
    return lines


def extension_lines(ctx: Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("extension_surcharge")
    rate: Decimal = rule.params["annual_rate"]
    months = case.months_extended
    assert months is not None
    lines = []
    for i, parcel in enumerate(case.parcels):
        price = price_of(ctx, i, parcel)
        value = parcel.area_m2 * price
        exact = value * rate * months / 12
        amount = round_dong(exact)
        lines.append(Line(
            obligation="extension_surcharge", base=round_dong(value),
            base_method="area_x_table_price",
            base_method_text=f"area x table price; annual rate pro rata {months}/12",
            rate=rate, amount=amount, legal_basis=rule.legal_basis, rule_version=rule.version,
            explanation_vi=(f"Khoản tiền gia hạn: {parcel.area_m2} m2 x {fmt_vnd(price)} đ/m2 x "
                            f"{fmt_rate(rate)} x {months}/12 tháng"),
            explanation_en=(f"Extension surcharge: {parcel.area_m2} m2 x {fmt_vnd(price)} "
                            f"VND/m2 x {fmt_rate(rate)} x {months}/12 months"),
            **line_dues(amount, after_notice(rule.params["due_days"]), case.notice_date),
            parcel_id=pid(i, parcel),
            inputs=(("area_m2", parcel.area_m2), ("table_price_per_m2", price),
                    ("months_extended", months)),
        ))
    return lines


# ---------------------------------------------------------------- land rent
