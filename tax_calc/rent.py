"""Land rent: annual and one-time."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from .context import Ctx, info_rate, pfield, pid, price_of
from .due import after_notice, line_dues, on_dates
from .errors import CaseError
from .model import Line
from .money import fmt_rate, fmt_vnd, round_dong


def rent_annual_lines(ctx: Ctx) -> list[Line]:
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
        price = price_of(ctx, i, parcel)
        value = parcel.area_m2 * price
        amount = round_dong(value * rate)
        if case.first_year:
            terms = after_notice(rule.params["first_due_days"])
        else:
            key = "later_years_due_halves" if case.rent_installments == 2 else "later_years_due"
            terms = on_dates(*(date(year, m, d) for m, d in rule.params[key]))
        lines.append(Line(
            obligation="land_rent_annual", base=round_dong(value),
            base_method="area_x_table_price", base_method_text="area x table price",
            rate=rate, amount=amount, legal_basis=rule.legal_basis, rule_version=rule.version,
            explanation_vi=(f"Tiền thuê đất hằng năm: {parcel.area_m2} m2 x {fmt_vnd(price)} "
                            f"đ/m2 x tỷ lệ {fmt_rate(rate)} do tỉnh quy định"),
            explanation_en=(f"Annual land rent: {parcel.area_m2} m2 x {fmt_vnd(price)} VND/m2 "
                            f"x the province's rate {fmt_rate(rate)}"),
            **line_dues(amount, terms, case.notice_date), parcel_id=pid(i, parcel),
            inputs=(("area_m2", parcel.area_m2), ("table_price_per_m2", price),
                    ("rent_rate", rate), ("tax_year", year), ("first_year", case.first_year)),
        ))
    return lines


def rent_one_time_lines(ctx: Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("land_rent")
    table_term = Decimal(case.table_term_years or rule.params["table_term_years"])
    lines = []
    for i, parcel in enumerate(case.parcels):
        if parcel.lease_term_years is None:
            raise CaseError(f"{pfield(i)}.lease_term_years", "is required for one-time land rent")
        price = price_of(ctx, i, parcel)
        value = parcel.area_m2 * price
        fraction = parcel.lease_term_years / table_term
        exact = value * fraction
        amount = round_dong(exact)
        lines.append(Line(
            obligation="land_rent_one_time", base=round_dong(value),
            base_method="area_x_table_price_x_term_fraction",
            base_method_text=f"area x table price x lease term {parcel.lease_term_years} / "
                             f"table term {table_term} years",
            rate=info_rate(fraction), amount=amount, legal_basis=rule.legal_basis,
            rule_version=rule.version,
            explanation_vi=(f"Tiền thuê đất trả một lần: {parcel.area_m2} m2 x "
                            f"{fmt_vnd(price)} đ/m2 x {parcel.lease_term_years}/{table_term} năm"),
            explanation_en=(f"One-time land rent: {parcel.area_m2} m2 x {fmt_vnd(price)} VND/m2 "
                            f"x {parcel.lease_term_years}/{table_term} years"),
            **line_dues(amount, after_notice(rule.params["first_due_days"]), case.notice_date),
            parcel_id=pid(i, parcel),
            inputs=(("area_m2", parcel.area_m2), ("table_price_per_m2", price),
                    ("lease_term_years", parcel.lease_term_years),
                    ("table_term_years", table_term)),
        ))
    return lines


# ---------------------------------------------------------------- non-agricultural tax
