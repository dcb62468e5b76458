"""Statutory deadlines in working days of the Vietnamese calendar.

Pure arithmetic and the tables of limits, no database: the clocks of a dossier
(``app/services/clocks.py``) are built on these functions, and the tests check them with
tables of dated cases (tests/clocks/test_working_days.py).

The calendar is the ``holidays`` package's for Vietnam: Saturdays and Sundays, New Year,
Tết, Hùng Kings, 30/4, 1/5, National Day, and the days the Government moves (a day off
moved onto a weekday, and the Saturday worked in exchange, which counts as a working day).

When a clock starts (the "legal moment"), the rule followed here:

- A dossier is received on the local day it arrives, if that day is a working day and it
  arrives before the end of office hours (``OFFICE_CLOSES``, 17:00 Asia/Ho_Chi_Minh);
  otherwise, including any filing at a weekend or on a holiday, it is received on the next
  working day. (Online filings outside working hours count from the next working day:
  Decree 45/2020/ND-CP on carrying out administrative procedures electronically; the
  clause number is UNVERIFIED.)
- The day of receipt is not counted; the limit counts from the next day (Civil Code
  91/2015/QH13 art. 147(1)), in working days only, so a limit ending on a day off ends on
  the next working day (art. 148(5)) by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: End of office hours: a dossier arriving later is received on the next working day.
OFFICE_CLOSES = time(17, 0)


@lru_cache(maxsize=64)
def _vn_calendar(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("VN", years=year)


def is_working_day(day: date) -> bool:
    """Monday to Friday except public holidays and days off moved onto weekdays; a Saturday
    worked in exchange for a moved day off is a working day."""
    return _vn_calendar(day.year).is_working_day(day)


def next_working_day(day: date) -> date:
    """The first working day after ``day``."""
    current = day + timedelta(days=1)
    while not is_working_day(current):
        current += timedelta(days=1)
    return current


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


def working_days_between(start: date, end: date) -> int:
    """How many working days fall after ``start`` up to and including ``end`` (0 when
    ``end`` is not after ``start``): the days a clock started on ``start`` has used by the
    end of ``end``."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


def local_day(at: datetime) -> date:
    """The Vietnamese calendar day of an aware timestamp (naive ones are taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(LOCAL_TZ).date()


def received_on(at: datetime) -> date:
    """The legal day of receipt of something that arrived at ``at`` (see the module's
    docstring): that day before 17:00 on a working day, else the next working day."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    local = at.astimezone(LOCAL_TZ)
    day = local.date()
    if is_working_day(day) and local.time() < OFFICE_CLOSES:
        return day
    return next_working_day(day)


@dataclass(frozen=True)
class Limit:
    """A statutory time limit of one step, in working days, with its source."""

    days: int
    source: str
    #: False while the figure or its clause has not been checked against the official text.
    verified: bool = True


# --- the registry's step ------------------------------------------------------------------

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
    # First registration (at most 17) and the first certificate (at most 3 more).
    "recognition": (20, "Nghị định 151/2025/NĐ-CP, Phụ lục I, Phần V.A.II (đăng ký lần đầu 17 "
                        "ngày, cấp Giấy chứng nhận lần đầu 3 ngày)"),
    # UNVERIFIED: the State's allocation and lease decisions have their own limits; the first
    # registration's applies to registering them until those are found.
    "allocation": (20, "UNVERIFIED: Nghị định 151/2025/NĐ-CP, Phụ lục I (thời hạn đăng ký lần "
                       "đầu áp dụng tạm)"),
    "lease": (20, "UNVERIFIED: Nghị định 151/2025/NĐ-CP, Phụ lục I (thời hạn đăng ký lần đầu "
                  "áp dụng tạm)"),
    # UNVERIFIED: no limit for registering an extension was found; the transfer's applies.
    "extension": (8, "UNVERIFIED: Nghị định 151/2025/NĐ-CP, Phụ lục I (thời hạn chuyển nhượng "
                     "áp dụng tạm)"),
}

