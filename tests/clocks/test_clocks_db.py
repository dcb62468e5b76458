"""The clocks read from the event table on both databases, the late step's reason and
apology, and what officers and landholders see."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app import deadlines as dl
from tests.clocks.factory import at, make_dossier
from tests.conftest import login, post_form


def _dossier(db, code):
    from app.models import Dossier

    return db.session.scalar(select(Dossier).where(Dossier.code == code))


def test_pause_across_tet_read_from_the_database(app, world):
    """The case of test_clock_cases, stored and read back: times keep their zone on both
    databases, and the payment across Tết 2026 moves the registry's due date to 12/03."""
    from app.extensions import db
    from app.services.clocks import dossier_clocks

    with app.app_context():
        code = make_dossier(db, events=[
            ("dossier_filed", "2026-02-11 09:00"), ("cadastral_data_sent_to_tax", "2026-02-11 09:00"),
            ("notice_issued", "2026-02-12 10:00"), ("payment_confirmed", "2026-03-02 10:00"),
            ("dossier_completed", "2026-03-12 16:30")])
    with app.app_context():
        clocks = dossier_clocks(_dossier(db, code), now=at("2026-04-01 09:00"))
    assert (clocks.registry.due_on, clocks.registry.used, clocks.registry.on_time) == \
        (date(2026, 3, 12), 8, True)
    assert (clocks.tax.used, clocks.tax.on_time) == (1, True)
    assert clocks.citizen_working_days == 7


def _running_registry_dossier(db) -> tuple[str, date]:
    """A dossier paid an hour ago: the registry's clock runs; its due date."""
    now = datetime.now(UTC)
    paid = now - timedelta(hours=1)
    local = lambda t: t.astimezone(dl.LOCAL_TZ).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    code = make_dossier(db, events=[
        ("dossier_filed", local(now - timedelta(days=3))),
        ("cadastral_data_sent_to_tax", local(now - timedelta(days=3))),
        ("notice_issued", local(now - timedelta(days=2))),
        ("payment_confirmed", local(paid))])
    return code, dl.add_working_days(dl.received_on(paid), 8)


def test_officer_records_a_late_step_and_the_apology(app, world):
    from app.extensions import db
    from app.models import Event, OutboxMessage

    with app.app_context():
        code, due = _running_registry_dossier(db)
    new_date = dl.add_working_days(due, 3)
    client = app.test_client()
    login(client, "registry")
    page = client.get(f"/clocks/{code}").get_data(as_text=True)
    assert 'id="late-form"' in page and due.strftime("%d/%m/%Y") in page
    response = post_form(client, f"/clocks/{code}", f"/clocks/{code}/late",
                         {"reason": "Chờ kết quả đo đạc lại thửa đất",
                          "new_due_on": new_date.isoformat()})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.kind == "step_late_reason"))
        assert event.data["agency"] == "registry"
        assert event.data["new_due_on"] == new_date.isoformat()
        assert event.data["due_on"] == due.isoformat()
        # Recorded through the workflow: an outbox row for the national portal beside it.
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.event_uid == event.uid)) == 1
        uid = event.uid
    history = client.get(f"/registry/dossiers/{code}").get_data(as_text=True)
    assert "step_late_reason" in history and new_date.strftime("%d/%m/%Y") in history
    letter = client.get(f"/clocks/{code}/apologies").get_data(as_text=True)
    assert f'id="apology-{uid}"' in letter and "Chờ kết quả đo đạc lại thửa đất" in letter
    assert new_date.strftime("%d/%m/%Y") in letter and "61/2018" in letter


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("new_due_on", "due", "new_due_on"),          # not after the due date
    ("new_due_on", "saturday", "new_due_on"),     # not a working day
    ("reason", "   ", "reason"),                  # no reason
])
def test_bad_late_reason_changes_nothing(app, world, field, value, problem):
    from app.errors import ValidationFailed
    from app.extensions import db
    from app.models import Event
    from app.services.clocks import record_late_reason

    with app.app_context():
        code, due = _running_registry_dossier(db)
        later = dl.add_working_days(due, 2)
        saturday = later + timedelta(days=(5 - later.weekday()) % 7)
        while dl.is_working_day(saturday):
            saturday += timedelta(days=7)
        given = {"reason": "Chờ xác minh", "new_due_on": later}
        given[field] = {"due": due, "saturday": saturday}.get(value, value)
        with pytest.raises(ValidationFailed) as err:
            record_late_reason(world.user("registry"), _dossier(db, code), given["reason"],
                               given["new_due_on"])
        assert problem in err.value.fields
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Event)
                                 .where(Event.kind == "step_late_reason")) == 0


def test_only_the_agency_holding_the_dossier_may_declare_it_late(app, world):
    from app.errors import Forbidden, ValidationFailed
    from app.extensions import db
    from app.services.clocks import record_late_reason

    with app.app_context():
        code, due = _running_registry_dossier(db)
        later = dl.add_working_days(due, 2)
        with pytest.raises(Forbidden):
            record_late_reason(world.user("registry2"), _dossier(db, code), "x", later)
        with pytest.raises(ValidationFailed):  # the tax step is done
            record_late_reason(world.user("tax"), _dossier(db, code), "x", later)
    client = app.test_client()
    login(client, "registry2")
    assert client.get(f"/clocks/{code}").status_code == 404


def test_queues_flag_overdue_steps(app, world):
    """A dossier filed through the flow waits for the tax officer; its events moved back to
    January 2026 make both clocks overdue: flagged in the tax queue; the registry's clock is
    paused meanwhile (not flagged), and a running one in the inbox is."""
    from app.extensions import db
    from app.models import Dossier, Event

    code = world.file()
    with app.app_context():
        dossier_id = db.session.scalar(select(Dossier.id).where(Dossier.code == code))
        for event in db.session.scalars(select(Event).where(Event.dossier_id == dossier_id)):
            event.at = at("2026-01-05 09:00")
        running = make_dossier(db, events=[
            ("dossier_filed", "2026-01-05 09:00"), ("cadastral_data_sent_to_tax", "2026-01-05 09:00"),
            ("notice_issued", "2026-01-05 10:00"), ("payment_confirmed", "2026-01-06 10:00")])
        db.session.commit()
    client = app.test_client()
    login(client, "tax")
    queue = client.get("/tax/").get_data(as_text=True)
    row = queue[queue.index(code):].split("</tr>")[0]
    assert 'data-flag="overdue"' in row
    login(client, "registry")
    inbox = client.get("/registry/").get_data(as_text=True)
    assert 'data-flag="overdue"' not in inbox[inbox.index(f">{code}<"):].split("</tr>")[0]
    assert 'data-flag="overdue"' in inbox[inbox.index(f">{running}<"):].split("</tr>")[0]


def test_landholder_sees_where_the_dossier_is(app, world):
    """Through the real flow: filed, assessed, confirmed: the notice waits for the payment;
    the landholder reads that the time is theirs and what the registry has left."""
    code, notice = world.file_and_confirm()
    client = app.test_client()
    client.post("/language/en", data={})  # the page in English for the assertions
    login(client, "binh")
    page = client.get(f"/me/notices/{notice}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="dossier-timeline"' in page
    assert code in page and "8" in page
    from app.extensions import db
    from app.services.clocks import dossier_clocks

    with app.app_context():
        clocks = dossier_clocks(_dossier(db, code))
    assert (clocks.holder, clocks.citizen_waits_for, clocks.registry.state, clocks.tax.state) == \
        ("citizen", "payment", "paused", "done")
