"""The events of a step are written in one insert, and their outbox rows in another, without
changing their order: the ids follow the order the events were recorded in, the outbox
follows the events, and the history chain sealed over them verifies."""

from __future__ import annotations

from sqlalchemy import select

from tests.perf.statements import transfer_flow


def _inserts(count, table: str) -> int:
    return sum(1 for s in count.statements if s.lstrip().startswith(f"INSERT INTO {table} "))


def test_a_steps_events_and_outbox_rows_are_one_insert_each_in_order(app, world):
    from app.extensions import db
    from app.models import Dossier, Event, OutboxMessage
    from app.services import history

    counts = transfer_flow(app, world)
    # Filing records three events (filed, sent to tax, waiting for an officer).
    assert _inserts(counts["file"], "events") == 1
    assert _inserts(counts["file"], "outbox") == 1
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.parcel_id == world.parcel_id))
        events = db.session.scalars(
            select(Event).where(Event.dossier_id == dossier.id).order_by(Event.id)).all()
        assert [e.kind for e in events] == [
            "dossier_filed", "cadastral_data_sent_to_tax", "assessment_waits_for_officer",
            "notice_issued", "payment_started", "payment_confirmed", "dossier_completed"]
        assert [e.at for e in events] == sorted(e.at for e in events)
        outbox = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dossier_id == dossier.id)
            .order_by(OutboxMessage.id)).all()
        assert [m.event_uid for m in outbox] == [e.uid for e in events]
        assert [m.payload["kind"] for m in outbox] == [e.kind for e in events]
        # The event that names the assessment got its id, written in the same batch.
        waiting = events[2]
        assert waiting.data["assessment_id"] == dossier_assessment_id(db, dossier.id)
        assert history.seal() > 0
        checked, problems = history.verify()
        assert checked >= len(events) and problems == []


def dossier_assessment_id(db, dossier_id: int) -> int:
    from app.models import Assessment

    return db.session.scalar(select(Assessment.id).where(Assessment.dossier_id == dossier_id))
