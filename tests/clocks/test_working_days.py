"""Working-day arithmetic of the Vietnamese calendar, from tables of dated cases.

Sources of the calendar facts used below:
- Labour Code 45/2019/QH14 art. 112: the public holidays (New Year 1/1, Tết 5 days, Hùng
  Kings 10/3 lunar, 30/4, 1/5, National Day 2/9 and one day before or after); art. 112(3):
  a holiday falling on a weekly day off is taken on the next working day.
- Tết Bính Ngọ 2026: the civil service is off Monday 16/02 to Friday 20/02/2026 (with the
  weekends either side: 14/02 to 22/02).
- Tết Đinh Mùi 2027: off Thursday 04/02 to Wednesday 10/02/2027 (29 Chạp to mùng 5, the
  lunar New Year's days falling on the weekend of 06-07/02 being moved to 09-10/02).
- 2025: Saturday 26/04/2025 worked in exchange for Friday 02/05/2025 off.
- 2026: Saturday 22/08/2026 worked in exchange for Monday 31/08/2026 off (National Day).
- 24/11/2026: Vietnam Culture Day, a day off from 2026 as the `holidays` package carries it
  (its legal text not checked here).
- 27/04/2026: Hùng Kings' day (26/04, a Sunday) taken on Monday.
The `holidays` package carries the same days; these tables check that it does, and that our
arithmetic over it counts as the law counts (the day of receipt not counted, Civil Code
91/2015/QH13 art. 147(1)).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import deadlines as dl

VN = timezone(timedelta(hours=7))

WORKING = [
    # (day, working?, why)
    (date(2026, 2, 13), True, "Friday before Tết 2026"),
    (date(2026, 2, 16), False, "Tết 2026, 29 Chạp"),
    (date(2026, 2, 17), False, "Tết 2026, mùng 1"),
    (date(2026, 2, 20), False, "Tết 2026, mùng 4"),
    (date(2026, 2, 23), True, "first working day after Tết 2026"),
    (date(2027, 2, 3), True, "Wednesday before Tết 2027"),
    (date(2027, 2, 4), False, "Tết 2027, 29 Chạp"),
    (date(2027, 2, 9), False, "Tết 2027, mùng 4 (moved from the weekend)"),
    (date(2027, 2, 10), False, "Tết 2027, mùng 5 (moved from the weekend)"),
    (date(2027, 2, 11), True, "first working day after Tết 2027"),
    (date(2025, 4, 26), True, "Saturday worked in exchange for 02/05/2025"),
    (date(2025, 5, 2), False, "substitute day off for 26/04/2025"),
    (date(2026, 8, 22), True, "Saturday worked in exchange for 31/08/2026"),
    (date(2026, 8, 31), False, "substitute day off for 22/08/2026"),
    (date(2026, 4, 27), False, "Hùng Kings' day 2026 (a Sunday) taken on Monday"),
    (date(2026, 11, 24), False, "Vietnam Culture Day"),
    (date(2026, 11, 28), False, "an ordinary Saturday"),
    (date(2026, 11, 29), False, "an ordinary Sunday"),
    (date(2026, 11, 30), True, "an ordinary Monday"),
]


@pytest.mark.parametrize(("day", "working", "why"), WORKING)
def test_working_days_of_the_calendar(day, working, why):
    assert dl.is_working_day(day) is working, why


DUE = [
    # (received on, limit, due on, why)
    (date(2026, 2, 13), 3, date(2026, 2, 25), "3 days across Tết 2026"),
    (date(2026, 2, 11), 8, date(2026, 3, 2), "the registry's 8 days across Tết 2026"),
    (date(2027, 2, 3), 8, date(2027, 2, 22), "8 days across Tết 2027"),
    (date(2027, 2, 3), 1, date(2027, 2, 11), "1 day across the whole of Tết 2027"),
    (date(2026, 11, 27), 3, date(2026, 12, 2), "over a weekend"),
    (date(2026, 8, 21), 3, date(2026, 8, 25), "the worked Saturday 22/08/2026 counts"),
    (date(2026, 8, 28), 3, date(2026, 9, 7), "31/08 moved off, then National Day 1-2/09/2026"),
    (date(2025, 4, 29), 2, date(2025, 5, 6), "30/4, 1/5 and the substitute 02/05/2025"),
    (date(2026, 11, 23), 1, date(2026, 11, 25), "Vietnam Culture Day 24/11/2026"),
    (date(2026, 12, 31), 1, date(2027, 1, 4), "New Year 2027 and a weekend"),
    (date(2026, 11, 30), 0, date(2026, 11, 30), "a zero limit ends on the day itself"),
]


@pytest.mark.parametrize(("start", "days", "due", "why"), DUE)
def test_due_dates(start, days, due, why):
    assert dl.add_working_days(start, days) == due, why
    # And the other way round: by the due date exactly the limit is used.
    assert dl.working_days_between(start, due) == days, why


RECEIVED = [
    # (arrived at, legally received on, why)
    (datetime(2026, 11, 27, 16, 59, tzinfo=VN), date(2026, 11, 27), "Friday before 17:00"),
    (datetime(2026, 11, 27, 17, 0, tzinfo=VN), date(2026, 11, 30), "Friday at 17:00: Monday"),
    (datetime(2026, 11, 27, 9, 59, tzinfo=UTC), date(2026, 11, 27), "16:59 in Vietnam, given in UTC"),
    (datetime(2026, 11, 27, 10, 0, tzinfo=UTC), date(2026, 11, 30), "17:00 in Vietnam, given in UTC"),
    (datetime(2026, 11, 26, 20, 0, tzinfo=UTC), date(2026, 11, 27), "03:00 on Friday in Vietnam"),
    (datetime(2026, 11, 28, 9, 0, tzinfo=VN), date(2026, 11, 30), "a Saturday"),
    (datetime(2026, 2, 13, 18, 0, tzinfo=VN), date(2026, 2, 23), "after hours before Tết 2026"),
    (datetime(2026, 2, 17, 9, 0, tzinfo=VN), date(2026, 2, 23), "during Tết 2026"),
    (datetime(2026, 8, 22, 9, 0, tzinfo=VN), date(2026, 8, 22), "the worked Saturday"),
    (datetime(2026, 8, 31, 9, 0, tzinfo=VN), date(2026, 9, 3), "substitute day, then National Day"),
]


@pytest.mark.parametrize(("at", "day", "why"), RECEIVED)
def test_legal_moment_of_receipt(at, day, why):
    assert dl.received_on(at) == day, why


TAX_LIMITS = [
    # (procedure, form received, days, source contains)
    ("transfer", date(2026, 6, 30), 5, "126/2020"),
    ("transfer", date(2026, 7, 1), 3, "252/2026"),
    ("gift", date(2026, 7, 1), 3, "252/2026"),
    ("change_of_use", date(2026, 7, 1), 5, "252/2026"),
    ("change_of_use", date(2026, 6, 30), 5, "126/2020"),
]


@pytest.mark.parametrize(("procedure", "on", "days", "source"), TAX_LIMITS)
def test_tax_limits_by_version(procedure, on, days, source):
    limit = dl.tax_limit(procedure, on)
    assert (limit.days, source in limit.source) == (days, True)


def test_registry_limits_cite_their_source():
    for procedure in dl.REGISTRY_DUE_WORKING_DAYS:
        limit = dl.registry_limit(procedure)
        assert limit.days > 0 and "151/2025" in limit.source


def test_negative_limit_is_refused():
    with pytest.raises(ValueError):
        dl.add_working_days(date(2026, 1, 5), -1)


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 11, 30)),
       st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=40))
def test_adding_working_days_composes(start, a, b):
    """a days then b more is a + b days; the due date is a working day (or the start)."""
    middle = dl.add_working_days(start, a)
    assert dl.add_working_days(middle, b) == dl.add_working_days(start, a + b)
    end = dl.add_working_days(start, a + b)
    assert a + b == 0 or dl.is_working_day(end)
    assert dl.working_days_between(start, end) == a + b
