"""The clocks of a dossier from its events, pure: tables of dated cases.

The limits: the registry 8 working days for a transfer (Decree 151/2025 Appendix I Part
V.A.II), its clock not counting the tax authority's and the landholder's time (item 10);
the tax authority 5 working days before 01/07/2026 (Decree 126/2020 art. 13(6)(a)) and 3
from then for a transfer (Decree 252/2026 art. 17(2)(b)). Calendar facts: see
test_working_days.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.clocks import EventFact, clocks_from_events

VN = timezone(timedelta(hours=7))


def at(text: str) -> datetime:
    """'2026-02-11 09:00' in Vietnam time."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def flow(*steps: tuple[str, str] | tuple[str, str, dict]) -> list[EventFact]:
    return [EventFact(s[0], at(s[1]), s[2] if len(s) > 2 else {}) for s in steps]


FILED_BEFORE_TET = [("dossier_filed", "2026-02-11 09:00"),
                    ("cadastral_data_sent_to_tax", "2026-02-11 09:00"),
                    ("assessment_waits_for_officer", "2026-02-11 09:00"),
                    ("notice_issued", "2026-02-12 10:00")]


def test_paying_across_tet_pauses_the_registry():
    """Filed 11/02/2026; the notice the next day; paid 02/03 after Tết. Without the pause
    the registry would be due 02/03/2026; with it, 8 working days from 02/03: 12/03."""
    events = flow(*FILED_BEFORE_TET, ("payment_confirmed", "2026-03-02 10:00"))
    clocks = clocks_from_events("transfer", events, now=at("2026-03-03 09:00"))
    assert clocks.holder == "registry"
    assert (clocks.registry.state, clocks.registry.due_on, clocks.registry.used) == \
        ("running", date(2026, 3, 12), 1)
    assert (clocks.tax.state, clocks.tax.used, clocks.tax.on_time, clocks.tax.limit.days) == \
        ("done", 1, True, 5)
    # 13/02, then 23/02 to 27/02 and 02/03 (Tết 16-20/02 not counted): 7 working days.
    assert clocks.citizen_working_days == 7


@pytest.mark.parametrize(("completed", "used", "on_time"), [
    ("2026-03-12 16:00", 8, True),   # the last day allowed
    ("2026-03-13 09:00", 9, False),  # one working day late
    ("2026-03-02 15:00", 0, True),   # the same day the payment arrived
])
def test_registry_on_time_after_the_pause(completed, used, on_time):
    events = flow(*FILED_BEFORE_TET, ("payment_confirmed", "2026-03-02 10:00"),
                  ("dossier_completed", completed))
    clocks = clocks_from_events("transfer", events, now=at("2026-04-01 09:00"))
    assert clocks.holder is None
    assert (clocks.registry.state, clocks.registry.used, clocks.registry.on_time) == \
        ("done", used, on_time)
    assert clocks.registry.due_on == date(2026, 3, 12)


def test_payment_after_hours_restarts_the_next_working_day():
    """Paid Friday 13/03/2026 at 19:00: the registry's clock restarts on Monday 16/03."""
    events = flow(*FILED_BEFORE_TET, ("payment_confirmed", "2026-03-13 19:00"))
    clocks = clocks_from_events("transfer", events, now=at("2026-03-16 08:00"))
    assert clocks.registry.due_on == date(2026, 3, 26)


def test_while_the_landholder_pays_the_registry_is_paused_and_tax_is_done():
    clocks = clocks_from_events("transfer", flow(*FILED_BEFORE_TET), now=at("2026-02-27 09:00"))
    assert clocks.holder == "citizen" and clocks.citizen_waits_for == "payment"
    assert (clocks.registry.state, clocks.registry.due_on, clocks.registry.remaining) == \
        ("paused", None, 8)
    assert clocks.tax.state == "done"


def test_tax_late_across_tet_2027_from_its_new_limit():
    """Form received Wednesday 03/02/2027 (3 days from 01/07/2026): due Monday 15/02/2027
    (Tết 04-10/02 not counted); the notice on 16/02 is one day late."""
    events = flow(("dossier_filed", "2027-02-03 08:00"),
                  ("cadastral_data_sent_to_tax", "2027-02-03 08:00"))
    running = clocks_from_events("transfer", events, now=at("2027-02-15 09:00"))
    assert (running.tax.state, running.tax.due_on, running.tax.limit.days) == \
        ("running", date(2027, 2, 15), 3)
    assert running.tax.due_soon and not running.tax.overdue
    assert running.registry.state == "paused"
    late = clocks_from_events("transfer", events, now=at("2027-02-16 09:00"))
    assert late.tax.overdue
    done = clocks_from_events("transfer", events + flow(("notice_issued", "2027-02-16 11:00")),
                              now=at("2027-02-18 09:00"))
    assert (done.tax.state, done.tax.used, done.tax.on_time) == ("done", 4, False)


