"""Non-agricultural land use tax: the annual fast path, the per-parcel line and the
consolidated declaration of several residential parcels in one province.

Residential land is progressive by the residential allocation quota Q of the parcel's
location: area up to Q at 0.03%, area above Q up to 3Q at 0.07%, area above 3Q at 0.15%
(Law 48/2010 art. 7; Circular 153/2011 art. 7). The bracket boundaries are the rule
parameter ``bracket_multiples`` (1, 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import permutations
from typing import Any

from .errors import CaseError
from .model import Line
from .money import ONE, ZERO, fmt_rate, fmt_vnd, round_dong
from .rules import RULES, Rule, rule_for

KINDS = ("residential", "apartment", "business", "misused", "encroached")
_KIND_ALIASES = {"unused": "misused", "commercial": "business",
                 "production_business": "business"}
_LATEST = max((r for r in RULES if r.code == "non_agricultural_tax"),
              key=lambda r: r.effective_from)
_RULE_CACHE: dict[date | None, Rule] = {}


def _rule(valid_on: date | None, field: str = "valid_on") -> Rule:
    rule = _RULE_CACHE.get(valid_on)
    if rule is None:
        rule = _LATEST if valid_on is None else rule_for("non_agricultural_tax", valid_on, field)
        _RULE_CACHE[valid_on] = rule
    return rule


def _dec(value: Any, field: str) -> Decimal:
    if type(value) is Decimal:
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise CaseError(field, f"must be a decimal string or integer, never a float: {value!r}")
    try:
        return Decimal(value)
    except Exception:  # noqa: BLE001 - any unparsable input is the caller's field error
        raise CaseError(field, f"is not a decimal number: {value!r}") from None


def _tax_exact(area: Decimal, price: Decimal, quota: Decimal | None, kind: str,
               coef: Decimal | None, p: dict[str, Any]) -> Decimal:
    if kind == "residential":
        if quota is None or quota <= 0:
            raise CaseError("quota_m2", "a positive residential quota is required")
        r1, r2, r3 = p["rates"]
        m1, m3 = p["bracket_multiples"]
        q1 = quota * m1
        q3 = quota * m3
        if area <= q1:
            return area * price * r1
        if area <= q3:
            return (q1 * r1 + (area - q1) * r2) * price
        return (q1 * r1 + (q3 - q1) * r2 + (area - q3) * r3) * price
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


def annual_non_agricultural_tax(area_m2: Any, price_per_m2: Any, quota_m2: Any = None,
                                kind: str = "residential", allocation_coefficient: Any = None,
                                valid_on: date | None = None) -> int:
    """Annual tax of one parcel in whole dong: the fast path for the yearly batch.

    ``area_m2``, ``quota_m2`` and ``allocation_coefficient`` are Decimal/int/str; ``price_per_m2``
    is the table price in VND/m2. ``kind``: residential, apartment, business, misused (also
    "unused"), encroached. ``valid_on`` picks the rule version (None: the latest rule).
    Same result, to the dong, as the explained line of ``non_agricultural_tax_line``.
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
    amount = int(_tax_exact(area, price, quota, kind, coef, p).quantize(ONE, ROUND_HALF_UP))
    threshold = p["small_exemption"]
    if threshold is not None and amount <= threshold:
        return 0
    return amount


def _brackets(area: Decimal, quota: Decimal, p: dict[str, Any]) -> list[tuple[str, Decimal,
                                                                            Decimal]]:
    r1, r2, r3 = p["rates"]
    m1, m3 = p["bracket_multiples"]
    q1, q3 = quota * m1, quota * m3
    parts = [("within_quota", min(area, q1), r1),
             ("quota_to_3x", max(ZERO, min(area, q3) - q1), r2),
             ("beyond_3x", max(ZERO, area - q3), r3)]
    return [x for x in parts if x[1] > 0] or [("within_quota", ZERO, r1)]


