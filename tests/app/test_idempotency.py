"""Idempotency-Key on the API's creating requests: a retry gets the first answer, another
request under a used key is refused, concurrent requests with one key act once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.app.test_api import dossier_body, token


def count(app, model) -> int:
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_retried_filing_with_its_key_answers_the_first_dossier(app, world):
    from app.models import Dossier

    client = app.test_client()
    headers = {**token(client, "registry"), "Idempotency-Key": "file-parcel-1-attempt"}
    first = client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers)
    assert first.status_code == 201, first.get_json()
    assert "Idempotent-Replayed" not in first.headers
    # The same body with its keys in another order and other spacing is the same request.
    again = client.post("/api/v1/dossiers", data=" ".join(
        __import__("json").dumps(dict(reversed(list(dossier_body(world).items())))).split(" ")),
        content_type="application/json", headers=headers)
    assert again.status_code == 201, again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Location"] == first.headers["Location"]
    assert count(app, Dossier) == 1
    # Without the key, the same filing is a second request: one open dossier per parcel.
    assert client.post("/api/v1/dossiers", json=dossier_body(world),
                       headers={"Authorization": headers["Authorization"]}).status_code == 409


def test_a_used_key_with_another_body_is_refused(app, world):
    from app.models import Dossier

    client = app.test_client()
    headers = {**token(client, "registry"), "Idempotency-Key": "k1"}
    assert client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers).status_code == 201
    other = client.post("/api/v1/dossiers", json=dossier_body(world, declared_price=13_000_000_000),
                        headers=headers)
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(app, Dossier) == 1


def test_keys_belong_to_their_user(app, world):
    """Another officer's key of the same text is another key: no answer leaks across users."""
    client = app.test_client()
    mine = {**token(client, "registry"), "Idempotency-Key": "same-text"}
    theirs = {**token(client, "registry2"), "Idempotency-Key": "same-text"}
    assert client.post("/api/v1/dossiers", json=dossier_body(world), headers=mine).status_code == 201
    other = client.post("/api/v1/dossiers", json=dossier_body(world), headers=theirs)
    assert "Idempotent-Replayed" not in other.headers
    assert other.status_code in (403, 404, 422)  # parcel 1 is not registry2's


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "không-ascii"])
def test_malformed_keys_are_refused(app, world, key):
    from app.models import Dossier

    client = app.test_client()
    headers = {**token(client, "registry"), "Idempotency-Key": key}
    response = client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers)
    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["error"]["fields"]
    assert count(app, Dossier) == 0


def test_a_key_in_progress_is_answered_409_and_an_expired_one_is_free(app, world):
    from app.extensions import db
    from app.models import Dossier, IdempotencyKey

    client = app.test_client()
    headers = {**token(client, "registry"), "Idempotency-Key": "k-busy"}
    with app.app_context():
        from app.api.idempotency import TTL

        now = datetime.now(UTC)
    with app.test_request_context("/api/v1/dossiers", method="POST", json=dossier_body(world)):
        from app.api.idempotency import fingerprint

        running = fingerprint()  # the same request as the one below, still running
    with app.app_context():
        user = world.user("registry")
        db.session.add(IdempotencyKey(user_id=user.id, key="k-busy", fingerprint=running,
                                      created_at=now, expires_at=now + TTL))
        db.session.commit()
    busy = client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers)
    assert busy.status_code == 409 and busy.get_json()["error"]["code"] == "request_in_progress"
    assert busy.headers["Retry-After"] == "1"
    assert count(app, Dossier) == 0
    with app.app_context():
        row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "k-busy"))
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    assert client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers).status_code == 201
    with app.app_context():
        from app.api.idempotency import purge_expired

        assert purge_expired(datetime.now(UTC) + timedelta(hours=25)) == 1
        db.session.commit()


def test_a_server_error_keeps_no_answer(app, world, monkeypatch):
    from app.models import Dossier
    from app.services import dossiers

    client = app.test_client()
    headers = {**token(client, "registry"), "Idempotency-Key": "k-boom"}
    real = dossiers.file_transfer

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(dossiers, "file_transfer", boom)
    assert client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers).status_code == 500
    monkeypatch.setattr(dossiers, "file_transfer", real)
    retried = client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert count(app, Dossier) == 1


def test_starting_a_payment_twice_with_one_key_starts_one_order(app, world):
    from app.models import PaymentOrder

    _code, notice = world.file_and_confirm()
    client = app.test_client()
    headers = {**token(client, "binh"), "Idempotency-Key": "pay-once"}
    first = client.post(f"/api/v1/notices/{notice}/payments", headers=headers)
    second = client.post(f"/api/v1/notices/{notice}/payments", headers=headers)
    assert first.status_code == 201, first.get_json()
    assert second.get_json() == first.get_json() and second.headers["Idempotent-Replayed"] == "true"
    assert count(app, PaymentOrder) == 1


@pytest.mark.postgres
def test_concurrent_filings_with_one_key_file_one_dossier(pg_app, pg_world):
    from app.models import Dossier

    n = 8
    auth = token(pg_app.test_client(), "registry")
    headers = {**auth, "Idempotency-Key": "racing-key"}
    body = dossier_body(pg_world)
    barrier = threading.Barrier(n)
    answers = []

    def post():
        client = pg_app.test_client()
        barrier.wait()
        response = client.post("/api/v1/dossiers", json=body, headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=post) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == n
    assert count(pg_app, Dossier) == 1
    codes = {a[1]["code"] for a in answers if a[0] == 201}
    assert len(codes) == 1
    for status, answer in answers:
        assert status == 201 or (status == 409 and answer["error"]["code"] == "request_in_progress"), answer
    after = pg_app.test_client().post("/api/v1/dossiers", json=body, headers=headers)
    assert after.status_code == 201 and after.get_json()["code"] in codes
    assert after.headers["Idempotent-Replayed"] == "true"


def test_a_key_whose_request_died_is_free_after_a_while(app, world):
    """A process killed while running the request left the key claimed with no answer: the
    client's retry is refused as in progress for a moment, then runs once the claim is
    older than any request of ours can take."""
    from app.api.idempotency import ABANDONED_AFTER, TTL, fingerprint
    from app.extensions import db
    from app.models import Dossier, IdempotencyKey

    client = app.test_client()
    headers = {**token(client, "registry"), "Idempotency-Key": "k-dead"}
    with app.test_request_context("/api/v1/dossiers", method="POST", json=dossier_body(world)):
        claimed = fingerprint()
    with app.app_context():
        now = datetime.now(UTC)
        db.session.add(IdempotencyKey(user_id=world.user("registry").id, key="k-dead", fingerprint=claimed,
                                      created_at=now - ABANDONED_AFTER + timedelta(seconds=30),
                                      expires_at=now + TTL))
        db.session.commit()
    assert client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers).status_code == 409
    with app.app_context():
        row = db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "k-dead"))
        row.created_at = datetime.now(UTC) - ABANDONED_AFTER - timedelta(seconds=1)
        db.session.commit()
    retried = client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers)
    assert retried.status_code == 201 and count(app, Dossier) == 1
    replayed = client.post("/api/v1/dossiers", json=dossier_body(world), headers=headers)
    assert replayed.headers.get("Idempotent-Replayed") == "true" and count(app, Dossier) == 1
