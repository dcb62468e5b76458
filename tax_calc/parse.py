"""Validate a case given as a plain dict (the CLI's JSON format) into a ``Case``.

Every bound on a case's input lives in this module (the constants below, each with its
reason; docs/tax-cli.md "Bounds" lists them). Anything outside is refused with a
``CaseError`` naming the exact field, so the engine never computes a case the law does not
cover and never meets a number too large for its ``Decimal`` arithmetic.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .errors import CaseError
from .model import Case, FeeItem, House, Parcel
from .money import fmt_rate
from .rules import FAMILY_RELATIONSHIPS, rules_for_code

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
#: Registration fee exemptions the applicant claims (Decree 10/2022 art. 10): resettlement
#: land, a re-issued certificate, agricultural land exchanged between households (10(5)) or
#: self-reclaimed (10(6)).
RF_EXEMPTIONS = frozenset({"compensation_resettlement", "reissued_certificate",
                           "agricultural_land_exchange", "agricultural_land_self_reclaimed"})
RECOGNITION_KINDS = frozenset({"without_authority_no_payment_proof"})

_CASE_KEYS = {
    "procedure", "valid_on", "notice_date", "province", "price_table_version", "parcels",
    "declared_price", "relationship", "sole_residence_183_days", "whole_transfer",
    "divorce_split", "registration_fee_exemption", "first_certificate", "record_as_debt",
    "special_same_parcel", "special_case_used_before", "recognition_kind", "months_extended",
    "rent_rate", "rent_installments", "table_term_years", "first_year", "tax_year",
    "fee_schedule_version", "fees", "amount", "due_date", "paid_on", "paid_per_parcel",
    "chosen_location", "note",
}
_PARCEL_KEYS = {
    "land_type", "area_m2", "table_price_per_m2", "adjustment_coefficient", "apartment",
    "allocation_coefficient", "parcel_id", "zone_code", "position", "lease",
    "lease_term_years", "use_status", "quota_m2", "location", "house",
    "infrastructure_cost_per_m2", "old_table_price_per_m2", "old_land_money",
}

# ------------------------------------------------------------------------------- bounds
# With these bounds the largest value the engine computes is the income-tax floor of 1,000
# parcels at the largest area, price and coefficient plus a house each: 1,000 x (10^8 m2 x
# 10^10 VND/m2 x 10 + 10^8 m2 x 10^10 VND/m2) = 1.1 x 10^22 VND (23 digits). Decimal keeps
# 28 significant digits, so rounding to the dong never overflows and keeps 5 decimal places.

#: Any number: no area, price, amount or count in a land case comes near a thousand
#: trillion (10^15 VND is of the order of the State's annual budget); larger is a mistake.
MAGNITUDE_LIMIT = 10**15
#: Decimal places of a decimal input (areas to the cm2, coefficients, rates): more is a mistake.
MAX_DECIMALS = 6
#: Digits of a number written in the JSON text (or as a string): longer ones are refused
#: before they are converted (Python refuses to convert an integer of over 4,300 digits).
MAX_NUMBER_DIGITS = 30
#: Nesting of the JSON text: a case nests 4 levels (case, parcels, parcel, house).
MAX_JSON_DEPTH = 20
#: Length of a case's JSON text: 1,000 parcels of up to 1,000 characters each.
MAX_JSON_CHARS = 1_000_000
#: Area of a parcel, a house's floor area, a quota (m2): a parcel larger than 100 km2 is a
#: mistake.
MAX_AREA_M2 = Decimal(100_000_000)
#: Any price per m2 (table price, construction price, infrastructure cost, old table price):
#: the dearest street in the country is under 10^9 VND/m2 (Ho Chi Minh City, 2026); ten times
#: that is a mistake.
MAX_PRICE_PER_M2 = 10_000_000_000
#: Money amounts (declared price, land money before, overdue amount, tax paid per parcel).
MAX_AMOUNT = MAGNITUDE_LIMIT
#: The province's adjustment coefficient: provinces publish coefficients around 1 (LAW.md
#: items 2-3: table price x adjustment coefficient); more than 10 is a mistake.
MAX_ADJUSTMENT_COEFFICIENT = Decimal(10)
#: A lease term and a price-table term, in years: read from the land-rent rule. Land Law
#: 31/2024 allows leases of up to 50 years, 70 in special cases; the rule allows 99.
MAX_LEASE_YEARS = max(r.params["max_lease_years"] for r in rules_for_code("land_rent"))
#: The province's annual rent rate: the national range of the land-rent rule (every version).
RENT_RATE_MIN = min(r.params["min_rate"] for r in rules_for_code("land_rent"))
RENT_RATE_MAX = max(r.params["max_rate"] for r in rules_for_code("land_rent"))
#: Months of extension of the time to put land into use: read from the surcharge rule (at
#: most 24 months; Land Law 31/2024/QH15 art. 81(8)).
MAX_MONTHS_EXTENDED = Decimal(max(r.params["max_months"]
                                  for r in rules_for_code("extension_surcharge")))
#: Quantity of one provincial fee item: one dossier's certificates or registrations; more
#: than 1,000 is a mistake.
MAX_FEE_QUANTITY = 1_000
#: A price-table position: tables publish 4 or 5 positions per street segment.
MAX_POSITION = 10
#: Tax year: the non-agricultural land use tax exists from 2012 (Law 48/2010/QH12, in force
#: 01/01/2012: the first version of the rule); a year more than one after the dossier's date
#: cannot be assessed yet.
MIN_TAX_YEAR = min(r.effective_from for r in rules_for_code("non_agricultural_tax")).year
MAX_TAX_YEARS_AHEAD = 1
#: Dates (valid_on, notice_date, due_date, paid_on): no rule reaches before 2000, and a
#: date after 2100 is a typing mistake. A notice is never dated before its dossier.
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2100, 12, 31)
#: Parcels in one case and items of provincial fees: one dossier, not a land register.
MAX_PARCELS = 1_000
MAX_FEES = 100
#: Parcels in a consolidated declaration: one taxpayer's residential parcels in one province;
#: the output lists every quota choice for every parcel (n x n entries).
MAX_CONSOLIDATED_PARCELS = 100
#: Names and codes (parcel_id, zone_code, location, fee_code, category, province, versions):
#: at most 100 characters, no control characters (they would corrupt the one-line errors and
#: the notices).
MAX_TEXT_CHARS = 100
#: A free-text note: at most 1,000 characters (line breaks allowed).
MAX_NOTE_CHARS = 1_000

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_INT_RE = re.compile(r"[+-]?\d+", re.ASCII)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_KEY_RE = re.compile(r"[A-Za-z0-9_]{1,100}", re.ASCII)
#: Unicode categories refused in text: control, format (e.g. bidirectional overrides),
#: surrogate, private use.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_DECIMALS_Q = Decimal(1).scaleb(-MAX_DECIMALS)


class LongNumber:
    """A number in the JSON text with more than ``MAX_NUMBER_DIGITS`` digits, kept
    unconverted; whichever field it lands in refuses it, naming the field."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<a number of {self.digits} digits>"


