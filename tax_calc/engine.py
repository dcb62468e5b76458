"""The rules engine: a case in, an assessment out. Pure: no I/O except reading a versioned
data file from ``data/`` when the case refers to one by version and the caller did not pass it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import CaseError
from .model import Assessment, Case, Line, Parcel
from .money import ONE, ZERO, fmt_rate, fmt_vnd, round_dong
from .nonagri import (
    ConsolidatedParcel,
    cheapest,
    consolidated_options,
    non_agricultural_tax_line,
)
from .parse import case_from_dict
from .rules import FAMILY_RELATIONSHIPS, RULES, Rule, rule_for
from .tables import FeeSchedule, PositionFactors, PriceBook, find_table

_INFO_Q = Decimal("0.0000000001")  # display precision for a rate that is a fraction


@dataclass
class _Ctx:
    case: Case
    price_book: PriceBook | None
    position_factors: PositionFactors | None
    fee_schedule: FeeSchedule | None
    data_dir: Path | None
    used: dict[str, set[str]] = field(default_factory=dict)
    extra: list[tuple[str, Any]] = field(default_factory=list)

    def rule(self, code: str, on: date | None = None, fld: str = "valid_on") -> Rule:
        rule = rule_for(code, on or self.case.valid_on, fld)
        self.used.setdefault(code, set()).add(rule.version)
        return rule

    def book(self) -> PriceBook:
        if self.price_book is None:
            version = self.case.price_table_version
            if version is None:
                raise CaseError("price_table_version",
                                "is required to look a price up by zone and position")
            self.price_book = find_table("price_table", version, self.data_dir,
                                         field="price_table_version")
        return self.price_book


def assess(case: dict | Case, *, price_book: PriceBook | None = None,
           position_factors: PositionFactors | None = None,
           fee_schedule: FeeSchedule | None = None,
           data_dir: str | Path | None = None) -> Assessment:
    """Assess every obligation of a case (a dict in the CLI's JSON format, or a ``Case``)."""
    if not isinstance(case, Case):
        case = case_from_dict(case)
    if price_book is not None and case.price_table_version is not None \
            and price_book.version != case.price_table_version:
        raise CaseError("price_table_version",
                        f"case names {case.price_table_version!r} but price table "
                        f"{price_book.version!r} was given")
    ctx = _Ctx(case, price_book, position_factors, fee_schedule,
               Path(data_dir) if data_dir is not None else None)
    handler = _PROCEDURES[case.procedure]
    lines = tuple(handler(ctx))
    versions = tuple(sorted((code, "+".join(sorted(v))) for code, v in ctx.used.items()))
    return Assessment(
        procedure=case.procedure, valid_on=case.valid_on, lines=lines,
        rule_versions=versions, price_table_version=case.price_table_version,
        province=case.province, notice_date=case.notice_date, extra=tuple(ctx.extra),
    )


# ---------------------------------------------------------------- helpers


def _p(i: int) -> str:
    return f"parcels[{i}]"


def _price(ctx: _Ctx, i: int, parcel: Parcel) -> int:
    if parcel.table_price_per_m2 is not None:
        return parcel.table_price_per_m2
    if parcel.zone_code is None:
        raise CaseError(f"{_p(i)}.table_price_per_m2",
                        "is missing (give the price, or zone_code and position to look it up)")
    return ctx.book().price(parcel.zone_code, parcel.position or 1, parcel.land_type,
                            ctx.position_factors, field=f"{_p(i)}.table_price_per_m2")


def _apartment_coef(i: int, parcel: Parcel) -> Decimal:
    if not parcel.apartment:
        return ONE
    if parcel.allocation_coefficient is None:
        raise CaseError(f"{_p(i)}.allocation_coefficient", "is required for an apartment")
    return parcel.allocation_coefficient


def _house_value(parcel: Parcel) -> Decimal:
    h = parcel.house
    if h is None:
        return ZERO
    return h.floor_area_m2 * h.price_per_m2 * h.remaining_quality


def _due_after(notice: date | None, *days: int) -> tuple[date, ...]:
    if notice is None:
        return ()
    return tuple(notice + timedelta(days=d) for d in days)


def _info_rate(value: Decimal) -> Decimal:
    """A rate for display: exact when it terminates within 10 places, else quantized."""
    q = value.quantize(_INFO_Q)
    return value.normalize() if q == value else q


def _pid(i: int, parcel: Parcel) -> str:
    return parcel.parcel_id or str(i)


# ---------------------------------------------------------------- registration fee


_RF_PARCEL_EXEMPTIONS = {
    "agricultural": ("agricultural_land", "đất nông nghiệp", "agricultural land"),
}


def _registration_fee(ctx: _Ctx) -> Line:
    case = ctx.case
    rule = ctx.rule("registration_fee")
    rate: Decimal = rule.params["rate"]
    table_term = Decimal(rule.params["table_term_years"])
    components = []
    taxable = ZERO
    total = ZERO
    for i, parcel in enumerate(case.parcels):
        price = _price(ctx, i, parcel)
        coef = _apartment_coef(i, parcel)
        fraction = ONE
        if parcel.lease == "one_time" and parcel.lease_term_years is not None \
                and parcel.lease_term_years < table_term:
            fraction = parcel.lease_term_years / table_term
        land = parcel.area_m2 * price * coef * fraction
        value = land + _house_value(parcel)
        exempt = None
        if parcel.land_type == "agricultural":
            exempt = "agricultural_land"
        elif parcel.lease == "annual":
            exempt = "annual_rent_lease"
        total += value
        if exempt is None:
            taxable += value
        method = ("area_x_table_price" + ("_x_allocation_coefficient" if parcel.apartment else "")
                  + ("_x_term_over_70" if fraction != ONE else "")
                  + ("_plus_house" if parcel.house else ""))
        components.append((("parcel", _pid(i, parcel)), ("method", method),
                           ("table_price_per_m2", price), ("area_m2", parcel.area_m2),
                           ("allocation_coefficient", coef if parcel.apartment else None),
                           ("lease_fraction", _info_rate(fraction)),
                           ("house_value", round_dong(_house_value(parcel))),
                           ("value", round_dong(value)), ("exemption", exempt)))
    dossier_exempt = None
    if case.procedure in {"gift", "inheritance"} and case.relationship in FAMILY_RELATIONSHIPS:
        dossier_exempt = "family_inheritance_gift"
    elif case.registration_fee_exemption:
        dossier_exempt = case.registration_fee_exemption
    parcel_exempt = [dict(c)["exemption"] for c in components]
    all_exempt = all(parcel_exempt)
    if all_exempt and dossier_exempt is None:
        dossier_exempt = parcel_exempt[0]
    # When everything is exempt the line still shows the base that would have applied.
    base_value = total if all_exempt else taxable
    share = ONE if all_exempt or not total else taxable / total
    method, method_text = "table_value", "area x land price table (+ house value)"
    if case.procedure == "transfer" and case.declared_price is not None \
            and case.declared_price > total:
        base_value = case.declared_price * share
        method = "contract_price" if share == ONE else "contract_price_pro_rata_taxable"
        method_text = ("contract price (higher than the table value)" if share == ONE else
                       "contract price, pro rata to the taxable parcels' table value")
    base = round_dong(base_value)
    amount = 0 if dossier_exempt else round_dong(base_value * rate)
    method_vi = {
        "table_value": "diện tích x giá đất trong bảng giá (+ giá trị nhà)",
        "contract_price": "giá ghi trên hợp đồng, cao hơn giá theo bảng giá",
        "contract_price_pro_rata_taxable": "giá hợp đồng, phân bổ theo phần giá trị chịu lệ phí",
    }[method]
    vi = f"Lệ phí trước bạ {fmt_rate(rate)} x {fmt_vnd(base)} đ ({method_vi})"
    en = f"Registration fee {fmt_rate(rate)} x {fmt_vnd(base)} VND ({method_text})"
    if dossier_exempt:
        names = {
            "family_inheritance_gift": ("thừa kế, tặng cho giữa người thân", "inheritance or "
                                        "gift between close relatives"),
            "agricultural_land": ("đất nông nghiệp", "agricultural land"),
            "annual_rent_lease": ("đất thuê trả tiền hằng năm", "land leased with annual rent"),
            "compensation_resettlement": ("đất bồi thường, tái định cư",
                                          "compensation or resettlement land"),
            "reissued_certificate": ("cấp lại giấy chứng nhận", "re-issued certificate"),
        }[dossier_exempt]
        vi = f"Miễn lệ phí trước bạ ({names[0]}, Nghị định 10/2022 Điều 10)"
        en = f"Exempt from the registration fee ({names[1]}, Decree 10/2022 art. 10)"
    return Line(
        obligation="registration_fee", base=base, base_method=method,
        base_method_text=method_text, rate=rate, amount=amount,
        legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en,
        due_dates=() if amount == 0 else _due_after(case.notice_date, rule.params["due_days"]),
        exemption=dossier_exempt,
        inputs=(("declared_price", case.declared_price), ("table_value", round_dong(total)),
                ("taxable_table_value", round_dong(taxable))),
        components=tuple(components),
    )


# ---------------------------------------------------------------- personal income tax


def _pit_floor(ctx: _Ctx, rule: Rule) -> tuple[Decimal, list]:
    use_coef = rule.params["floor_uses_adjustment_coefficient"]
    floor = ZERO
    components = []
    for i, parcel in enumerate(ctx.case.parcels):
        price = _price(ctx, i, parcel)
        coef = parcel.adjustment_coefficient if use_coef else ONE
        land = parcel.area_m2 * price * coef * _apartment_coef(i, parcel)
        value = land + _house_value(parcel)
        floor += value
        components.append((("parcel", _pid(i, parcel)), ("area_m2", parcel.area_m2),
                           ("table_price_per_m2", price),
                           ("adjustment_coefficient", coef if use_coef else None),
                           ("house_value", round_dong(_house_value(parcel))),
                           ("value", round_dong(value))))
    return floor, components


def _pit_transfer(ctx: _Ctx) -> Line:
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
    return Line(
        obligation="personal_income_tax", base=base, base_method=method,
        base_method_text=method_text, rate=rate, amount=amount,
        legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en,
        due_dates=() if amount == 0 else _due_after(case.notice_date, rule.params["due_days"]),
        exemption=exemption,
        inputs=(("declared_price", case.declared_price), ("floor_value", round_dong(floor)),
                ("relationship", case.relationship),
                ("sole_residence_183_days", case.sole_residence_183_days),
                ("whole_transfer", case.whole_transfer)),
        components=tuple(components),
    )


def _pit_gift(ctx: _Ctx) -> Line:
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
    return Line(
        obligation="personal_income_tax", base=base,
        base_method="value_above_threshold",
        base_method_text=f"table value above {fmt_vnd(threshold)} VND per occurrence",
        rate=rate, amount=amount, legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en,
        due_dates=() if amount == 0 else _due_after(case.notice_date, rule.params["due_days"]),
        exemption=exemption,
        inputs=(("value", round_dong(value)), ("threshold", threshold),
                ("relationship", case.relationship)),
        components=tuple(components),
    )


def _transfer(ctx: _Ctx) -> list[Line]:
    return [_registration_fee(ctx), _pit_transfer(ctx)]


def _gift(ctx: _Ctx) -> list[Line]:
    return [_registration_fee(ctx), _pit_gift(ctx)]


# ---------------------------------------------------------------- land use levy


def _levy_line(ctx: _Ctx, rule: Rule, i: int, parcel: Parcel, base_value: Decimal,
               rate: Decimal, method: str, method_text: str, vi: str, en: str,
               inputs: tuple, components: tuple = ()) -> Line:
    case = ctx.case
    amount = round_dong(base_value * rate)
    p = rule.params
    installments: tuple[tuple[date | None, int], ...] = ()
    due: tuple[date, ...] = ()
    debt = False
    if case.record_as_debt:
        if not case.first_certificate:
            raise CaseError("record_as_debt", "recording the levy as a debt is allowed only "
                                              "for a first certificate")
        ctx.rule("land_use_levy_debt", fld="record_as_debt")
        debt = True
        vi += "; ghi nợ tiền sử dụng đất"
        en += "; recorded as a debt"
    elif amount > 0:
        first = round_dong(amount * p["first_share"])
        due = _due_after(case.notice_date, p["first_due_days"], p["second_due_days"])
        installments = ((due[0] if due else None, first),
                        (due[1] if due else None, amount - first))
    return Line(
        obligation="land_use_levy", base=round_dong(base_value), base_method=method,
        base_method_text=method_text, rate=rate, amount=amount,
        legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en, due_dates=due, installments=installments,
        parcel_id=_pid(i, parcel), inputs=inputs + (("recorded_as_debt", debt),),
        components=components,
    )


def _allocation(ctx: _Ctx) -> list[Line]:
    rule = ctx.rule("land_use_levy")
    lines = []
    for i, parcel in enumerate(ctx.case.parcels):
        price = _price(ctx, i, parcel)
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
    raise CaseError(f"{_p(i)}.old_table_price_per_m2",
                    "is required for a change of use (the table price of the land before, "
                    "or old_land_money)")


def _change_of_use(ctx: _Ctx) -> list[Line]:
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
    for i, parcel in enumerate(case.parcels):
        price = _price(ctx, i, parcel)
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
            raise CaseError(f"{_p(i)}.quota_m2", "the residential allocation quota is required "
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
        rate = _info_rate(exact / diff) if diff else Decimal("0.30")
        vi = (f"Tiền sử dụng đất chuyển mục đích (đất vườn, ao cùng thửa đất ở): 30% chênh lệch "
              f"trong hạn mức {parcel.quota_m2} m2, 50% phần tiếp theo đến một hạn mức, 100% "
              f"phần còn lại; tổng chênh lệch {fmt_vnd(round_dong(diff))} đ")
        en = (f"Land use levy on change of use (garden/pond land in a residential parcel): 30% "
              f"of the difference within the quota {parcel.quota_m2} m2, 50% up to one more "
              f"quota, 100% beyond; total difference {fmt_vnd(round_dong(diff))} VND")
        line = _levy_line(ctx, rule, i, parcel, diff, ONE,
                          "difference_by_quota_tiers_30_50_100",
                          "difference between the levy at the new use and the land money "
                          "before, 30%/50%/100% by the quota", vi, en,
                          inputs + (("quota_m2", parcel.quota_m2),), tuple(comps))
        amount = round_dong(exact)
        first = round_dong(amount * rule.params["first_share"])
        inst = line.installments and ((line.installments[0][0], first),
                                      (line.installments[1][0], amount - first))
        lines.append(replace(line, rate=rate, amount=amount, installments=inst or (),
                             legal_basis=f"{special.legal_basis}; {rule.legal_basis}",
                             rule_version=special.version))
    return lines


def _recognition(ctx: _Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("land_use_levy_recognition")
    levy = ctx.rule("land_use_levy")
    share: Decimal = rule.params["share"]
    lines = []
    for i, parcel in enumerate(case.parcels):
        if parcel.land_type != "residential":
            raise CaseError(f"{_p(i)}.land_type", "recognition levy is computed on residential "
                                                  "land (give the residential table price)")
        price = _price(ctx, i, parcel)
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


def _extension(ctx: _Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("extension_surcharge")
    rate: Decimal = rule.params["annual_rate"]
    months = case.months_extended
    assert months is not None
    lines = []
    for i, parcel in enumerate(case.parcels):
        price = _price(ctx, i, parcel)
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
            due_dates=_due_after(case.notice_date, rule.params["due_days"]),
            parcel_id=_pid(i, parcel),
            inputs=(("area_m2", parcel.area_m2), ("table_price_per_m2", price),
                    ("months_extended", months)),
        ))
    return lines


# ---------------------------------------------------------------- land rent


def _rent_annual(ctx: _Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("land_rent")
    rate = case.rent_rate
    assert rate is not None
    lo, hi = rule.params["min_rate"], rule.params["max_rate"]
    if not lo <= rate <= hi:
        raise CaseError("rent_rate", f"must be between {fmt_rate(lo)} and {fmt_rate(hi)} "
                                     f"(the province's rate as a fraction, e.g. \"0.01\"), "
                                     f"got {rate}")
    year = case.tax_year or case.valid_on.year
    lines = []
    for i, parcel in enumerate(case.parcels):
        price = _price(ctx, i, parcel)
        value = parcel.area_m2 * price
        amount = round_dong(value * rate)
        if case.first_year:
            due = _due_after(case.notice_date, rule.params["first_due_days"])
            installments: tuple = ((due[0] if due else None, amount),)
        elif case.rent_installments == 2:
            first = round_dong(Decimal(amount) / 2)
            due = (date(year, 5, 31), date(year, 10, 31))
            installments = ((due[0], first), (due[1], amount - first))
        else:
            due = (date(year, 5, 31),)
            installments = ((due[0], amount),)
        lines.append(Line(
            obligation="land_rent_annual", base=round_dong(value),
            base_method="area_x_table_price", base_method_text="area x table price",
            rate=rate, amount=amount, legal_basis=rule.legal_basis, rule_version=rule.version,
            explanation_vi=(f"Tiền thuê đất hằng năm: {parcel.area_m2} m2 x {fmt_vnd(price)} "
                            f"đ/m2 x tỷ lệ {fmt_rate(rate)} do tỉnh quy định"),
            explanation_en=(f"Annual land rent: {parcel.area_m2} m2 x {fmt_vnd(price)} VND/m2 "
                            f"x the province's rate {fmt_rate(rate)}"),
            due_dates=due, installments=installments, parcel_id=_pid(i, parcel),
            inputs=(("area_m2", parcel.area_m2), ("table_price_per_m2", price),
                    ("rent_rate", rate), ("tax_year", year), ("first_year", case.first_year)),
        ))
    return lines


def _rent_one_time(ctx: _Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("land_rent")
    table_term = Decimal(case.table_term_years or rule.params["table_term_years"])
    lines = []
    for i, parcel in enumerate(case.parcels):
        if parcel.lease_term_years is None:
            raise CaseError(f"{_p(i)}.lease_term_years", "is required for one-time land rent")
        price = _price(ctx, i, parcel)
        value = parcel.area_m2 * price
        fraction = parcel.lease_term_years / table_term
        exact = value * fraction
        amount = round_dong(exact)
        lines.append(Line(
            obligation="land_rent_one_time", base=round_dong(value),
            base_method="area_x_table_price_x_term_fraction",
            base_method_text=f"area x table price x lease term {parcel.lease_term_years} / "
                             f"table term {table_term} years",
            rate=_info_rate(fraction), amount=amount, legal_basis=rule.legal_basis,
            rule_version=rule.version,
            explanation_vi=(f"Tiền thuê đất trả một lần: {parcel.area_m2} m2 x "
                            f"{fmt_vnd(price)} đ/m2 x {parcel.lease_term_years}/{table_term} năm"),
            explanation_en=(f"One-time land rent: {parcel.area_m2} m2 x {fmt_vnd(price)} VND/m2 "
                            f"x {parcel.lease_term_years}/{table_term} years"),
            due_dates=_due_after(case.notice_date, rule.params["first_due_days"]),
            parcel_id=_pid(i, parcel),
            inputs=(("area_m2", parcel.area_m2), ("table_price_per_m2", price),
                    ("lease_term_years", parcel.lease_term_years),
                    ("table_term_years", table_term)),
        ))
    return lines


# ---------------------------------------------------------------- non-agricultural tax


def _nat_kind(i: int, parcel: Parcel) -> str:
    if parcel.use_status == "encroached":
        return "encroached"
    if parcel.use_status in {"misused", "unused"}:
        return "misused"
    if parcel.land_type == "agricultural":
        raise CaseError(f"{_p(i)}.land_type", "agricultural land is not subject to the "
                                              "non-agricultural land use tax")
    if parcel.apartment:
        return "apartment"
    if parcel.land_type == "residential":
        return "residential"
    return "business"


def _nat_lines(ctx: _Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("non_agricultural_tax")
    lines = []
    for i, parcel in enumerate(case.parcels):
        kind = _nat_kind(i, parcel)
        if kind == "residential" and parcel.quota_m2 is None:
            raise CaseError(f"{_p(i)}.quota_m2", "the residential allocation quota of the "
                                                 "parcel's location is required")
        lines.append(non_agricultural_tax_line(
            parcel.area_m2, _price(ctx, i, parcel), parcel.quota_m2, kind,
            parcel.allocation_coefficient, case.valid_on, notice_date=case.notice_date,
            first_year=case.first_year, tax_year=case.tax_year or case.valid_on.year,
            parcel_id=_pid(i, parcel), field=_p(i)))
        assert lines[-1].rule_version == rule.version
    return lines


def _consolidated(ctx: _Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("non_agricultural_tax")
    cparcels = []
    for i, parcel in enumerate(case.parcels):
        if parcel.land_type != "residential" or parcel.apartment \
                or parcel.use_status != "proper":
            raise CaseError(f"{_p(i)}.land_type", "a consolidated declaration covers residential "
                                                  "land used as residential land")
        if parcel.quota_m2 is None:
            raise CaseError(f"{_p(i)}.quota_m2", "the quota of the parcel's location is "
                                                 "required")
        cparcels.append(ConsolidatedParcel(parcel.area_m2, _price(ctx, i, parcel),
                                           parcel.quota_m2, parcel.location or _pid(i, parcel)))
    per_parcel = _nat_lines(ctx)
    paid = case.paid_per_parcel or tuple(ln.amount for ln in per_parcel)
    options = consolidated_options(cparcels, case.valid_on)
    best = cheapest(options)
    threshold = rule.params["small_exemption"]
    total_tax = 0 if threshold is not None and best.amount <= threshold else best.amount
    difference = total_tax - sum(paid)
    additional = max(0, difference)
    total_value = sum((c.area_m2 * c.price_per_m2 for c in cparcels), ZERO)
    ctx.extra.append(("consolidated", {
        "chosen_location": best.location, "chosen_quota_m2": best.quota_m2,
        "consolidated_tax": total_tax, "paid_per_parcel": list(paid),
        "difference": difference, "additional_due": additional,
        "overpaid": max(0, -difference),
        "options": [o.to_dict() for o in options],
    }))
    year = case.tax_year or case.valid_on.year
    comps = tuple((("parcel", i), ("bracket", b), ("area_m2", a), ("rate", r))
                  for i, b, a, r in best.allocation)
    line = Line(
        obligation="non_agricultural_tax_consolidated", base=round_dong(total_value),
        base_method="consolidated_total_area_chosen_quota",
        base_method_text=(f"total residential area in the province with the quota of "
                          f"{best.location} ({best.quota_m2} m2), most valuable land in the "
                          f"lowest brackets; tax {fmt_vnd(total_tax)} less "
                          f"{fmt_vnd(sum(paid))} paid per parcel"),
        rate=_info_rate(best.amount_exact / total_value) if total_value else ZERO,
        amount=additional, legal_basis=rule.legal_basis + "; Circular 153/2011/TT-BTC art. "
                                                          "8(1.2) (consolidated declaration)",
        rule_version=rule.version,
        explanation_vi=(f"Khai tổng hợp: chọn hạn mức tại {best.location} ({best.quota_m2} m2) "
                        f"cho tổng diện tích; thuế cả năm {fmt_vnd(total_tax)} đ, đã nộp theo "
                        f"từng thửa {fmt_vnd(sum(paid))} đ, phải nộp thêm "
                        f"{fmt_vnd(additional)} đ"),
        explanation_en=(f"Consolidated declaration: the quota of {best.location} "
                        f"({best.quota_m2} m2) applied to the total area; annual tax "
                        f"{fmt_vnd(total_tax)} VND, paid per parcel {fmt_vnd(sum(paid))} VND, "
                        f"additional due {fmt_vnd(additional)} VND"),
        due_dates=(date(year, 10, 31),) if additional else (),
        inputs=(("chosen_location", best.location), ("chosen_quota_m2", best.quota_m2),
                ("consolidated_tax", total_tax), ("paid_per_parcel_total", sum(paid)),
                ("difference", difference)),
        components=comps,
    )
    return per_parcel + [line]


# ---------------------------------------------------------------- fees and interest


def _provincial_fee(ctx: _Ctx) -> list[Line]:
    case = ctx.case
    assert case.fee_schedule_version is not None
    schedule = ctx.fee_schedule
    if schedule is None:
        schedule = find_table("fee_schedule", case.fee_schedule_version, ctx.data_dir,
                              field="fee_schedule_version")
    if schedule.version != case.fee_schedule_version:
        raise CaseError("fee_schedule_version", f"case names {case.fee_schedule_version!r} but "
                                                f"schedule {schedule.version!r} was given")
    meta = schedule.meta
    if case.province is not None and meta.province != case.province:
        raise CaseError("fee_schedule_version", f"schedule {meta.version} is for province "
                                                f"{meta.province}, the case is in {case.province}")
    if case.valid_on < meta.effective_from or (meta.effective_to and
                                                case.valid_on > meta.effective_to):
        raise CaseError("valid_on", f"fee schedule {meta.version} does not cover "
                                    f"{case.valid_on.isoformat()}")
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


def _late_interest(ctx: _Ctx) -> list[Line]:
    case = ctx.case
    assert case.amount is not None and case.due_date and case.paid_on
    line = late_interest(case.amount, case.due_date, case.paid_on)
    for v in line.rule_version.split("+"):
        ctx.used.setdefault("late_interest", set()).add(v)
    return [line]


_PROCEDURES = {
    "transfer": _transfer,
    "gift": _gift,
    "inheritance": _gift,
    "allocation": _allocation,
    "change_of_use": _change_of_use,
    "recognition": _recognition,
    "extension": _extension,
    "land_rent_annual": _rent_annual,
    "land_rent_one_time": _rent_one_time,
    "non_agricultural_tax": _nat_lines,
    "consolidated_non_agricultural_tax": _consolidated,
    "provincial_fee": _provincial_fee,
    "late_interest": _late_interest,
}