def test_a_missing_paper_pauses_the_agency_that_asked_for_it():
    """The registry used 3 working days (Mon 30/11 to Thu 03/12/2026), returned the dossier
    for a paper, got it back on Friday 11/12: 5 working days remain, from 11/12: due 18/12.
    The landholder's 6 working days are citizen time."""
    events = flow(("dossier_filed", "2026-11-30 09:00"),
                  ("cadastral_data_sent_to_tax", "2026-11-30 09:00"),
                  ("notice_issued", "2026-11-30 10:00"),
                  ("payment_confirmed", "2026-11-30 11:00"),
                  ("dossier_returned", "2026-12-03 15:00", {"agency": "registry"}))
    waiting = clocks_from_events("transfer", events, now=at("2026-12-08 09:00"))
    assert waiting.citizen_waits_for == "papers"
    assert (waiting.registry.state, waiting.registry.used, waiting.registry.remaining) == \
        ("paused", 3, 5)
    back = clocks_from_events("transfer", events + flow(("papers_supplied", "2026-12-11 09:00")),
                              now=at("2026-12-11 10:00"))
    assert (back.registry.state, back.registry.due_on) == ("running", date(2026, 12, 18))
    assert back.citizen_working_days == 6


def test_tax_returning_for_a_paper_pauses_tax_not_the_registry_count():
    events = flow(("dossier_filed", "2026-11-30 09:00"),
                  ("cadastral_data_sent_to_tax", "2026-11-30 09:00"),
                  ("dossier_returned", "2026-12-01 09:00", {"agency": "tax"}),
                  ("papers_supplied", "2026-12-07 09:00"))
    clocks = clocks_from_events("transfer", events, now=at("2026-12-07 10:00"))
    assert clocks.holder == "tax"
    # 3 days from 01/07/2026; 1 used (01/12), 2 left from 07/12: due 09/12.
    assert (clocks.tax.state, clocks.tax.used, clocks.tax.due_on) == ("running", 1, date(2026, 12, 9))
    assert clocks.registry.used == 0


def test_a_late_reason_shows_the_promised_date():
    events = flow(("dossier_filed", "2026-11-30 09:00"),
                  ("cadastral_data_sent_to_tax", "2026-11-30 09:00"),
                  ("step_late_reason", "2026-12-02 09:00",
                   {"agency": "tax", "reason": "Chờ xác minh giá", "new_due_on": "2026-12-10"}))
    clocks = clocks_from_events("transfer", events, now=at("2026-12-02 10:00"))
    assert (clocks.tax.late_reason, clocks.tax.promised_on) == ("Chờ xác minh giá", date(2026, 12, 10))
    assert clocks.registry.promised_on is None


@settings(max_examples=120, deadline=None)
@given(st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 11, 1)),
       st.lists(st.integers(min_value=0, max_value=60 * 24 * 12), min_size=4, max_size=4))
def test_agency_and_citizen_time_never_overlap(start, gaps_minutes):
    """Whatever the times, the working days counted to the two agencies and to the
    landholder are taken from separate stretches: together they are never more than the
    working days from the day of the filing to the completion (an agency counts from its
    legal day of receipt, the landholder from the day the dossier reached them)."""
    from app import deadlines as dl

    filed = start.replace(tzinfo=VN)
    times = [filed]
    for gap in gaps_minutes:
        times.append(times[-1] + timedelta(minutes=gap))
    kinds = ["cadastral_data_sent_to_tax", "notice_issued", "payment_confirmed", "dossier_completed"]
    events = [EventFact("dossier_filed", filed)] + [EventFact(k, t) for k, t in zip(kinds, times[1:], strict=True)]
    clocks = clocks_from_events("transfer", events, now=times[-1] + timedelta(days=1))
    total = dl.working_days_between(dl.local_day(filed), dl.local_day(times[-1]))
    assert clocks.registry.state == clocks.tax.state == "done"
    assert min(clocks.registry.used, clocks.tax.used, clocks.citizen_working_days) >= 0
    assert clocks.registry.used + clocks.tax.used + clocks.citizen_working_days <= total
    assert clocks.registry.on_time == (clocks.registry.used <= 8)