def _too_long(digits: int) -> str:
    return f"is too long for a number ({digits} digits; at most {MAX_NUMBER_DIGITS})"


def _show(value: Any) -> str:
    """A short, one-line rendering of an input value for an error message."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return "an integer of more than 30 digits"
    if isinstance(value, str) and len(value) > 40:
        return repr(value[:40]) + "..."
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _why(reason: str | None) -> str:
    return f" ({reason})" if reason else ""


def _num(value: int | Decimal) -> str:
    """A bound as written in a message: thousands separated from 10,000 (not in a year)."""
    return f"{value:,}" if abs(value) >= 10_000 else str(value)


# ----------------------------------------------------------------------------- JSON text

#: A string (to its closing quote, or to the end of an unterminated one, so that no text is
#: scanned twice) or a bracket.
_DEPTH_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def _nesting_too_deep(text: str) -> bool:
    depth = 0
    for match in _DEPTH_TOKENS.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _json_int(text: str) -> int | LongNumber:
    digits = _digit_count(text)
    return LongNumber(digits) if digits > MAX_NUMBER_DIGITS else int(text)


def _json_decimal(text: str) -> Decimal | LongNumber:
    digits = _digit_count(text)
    return LongNumber(digits) if digits > MAX_NUMBER_DIGITS else Decimal(text)


def _json_constant(name: str) -> Any:
    raise CaseError("json", f"{name} is not a number JSON allows")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise CaseError("json", f"duplicate key {_show(key)} in an object")
        obj[key] = value
    return obj


def load_json(text: str | bytes) -> Any:
    """Parse a case's JSON text: decimals as ``Decimal`` (never float), numbers of more than
    ``MAX_NUMBER_DIGITS`` digits kept as ``LongNumber`` for their field to refuse. Raises
    ``CaseError`` with field ``json`` for text that is not UTF-8, too long, nested too deeply,
    not JSON, or has a duplicate key, NaN or Infinity."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CaseError("json", f"is not UTF-8 text (byte {exc.start + 1})") from None
    if len(text) > MAX_JSON_CHARS:
        raise CaseError("json", f"the case is longer than {MAX_JSON_CHARS:,} characters")
    if _nesting_too_deep(text):
        raise CaseError("json", f"nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(text, parse_float=_json_decimal, parse_int=_json_int,
                          parse_constant=_json_constant, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        raise CaseError("json", f"invalid JSON at line {exc.lineno} column {exc.colno}: "
                                f"{exc.msg}") from None
    except RecursionError:
        raise CaseError("json", "nested too deeply") from None


# ------------------------------------------------------------------------- single values


def parse_date(value: Any, field: str, *, required: bool = True,
               earliest: date = MIN_DATE, latest: date = MAX_DATE) -> date | None:
    if value is None:
        if required:
            raise CaseError(field, "is required (a date YYYY-MM-DD)")
        return None
    if isinstance(value, datetime):
        raise CaseError(field, f"must be a date without a time, got {_show(value)}")
    if isinstance(value, date):
        day = value
    elif not isinstance(value, str):
        raise CaseError(field, f"must be a date string YYYY-MM-DD, got {_show(value)}")
    else:
        try:
            if not _DATE_RE.fullmatch(value):
                raise ValueError(value)
            day = date.fromisoformat(value)
        except ValueError:
            raise CaseError(field, f"is not a valid date YYYY-MM-DD: {_show(value)}") from None
    if not earliest <= day <= latest:
        raise CaseError(field, f"must be between {earliest.isoformat()} and "
                               f"{latest.isoformat()}, got {day.isoformat()}")
    return day


def parse_decimal(value: Any, field: str, *, required: bool = True, minimum: Decimal | None = None,
                  maximum: Decimal | None = None, positive: bool = False,
                  reason: str | None = None) -> Decimal | None:
    """A decimal within ``MAGNITUDE_LIMIT`` and ``MAX_DECIMALS`` places, then within the
    field's own bounds (``reason`` says why, in the refusal)."""
    if value is None:
        if required:
            raise CaseError(field, "is required (a decimal number, written as a string)")
        return None
    if isinstance(value, LongNumber):
        raise CaseError(field, _too_long(value.digits))
    if isinstance(value, bool) or isinstance(value, float):
        raise CaseError(field, "must be a decimal string or integer, never a float "
                               f"(got {_show(value)}); write it as a string")
    if isinstance(value, Decimal):
        dec = value
    elif isinstance(value, int):
        if abs(value) > MAGNITUDE_LIMIT:
            raise CaseError(field, f"is too large (at most {MAGNITUDE_LIMIT:,}), "
                                   f"got {_show(value)}")
        dec = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if _digit_count(text) > MAX_NUMBER_DIGITS:
            raise CaseError(field, _too_long(_digit_count(text)))
        if not _NUMBER_RE.fullmatch(text):
            raise CaseError(field, f"is not a decimal number: {_show(value)}")
        dec = Decimal(text)
    else:
        raise CaseError(field, f"must be a decimal number, got {type(value).__name__}")
    if not dec.is_finite():
        raise CaseError(field, f"must be a finite number, got {_show(value)}")
    # Checked on the digits and exponent, without arithmetic: an exponent such as 1e999999999
    # would overflow any Decimal operation.
    _, digits, exponent = dec.as_tuple()
    assert isinstance(exponent, int)
    if not any(digits):
        dec = Decimal(0)
    else:
        trailing_zeros = len(digits) - len(bytes(digits).rstrip(b"\0"))
        if exponent + trailing_zeros < -MAX_DECIMALS:
            raise CaseError(field, f"has more than {MAX_DECIMALS} decimal places: "
                                   f"{_show(value)}")
        if dec.adjusted() >= len(str(MAGNITUDE_LIMIT)) or dec.copy_abs() > MAGNITUDE_LIMIT:
            raise CaseError(field, f"is too large (at most {MAGNITUDE_LIMIT:,}), "
                                   f"got {_show(value)}")
        if exponent < -MAX_DECIMALS:  # trailing zeros only: drop them
            dec = dec.quantize(_DECIMALS_Q)
        elif exponent > 0:  # 1e3 is written out as 1000
            dec = dec.quantize(Decimal(1))
    if positive and dec <= 0:
        raise CaseError(field, f"must be greater than 0{_why(reason)}, got {dec}")
    if minimum is not None and dec < minimum:
        raise CaseError(field, f"must be at least {_num(minimum)}{_why(reason)}, got {dec}")
    if maximum is not None and dec > maximum:
        raise CaseError(field, f"must be at most {_num(maximum)}{_why(reason)}, got {dec}")
    return dec


def parse_money(value: Any, field: str, *, required: bool = True, maximum: int = MAX_AMOUNT,
                reason: str | None = None) -> int | None:
    """Whole dong, 0 to ``maximum``. Accepts int or an integer string ("8000000000")."""
    if value is None:
        if required:
            raise CaseError(field, "is required (whole dong)")
        return None
    dec = parse_decimal(value, field, minimum=Decimal(0), maximum=Decimal(maximum),
                        reason=reason)
    assert dec is not None
    if dec != dec.to_integral_value():
        raise CaseError(field, f"must be whole dong (no fraction), got {dec}")
    return int(dec)


def parse_price(value: Any, field: str, *, required: bool = True) -> int | None:
    """A price per m2 in whole dong, at most ``MAX_PRICE_PER_M2``."""
    return parse_money(value, field, required=required, maximum=MAX_PRICE_PER_M2,
                       reason="VND per m2: no land in the country is priced near that")


def parse_area(value: Any, field: str, *, required: bool = True,
               positive: bool = False) -> Decimal | None:
    """An area in m2, at most ``MAX_AREA_M2``."""
    return parse_decimal(value, field, required=required, minimum=Decimal(0),
                         maximum=MAX_AREA_M2, positive=positive,
                         reason="m2: a parcel larger than 100 km2 is a mistake")


def parse_int(value: Any, field: str, *, required: bool = True, minimum: int | None = None,
              maximum: int | None = None, reason: str | None = None) -> int | None:
    if value is None:
        if required:
            raise CaseError(field, "is required (an integer)")
        return None
    if isinstance(value, LongNumber):
        raise CaseError(field, _too_long(value.digits))
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise CaseError(field, f"must be an integer, got {_show(value)}")
    if isinstance(value, str):
        text = value.strip()
        if _digit_count(text) > MAX_NUMBER_DIGITS:
            raise CaseError(field, _too_long(_digit_count(text)))
        if not _INT_RE.fullmatch(text):
            raise CaseError(field, f"must be an integer, got {_show(value)}")
        num = int(text)
    else:
        num = value
    if abs(num) > MAGNITUDE_LIMIT:
        raise CaseError(field, f"is too large (at most {MAGNITUDE_LIMIT:,}), got {_show(num)}")
    if minimum is not None and num < minimum:
        raise CaseError(field, f"must be at least {_num(minimum)}{_why(reason)}, got {num}")
    if maximum is not None and num > maximum:
        raise CaseError(field, f"must be at most {_num(maximum)}{_why(reason)}, got {num}")
    return num


def parse_bool(value: Any, field: str, default: bool = False) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise CaseError(field, f"must be true or false, got {_show(value)}")
    return value


def parse_choice(value: Any, field: str, choices: frozenset[str], *, required: bool = True,
                 ) -> str | None:
    if value is None:
        if required:
            raise CaseError(field, f"is required (one of: {', '.join(sorted(choices))})")
        return None
    if not isinstance(value, str) or value not in choices:
        raise CaseError(field, f"unknown value {_show(value)} (expected one of: "
                               f"{', '.join(sorted(choices))})")
    return value


def parse_text(value: Any, field: str, *, required: bool = False,
               max_chars: int = MAX_TEXT_CHARS, line_breaks: bool = False) -> str | None:
    """A name or code: a string (or an integer, taken as its digits), trimmed, not empty, at
    most ``max_chars`` characters, without control characters."""
    if value is None:
        if required:
            raise CaseError(field, "is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CaseError(field, f"must be a string, got {_show(value)}")
    if isinstance(value, int) and value.bit_length() > 4 * max_chars:
        raise CaseError(field, f"is longer than {max_chars} characters")
    text = str(value).strip()
    if not text:
        raise CaseError(field, "must not be empty")
    if len(text) > max_chars:
        raise CaseError(field, f"is longer than {max_chars} characters ({len(text):,})")
    allowed = "\n\r\t" if line_breaks else ""
    for ch in text:
        if ch not in allowed and unicodedata.category(ch) in _BAD_CATEGORIES:
            raise CaseError(field, f"must not contain control characters (found "
                                   f"U+{ord(ch):04X})")
    return text


def _key_name(key: Any) -> str:
    """A key as it can be shown in a one-line error: itself when it is a plain name."""
    if isinstance(key, str) and _KEY_RE.fullmatch(key):
        return key
    return json.dumps(str(key)[:40] if isinstance(key, str) else type(key).__name__)


def _reject_unknown(d: dict[Any, Any], allowed: set[str], prefix: str) -> None:
    for key in d:
        if not isinstance(key, str) or key not in allowed:
            raise CaseError(f"{prefix}{_key_name(key)}", "unknown field")


def _list(value: Any, field: str, maximum: int, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CaseError(field, f"must be a list, got {_show(value)}")
    if len(value) > maximum:
        raise CaseError(field, f"at most {maximum:,} {what} in one case, got {len(value):,}")
    return value


# ------------------------------------------------------------------------------ the case


def parse_house(d: Any, field: str) -> House | None:
    if d is None:
        return None
    if not isinstance(d, dict):
        raise CaseError(field, "must be an object")
    _reject_unknown(d, {"floor_area_m2", "price_per_m2", "remaining_quality"}, f"{field}.")
    return House(
        floor_area_m2=parse_area(d.get("floor_area_m2"), f"{field}.floor_area_m2"),
        price_per_m2=parse_price(d.get("price_per_m2"), f"{field}.price_per_m2"),
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
    land_type = parse_choice(d.get("land_type"), f"{p}.land_type", LAND_TYPES)
    area = parse_area(d.get("area_m2"), f"{p}.area_m2")
    price = parse_price(d.get("table_price_per_m2"), f"{p}.table_price_per_m2", required=False)
    coefficient = parse_decimal(
        d.get("adjustment_coefficient", "1"), f"{p}.adjustment_coefficient", positive=True,
        maximum=MAX_ADJUSTMENT_COEFFICIENT,
        reason="provinces publish adjustment coefficients around 1")
    alloc = parse_decimal(d.get("allocation_coefficient"), f"{p}.allocation_coefficient",
                          required=apartment, minimum=Decimal(0), maximum=Decimal(1))
    return Parcel(
        land_type=land_type,
        area_m2=area,
        table_price_per_m2=price,
        adjustment_coefficient=coefficient,
        apartment=apartment,
        allocation_coefficient=alloc,
        parcel_id=parse_text(d.get("parcel_id"), f"{p}.parcel_id"),
        zone_code=parse_text(d.get("zone_code"), f"{p}.zone_code"),
        position=parse_int(d.get("position"), f"{p}.position", required=False, minimum=1,
                           maximum=MAX_POSITION,
                           reason="price tables publish 4 or 5 positions"),
        lease=parse_choice(d.get("lease"), f"{p}.lease", LEASES, required=False),
        lease_term_years=parse_decimal(
            d.get("lease_term_years"), f"{p}.lease_term_years", required=False,
            positive=True, maximum=Decimal(MAX_LEASE_YEARS),
            reason="years: Land Law 31/2024 leases run up to 50 years, 70 in special cases"),
        use_status=parse_choice(d.get("use_status", "proper"), f"{p}.use_status", USE_STATUSES),
        quota_m2=parse_area(d.get("quota_m2"), f"{p}.quota_m2", required=False, positive=True),
        location=parse_text(d.get("location"), f"{p}.location"),
        house=parse_house(d.get("house"), f"{p}.house"),
        infrastructure_cost_per_m2=parse_price(d.get("infrastructure_cost_per_m2", 0),
                                               f"{p}.infrastructure_cost_per_m2"),
        old_table_price_per_m2=parse_price(d.get("old_table_price_per_m2"),
                                           f"{p}.old_table_price_per_m2", required=False),
        old_land_money=parse_money(d.get("old_land_money"), f"{p}.old_land_money",
                                   required=False),
    )


def parse_fee(d: Any, i: int) -> FeeItem:
    p = f"fees[{i}]"
    if not isinstance(d, dict):
        raise CaseError(p, "must be an object")
    _reject_unknown(d, {"fee_code", "category", "quantity", "online"}, f"{p}.")
    return FeeItem(
        fee_code=parse_text(d.get("fee_code"), f"{p}.fee_code", required=True),
        category=parse_text(d.get("category"), f"{p}.category", required=True),
        quantity=parse_int(d.get("quantity", 1), f"{p}.quantity", minimum=1,
                           maximum=MAX_FEE_QUANTITY,
                           reason="one dossier's certificates or registrations"),
        online=parse_bool(d.get("online"), f"{p}.online"),
    )


def case_from_dict(d: dict[str, Any]) -> Case:
    """Validate a case dict (see docs/tax-cli.md) and return a frozen ``Case``.

    Raises ``CaseError`` whose ``.field`` names the first offending input.
    """
    if not isinstance(d, dict):
        raise CaseError("case", "must be a JSON object")
    _reject_unknown(d, _CASE_KEYS, "")
    procedure = parse_choice(d.get("procedure"), "procedure", PROCEDURES)
    valid_on = parse_date(d.get("valid_on"), "valid_on")
    assert valid_on is not None
    notice_date = parse_date(d.get("notice_date"), "notice_date", required=False)
    if notice_date is not None and notice_date < valid_on:
        raise CaseError("notice_date", f"is before valid_on ({valid_on.isoformat()}): a notice "
                                       f"follows its dossier, got {notice_date.isoformat()}")
    raw_parcels = _list(d.get("parcels", []), "parcels", MAX_PARCELS, "parcels")
    parcels = tuple(parse_parcel(p, i) for i, p in enumerate(raw_parcels))
    raw_fees = _list(d.get("fees", []), "fees", MAX_FEES, "fee items")
    paid = d.get("paid_per_parcel")
    if paid is not None:
        if not isinstance(paid, list):
            raise CaseError("paid_per_parcel", "must be a list of whole-dong amounts")
        paid = _list(paid, "paid_per_parcel", MAX_PARCELS, "amounts")
        paid = tuple(parse_money(v, f"paid_per_parcel[{i}]") for i, v in enumerate(paid))
    parse_text(d.get("note"), "note", max_chars=MAX_NOTE_CHARS, line_breaks=True)
    lo, hi = RENT_RATE_MIN, RENT_RATE_MAX
    case = Case(
        procedure=procedure,
        valid_on=valid_on,
        notice_date=notice_date,
        province=parse_text(d.get("province"), "province"),
        price_table_version=parse_text(d.get("price_table_version"), "price_table_version"),
        parcels=parcels,
        declared_price=parse_money(d.get("declared_price"), "declared_price", required=False),
        relationship=parse_choice(d.get("relationship"), "relationship",
                                  frozenset(RELATIONSHIPS), required=False),
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
        months_extended=parse_decimal(
            d.get("months_extended"), "months_extended", required=procedure == "extension",
            positive=True, maximum=MAX_MONTHS_EXTENDED,
            reason="Land Law 31/2024 art. 81(8): an extension is at most 24 months"),
        rent_rate=parse_decimal(
            d.get("rent_rate"), "rent_rate", required=procedure == "land_rent_annual",
            minimum=lo, maximum=hi,
            reason=f"the province's rate lies between {fmt_rate(lo)} and {fmt_rate(hi)}, "
                   f"written as a fraction"),
        rent_installments=parse_int(d.get("rent_installments", 1), "rent_installments",
                                    minimum=1, maximum=2),
        table_term_years=parse_int(d.get("table_term_years"), "table_term_years",
                                   required=False, minimum=1, maximum=MAX_LEASE_YEARS,
                                   reason="years, as a lease term"),
        first_year=parse_bool(d.get("first_year"), "first_year"),
        tax_year=parse_int(
            d.get("tax_year"), "tax_year", required=False, minimum=MIN_TAX_YEAR,
            maximum=valid_on.year + MAX_TAX_YEARS_AHEAD,
            reason=f"from {MIN_TAX_YEAR}, when the non-agricultural land use tax began, to the "
                   f"year after valid_on"),
        fee_schedule_version=parse_text(d.get("fee_schedule_version"), "fee_schedule_version"),
        fees=tuple(parse_fee(f, i) for i, f in enumerate(raw_fees)),
        amount=parse_money(d.get("amount"), "amount", required=procedure == "late_interest"),
        due_date=parse_date(d.get("due_date"), "due_date",
                            required=procedure == "late_interest"),
        paid_on=parse_date(d.get("paid_on"), "paid_on", required=procedure == "late_interest"),
        paid_per_parcel=paid,
        chosen_location=parse_text(d.get("chosen_location"), "chosen_location"),
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
        if len(case.parcels) > MAX_CONSOLIDATED_PARCELS:
            raise CaseError("parcels", f"a consolidated declaration lists at most "
                                       f"{MAX_CONSOLIDATED_PARCELS} parcels, got "
                                       f"{len(case.parcels):,}")
        if case.paid_per_parcel is not None and len(case.paid_per_parcel) != len(case.parcels):
            raise CaseError("paid_per_parcel", "must have one amount per parcel")
