"""Validate a case given as a plain dict (the CLI's JSON format) into a ``Case``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import CaseError
from .model import Case, FeeItem, House, Parcel
from .rules import FAMILY_RELATIONSHIPS

PROCEDURES = frozenset({
    "transfer", "gift", "inheritance", "allocation", "change_of_use", "recognition",
    "extension", "land_rent_annual", "land_rent_one_time", "non_agricultural_tax",
    "consolidated_non_agricultural_tax", "provincial_fee", "late_interest",
})
LAND_TYPES = frozenset({
    "residential", "agricultural", "commercial", "production_business",
    "non_agricultural_other",
})
USE_STATUSES = frozenset({"proper", "misused", "unused", "encroached"})
LEASES = frozenset({"annual", "one_time"})
RELATIONSHIPS = FAMILY_RELATIONSHIPS | {"other", "none"}
RF_EXEMPTIONS = frozenset({"compensation_resettlement", "reissued_certificate"})
RECOGNITION_KINDS = frozenset({"without_authority_no_payment_proof"})

_CASE_KEYS = {
    "procedure", "valid_on", "notice_date", "province", "price_table_version", "parcels",
    "declared_price", "relationship", "sole_residence_183_days", "whole_transfer",
    "divorce_split", "registration_fee_exemption", "first_certificate", "record_as_debt",
    "special_same_parcel", "special_case_used_before", "recognition_kind", "months_extended",
    "rent_rate", "rent_installments", "table_term_years", "first_year", "tax_year",
    "fee_schedule_version", "fees", "amount", "due_date", "paid_on", "paid_per_parcel",
    "note",
}
_PARCEL_KEYS = {
    "land_type", "area_m2", "table_price_per_m2", "adjustment_coefficient", "apartment",
    "allocation_coefficient", "parcel_id", "zone_code", "position", "lease",
    "lease_term_years", "use_status", "quota_m2", "location", "house",
    "infrastructure_cost_per_m2", "old_table_price_per_m2", "old_land_money",
}


#: No area (m2), price (dong) or count in a land case comes near a thousand trillion; larger
#: input is a mistake, refused before any arithmetic (and before Decimal could overflow).
MAGNITUDE_LIMIT = 10**15
MAX_DECIMALS = 6


def parse_date(value: Any, field: str, *, required: bool = True) -> date | None:
    if value is None:
        if required:
            raise CaseError(field, "is required (a date YYYY-MM-DD)")
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise CaseError(field, f"must be a date string YYYY-MM-DD, got {type(value).__name__}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CaseError(field, f"is not a valid date YYYY-MM-DD: {value!r}") from None


def parse_decimal(value: Any, field: str, *, required: bool = True, minimum: Decimal | None = None,
                  maximum: Decimal | None = None, positive: bool = False) -> Decimal | None:
    if value is None:
        if required:
            raise CaseError(field, "is required (a decimal number, written as a string)")
        return None
    if isinstance(value, bool) or isinstance(value, float):
        raise CaseError(field, "must be a decimal string or integer, never a float "
                               f"(got {value!r}); write it as \"{value}\"")
    if isinstance(value, Decimal):
        dec = value
    elif isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, str):
        try:
            dec = Decimal(value.strip())
        except InvalidOperation:
            raise CaseError(field, f"is not a decimal number: {value!r}") from None
    else:
        raise CaseError(field, f"must be a decimal number, got {type(value).__name__}")
    if not dec.is_finite():
        raise CaseError(field, f"must be a finite number, got {value!r}")
    if abs(dec) > MAGNITUDE_LIMIT:
        raise CaseError(field, f"is too large (at most {MAGNITUDE_LIMIT:,}), got {value!r}")
    if dec != 0 and dec.as_tuple().exponent < -MAX_DECIMALS:
        raise CaseError(field, f"has more than {MAX_DECIMALS} decimal places: {value!r}")
    if positive and dec <= 0:
        raise CaseError(field, f"must be greater than 0, got {dec}")
    if minimum is not None and dec < minimum:
        raise CaseError(field, f"must be at least {minimum}, got {dec}")
    if maximum is not None and dec > maximum:
        raise CaseError(field, f"must be at most {maximum}, got {dec}")
    return dec


def parse_money(value: Any, field: str, *, required: bool = True) -> int | None:
    """Whole dong, >= 0. Accepts int or an integer string ("8000000000")."""
    if value is None:
        if required:
            raise CaseError(field, "is required (whole dong)")
        return None
    dec = parse_decimal(value, field, minimum=Decimal(0))
    assert dec is not None
    if dec != dec.to_integral_value():
        raise CaseError(field, f"must be whole dong (no fraction), got {dec}")
    return int(dec)


def parse_int(value: Any, field: str, *, required: bool = True, minimum: int | None = None,
              maximum: int | None = None) -> int | None:
    if value is None:
        if required:
            raise CaseError(field, "is required (an integer)")
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CaseError(field, f"must be an integer, got {value!r}")
    if isinstance(value, str) and len(value.strip()) > 20:
        raise CaseError(field, f"is too long for an integer: {value[:24]!r}...")
    try:
        num = int(value)
    except ValueError:
        raise CaseError(field, f"must be an integer, got {value!r}") from None
    if abs(num) > MAGNITUDE_LIMIT:
        raise CaseError(field, f"is too large (at most {MAGNITUDE_LIMIT:,}), got {num}")
    if minimum is not None and num < minimum:
        raise CaseError(field, f"must be at least {minimum}, got {num}")
    if maximum is not None and num > maximum:
        raise CaseError(field, f"must be at most {maximum}, got {num}")
    return num


def parse_bool(value: Any, field: str, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise CaseError(field, f"must be true or false, got {value!r}")
    return value


def parse_choice(value: Any, field: str, choices: frozenset[str], *, required: bool = True,
                 ) -> str | None:
    if value is None:
        if required:
            raise CaseError(field, f"is required (one of: {', '.join(sorted(choices))})")
        return None
    if not isinstance(value, str) or value not in choices:
        raise CaseError(field, f"unknown value {value!r} (expected one of: "
                               f"{', '.join(sorted(choices))})")
    return value


def _reject_unknown(d: dict[str, Any], allowed: set[str], prefix: str) -> None:
    for key in d:
        if key not in allowed:
            raise CaseError(f"{prefix}{key}", "unknown field")


def parse_house(d: Any, field: str) -> House | None:
    if d is None:
        return None
    if not isinstance(d, dict):
        raise CaseError(field, "must be an object")
    _reject_unknown(d, {"floor_area_m2", "price_per_m2", "remaining_quality"}, f"{field}.")
    return House(
        floor_area_m2=parse_decimal(d.get("floor_area_m2"), f"{field}.floor_area_m2",
                                    minimum=Decimal(0)),
        price_per_m2=parse_money(d.get("price_per_m2"), f"{field}.price_per_m2"),
        remaining_quality=parse_decimal(d.get("remaining_quality", "1"),
                                        f"{field}.remaining_quality",
                                        minimum=Decimal(0), maximum=Decimal(1)),
    )


def parse_parcel(d: Any, i: int) -> Parcel:
    p = f"parcels[{i}]"
    if not isinstance(d, dict):
        raise CaseError(p, "must be an object")
    _reject_unknown(d, _PARCEL_KEYS, f"{p}.")
    apartment = parse_bool(d.get("apartment"), f"{p}.apartment")
    alloc = parse_decimal(d.get("allocation_coefficient"), f"{p}.allocation_coefficient",
                          required=apartment, minimum=Decimal(0), maximum=Decimal(1))
    position = d.get("position")
    return Parcel(
        land_type=parse_choice(d.get("land_type"), f"{p}.land_type", LAND_TYPES),
        area_m2=parse_decimal(d.get("area_m2"), f"{p}.area_m2", minimum=Decimal(0)),
        table_price_per_m2=parse_money(d.get("table_price_per_m2"), f"{p}.table_price_per_m2",
                                       required=False),
        adjustment_coefficient=parse_decimal(d.get("adjustment_coefficient", "1"),
                                             f"{p}.adjustment_coefficient", positive=True),
        apartment=apartment,
        allocation_coefficient=alloc,
        parcel_id=_opt_str(d.get("parcel_id"), f"{p}.parcel_id"),
        zone_code=_opt_str(d.get("zone_code"), f"{p}.zone_code"),
        position=parse_int(position, f"{p}.position", required=False, minimum=1),
        lease=parse_choice(d.get("lease"), f"{p}.lease", LEASES, required=False),
        lease_term_years=parse_decimal(d.get("lease_term_years"), f"{p}.lease_term_years",
                                       required=False, positive=True),
        use_status=parse_choice(d.get("use_status", "proper"), f"{p}.use_status", USE_STATUSES),
        quota_m2=parse_decimal(d.get("quota_m2"), f"{p}.quota_m2", required=False,
                               positive=True),
        location=_opt_str(d.get("location"), f"{p}.location"),
        house=parse_house(d.get("house"), f"{p}.house"),
        infrastructure_cost_per_m2=parse_money(d.get("infrastructure_cost_per_m2", 0),
                                               f"{p}.infrastructure_cost_per_m2"),
        old_table_price_per_m2=parse_money(d.get("old_table_price_per_m2"),
                                           f"{p}.old_table_price_per_m2", required=False),
        old_land_money=parse_money(d.get("old_land_money"), f"{p}.old_land_money",
                                   required=False),
    )


def _opt_str(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CaseError(field, f"must be a string, got {value!r}")
    text = str(value).strip()
    if not text:
        raise CaseError(field, "must not be empty")
    return text


def parse_fee(d: Any, i: int) -> FeeItem:
    p = f"fees[{i}]"
    if not isinstance(d, dict):
        raise CaseError(p, "must be an object")
    _reject_unknown(d, {"fee_code", "category", "quantity", "online"}, f"{p}.")
    return FeeItem(
        fee_code=_req_str(d.get("fee_code"), f"{p}.fee_code"),
        category=_req_str(d.get("category"), f"{p}.category"),
        quantity=parse_int(d.get("quantity", 1), f"{p}.quantity", minimum=1),
        online=parse_bool(d.get("online"), f"{p}.online"),
    )


def _req_str(value: Any, field: str) -> str:
    text = _opt_str(value, field)
    if text is None:
        raise CaseError(field, "is required")
    return text


def case_from_dict(d: dict[str, Any]) -> Case:
    """Validate a case dict (see docs/tax-cli.md) and return a frozen ``Case``.

    Raises ``CaseError`` whose ``.field`` names the first offending input.
    """
    if not isinstance(d, dict):
        raise CaseError("case", "must be a JSON object")
    _reject_unknown(d, _CASE_KEYS, "")
    procedure = parse_choice(d.get("procedure"), "procedure", PROCEDURES)
    raw_parcels = d.get("parcels", [])
    if not isinstance(raw_parcels, list):
        raise CaseError("parcels", "must be a list")
    parcels = tuple(parse_parcel(p, i) for i, p in enumerate(raw_parcels))
    raw_fees = d.get("fees", [])
    if not isinstance(raw_fees, list):
        raise CaseError("fees", "must be a list")
    relationship = d.get("relationship")
    paid = d.get("paid_per_parcel")
    if paid is not None:
        if not isinstance(paid, list):
            raise CaseError("paid_per_parcel", "must be a list of whole-dong amounts")
        paid = tuple(parse_money(v, f"paid_per_parcel[{i}]") for i, v in enumerate(paid))
    case = Case(
        procedure=procedure,
        valid_on=parse_date(d.get("valid_on"), "valid_on"),
        notice_date=parse_date(d.get("notice_date"), "notice_date", required=False),
        province=_opt_str(d.get("province"), "province"),
        price_table_version=_opt_str(d.get("price_table_version"), "price_table_version"),
        parcels=parcels,
        declared_price=parse_money(d.get("declared_price"), "declared_price", required=False),
        relationship=parse_choice(relationship, "relationship", frozenset(RELATIONSHIPS),
                                  required=False),
        sole_residence_183_days=parse_bool(d.get("sole_residence_183_days"),
                                           "sole_residence_183_days"),
        whole_transfer=parse_bool(d.get("whole_transfer"), "whole_transfer", default=True),
        divorce_split=parse_bool(d.get("divorce_split"), "divorce_split"),
        registration_fee_exemption=parse_choice(d.get("registration_fee_exemption"),
                                                "registration_fee_exemption", RF_EXEMPTIONS,
                                                required=False),
        first_certificate=parse_bool(d.get("first_certificate"), "first_certificate"),
        record_as_debt=parse_bool(d.get("record_as_debt"), "record_as_debt"),
        special_same_parcel=parse_bool(d.get("special_same_parcel"), "special_same_parcel"),
        special_case_used_before=parse_bool(d.get("special_case_used_before"),
                                            "special_case_used_before"),
        recognition_kind=parse_choice(d.get("recognition_kind"), "recognition_kind",
                                      RECOGNITION_KINDS, required=procedure == "recognition"),
        months_extended=parse_decimal(d.get("months_extended"), "months_extended",
                                      required=procedure == "extension", positive=True),
        rent_rate=parse_decimal(d.get("rent_rate"), "rent_rate",
                                required=procedure == "land_rent_annual", positive=True),
        rent_installments=parse_int(d.get("rent_installments", 1), "rent_installments",
                                    minimum=1, maximum=2),
        table_term_years=parse_int(d.get("table_term_years"), "table_term_years",
                                   required=False, minimum=1),
        first_year=parse_bool(d.get("first_year"), "first_year"),
        tax_year=parse_int(d.get("tax_year"), "tax_year", required=False, minimum=2000,
                           maximum=2100),
        fee_schedule_version=_opt_str(d.get("fee_schedule_version"), "fee_schedule_version"),
        fees=tuple(parse_fee(f, i) for i, f in enumerate(raw_fees)),
        amount=parse_money(d.get("amount"), "amount", required=procedure == "late_interest"),
        due_date=parse_date(d.get("due_date"), "due_date",
                            required=procedure == "late_interest"),
        paid_on=parse_date(d.get("paid_on"), "paid_on", required=procedure == "late_interest"),
        paid_per_parcel=paid,
    )
    _check_procedure(case)
    return case


def _check_procedure(case: Case) -> None:
    needs_parcels = case.procedure not in {"provincial_fee", "late_interest"}
    if needs_parcels and not case.parcels:
        raise CaseError("parcels", f"at least one parcel is required for {case.procedure}")
    if case.procedure == "transfer" and case.declared_price is None:
        raise CaseError("declared_price", "is required for a transfer (the contract price)")
    if case.procedure == "provincial_fee":
        if not case.fees:
            raise CaseError("fees", "at least one fee item is required")
        if case.fee_schedule_version is None:
            raise CaseError("fee_schedule_version", "is required for provincial fees")
    if case.procedure == "consolidated_non_agricultural_tax":
        if len(case.parcels) < 2:
            raise CaseError("parcels", "a consolidated declaration needs at least two parcels")
        if case.paid_per_parcel is not None and len(case.paid_per_parcel) != len(case.parcels):
            raise CaseError("paid_per_parcel", "must have one amount per parcel")
