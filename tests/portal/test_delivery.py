"""The delivery worker against a real test portal process over HTTP, on SQLite and
PostgreSQL: order per dossier, outages, errors and lost acknowledgements, dead letter and
replay, the completeness check, two workers at once."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest
import requests
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.portal.conftest import configure

pytestmark = pytest.mark.e2e


def file_dossiers(world, count: int, confirm_every: int = 2) -> list[str]:
    """``count`` dossiers on new parcels, each with its events written by the workflow (filed,
    sent to tax, waiting for an officer); every ``confirm_every``-th goes on to completion.
    Made directly, so these tests depend only on the workflow and the outbox."""
    from datetime import date, timedelta

    from app.extensions import db
    from app.models import Dossier, DossierStatus
    from app.services import workflow

    codes = []
    for i in range(count):
        parcel = world.add_parcel()
        with world.app.app_context():
            officer = world.user("registry")
            dossier = Dossier(
                code=f"HSP{parcel:06d}", procedure="transfer" if i % 3 else "gift", parcel_id=parcel,
                registry_office_id=officer.office_id, tax_office_id=world.tax_id,
                declared_price=1_000_000_000, filed_by_id=officer.id, valid_on=date(2026, 12, 1),
                due_on=date(2026, 12, 1) + timedelta(days=12))
            db.session.add(dossier)
            workflow.move(dossier, DossierStatus.FILED, actor=officer)
            workflow.record(dossier, "cadastral_data_sent_to_tax", actor=officer)
            workflow.move(dossier, DossierStatus.AWAITING_CONFIRMATION, actor_label="system")
            if confirm_every and i % confirm_every == 0:
                for new in (DossierStatus.AWAITING_PAYMENT, DossierStatus.PAID, DossierStatus.COMPLETED):
                    workflow.move(dossier, new, actor_label="system")
            db.session.commit()
            codes.append(dossier.code)
    return codes


def deliver(app, **kwargs):
    from app.services.delivery import deliver_pass

    with app.app_context():
        return deliver_pass(**kwargs)


def status(app) -> dict:
    from app.services.delivery import sync_status

    with app.app_context():
        return sync_status()


def drain(app, max_passes: int = 200) -> dict:
    """Passes until every event is acknowledged, or nothing more can be sent (dead letters
    hold up their dossiers); the final sync status."""
    idle = 0
    for _ in range(max_passes):
        idle = idle + 1 if deliver(app).sent == 0 else 0
        now = status(app)
        if now["events"]["acknowledged"] == now["events"]["local"] or idle >= 2:
            return now
        time.sleep(0.06)  # longer than the largest backoff in these tests
    raise AssertionError(f"not drained: {status(app)}")


def local_order(app) -> dict[str, list[str]]:
    from app.extensions import db
    from app.models import OutboxMessage

    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        order = defaultdict(list)
        for row in rows:
            order[row.payload["dossier_code"]].append(row.event_uid)
        return dict(order)


def portal_events(portal) -> list[dict]:
    return portal.hook("GET", "/events")["events"]


def portal_order(portal) -> dict[str, list[str]]:
    order = defaultdict(list)
    for event in portal_events(portal):
        order[event["dossier_code"]].append(event["event_id"])
    return dict(order)


def figures(portal) -> dict:
    return requests.get(portal.url + "/api/figures", timeout=5).json()


def test_every_event_is_delivered_in_order_and_acknowledged(app, world, fresh_portal):
    configure(app, fresh_portal)
    codes = file_dossiers(world, 4)
    before = status(app)
    assert before["events"]["acknowledged"] == 0 and before["oldest_unacknowledged_at"]
    result = deliver(app)
    assert result.failed == 0 and result.delivered == before["events"]["local"]
    assert portal_order(fresh_portal) == local_order(app)
    assert set(portal_order(fresh_portal)) == set(codes)
    after = status(app)
    assert after == {"dossiers": {"local": 4, "acknowledged": 4},
                     "events": {"local": before["events"]["local"], "acknowledged": before["events"]["local"]},
                     "dead_letter": 0, "oldest_unacknowledged_at": None}
    # Our record holds the portal's acknowledgement time.
    from app.extensions import db
    from app.models import OutboxMessage

    received = {e["event_id"]: e["received_at"] for e in portal_events(fresh_portal)}
    with app.app_context():
        for row in db.session.scalars(select(OutboxMessage)):
            assert row.state == "delivered" and row.acknowledged_at.isoformat() == received[row.event_uid]
    assert deliver(app).sent == 0  # nothing is sent twice


def test_an_outage_during_a_run_of_thirty_dossiers(app, world, fresh_portal):
    configure(app, fresh_portal)
    file_dossiers(world, 10, confirm_every=3)
    deliver(app, limit=7)  # part delivered before the outage
    fresh_portal.hook("POST", "/faults", down=True)
    file_dossiers(world, 20, confirm_every=3)
    down = deliver(app)
    assert down.delivered == 0 and down.failed > 0
    # Only the first undelivered event of each dossier was tried: the order holds.
    assert down.failed <= 30
    time.sleep(0.06)
    assert deliver(app).delivered == 0
    fresh_portal.hook("POST", "/faults", down=False)
    final = drain(app)
    local = final["events"]["local"]
    assert final == {"dossiers": {"local": 30, "acknowledged": 30},
                     "events": {"local": local, "acknowledged": local},
                     "dead_letter": 0, "oldest_unacknowledged_at": None}
    seen = figures(fresh_portal)
    assert seen["dossiers"] == 30 and seen["events"] == local
    assert seen["deliveries"] == local  # none delivered twice
    assert portal_order(fresh_portal) == local_order(app)


def test_errors_now_and_then_and_lost_acknowledgements_make_no_duplicates(app, world, fresh_portal):
    configure(app, fresh_portal)
    file_dossiers(world, 6)
    fresh_portal.hook("POST", "/faults", fail_every=3, duplicate_acks=True)
    final = drain(app)
    local = final["events"]["local"]
    assert final["events"]["acknowledged"] == local and final["dossiers"]["acknowledged"] == 6
    seen = figures(fresh_portal)
    assert seen["events"] == local
    assert seen["deliveries"] == 2 * local  # every event acknowledged twice, stored once
    ids = [e["event_id"] for e in portal_events(fresh_portal)]
    assert len(ids) == len(set(ids))
    assert portal_order(fresh_portal) == local_order(app)


def test_dead_letter_after_n_failures_then_replay(app, world, fresh_portal):
    configure(app, fresh_portal, PORTAL_MAX_ATTEMPTS=3)
    codes = file_dossiers(world, 2, confirm_every=0)
    fresh_portal.hook("POST", "/faults", down=True)
    for _ in range(3):
        deliver(app)
        time.sleep(0.06)
    now = status(app)
    assert now["dead_letter"] == 2 and now["events"]["acknowledged"] == 0
    assert deliver(app).sent == 0  # the dead block their dossiers' later events

    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "admin", "password": PASSWORD}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/sync/status", headers=auth).get_json()["dead_letter"] == 2
    dead = client.get("/api/v1/sync/dead-letter", headers=auth).get_json()["items"]
    assert [d["attempts"] for d in dead] == [3, 3] and {d["dossier_code"] for d in dead} == set(codes)
    assert all(d["kind"] == "dossier_filed" and "503" in d["last_error"] for d in dead)

    fresh_portal.hook("POST", "/faults", down=False)
    replayed = client.post(f"/api/v1/sync/dead-letter/{dead[0]['event_id']}/replay", headers=auth)
    assert replayed.status_code == 200 and replayed.get_json()["state"] == "pending"
    again = client.post(f"/api/v1/sync/dead-letter/{dead[0]['event_id']}/replay", headers=auth)
    assert again.status_code == 409
    assert client.post("/api/v1/sync/dead-letter/nope/replay", headers=auth).status_code == 404
    drained = drain(app)
    assert drained["dead_letter"] == 1 and drained["dossiers"]["acknowledged"] == 1
    assert set(portal_order(fresh_portal)) == {dead[0]["dossier_code"]}

    from app.services.delivery import replay

    with app.app_context():
        assert replay() == 1
    final = drain(app)
    assert final["dead_letter"] == 0 and final["dossiers"] == {"local": 2, "acknowledged": 2}
    assert portal_order(fresh_portal) == local_order(app)


def test_completeness_check_queues_what_the_portal_lost(app, world, fresh_portal):
    configure(app, fresh_portal)
    file_dossiers(world, 3)
    local = drain(app)["events"]["local"]
    fresh_portal.hook("POST", "/reset")  # the portal loses everything
    from app.services.delivery import requeue_missing

    with app.app_context():
        assert requeue_missing() == local
    assert status(app)["events"]["acknowledged"] == 0
    final = drain(app)
    assert final["events"] == {"local": local, "acknowledged": local}
    with app.app_context():
        assert requeue_missing() == 0
    assert figures(fresh_portal)["events"] == local


def test_the_worker_command_makes_one_pass(app, world, fresh_portal):
    configure(app, fresh_portal)
    file_dossiers(world, 1, confirm_every=0)
    runner = app.test_cli_runner()
    fresh_portal.hook("POST", "/faults", down=True)
    failed = runner.invoke(args=["deliver-outbox"])
    assert failed.exit_code == 1 and "failed 1" in failed.output
    fresh_portal.hook("POST", "/faults", down=False)
    time.sleep(0.06)
    done = runner.invoke(args=["deliver-outbox"])
    assert done.exit_code == 0, done.output
    assert "failed 0" in done.output and "dead letter 0" in done.output
    check = runner.invoke(args=["check-portal-sync"])
    assert check.exit_code == 0 and "queued again: 0" in check.output


@pytest.mark.postgres
def test_two_workers_at_once_send_each_event_exactly_once(pg_app, pg_world, fresh_portal):
    configure(pg_app, fresh_portal)
    file_dossiers(pg_world, 16)
    fresh_portal.hook("POST", "/faults", slow=0.005)
    errors = []

    def worker():
        try:
            for _ in range(50):
                deliver(pg_app)
                if status(pg_app)["events"]["acknowledged"] == status(pg_app)["events"]["local"]:
                    return
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    final = status(pg_app)
    local = final["events"]["local"]
    assert final["events"]["acknowledged"] == local and final["dossiers"] == {"local": 16, "acknowledged": 16}
    seen = figures(fresh_portal)
    assert seen["events"] == local and seen["deliveries"] == local  # each posted once
    assert portal_order(fresh_portal) == local_order(pg_app)
