"""Statutory deadlines in working days of the Vietnamese calendar."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _vn_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _vn_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (the filing day itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


#: The registry's time limit per procedure, in working days from filing, with its legal
#: basis: the one table (Decree 151/2025 Appendix I Part V.A.II, in force from 01/07/2025 to
#: before 01/03/2027; time spent determining and paying obligations is not counted).
REGISTRY_DUE_WORKING_DAYS: dict[str, tuple[int, str]] = {
    "transfer": (8, "Nghị định 151/2025/NĐ-CP, Phụ lục I, Phần V.A.II"),
    "gift": (8, "Nghị định 151/2025/NĐ-CP, Phụ lục I, Phần V.A.II"),
    "inheritance": (8, "Nghị định 151/2025/NĐ-CP, Phụ lục I, Phần V.A.II"),
    # UNVERIFIED: no limit for registering a change of land use purpose was found in the
    # texts gathered; the transfer's limit applies until one is.
    "change_of_use": (8, "UNVERIFIED: Nghị định 151/2025/NĐ-CP, Phụ lục I (thời hạn chuyển "
                         "nhượng áp dụng tạm)"),
}


def registry_due_working_days(procedure: str) -> int:
    """The registry's time limit for ``procedure``, in working days."""
    return REGISTRY_DUE_WORKING_DAYS[procedure][0]
