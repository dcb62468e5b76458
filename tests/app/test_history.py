"""The history is tamper-evident: after sealing, changing, deleting or reordering event rows
directly in the database, or rewriting the chain with fresh hashes, is found by
``flask verify-history``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from app.extensions import db
from app.models import Event, HistoryCheckpoint


def _seal(app):
    from app.services.history import seal

    with app.app_context():
        return seal()


def _verify(app, now=None):
    from app.services.history import verify

    with app.app_context():
        checked, problems = verify(now)
        return checked, {p.kind for p in problems}, problems


@pytest.fixture
def sealed(app, world):
    world.file_and_confirm()
    world.file_and_confirm(parcel=world.add_parcel())
    assert _seal(app) >= 6
    checked, kinds, problems = _verify(app)
    assert checked >= 6 and problems == []
    with app.app_context():
        return [e.id for e in db.session.scalars(select(Event).order_by(Event.chain_seq))]


def _sql(app, statement, **params):
    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()


def test_a_changed_event_is_found(app, sealed):
    _sql(app, "UPDATE events SET actor_label = 'someone else' WHERE id = :id", id=sealed[2])
    assert _verify(app)[1] == {"changed"}


def test_a_changed_time_is_found(app, sealed):
    with app.app_context():
        event = db.session.get(Event, sealed[1])
        db.session.execute(update(Event).where(Event.id == sealed[1]).values(at=event.at - timedelta(days=1)))
        db.session.commit()
    assert "changed" in _verify(app)[1]


def test_a_deleted_event_is_found(app, sealed):
    _sql(app, "DELETE FROM outbox WHERE event_uid = (SELECT uid FROM events WHERE id = :id)", id=sealed[3])
    _sql(app, "DELETE FROM events WHERE id = :id", id=sealed[3])
    assert {"gap", "broken_link"} <= _verify(app)[1]


def test_the_last_event_deleted_is_found_by_the_signed_head(app, sealed):
    _sql(app, "DELETE FROM outbox WHERE event_uid = (SELECT uid FROM events WHERE id = :id)", id=sealed[-1])
    _sql(app, "DELETE FROM events WHERE id = :id", id=sealed[-1])
    assert _verify(app)[1] == {"checkpoint"}


def test_reordered_events_are_found(app, sealed):
    a, b = sealed[1], sealed[2]
    _sql(app, "UPDATE events SET chain_seq = -1 WHERE id = :a", a=a)
    _sql(app, "UPDATE events SET chain_seq = chain_seq - 1 WHERE id = :b", b=b)
    _sql(app, "UPDATE events SET chain_seq = (SELECT chain_seq FROM events WHERE id = :b) + 1 WHERE id = :a", a=a, b=b)
    assert "broken_link" in _verify(app)[1]


def test_a_rewritten_chain_is_found_by_the_signed_heads(app, sealed):
    """An attacker who changes an event and recomputes every hash after it still cannot sign."""
    from app.services.history import link

    _sql(app, "UPDATE events SET kind = 'dossier_completed' WHERE id = :id", id=sealed[2])
    with app.app_context():
        prev = None
        for event in db.session.scalars(select(Event).order_by(Event.chain_seq)):
            if prev is not None:
                event.chain_prev = prev
            event.chain_hash = prev = link(event.chain_prev, event)
        db.session.commit()
    checked, kinds, problems = _verify(app)
    assert kinds == {"checkpoint"}


def test_a_forged_checkpoint_is_found(app, sealed):
    with app.app_context():
        checkpoint = db.session.scalar(select(HistoryCheckpoint))
        header, payload, signature = checkpoint.token.split(".")
        checkpoint.token = f"{header}.{payload}.{signature[:-4]}AAAA"
        db.session.commit()
    assert _verify(app)[1] == {"checkpoint"}


def test_unsealed_old_events_are_reported(app, world):
    world.file_and_confirm()
    later = datetime.now(UTC) + timedelta(hours=1)
    assert _verify(app, later)[1] == {"unsealed"}
    assert _verify(app)[1] == set()  # within the grace period


def test_the_commands_and_the_published_heads(app, sealed):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["verify-history"])
    assert ok.exit_code == 0 and "0 problems" in ok.output
    published = app.test_client().get("/.well-known/landpay-history.json").get_json()["checkpoints"]
    assert published and published[0]["seq"] == len(sealed)
    _sql(app, "UPDATE events SET data = :data WHERE id = :id", data='{"price": 1}', id=sealed[0])
    bad = runner.invoke(args=["verify-history"])
    assert bad.exit_code == 1 and "changed at seq 1" in bad.output
    assert runner.invoke(args=["seal-history"]).exit_code == 0
