"""What every obligation needs while a case is assessed: the case, the data tables, the
rules used so far, the review reasons found, and the helpers that read a parcel's values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import CaseError
from .model import Case, Parcel, ReviewReason
from .money import ONE, ZERO
from .rules import Rule, rule_for
from .tables import FeeSchedule, PositionFactors, PriceBook, find_table, in_force

_INFO_Q = Decimal("0.0000000001")  # display precision for a rate that is a fraction


@dataclass
class Ctx:
    case: Case
    price_book: PriceBook | None
    position_factors: PositionFactors | None
    fee_schedule: FeeSchedule | None
    data_dir: Path | None
    used: dict[str, set[str]] = field(default_factory=dict)
    extra: list[tuple[str, Any]] = field(default_factory=list)
    reasons: list[ReviewReason] = field(default_factory=list)

    def rule(self, code: str, on: date | None = None, fld: str = "valid_on") -> Rule:
        rule = rule_for(code, on or self.case.valid_on, fld)
        self.used.setdefault(code, set()).add(rule.version)
        if rule.unverified:
            self.review("rule_unverified", rule.version,
                        f"quy định {rule.version} chưa được đối chiếu với văn bản gốc",
                        f"rule {rule.version} is not yet verified against the published text")
        return rule

    def review(self, code: str, fld: str, vi: str, en: str) -> None:
        """Record why an officer must look at this assessment before a notice is issued;
        a reason already recorded for the same input is recorded once."""
        if not any(r.code == code and r.field == fld for r in self.reasons):
            self.reasons.append(ReviewReason(code, fld, vi, en))

    def book(self) -> PriceBook:
        if self.price_book is None:
            version = self.case.price_table_version
            if version is None:
                raise CaseError("price_table_version",
                                "is required to look a price up by zone and position")
            self.price_book = find_table("price_table", version, self.data_dir,
                                         field="price_table_version")
        in_force(self.price_book.meta, self.case.province, self.case.valid_on,
                 "price_table_version")
        if self.position_factors is not None:
            in_force(self.position_factors.meta, self.case.province, self.case.valid_on,
                     "position_factors")
        return self.price_book


def pfield(i: int) -> str:
    return f"parcels[{i}]"


def price_of(ctx: Ctx, i: int, parcel: Parcel) -> int:
    if parcel.table_price_per_m2 is not None:
        return parcel.table_price_per_m2
    if parcel.zone_code is None:
        raise CaseError(f"{pfield(i)}.table_price_per_m2",
                        "is missing (give the price, or zone_code and position to look it up)")
    return ctx.book().price(parcel.zone_code, parcel.position or 1, parcel.land_type,
                            ctx.position_factors, field=f"{pfield(i)}.table_price_per_m2")


def apartment_coef(i: int, parcel: Parcel) -> Decimal:
    if not parcel.apartment:
        return ONE
    if parcel.allocation_coefficient is None:
        raise CaseError(f"{pfield(i)}.allocation_coefficient", "is required for an apartment")
    return parcel.allocation_coefficient


def house_value(parcel: Parcel) -> Decimal:
    h = parcel.house
    if h is None:
        return ZERO
    return h.floor_area_m2 * h.price_per_m2 * h.remaining_quality


def info_rate(value: Decimal) -> Decimal:
    """A rate for display: exact when it terminates within 10 places, else quantized."""
    q = value.quantize(_INFO_Q)
    return value.normalize() if q == value else q


def pid(i: int, parcel: Parcel) -> str:
    return parcel.parcel_id or str(i)