def _due(rule: Rule, notice_date: date | None, first_year: bool, tax_year: int | None,
         ) -> tuple[date, ...]:
    if first_year:
        return (notice_date + timedelta(days=rule.params["first_due_days"]),) if notice_date \
            else ()
    if tax_year is not None:
        return (date(tax_year, 10, 31),)
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
        exact = _tax_exact(area, price, quota, kind, coef, p)
    except CaseError as exc:
        raise CaseError(f"{field}.{exc.field}", exc.message) from None
    amount = round_dong(exact)
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
        rate_note_vi = "thuế suất lũy tiến theo hạn mức (thuế suất bình quân ghi ở cột thuế suất)"
        rate_note_en = "progressive rates by the quota (the rate field shows the average rate)"
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
    if threshold is not None and amount <= threshold:
        exemption = "annual_tax_at_most_50000"
        amount = 0
    base = round_dong(base_value)
    vi = (f"Thuế sử dụng đất phi nông nghiệp: {area} m2 x {fmt_vnd(price)} đ/m2, "
          f"{rate_note_vi} = {fmt_vnd(round_dong(exact))} đ")
    en = (f"Non-agricultural land use tax: {area} m2 x {fmt_vnd(price)} VND/m2, "
          f"{rate_note_en} = {fmt_vnd(round_dong(exact))} VND")
    if exemption:
        vi += f"; số thuế không quá {fmt_vnd(threshold)} đ nên được miễn"
        en += f"; an annual tax of {fmt_vnd(threshold)} VND or less is exempt"
    return Line(
        obligation="non_agricultural_tax", base=base, base_method=method,
        base_method_text=method_text, rate=rate, amount=amount,
        legal_basis=rule.legal_basis, rule_version=rule.version,
        explanation_vi=vi, explanation_en=en,
        due_dates=_due(rule, notice_date, first_year, tax_year),
        exemption=exemption, parcel_id=parcel_id,
        inputs=(("area_m2", area), ("table_price_per_m2", price), ("quota_m2", quota),
                ("kind", kind), ("allocation_coefficient", coef),
                ("amount_before_exemption", round_dong(exact))),
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
    """One permissible choice: the quota of ``location`` applied to the total area, the
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
    """Tax on the total area with one quota, filling the brackets with parcels in ``order``."""
    r1, r2, r3 = p["rates"]
    m1, m3 = p["bracket_multiples"]
    caps = [(quota * m1, "within_quota", r1), (quota * m3, "quota_to_3x", r2),
            (None, "beyond_3x", r3)]
    filled = ZERO
    total = ZERO
    alloc: list[tuple[int, str, Decimal, Decimal]] = []
    for idx in order:
        remaining = parcels[idx].area_m2
        price = Decimal(parcels[idx].price_per_m2)
        for cap, name, rate in caps:
            if remaining <= 0:
                break
            room = remaining if cap is None else max(ZERO, cap - filled)
            take = min(room, remaining)
            if take > 0:
                alloc.append((idx, name, take, rate))
                total += take * price * rate
                filled += take
                remaining -= take
    return ConsolidatedOption(location, quota, tuple(order), tuple(alloc), total,
                              round_dong(total))


def consolidated_options(parcels: Sequence[ConsolidatedParcel], valid_on: date | None = None,
                         *, brute_force: bool = False) -> list[ConsolidatedOption]:
    """Every permissible choice of quota (one per distinct parcel location), each with its
    cheapest permissible order.

    Circular 153/2011 art. 8 and its declaration form 03/TKTH-SDDPNN: the taxpayer chooses
    the one location whose quota applies to the total, and the parcels at that location are
    listed first; the rest follow in the order the taxpayer lists them. Within those bounds
    the dearest land fills the lowest brackets first. With ``brute_force`` every permissible
    order is listed instead (for checking, small n)."""
    p = _rule(valid_on).params
    choices: dict[tuple[str, Decimal], None] = {}
    for parcel in parcels:
        choices.setdefault((parcel.location, parcel.quota_m2), None)
    options = []
    for loc, quota in choices:
        first = [i for i, parcel in enumerate(parcels) if parcel.location == loc]
        rest = [i for i in range(len(parcels)) if parcels[i].location != loc]
        if brute_force:
            orders = [a + b for a in permutations(first) for b in permutations(rest)]
        else:
            dearest = lambda i: (-parcels[i].price_per_m2, i)  # noqa: E731
            orders = [tuple(sorted(first, key=dearest)) + tuple(sorted(rest, key=dearest))]
        options.extend(consolidated_option(parcels, quota, loc, order, p) for order in orders)
    return options


def cheapest(options: Sequence[ConsolidatedOption]) -> ConsolidatedOption:
    return min(options, key=lambda o: (o.amount_exact, o.amount))
