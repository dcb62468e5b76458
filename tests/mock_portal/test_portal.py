"""The test portal on its own: signed requests only, each event id stored once, a
different body under a used id refused, figures from what it received, test hooks only
in test mode."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_portal import create_app
from mock_portal.signing import expected_signature

SECRET = "portal-unit-secret"


@pytest.fixture
def portal(tmp_path):
    return create_app({"SECRET": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}", "TEST_HOOKS": True})


def post(client, path, message, secret=SECRET, ts=None):
    body = json.dumps(message).encode()
    ts = str(int(time.time()) if ts is None else ts)
    return client.post(path, data=body, headers={
        "Content-Type": "application/json", "X-Portal-Timestamp": ts,
        "X-Portal-Signature": expected_signature(secret, ts, body)})


def event(event_id="e1", code="HS1", status="filed", at="2026-12-01T03:00:00+00:00", due_on="2026-12-09",
          procedure="transfer"):
    return {"event_id": event_id, "dossier_code": code, "procedure": procedure, "kind": "k",
            "status": status, "at": at, "due_on": due_on}


def test_events_are_stored_once_and_acknowledged_again(portal):
    client = portal.test_client()
    first = post(client, "/api/events", event())
    assert first.status_code == 200 and first.get_json()["event_id"] == "e1"
    again = post(client, "/api/events", event())
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert post(client, "/api/events", event(status="paid")).status_code == 409
    figures = client.get("/api/figures").get_json()
    assert (figures["dossiers"], figures["events"], figures["deliveries"]) == (1, 1, 2)


def test_unsigned_stale_or_invalid_messages_are_refused(portal):
    client = portal.test_client()
    assert client.post("/api/events", json=event()).status_code == 401
    assert post(client, "/api/events", event(), secret="other").get_json()["error"] == "bad_signature"
    assert post(client, "/api/events", event(), ts=int(time.time()) - 400).get_json()["error"] == "stale_timestamp"
    bad = post(client, "/api/events", event(at="yesterday"))
    assert bad.status_code == 422 and "at" in bad.get_json()["fields"]
    assert client.get("/api/figures").get_json()["events"] == 0


def test_on_time_rate_per_procedure_from_the_completion_events(portal):
    client = portal.test_client()
    # Due 9 Dec (Vietnam): 8 Dec 23:30 in Vietnam is on time, 9 Dec 17:30 UTC (10 Dec) is late.
    post(client, "/api/events", event("a1", "HSA", "filed"))
    post(client, "/api/events", event("a2", "HSA", "completed", at="2026-12-08T16:30:00+00:00"))
    post(client, "/api/events", event("b1", "HSB", "completed", at="2026-12-09T17:30:00+00:00"))
    post(client, "/api/events", event("c1", "HSC", "filed"))
    post(client, "/api/events", event("d1", "HSD", "completed", procedure="gift"))
    figures = client.get("/api/figures").get_json()
    assert figures["procedures"] == [
        {"procedure": "gift", "dossiers": 1, "completed": 1, "on_time": 1, "on_time_rate": 1.0},
        {"procedure": "transfer", "dossiers": 3, "completed": 2, "on_time": 1, "on_time_rate": 0.5},
    ]
    page = client.get("/").get_data(as_text=True)
    assert "50.0%" in page and "transfer" in page


def test_lookup_tells_which_ids_are_held(portal):
    client = portal.test_client()
    post(client, "/api/events", event("x1"))
    assert post(client, "/api/events/lookup", {"event_ids": ["x1", "x2"]}).get_json() == {"held": ["x1"]}
    assert client.post("/api/events/lookup", json={"event_ids": ["x1"]}).status_code == 401


def test_fault_switches(portal):
    client = portal.test_client()
    client.post("/test/faults", json={"down": True})
    assert post(client, "/api/events", event()).status_code == 503
    client.post("/test/faults", json={"down": False, "fail_every": 2})
    assert [post(client, "/api/events", event(f"f{i}")).status_code for i in range(4)] == [200, 500, 200, 500]
    client.post("/test/faults", json={"fail_every": 0, "duplicate_acks": True})
    assert post(client, "/api/events", event("g1")).status_code == 502
    assert post(client, "/api/events", event("g1")).status_code == 200
    assert client.post("/test/faults", json={"nonsense": 1}).status_code == 422


def test_hooks_exist_only_in_test_mode(tmp_path):
    app = create_app({"SECRET": SECRET, "DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}", "TEST_HOOKS": False})
    assert app.test_client().post("/test/faults", json={"down": True}).status_code == 404
    with pytest.raises(RuntimeError):
        create_app({"SECRET": "", "DATABASE_URL": "sqlite://"})


def post_batch(client, events, secret=SECRET):
    return post(client, "/api/events/batch", {"events": events}, secret=secret)


def test_a_batch_is_acknowledged_event_by_event_and_stored_once(portal):
    client = portal.test_client()
    post(client, "/api/events", event("b0", "HS0"))
    answer = post_batch(client, [event("b0", "HS0"), event("b1", "HS1"), event("b2", "HS1", status="paid"),
                                 event("b0", "HS0", status="paid")])
    assert answer.status_code == 200
    results = answer.get_json()["results"]
    assert [r["event_id"] for r in results] == ["b0", "b1", "b2", "b0"]
    assert "received_at" in results[0] and "received_at" in results[1] and "received_at" in results[2]
    assert results[3]["status"] == 409 and results[3]["error"] == "conflict"
    figures = client.get("/api/figures").get_json()
    assert (figures["dossiers"], figures["events"], figures["deliveries"]) == (2, 3, 4)
    again = post_batch(client, [event("b1", "HS1"), event("b2", "HS1", status="paid")]).get_json()["results"]
    assert [r["received_at"] for r in again] == [r["received_at"] for r in results[1:3]]


def test_a_batch_stops_a_dossier_at_its_first_refusal(portal):
    client = portal.test_client()
    results = post_batch(client, [event("c1", "HSA", at="soon"), event("c2", "HSA"), event("d1", "HSB")]
                         ).get_json()["results"]
    assert [(r["event_id"], r.get("error")) for r in results] == [
        ("c1", "invalid_event"), ("c2", "skipped"), ("d1", None)]
    assert [e["event_id"] for e in client.get("/test/events").get_json()["events"]] == ["d1"]


def test_a_batch_is_signed_bounded_and_subject_to_the_faults(portal):
    client = portal.test_client()
    assert client.post("/api/events/batch", json={"events": [event()]}).status_code == 401
    assert post_batch(client, []).status_code == 422
    assert post_batch(client, [event(f"x{i}", f"HS{i}") for i in range(1001)]).status_code == 422
    client.post("/test/faults", json={"down": True})
    assert post_batch(client, [event()]).status_code == 503
    client.post("/test/faults", json={"down": False, "duplicate_acks": True})
    lost = post_batch(client, [event("g1", "HSG"), event("g2", "HSG")]).get_json()["results"]
    assert [r.get("error") for r in lost] == ["ack_lost", "skipped"]
    assert [e["event_id"] for e in client.get("/test/events").get_json()["events"]] == ["g1"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=30),
       fail_every=st.integers(0, 4))
def test_the_portal_holds_each_dossier_as_a_prefix_of_what_was_sent(portal, plan, fail_every):
    """Whatever fails inside batches, what the portal holds of a dossier is always the
    first events sent for it, in order, each once; sending again completes it."""
    client = portal.test_client()
    client.post("/test/reset")
    client.post("/test/faults", json={"fail_every": fail_every})
    sent: dict[str, list[str]] = {}
    events = []
    for n, (dossier, invalid) in enumerate(plan):
        code = f"HSP{dossier}"
        sent.setdefault(code, []).append(f"p{n}")
        events.append(event(f"p{n}", code, at="garbage" if invalid and n % 5 == 4 else "2026-12-01T03:00:00+00:00"))
    post_batch(client, events)
    held: dict[str, list[str]] = {}
    for e in client.get("/test/events").get_json()["events"]:
        held.setdefault(e["dossier_code"], []).append(e["event_id"])
    for code, ids in held.items():
        assert ids == sent[code][:len(ids)]
    client.post("/test/faults", json={"fail_every": 0})
    valid = [e for e in events if e["at"] != "garbage"]
    results = post_batch(client, valid).get_json()["results"]
    assert all("received_at" in r for r in results)
    stored = [e["event_id"] for e in client.get("/test/events").get_json()["events"]]
    assert sorted(stored) == sorted(e["event_id"] for e in valid)  # each once
