"""Plain frozen data: the case that goes in and the assessment that comes out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .money import ROUNDING_RULE


@dataclass(frozen=True)
class House:
    """A house on the parcel: value = floor area x new-construction price x remaining quality."""

    floor_area_m2: Decimal
    price_per_m2: int
    remaining_quality: Decimal = Decimal(1)


@dataclass(frozen=True)
class Parcel:
    land_type: str
    area_m2: Decimal
    table_price_per_m2: int | None = None
    adjustment_coefficient: Decimal = Decimal(1)
    apartment: bool = False
    allocation_coefficient: Decimal | None = None
    parcel_id: str | None = None
    zone_code: str | None = None
    position: int | None = None
    lease: str | None = None  # None (allocated / owned), "annual", "one_time"
    lease_term_years: Decimal | None = None
    use_status: str = "proper"  # proper, misused, unused, encroached
    quota_m2: Decimal | None = None
    location: str | None = None
    house: House | None = None
    infrastructure_cost_per_m2: int = 0
    old_table_price_per_m2: int | None = None
    old_land_money: int | None = None


@dataclass(frozen=True)
class FeeItem:
    fee_code: str
    category: str
    quantity: int = 1
    online: bool = False


@dataclass(frozen=True)
class Case:
    procedure: str
    valid_on: date
    notice_date: date | None = None
    province: str | None = None
    price_table_version: str | None = None
    parcels: tuple[Parcel, ...] = ()
    declared_price: int | None = None
    relationship: str | None = None
    sole_residence_183_days: bool = False
    whole_transfer: bool = True
    divorce_split: bool = False
    registration_fee_exemption: str | None = None
    first_certificate: bool = False
    record_as_debt: bool = False
    special_same_parcel: bool = False
    special_case_used_before: bool = False
    recognition_kind: str | None = None
    months_extended: Decimal | None = None
    rent_rate: Decimal | None = None
    rent_installments: int = 1
    table_term_years: int | None = None
    first_year: bool = False
    tax_year: int | None = None
    fee_schedule_version: str | None = None
    fees: tuple[FeeItem, ...] = ()
    amount: int | None = None
    due_date: date | None = None
    paid_on: date | None = None
    paid_per_parcel: tuple[int, ...] | None = None
    #: The consolidated declaration's choice of quota (a parcel's ``location``); None: the
    #: cheapest permitted choice.
    chosen_location: str | None = None


@dataclass(frozen=True)
class DueTerm:
    """When a share of a line falls due: ``days_after_notice`` days after the notice is
    issued, or on the fixed date ``on``. ``share`` is the fraction of the line's amount; the
    last term of a line takes whatever the earlier ones left, so the parts add up."""

    share: Decimal
    days_after_notice: int | None = None
    on: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"share": str(self.share), "days_after_notice": self.days_after_notice,
                "on": self.on.isoformat() if self.on else None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DueTerm:
        on = d.get("on")
        return cls(Decimal(d["share"]), d.get("days_after_notice"),
                   date.fromisoformat(on) if on else None)


@dataclass(frozen=True)
class ReviewReason:
    """Why an assessment must wait for a tax officer: a code, the input concerned, and the
    reason in both languages."""

    code: str
    field: str
    text_vi: str
    text_en: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "text_vi": self.text_vi,
                "text_en": self.text_en}


@dataclass(frozen=True)
class Line:
    """One obligation amount, traceable to its rule, legal basis and inputs."""

    obligation: str
    base: int
    base_method: str
    base_method_text: str
    rate: Decimal
    amount: int
    legal_basis: str
    rule_version: str
    explanation_vi: str
    explanation_en: str
    due_dates: tuple[date, ...] = ()
    installments: tuple[tuple[date | None, int], ...] = ()
    due_terms: tuple[DueTerm, ...] = ()
    exemption: str | None = None
    rounding: str = ROUNDING_RULE
    parcel_id: str | None = None
    inputs: tuple[tuple[str, Any], ...] = ()
    components: tuple[tuple[tuple[str, Any], ...], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "obligation": self.obligation,
            "base": self.base,
            "base_method": self.base_method,
            "base_method_text": self.base_method_text,
            "rate": str(self.rate),
            "amount": self.amount,
            "rounding": self.rounding,
            "legal_basis": self.legal_basis,
            "rule_version": self.rule_version,
            "due_dates": [d.isoformat() for d in self.due_dates],
            "installments": [
                {"due_date": d.isoformat() if d else None, "amount": a}
                for d, a in self.installments
            ],
            "due_terms": [t.to_dict() for t in self.due_terms],
            "exemption": self.exemption,
            "parcel_id": self.parcel_id,
            "explanation_vi": self.explanation_vi,
            "explanation_en": self.explanation_en,
            "inputs": {k: jsonable(v) for k, v in self.inputs},
            "components": [{k: jsonable(v) for k, v in c} for c in self.components],
        }


@dataclass(frozen=True)
class Assessment:
    procedure: str
    valid_on: date
    lines: tuple[Line, ...]
    rule_versions: tuple[tuple[str, str], ...]
    price_table_version: str | None
    province: str | None = None
    notice_date: date | None = None
    extra: tuple[tuple[str, Any], ...] = field(default=())
    review_reasons: tuple[ReviewReason, ...] = ()

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    def line(self, obligation: str) -> Line:
        """The first line with this obligation code (KeyError if none)."""
        for ln in self.lines:
            if ln.obligation == obligation:
                return ln
        raise KeyError(obligation)

    def to_dict(self) -> dict[str, Any]:
        return {
            "procedure": self.procedure,
            "valid_on": self.valid_on.isoformat(),
            "notice_date": self.notice_date.isoformat() if self.notice_date else None,
            "province": self.province,
            "price_table_version": self.price_table_version,
            "rule_versions": {code: version for code, version in self.rule_versions},
            "total": self.total,
            "lines": [ln.to_dict() for ln in self.lines],
            "review_reasons": [r.to_dict() for r in self.review_reasons],
            **{k: jsonable(v) for k, v in self.extra},
        }


def jsonable(value: Any) -> Any:
    """Decimals as strings, dates ISO, tuples as lists, nested pairs as dicts where marked."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    return str(value)
