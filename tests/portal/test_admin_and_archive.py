"""The administrator's dead-letter page (replay with CSRF), the sync status for supervisors,
and the archiving of delivered outbox rows past their retention: against a real test portal
process, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, login, post_form
from tests.portal.conftest import configure
from tests.portal.test_delivery import (
    deliver,
    drain,
    file_dossiers,
    local_order,
    portal_order,
    status,
)

pytestmark = pytest.mark.e2e


def _dead(app, world, portal, count: int) -> list[str]:
    """``count`` dossiers whose first event is in the dead letter (the portal was down)."""
    configure(app, portal, PORTAL_MAX_ATTEMPTS=2)
    portal.hook("POST", "/faults", down=True)
    codes = file_dossiers(world, count, confirm_every=0)
    for _ in range(2):
        deliver(app)
        time.sleep(0.06)
    assert status(app)["dead_letter"] == count
    portal.hook("POST", "/faults", down=False)
    return codes


def _dead_ids(app) -> list[str]:
    from app.extensions import db
    from app.models import OutboxMessage

    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.event_uid).where(OutboxMessage.state == "dead")
                                       .order_by(OutboxMessage.id)))


def test_the_admin_page_shows_the_dead_letter_and_replays_with_csrf(app, world, fresh_portal):
    codes = _dead(app, world, fresh_portal, 2)
    dead = _dead_ids(app)
    client = app.test_client()
    login(client, "admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert all(uid in page for uid in dead) and all(code in page for code in codes)
    assert "portal answered 503 unavailable" in page  # each event's last error
    assert "0 trên 2" in page  # dossiers acknowledged: none yet (the page is in Vietnamese)

    refused = client.post(f"/admin/dead-letter/{dead[0]}/replay", data={})
    assert refused.status_code == 400 and _dead_ids(app) == dead  # no token, nothing changed

    one = post_form(client, "/admin/", f"/admin/dead-letter/{dead[0]}/replay")
    assert one.status_code == 302 and _dead_ids(app) == dead[1:]
    again = post_form(client, "/admin/", f"/admin/dead-letter/{dead[0]}/replay")
    assert again.status_code == 409  # no longer in the dead letter
    every = post_form(client, "/admin/", "/admin/dead-letter/replay")
    assert every.status_code == 302 and _dead_ids(app) == []
    final = drain(app)
    assert final["dead_letter"] == 0 and final["dossiers"] == {"local": 2, "acknowledged": 2}
    assert portal_order(fresh_portal) == local_order(app)
    assert "2 trên 2" in client.get("/admin/").get_data(as_text=True)


def test_supervisors_read_the_sync_status_but_not_the_dead_letter(app, world, fresh_portal):
    _dead(app, world, fresh_portal, 1)
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "supervisor", "password": PASSWORD}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    answer = client.get("/api/v1/sync/status", headers=auth)
    assert answer.status_code == 200 and answer.get_json()["dead_letter"] == 1
    assert client.get("/api/v1/sync/dead-letter", headers=auth).status_code == 403
    login(client, "supervisor")
    assert client.get("/admin/").status_code == 403


def _table_counts(app) -> tuple[int, int]:
    from app.extensions import db
    from app.models import OutboxArchive, OutboxMessage

    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(OutboxMessage)),
                db.session.scalar(select(func.count()).select_from(OutboxArchive)))


def test_delivered_rows_move_to_the_archive_after_the_retention_only(app, world, fresh_portal):
    from app.models.base import utcnow
    from app.services.delivery import archive_delivered

    configure(app, fresh_portal, PORTAL_OUTBOX_RETENTION_DAYS=90)
    file_dossiers(world, 3)
    complete = drain(app)
    delivered = complete["events"]["local"]
    _dead(app, world, fresh_portal, 1)  # one more dossier, its events undelivered
    before = status(app)
    with app.app_context():
        assert archive_delivered(now=utcnow() + timedelta(days=89)) == 0  # still within retention
        assert archive_delivered(now=utcnow() + timedelta(days=91), chunk=2) == delivered
        assert archive_delivered(now=utcnow() + timedelta(days=91)) == 0
    outbox, archive = _table_counts(app)
    assert archive == delivered and outbox == before["events"]["local"] - delivered
    assert status(app) == before  # the completeness figures count archived events

    from app.services.delivery import replay

    with app.app_context():
        replay()
    final = drain(app)  # the dossier left in the outbox still goes out in order
    assert final["dossiers"] == {"local": 4, "acknowledged": 4} and final["dead_letter"] == 0
    runner = app.test_cli_runner()
    out = runner.invoke(args=["archive-outbox"])
    assert out.exit_code == 0 and "archived 0" in out.output
