"""Non-agricultural land use tax: the annual fast path, the per-parcel line, the
consolidated declaration of several residential parcels in one province, and the
procedures that assess them.

Residential land is progressive by the residential allocation quota Q of the parcel's
location (Law 48/2010 art. 7; Circular 153/2011 art. 7): the area within Q at 0.03%; the
area in excess of Q by at most 3 x Q (from Q to 4 x Q in total) at 0.07%; the area beyond
4 x Q at 0.15%. Circular 153/2011 art. 8 example 6 settles the reading (a 400 m2 parcel on a
110 m2 quota: 110 m2 at 0.03% and 290 m2 at 0.07%). The bracket boundaries are the rule
parameter ``bracket_multiples`` (1, 4).

One arithmetic serves every path: ``_parts`` splits an area into the brackets and
``_exact`` prices them; the batch's fast path, the explained line and the consolidated
declaration all go through them, and every amount is rounded by ``money.round_dong``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import permutations
from typing import Any

from .context import Ctx, info_rate, pfield, pid, price_of
from .due import after_notice, line_dues, on_dates
from .errors import CaseError
from .model import DueTerm, Line, Parcel
from .money import ZERO, fmt_rate, fmt_vnd, round_dong
from .rules import RULES, Rule, rule_for

KINDS = ("residential", "apartment", "business", "misused", "encroached")
_KIND_ALIASES = {"unused": "misused", "commercial": "business",
                 "production_business": "business"}
BRACKETS = ("within_quota", "above_quota_to_4x", "above_4x_quota")
_LATEST = max((r for r in RULES if r.code == "non_agricultural_tax"),
              key=lambda r: r.effective_from)
_RULE_CACHE: dict[date | None, Rule] = {}


def _rule(valid_on: date | None, field: str = "valid_on") -> Rule:
    rule = _RULE_CACHE.get(valid_on)
    if rule is None:
        rule = _LATEST if valid_on is None else rule_for("non_agricultural_tax", valid_on, field)
        _RULE_CACHE[valid_on] = rule
    return rule


def annual_terms(rule: Rule, year: int) -> tuple[DueTerm, ...]:
    """When the tax of ``year`` falls due after the first year: 31 October (Circular
    153/2011; Law 38/2019 art. 55)."""
    month, day = rule.params["annual_due"]
    return on_dates(date(year, month, day))


def annual_due_date(year: int, valid_on: date | None = None) -> date:
    """The due date of the annual tax of ``year`` under the rule in force on ``valid_on``."""
    return annual_terms(_rule(valid_on), year)[0].on  # type: ignore[return-value]


def _dec(value: Any, field: str) -> Decimal:
    if type(value) is Decimal:
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise CaseError(field, f"must be a decimal string or integer, never a float: {value!r}")
    try:
        return Decimal(value)
    except Exception:  # noqa: BLE001 - any unparsable input is the caller's field error
        raise CaseError(field, f"is not a decimal number: {value!r}") from None


def _parts(area: Decimal, quota: Decimal, p: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    """The area in each residential bracket: within Q, from Q to 4Q, beyond 4Q."""
    m1, m2 = p["bracket_multiples"]
    q1 = quota * m1
    q2 = quota * m2
    if area <= q1:
        return area, ZERO, ZERO
    if area <= q2:
        return q1, area - q1, ZERO
    return q1, q2 - q1, area - q2


def _exact(area: Decimal, price: Decimal, quota: Decimal | None, kind: str,
           coef: Decimal | None, p: dict[str, Any]) -> Decimal:
    """The tax before rounding and before the small-amount exemption."""
    if kind == "residential":
        if quota is None or quota <= 0:
            raise CaseError("quota_m2", "a positive residential quota is required")
        a1, a2, a3 = _parts(area, quota, p)
        r1, r2, r3 = p["rates"]
        return (a1 * r1 + a2 * r2 + a3 * r3) * price
    if kind == "apartment":
        if coef is None:
            raise CaseError("allocation_coefficient", "is required for an apartment")
        return area * coef * price * p["apartment"]
    if kind == "business":
        return area * price * p["flat_business"]
    if kind == "misused":
        return area * price * p["misused"]
    if kind == "encroached":
        return area * price * p["encroached"]
    raise CaseError("kind", f"unknown land kind {kind!r} (expected one of {', '.join(KINDS)})")


def _after_exemption(amount: int, p: dict[str, Any]) -> int:
    threshold = p["small_exemption"]
    return 0 if threshold is not None and amount <= threshold else amount


def annual_non_agricultural_tax(area_m2: Any, price_per_m2: Any, quota_m2: Any = None,
                                kind: str = "residential", allocation_coefficient: Any = None,
                                valid_on: date | None = None) -> int:
    """Annual tax of one parcel in whole dong: the fast path for the yearly batch.

    ``area_m2``, ``quota_m2`` and ``allocation_coefficient`` are Decimal/int/str; ``price_per_m2``
    is the table price in VND/m2. ``kind``: residential, apartment, business, misused (also
    "unused"), encroached. ``valid_on`` picks the rule version (None: the latest rule).
    Same arithmetic, hence the same result to the dong, as ``non_agricultural_tax_line``.
    """
    rule = _RULE_CACHE.get(valid_on) or _rule(valid_on)
    p = rule.params
    kind = _KIND_ALIASES.get(kind, kind)
    area = area_m2 if type(area_m2) is Decimal else _dec(area_m2, "area_m2")
    price = price_per_m2 if type(price_per_m2) is Decimal else _dec(price_per_m2, "price_per_m2")
    if area < 0:
        raise CaseError("area_m2", f"must not be negative, got {area}")
    if price < 0:
        raise CaseError("price_per_m2", f"must not be negative, got {price}")
    quota = None if quota_m2 is None else (
        quota_m2 if type(quota_m2) is Decimal else _dec(quota_m2, "quota_m2"))
    coef = None if allocation_coefficient is None else (
        allocation_coefficient if type(allocation_coefficient) is Decimal
        else _dec(allocation_coefficient, "allocation_coefficient"))
    return _after_exemption(round_dong(_exact(area, price, quota, kind, coef, p)), p)


def _brackets(area: Decimal, quota: Decimal, p: dict[str, Any],
              ) -> list[tuple[str, Decimal, Decimal]]:
    parts = [(name, a, r) for name, a, r in zip(BRACKETS, _parts(area, quota, p), p["rates"],
                                                strict=True) if a > 0]
    return parts or [(BRACKETS[0], ZERO, p["rates"][0])]


def _terms(rule: Rule, first_year: bool, tax_year: int | None) -> tuple[DueTerm, ...]:
    if first_year:
        return after_notice(rule.params["first_due_days"])
    if tax_year is not None:
        return annual_terms(rule, tax_year)
    return ()


def non_agricultural_tax_line(area_m2: Any, price_per_m2: Any, quota_m2: Any = None,
                              kind: str = "residential", allocation_coefficient: Any = None,
                              valid_on: date | None = None, *, notice_date: date | None = None,
                              first_year: bool = False, tax_year: int | None = None,
                              parcel_id: str | None = None, field: str = "parcels[0]") -> Line:
    """The explained per-parcel line; its amount equals ``annual_non_agricultural_tax``."""
    rule = _rule(valid_on)
    p = rule.params
    kind = _KIND_ALIASES.get(kind, kind)
    area = _dec(area_m2, f"{field}.area_m2")
    price = _dec(price_per_m2, f"{field}.table_price_per_m2")
    quota = None if quota_m2 is None else _dec(quota_m2, f"{field}.quota_m2")
    coef = None if allocation_coefficient is None else _dec(allocation_coefficient,
                                                          f"{field}.allocation_coefficient")
    if area < 0:
        raise CaseError(f"{field}.area_m2", f"must not be negative, got {area}")
    try:
        exact = _exact(area, price, quota, kind, coef, p)
    except CaseError as exc:
        raise CaseError(f"{field}.{exc.field}", exc.message) from None
    before = round_dong(exact)
    amount = _after_exemption(before, p)
    components: tuple[tuple[tuple[str, Any], ...], ...] = ()
    if kind == "residential":
        assert quota is not None
        base_value = area * price
        parts = _brackets(area, quota, p)
        components = tuple(
            (("bracket", name), ("area_m2", a), ("value", a * price), ("rate", r),
             ("amount_exact", a * price * r))
            for name, a, r in parts)
        rate = (exact / base_value).quantize(Decimal("0.0000000001")) if base_value else \
            p["rates"][0]
        method = "progressive_residential"
        method_text = (f"area x table price, progressive by the quota {quota} m2: "
                       + "; ".join(f"{a} m2 at {fmt_rate(r)}" for _, a, r in parts))
        rate_note_vi = ("thuế suất lũy tiến theo hạn mức: "
                        + "; ".join(f"{a} m2 x {fmt_rate(r)}" for _, a, r in parts))
        rate_note_en = ("progressive rates by the quota: "
                        + "; ".join(f"{a} m2 at {fmt_rate(r)}" for _, a, r in parts))
    elif kind == "apartment":
        base_value = area * coef * price  # type: ignore[operator]
        rate = p["apartment"]
        method = "apartment_area_x_allocation_coefficient_x_price"
        method_text = f"apartment area {area} m2 x allocation coefficient {coef} x table price"
        rate_note_vi = rate_note_en = fmt_rate(rate)
    else:
        base_value = area * price
        rate = {"business": p["flat_business"], "misused": p["misused"],
                "encroached": p["encroached"]}[kind]
        method = f"area_x_table_price_{kind}"
        method_text = f"area {area} m2 x table price ({kind}, flat rate, no quota)"
        rate_note_vi = rate_note_en = fmt_rate(rate)
    exemption = None
    threshold = p["small_exemption"]
    if amount == 0 and before > 0:
        exemption = "annual_tax_at_most_50000"
    vi = (f"Thuế sử dụng đất phi nông nghiệp: {area} m2 x {fmt_vnd(price)} đ/m2, "
          f"{rate_note_vi} = {fmt_vnd(before)} đ")
    en = (f"Non-agricultural land use tax: {area} m2 x {fmt_vnd(price)} VND/m2, "
          f"{rate_note_en} = {fmt_vnd(before)} VND")
    if exemption:
        vi += f"; số thuế không quá {fmt_vnd(threshold)} đ nên được miễn"
        en += f"; an annual tax of {fmt_vnd(threshold)} VND or less is exempt"
    return Line(
        obligation="non_agricultural_tax", base=round_dong(base_value), base_method=method,
        base_method_text=method_text, rate=rate, amount=amount,
        legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en,
        **line_dues(amount, _terms(rule, first_year, tax_year), notice_date),
        exemption=exemption, parcel_id=parcel_id,
        inputs=(("area_m2", area), ("table_price_per_m2", price), ("quota_m2", quota),
                ("kind", kind), ("allocation_coefficient", coef),
                ("amount_before_exemption", before)),
        components=components,
    )


# ------------------------------------------------------------ consolidated declaration


@dataclass(frozen=True)
class ConsolidatedParcel:
    area_m2: Decimal
    price_per_m2: int
    quota_m2: Decimal
    location: str


@dataclass(frozen=True)
class ConsolidatedOption:
    """One permitted choice: the quota of ``location`` applied to the total area, the
    brackets filled with the parcels in ``order`` (indices)."""

    location: str
    quota_m2: Decimal
    order: tuple[int, ...]
    allocation: tuple[tuple[int, str, Decimal, Decimal], ...]  # (parcel, bracket, area, rate)
    amount_exact: Decimal
    amount: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location, "quota_m2": str(self.quota_m2),
            "order": list(self.order), "amount": self.amount,
            "amount_exact": str(self.amount_exact),
            "allocation": [{"parcel": i, "bracket": b, "area_m2": str(a), "rate": str(r)}
                           for i, b, a, r in self.allocation],
        }


def consolidated_option(parcels: Sequence[ConsolidatedParcel], quota: Decimal, location: str,
                        order: Sequence[int], p: dict[str, Any]) -> ConsolidatedOption:
    """Tax on the total area with one quota, filling the brackets with parcels in ``order``:
    each parcel's area is split by where it falls in the cumulative total (``_parts``)."""
    filled = ZERO
    total = ZERO
    alloc: list[tuple[int, str, Decimal, Decimal]] = []
    for idx in order:
        area = parcels[idx].area_m2
        price = Decimal(parcels[idx].price_per_m2)
        before = _parts(filled, quota, p)
        after = _parts(filled + area, quota, p)
        for name, a0, a1, rate in zip(BRACKETS, before, after, p["rates"], strict=True):
            take = a1 - a0
            if take > 0:
                alloc.append((idx, name, take, rate))
                total += take * price * rate
        filled += area
    return ConsolidatedOption(location, quota, tuple(order), tuple(alloc), total,
                              round_dong(total))