#: What the registry's clock does not count: the tax authority's time and the landholder's
#: (Decree 151/2025 Appendix I Part V.A.II, item 10).
REGISTRY_EXCLUDES_SOURCE = "Nghị định 151/2025/NĐ-CP, Phụ lục I, Phần V.A.II, mục 10"


def registry_due_working_days(procedure: str) -> int:
    """The registry's time limit for ``procedure``, in working days."""
    return REGISTRY_DUE_WORKING_DAYS[procedure][0]


def registry_limit(procedure: str) -> Limit:
    days, source = REGISTRY_DUE_WORKING_DAYS[procedure]
    return Limit(days, source, verified=not source.startswith("UNVERIFIED"))


# --- the tax authority's step ---------------------------------------------------------------

#: The tax authority's limit to issue the notice, in working days from receiving the
#: registry's transfer form, per procedure, as versions ``(in force from, days, source)``
#: (the latest one not after the day the form arrived applies). A procedure's limit is the
#: one of its slowest obligation: a transfer, gift or inheritance owes income tax and the
#: registration fee (3 days from 01/07/2026); a change of use by a household owes the land
#: use levy (5 days).
TAX_DUE_WORKING_DAYS: dict[str, tuple[tuple[date, int, str], ...]] = {
    "transfer": (
        (date(2020, 12, 5), 5, "Nghị định 126/2020/NĐ-CP, Điều 13 khoản 6 điểm a"),
        (date(2026, 7, 1), 3, "Nghị định 252/2026/NĐ-CP, Điều 17 khoản 2 điểm b"),
    ),
    "gift": (
        (date(2020, 12, 5), 5, "Nghị định 126/2020/NĐ-CP, Điều 13 khoản 6 điểm a"),
        (date(2026, 7, 1), 3, "Nghị định 252/2026/NĐ-CP, Điều 17 khoản 2 điểm b"),
    ),
    "inheritance": (
        (date(2020, 12, 5), 5, "Nghị định 126/2020/NĐ-CP, Điều 13 khoản 6 điểm a"),
        (date(2026, 7, 1), 3, "Nghị định 252/2026/NĐ-CP, Điều 17 khoản 2 điểm b"),
    ),
    "change_of_use": (
        (date(2020, 12, 5), 5, "Nghị định 126/2020/NĐ-CP, Điều 13 khoản 6 điểm a"),
        (date(2026, 7, 1), 5, "Nghị định 252/2026/NĐ-CP, Điều 17 khoản 2 điểm b "
                              "(tiền sử dụng đất, hộ gia đình, cá nhân)"),
    ),
}

#: For a procedure the table does not name yet: the longest limit of a household's
#: obligations (the land use levy), so that no clock runs short.
TAX_DEFAULT = (
    (date(2020, 12, 5), 5, "Nghị định 126/2020/NĐ-CP, Điều 13 khoản 6 điểm a"),
    (date(2026, 7, 1), 5, "Nghị định 252/2026/NĐ-CP, Điều 17 khoản 2 điểm b (tiền sử dụng đất)"),
)


def tax_limit(procedure: str, received: date) -> Limit:
    """The tax authority's limit for ``procedure`` when the transfer form arrived on
    ``received``."""
    versions = TAX_DUE_WORKING_DAYS.get(procedure, TAX_DEFAULT)
    in_force = [v for v in versions if v[0] <= received] or [versions[0]]
    _from, days, source = max(in_force, key=lambda v: v[0])
    return Limit(days, source, verified=procedure in TAX_DUE_WORKING_DAYS)


# --- the apology of a late step ---------------------------------------------------------------

#: A step that will be late: the agency writes the reason and apologises in writing with a
#: new date (form 04, "Phiếu xin lỗi và hẹn lại ngày trả kết quả").
APOLOGY_SOURCE = ("Nghị định 61/2018/NĐ-CP, Điều 19 khoản 3 điểm a và Mẫu số 04 (sửa đổi bởi "
                  "Nghị định 107/2021/NĐ-CP); từ 01/07/2025 Nghị định 118/2025/NĐ-CP (điều khoản "
                  "UNVERIFIED)")
