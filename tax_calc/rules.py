"""The national rules, each with its legal basis and effective period.

Rates here are national (set by laws and decrees). Anything a province sets (prices,
coefficients, quotas, fees, the land-rent rate) is data under ``data/`` or part of the case.
A rule applies to a dossier when the date the dossier became valid (``valid_on``) falls in
``[effective_from, effective_to]`` (both inclusive; ``effective_to=None`` means open).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .errors import CaseError


@dataclass(frozen=True)
class Rule:
    code: str
    version: str
    legal_basis: str
    effective_from: date
    effective_to: date | None
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    note: str = ""
    #: True while the rule's figures are not yet checked against the published text: every
    #: assessment that uses it waits for an officer (review reason ``rule_unverified``).
    unverified: bool = False

    def covers(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


D = Decimal
FAMILY_RELATIONSHIPS = frozenset({
    "spouse",
    "parent_child",
    "adoptive_parent_child",
    "parent_in_law_child_in_law",
    "grandparent_grandchild",
    "siblings",
})

RULES: tuple[Rule, ...] = (
    Rule(
        "registration_fee", "RF-2022.1",
        "Decree 10/2022/ND-CP art. 7 (base; as amended by Decree 175/2025/ND-CP), "
        "art. 8(1) (0.5%), art. 10 (exemptions)",
        date(2022, 3, 1), None,
        {"rate": D("0.005"), "table_term_years": 70, "due_days": 30},
    ),
    Rule(
        "personal_income_tax", "PIT-2007.1",
        "Law 04/2007/QH12 art. 14 (transfer price not below the land price table, as amended "
        "by Land Law 31/2024/QH15 art. 247), art. 16 (inheritance/gift above 10,000,000), "
        "art. 4 (family exemptions), art. 23 (2% / 10%)",
        date(2009, 1, 1), date(2026, 6, 30),
        {"transfer_rate": D("0.02"), "gift_rate": D("0.10"), "gift_threshold": 10_000_000,
         "floor_uses_adjustment_coefficient": False, "due_days": 30},
    ),
    Rule(
        "personal_income_tax", "PIT-2026.07",
        "PIT Law 109/2025/QH15; Decree 253/2026/ND-CP art. 57 (transfer price not below table "
        "price x adjustment coefficient), art. 61 (inheritance/gift above 20,000,000)",
        date(2026, 7, 1), None,
        {"transfer_rate": D("0.02"), "gift_rate": D("0.10"), "gift_threshold": 20_000_000,
         "floor_uses_adjustment_coefficient": True, "due_days": 30},
    ),
    Rule(
        "land_use_levy", "LUL-2024.08",
        "Land Law 31/2024/QH15; Decree 103/2024/ND-CP (amended by Decree 291/2025/ND-CP and "
        "Decree 50/2026/ND-CP); Resolution 254/2025/QH15 (levy price = table price x "
        "adjustment coefficient)",
        date(2024, 8, 1), None,
        {"first_share": D("0.5"), "first_due_days": 30, "second_due_days": 90},
    ),
    Rule(
        "land_use_levy_special_change_of_use", "LUL-CU-2026.01",
        "Resolution 254/2025/QH15 art. 10(2)(c); Decree 50/2026/ND-CP art. 6",
        date(2026, 1, 1), None,
        {"tiers": ((D(1), D("0.30")), (D(2), D("0.50")), (None, D("1.00")))},
        note="30% within the residential allocation quota, 50% up to one more quota, "
             "100% beyond; once per household.",
    ),
    Rule(
        "land_use_levy_recognition", "LUL-RC-2025.1",
        "Decree 291/2025/ND-CP (amending Decree 103/2024/ND-CP): recognition without "
        "authority and without proof of payment, 70% of the residential table price",
        date(2026, 1, 1), None,
        {"share": D("0.70")},
        note="Effective date to verify against the published decree; other recognition "
             "percentages by period of use are not implemented (unverified).",
        unverified=True,
    ),
    Rule(
        "land_use_levy_debt", "LUL-DEBT-2024.08",
        "Land Law 31/2024/QH15 transitional provisions; Decree 103/2024/ND-CP: recording the "
        "levy as a debt for a first certificate",
        date(2024, 8, 1), date(2029, 7, 31),
        {},
    ),
    Rule(
        "extension_surcharge", "EXT-2024.08",
        "Land Law 31/2024/QH15 (extension of the time to put land into use); Decree "
        "103/2024/ND-CP. Article number UNVERIFIED",
        date(2024, 8, 1), None,
        {"annual_rate": D("0.02"), "due_days": 30, "max_months": 24},
    ),
    Rule(
        "land_rent", "RENT-2024.08",
        "Land Law 31/2024/QH15; Decree 103/2024/ND-CP (annual rate set by the province "
        "between 0.25% and 3%; one-time rent for the lease term)",
        date(2024, 8, 1), None,
        {"min_rate": D("0.0025"), "max_rate": D("0.03"), "first_due_days": 30,
         "table_term_years": 70, "max_lease_years": 99,
         "later_years_due": ((5, 31),), "later_years_due_halves": ((5, 31), (10, 31))},
    ),
    Rule(
        "non_agricultural_tax", "NAT-2012.1",
        "Law 48/2010/QH12 art. 7 (rates); Decree 53/2011/ND-CP; Circular 153/2011/TT-BTC "
        "art. 7-8",
        date(2012, 1, 1), date(2020, 6, 30),
        {"rates": (D("0.0003"), D("0.0007"), D("0.0015")), "bracket_multiples": (1, 4),
         "flat_business": D("0.0003"), "misused": D("0.0015"), "encroached": D("0.002"),
         "apartment": D("0.0003"), "small_exemption": None, "first_due_days": 30,
         "annual_due": (10, 31)},
    ),
    Rule(
        "non_agricultural_tax", "NAT-2020.07",
        "Law 48/2010/QH12 art. 7 (rates); Decree 53/2011/ND-CP; Circular 153/2011/TT-BTC "
        "art. 7-8; Law 38/2019/QH14 art. 79(2)(a) (annual tax of 50,000 or less exempt for "
        "households and individuals; in force 01/07/2020, art. 151(1))",
        date(2020, 7, 1), date(2026, 6, 30),
        {"rates": (D("0.0003"), D("0.0007"), D("0.0015")), "bracket_multiples": (1, 4),
         "flat_business": D("0.0003"), "misused": D("0.0015"), "encroached": D("0.002"),
         "apartment": D("0.0003"), "small_exemption": 50_000, "first_due_days": 30,
         "annual_due": (10, 31)},
    ),
    Rule(
        "non_agricultural_tax", "NAT-2026.07",
        "Law 48/2010/QH12 art. 7 (rates); Decree 53/2011/ND-CP; Circular 153/2011/TT-BTC "
        "art. 7-8; Law 108/2025/QH15 art. 19(1)(b) and Decree 252/2026/ND-CP art. 32(2)(c) "
        "(annual tax of 50,000 or less exempt for households and individuals)",
        date(2026, 7, 1), None,
        {"rates": (D("0.0003"), D("0.0007"), D("0.0015")), "bracket_multiples": (1, 4),
         "flat_business": D("0.0003"), "misused": D("0.0015"), "encroached": D("0.002"),
         "apartment": D("0.0003"), "small_exemption": 50_000, "first_due_days": 30,
         "annual_due": (10, 31)},
    ),
    Rule(
        "late_interest", "LI-2019.1",
        "Law 38/2019/QH14 art. 59 (0.03% per day)",
        date(2020, 7, 1), date(2026, 6, 30),
        {"daily_rate": D("0.0003")},
    ),
    Rule(
        "late_interest", "LI-2026.07",
        "Law 108/2025/QH15; Decree 252/2026/ND-CP art. 26(1)(a) (0.03% per day)",
        date(2026, 7, 1), None,
        {"daily_rate": D("0.0003")},
    ),
)


def rule_for(code: str, on: date, field: str = "valid_on") -> Rule:
    """The version of rule ``code`` in force on ``on``; CaseError naming ``field`` if none."""
    for rule in RULES:
        if rule.code == code and rule.covers(on):
            return rule
    periods = ", ".join(
        f"{r.effective_from.isoformat()}..{r.effective_to.isoformat() if r.effective_to else ''}"
        for r in RULES if r.code == code
    )
    raise CaseError(field, f"no {code} rule covers {on.isoformat()} (rules cover: {periods})")


def rules_for_code(code: str) -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.code == code)