def permitted_locations(parcels: Sequence[ConsolidatedParcel]) -> list[tuple[str, Decimal]]:
    """The locations whose quota the consolidated declaration may choose (Circular 153/2011
    art. 8, examples 4 to 6): any location's when no parcel exceeds its own location's
    quota; otherwise only a location where a parcel exceeds its own quota."""
    every: dict[tuple[str, Decimal], None] = {}
    exceeding: dict[tuple[str, Decimal], None] = {}
    for parcel in parcels:
        every.setdefault((parcel.location, parcel.quota_m2), None)
        if parcel.area_m2 > parcel.quota_m2:
            exceeding.setdefault((parcel.location, parcel.quota_m2), None)
    return list(exceeding or every)


def consolidated_options(parcels: Sequence[ConsolidatedParcel], valid_on: date | None = None,
                         *, brute_force: bool = False) -> list[ConsolidatedOption]:
    """Every permitted choice of quota, each with its cheapest permitted order.

    Circular 153/2011 art. 8 and its declaration form 03/TKTH-SDDPNN: the taxpayer chooses
    the one location whose quota applies to the total, and the parcels at that location are
    listed first; the rest follow in the order the taxpayer lists them. Within those bounds
    the dearest land fills the lowest brackets first. With ``brute_force`` every permitted
    order is listed instead (for checking, small n)."""
    p = _rule(valid_on).params
    options = []
    for loc, quota in permitted_locations(parcels):
        first = [i for i, parcel in enumerate(parcels) if parcel.location == loc]
        rest = [i for i in range(len(parcels)) if parcels[i].location != loc]
        if brute_force:
            orders = [a + b for a in permutations(first) for b in permutations(rest)]
        else:
            def dearest(i: int) -> tuple[int, int]:
                return (-parcels[i].price_per_m2, i)
            orders = [tuple(sorted(first, key=dearest)) + tuple(sorted(rest, key=dearest))]
        options.extend(consolidated_option(parcels, quota, loc, order, p) for order in orders)
    return options


