"""Builders shared by the tax_calc tests (plain module, no conftest)."""

from __future__ import annotations

import copy
from typing import Any


def transfer_case(**overrides: Any) -> dict[str, Any]:
    """The web app's transfer case, with overrides (parcel keys under ``parcel``)."""
    case: dict[str, Any] = {
        "procedure": "transfer",
        "valid_on": "2026-11-27",
        "notice_date": "2026-11-27",
        "province": "HCM",
        "price_table_version": "HCM-2026.1",
        "parcels": [{
            "land_type": "residential",
            "area_m2": "120.5",
            "table_price_per_m2": 50_000_000,
            "adjustment_coefficient": "1.0",
        }],
        "declared_price": 8_000_000_000,
        "relationship": None,
        "sole_residence_183_days": False,
    }
    parcel = overrides.pop("parcel", None)
    case = copy.deepcopy(case)
    case.update(overrides)
    if parcel:
        case["parcels"][0].update(parcel)
    return case
