"""Input no text of ours can hold is refused with the API's error shape, never a 500."""

from __future__ import annotations

import pytest

from tests.app.test_api import token


@pytest.mark.parametrize("body", [
    b'{"username": "\\ud800", "password": "x"}',
    b'{"username": "an", "password": "\\udfff"}',
    b'{"\\ud83d": "a key with half a pair", "password": "x"}',
    b'{"username": ["\\uDBFFx"], "password": "x"}',
])
def test_a_lone_surrogate_is_refused_before_login(app, world, body):
    answer = app.test_client().post("/api/v1/tokens", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "bad_request"


def test_a_surrogate_pair_is_ordinary_text(app, world):
    """An emoji written as its UTF-16 pair is valid JSON text: it reaches the view (which
    refuses the login as wrong, not as malformed)."""
    body = b'{"username": "\\ud83d\\ude00", "password": "x"}'
    answer = app.test_client().post("/api/v1/tokens", data=body, content_type="application/json")
    assert answer.status_code == 401


def test_a_lone_surrogate_in_a_party_name_files_nothing(app, world):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Dossier

    headers = token(app.test_client(), "registry")
    import json

    body = json.dumps({"parcel_id": world.parcel_id, "declared_price": 3_000_000_000,
                       "transferor": {"full_name": "NguyXn", "citizen_id": world.seller_party[1]},
                       "transferee": {"full_name": "B", "citizen_id": world.buyer_party[1]}})
    body = body.replace("NguyXn", "Nguy\\ud800n").encode()  # half a surrogate pair, as JSON text
    answer = app.test_client().post("/api/v1/dossiers", data=body, content_type="application/json",
                                    headers=headers)
    assert answer.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(Dossier.id))) == 0


@pytest.mark.parametrize(("accept", "message"), [
    (None, "Tên đăng nhập hoặc mật khẩu không đúng."),
    ("en-GB,en;q=0.9", "Wrong username or password."),
    ("fr-FR, en;q=0.5", "Wrong username or password."),
    ("vi", "Tên đăng nhập hoặc mật khẩu không đúng."),
    ("de", "Tên đăng nhập hoặc mật khẩu không đúng."),
])
def test_api_messages_follow_accept_language(app, world, accept, message):
    headers = {"Accept-Language": accept} if accept else {}
    answer = app.test_client().post("/api/v1/tokens", json={"username": "binh", "password": "wrong-password"},
                                    headers=headers)
    assert answer.status_code == 401
    assert answer.get_json()["error"]["message"] == message


@pytest.mark.parametrize("inner", [b'"\\ud83d\\ude00"', b'"\\ud800"'])
def test_deep_json_with_a_surrogate_is_not_a_500(app, world, inner):
    """The surrogate check walks the body without recursion: 600 levels of nesting around a
    surrogate escape answer like any other bad body, never 500."""
    body = b"[" * 600 + inner + b"]" * 600
    answer = app.test_client().post("/api/v1/tokens", data=body, content_type="application/json")
    assert answer.status_code in (400, 422)
    assert answer.get_json()["error"]["code"] in ("bad_request", "validation_failed")
