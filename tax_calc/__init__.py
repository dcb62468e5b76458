"""LandPay's pure rules engine for land financial obligations in Vietnam.

A case in, an assessment out: each line names its obligation, base and how the base was
chosen, rate, amount in whole dong, rounding, legal basis, rule version, due dates and a short
explanation in Vietnamese and English. No Flask, no database: plain functions and frozen
dataclasses over ``Decimal``. See docs/tax-rules.md and docs/tax-cli.md.
"""

from .due import schedule
from .engine import assess, late_interest
from .errors import CaseError, TableError
from .model import Assessment, Case, DueTerm, FeeItem, House, Line, Parcel, ReviewReason
from .money import ROUNDING_RULE, ROUNDING_TEXT, round_dong
from .nonagri import (
    ConsolidatedParcel,
    annual_due_date,
    annual_non_agricultural_tax,
    consolidated_options,
    non_agricultural_tax_line,
)
from .parse import case_from_dict
from .rules import RULES, Rule, rule_for

__all__ = [
    "RULES",
    "ROUNDING_RULE",
    "ROUNDING_TEXT",
    "Assessment",
    "Case",
    "DueTerm",
    "CaseError",
    "ConsolidatedParcel",
    "FeeItem",
    "House",
    "Line",
    "Parcel",
    "ReviewReason",
    "Rule",
    "TableError",
    "annual_due_date",
    "annual_non_agricultural_tax",
    "assess",
    "case_from_dict",
    "consolidated_options",
    "late_interest",
    "non_agricultural_tax_line",
    "round_dong",
    "rule_for",
    "schedule",
]
