"""Personal income tax on a transfer, a gift or an inheritance of land."""

from __future__ import annotations

from decimal import Decimal

from .context import Ctx, apartment_coef, house_value, pid, price_of
from .due import after_notice, line_dues
from .model import Line
from .money import ONE, ZERO, fmt_rate, fmt_vnd, round_dong
from .registration_fee import claim_review, registration_fee_line
from .rules import FAMILY_RELATIONSHIPS, Rule


def _pit_floor(ctx: Ctx, rule: Rule) -> tuple[Decimal, list]:
    use_coef = rule.params["floor_uses_adjustment_coefficient"]
    floor = ZERO
    components = []
    for i, parcel in enumerate(ctx.case.parcels):
        price = price_of(ctx, i, parcel)
        coef = parcel.adjustment_coefficient if use_coef else ONE
        land = parcel.area_m2 * price * coef * apartment_coef(i, parcel)
        value = land + house_value(parcel)
        floor += value
        components.append((("parcel", pid(i, parcel)), ("area_m2", parcel.area_m2),
                           ("table_price_per_m2", price),
                           ("adjustment_coefficient", coef if use_coef else None),
                           ("house_value", round_dong(house_value(parcel))),
                           ("value", round_dong(value))))
    return floor, components


def _pit_transfer(ctx: Ctx) -> Line:
    case = ctx.case
    rule = ctx.rule("personal_income_tax")
    rate: Decimal = rule.params["transfer_rate"]
    floor, components = _pit_floor(ctx, rule)
    declared = Decimal(case.declared_price or 0)
    coef_text = " x adjustment coefficient" if rule.params["floor_uses_adjustment_coefficient"] \
        else ""
    if declared >= floor:
        base_value, method = declared, "contract_price"
        method_text = f"contract price (not below the table price{coef_text})"
    else:
        base_value = floor
        method = "table_price_x_adjustment_coefficient_floor" if coef_text else \
            "table_price_floor"
        method_text = f"table price{coef_text}, because the contract price is lower"
        floor_vi = "giá theo bảng giá" + (" x hệ số điều chỉnh" if coef_text else "")
        ctx.review("declared_price_below_floor", "declared_price",
                   f"giá chuyển nhượng kê khai {fmt_vnd(int(declared))} đ thấp hơn "
                   f"{floor_vi} {fmt_vnd(round_dong(floor))} đ",
                   f"the declared price {fmt_vnd(int(declared))} VND is below the table "
                   f"price{coef_text} {fmt_vnd(round_dong(floor))} VND")
    exemption = None
    if case.relationship in FAMILY_RELATIONSHIPS:
        exemption = "family_transfer"
    elif case.divorce_split:
        exemption = "divorce_split"
    elif case.sole_residence_183_days and case.whole_transfer:
        exemption = "sole_residence_183_days"
    base = round_dong(base_value)
    amount = 0 if exemption else round_dong(base_value * rate)
    method_vi = ("giá hợp đồng, không thấp hơn giá theo bảng giá"
                 + (" x hệ số điều chỉnh" if coef_text else "")) if method == "contract_price" \
        else ("giá theo bảng giá" + (" x hệ số điều chỉnh" if coef_text else "")
              + " vì giá hợp đồng thấp hơn")
    vi = f"Thuế TNCN chuyển nhượng {fmt_rate(rate)} x {fmt_vnd(base)} đ ({method_vi})"
    en = f"Personal income tax on the transfer {fmt_rate(rate)} x {fmt_vnd(base)} VND " \
         f"({method_text})"
    if exemption:
        names = {
            "family_transfer": ("chuyển nhượng giữa người thân trong gia đình",
                                "transfer between close family members"),
            "divorce_split": ("chia tài sản khi ly hôn", "property split on divorce"),
            "sole_residence_183_days": ("nhà ở, đất ở duy nhất, sở hữu từ 183 ngày, chuyển "
                                        "nhượng toàn bộ", "sole residence held at least 183 "
                                        "days and transferred whole"),
        }[exemption]
        vi = f"Miễn thuế TNCN ({names[0]})"
        en = f"Exempt from personal income tax ({names[1]})"
        claim_review(ctx, exemption, names)
    return Line(
        obligation="personal_income_tax", base=base, base_method=method,
        base_method_text=method_text, rate=rate, amount=amount,
        legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en,
        **line_dues(amount, after_notice(rule.params["due_days"]), case.notice_date),
        exemption=exemption,
        inputs=(("declared_price", case.declared_price), ("floor_value", round_dong(floor)),
                ("relationship", case.relationship),
                ("sole_residence_183_days", case.sole_residence_183_days),
                ("whole_transfer", case.whole_transfer)),
        components=tuple(components),
    )


def _pit_gift(ctx: Ctx) -> Line:
    case = ctx.case
    rule = ctx.rule("personal_income_tax")
    rate: Decimal = rule.params["gift_rate"]
    threshold: int = rule.params["gift_threshold"]
    value, components = _pit_floor(ctx, rule)
    taxable = max(ZERO, value - threshold)
    exemption = "family_inheritance_gift" if case.relationship in FAMILY_RELATIONSHIPS else None
    base = round_dong(taxable)
    amount = 0 if exemption else round_dong(taxable * rate)
    kind_vi = "thừa kế" if case.procedure == "inheritance" else "quà tặng"
    vi = (f"Thuế TNCN nhận {kind_vi} {fmt_rate(rate)} x phần giá trị vượt "
          f"{fmt_vnd(threshold)} đ: ({fmt_vnd(round_dong(value))} - {fmt_vnd(threshold)}) "
          f"= {fmt_vnd(base)} đ")
    en = (f"Personal income tax on the {case.procedure} {fmt_rate(rate)} x the value above "
          f"{fmt_vnd(threshold)} VND: ({fmt_vnd(round_dong(value))} - {fmt_vnd(threshold)}) "
          f"= {fmt_vnd(base)} VND")
    if exemption:
        vi = f"Miễn thuế TNCN ({kind_vi} giữa người thân trong gia đình)"
        en = f"Exempt from personal income tax ({case.procedure} between close relatives)"
        claim_review(ctx, exemption, (f"{kind_vi} giữa người thân trong gia đình",
                                      f"{case.procedure} between close relatives"))
    return Line(
        obligation="personal_income_tax", base=base,
        base_method="value_above_threshold",
        base_method_text=f"table value above {fmt_vnd(threshold)} VND per occurrence",
        rate=rate, amount=amount, legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en,
        **line_dues(amount, after_notice(rule.params["due_days"]), case.notice_date),
        exemption=exemption,
        inputs=(("value", round_dong(value)), ("threshold", threshold),
                ("relationship", case.relationship)),
        components=tuple(components),
    )


def transfer_lines(ctx: Ctx) -> list[Line]:
    return [registration_fee_line(ctx), _pit_transfer(ctx)]


def gift_lines(ctx: Ctx) -> list[Line]:
    return [registration_fee_line(ctx), _pit_gift(ctx)]