def cheapest(options: Sequence[ConsolidatedOption]) -> ConsolidatedOption:
    return min(options, key=lambda o: (o.amount_exact, o.amount))


# ------------------------------------------------------------ the procedures


def _nat_kind(i: int, parcel: Parcel) -> str:
    if parcel.use_status == "encroached":
        return "encroached"
    if parcel.use_status in {"misused", "unused"}:
        return "misused"
    if parcel.land_type == "agricultural":
        raise CaseError(f"{pfield(i)}.land_type", "agricultural land is not subject to the "
                                              "non-agricultural land use tax")
    if parcel.apartment:
        return "apartment"
    if parcel.land_type == "residential":
        return "residential"
    return "business"


def non_agricultural_lines(ctx: Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("non_agricultural_tax")
    lines = []
    for i, parcel in enumerate(case.parcels):
        kind = _nat_kind(i, parcel)
        if kind == "residential" and parcel.quota_m2 is None:
            raise CaseError(f"{pfield(i)}.quota_m2", "the residential allocation quota of the "
                                                 "parcel's location is required")
        lines.append(non_agricultural_tax_line(
            parcel.area_m2, price_of(ctx, i, parcel), parcel.quota_m2, kind,
            parcel.allocation_coefficient, case.valid_on, notice_date=case.notice_date,
            first_year=case.first_year, tax_year=case.tax_year or case.valid_on.year,
            parcel_id=pid(i, parcel), field=pfield(i)))
        assert lines[-1].rule_version == rule.version
    return lines


def consolidated_lines(ctx: Ctx) -> list[Line]:
    case = ctx.case
    rule = ctx.rule("non_agricultural_tax")
    cparcels = []
    for i, parcel in enumerate(case.parcels):
        if parcel.land_type != "residential" or parcel.apartment \
                or parcel.use_status != "proper":
            raise CaseError(f"{pfield(i)}.land_type", "a consolidated declaration covers residential "
                                                  "land used as residential land")
        if parcel.quota_m2 is None:
            raise CaseError(f"{pfield(i)}.quota_m2", "the quota of the parcel's location is "
                                                 "required")
        cparcels.append(ConsolidatedParcel(parcel.area_m2, price_of(ctx, i, parcel),
                                           parcel.quota_m2, parcel.location or pid(i, parcel)))
    per_parcel = non_agricultural_lines(ctx)
    paid = case.paid_per_parcel or tuple(ln.amount for ln in per_parcel)
    options = consolidated_options(cparcels, case.valid_on)
    best = cheapest(options)
    if case.chosen_location is not None:
        chosen = [o for o in options if o.location == case.chosen_location]
        if not chosen:
            allowed = ", ".join(o.location for o in options)
            raise CaseError("chosen_location", f"may be only a location whose quota the "
                                               f"declaration may use: {allowed} (Circular "
                                               f"153/2011 art. 8)")
        best = chosen[0]
    total_tax = _after_exemption(best.amount, rule.params)
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
        rate=info_rate(best.amount_exact / total_value) if total_value else ZERO,
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
        **line_dues(additional, annual_terms(rule, year), None),
        inputs=(("chosen_location", best.location), ("chosen_quota_m2", best.quota_m2),
                ("consolidated_tax", total_tax), ("paid_per_parcel_total", sum(paid)),
                ("difference", difference)),
        components=comps,
    )
    return per_parcel + [line]
