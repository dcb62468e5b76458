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


# --- the OpenAPI document is the one check of the input's shape (app/api/validation.py) ------


def _file(app, world, body: bytes | dict, accept: str | None = None):
    import json

    client = app.test_client()
    headers = {**token(client, "registry"), **({"Accept-Language": accept} if accept else {})}
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post("/api/v1/dossiers", data=data, content_type="application/json", headers=headers)


def _dossier(world, **changes) -> dict:
    body = {"parcel_id": world.parcel_id, "declared_price": 3_000_000_000,
            "transferor": {"full_name": world.seller_party[0], "citizen_id": world.seller_party[1]},
            "transferee": {"full_name": world.buyer_party[0], "citizen_id": world.buyer_party[1]}}
    body.update(changes)
    return body


def _nothing_filed(app) -> bool:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Dossier, Event

    with app.app_context():
        return db.session.scalar(select(func.count(Dossier.id))) == 0 == db.session.scalar(
            select(func.count(Event.id)))


@pytest.mark.parametrize(("change", "field"), [
    ({"sole_residence": "yes"}, "sole_residence"),          # once stored as false: an exemption dropped
    ({"sole_residence": 1}, "sole_residence"),
    ({"declared_price": "3000000000"}, "declared_price"),   # a number as text is not a number
    ({"declared_price": 3e9}, "declared_price"),            # nor is a float with no fraction
    ({"declared_price": 10**16}, "declared_price"),
    ({"parcel_id": 2**31}, "parcel_id"),
    ({"transferee": {"full_name": "Trần Thị Bình", "citizen_id": "０７９０８５０００００２"}},
     "transferee_citizen_id"),                               # full-width digits
    ({"transferee": {"full_name": "Trần Thị Bình", "citizen_id": "079085000002\n"}},
     "transferee_citizen_id"),                               # "$" is the end of the text
    ({"transferee": {"full_name": "   ", "citizen_id": "079085000002"}}, "transferee_name"),
    ({"transferees": [{"full_name": "B", "citizen_id": "079085000002", "share": 0.5}]},
     "transferees[0].share"),
    ({"sole_residense": True}, "sole_residense"),           # a misspelt field is named, not ignored
    ({"relationship": "cousin"}, "relationship"),
    ({"rent_rate": "0.01\n"}, "rent_rate"),
])
def test_input_is_checked_against_the_document_and_files_nothing(app, world, change, field):
    answer = _file(app, world, _dossier(world, **change))
    assert answer.status_code == 422, answer.get_json()
    error = answer.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["fields"], error
    assert _nothing_filed(app)


def test_a_number_too_large_for_any_amount_is_422_not_500(app, world):
    """10**400 as JSON text: a whole number, far above any amount; refused by the bound."""
    (seller, seller_id), (buyer, buyer_id) = world.seller_party, world.buyer_party
    raw = (f'{{"parcel_id": {world.parcel_id}, "declared_price": 1{"0" * 400}, '
           f'"transferor": {{"full_name": "{seller}", "citizen_id": "{seller_id}"}}, '
           f'"transferee": {{"full_name": "{buyer}", "citizen_id": "{buyer_id}"}}}}').encode()
    answer = _file(app, world, raw, accept="en")
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == {"declared_price": "Must be at most 1000000000000000."}
    assert _nothing_filed(app)


def test_every_wrong_field_is_named_at_once_in_the_clients_language(app, world):
    body = _dossier(world, declared_price=True, sole_residence="no", tax_payer_clause="mine", colour="red")
    answer = _file(app, world, body, accept="en")
    fields = answer.get_json()["error"]["fields"]
    assert fields == {"declared_price": "Must be a whole number.", "sole_residence": "Must be true or false.",
                      "tax_payer_clause": "Choose from the list.", "colour": "Unknown field."}
    vietnamese = _file(app, world, body).get_json()["error"]["fields"]
    assert vietnamese["declared_price"] == "Phải là số nguyên."
    assert vietnamese["tax_payer_clause"] == "Vui lòng chọn trong danh sách."


def test_a_body_that_is_not_an_object_keeps_its_message(app, world):
    answer = _file(app, world, b"[1, 2]", accept="en")
    assert answer.status_code == 422
    assert answer.get_json()["error"] == {"code": "validation_failed",
                                          "message": "The request body must be a JSON object."}


def test_a_login_is_checked_before_anything_else_and_without_a_token(app, world):
    client = app.test_client()
    answer = client.post("/api/v1/tokens", json={"username": "binh", "password": 12345},
                         headers={"Accept-Language": "en"})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == {"password": "Must be text."}
    empty = client.post("/api/v1/tokens", json={"username": "", "password": "x"})
    assert empty.status_code == 422 and set(empty.get_json()["error"]["fields"]) == {"username"}


def test_a_caller_without_a_token_learns_401_before_anything_about_the_body(app, world):
    answer = app.test_client().post("/api/v1/dossiers", json={"parcel_id": "x"})
    assert answer.status_code == 401


def test_query_parameters_are_checked_against_the_document(app, world):
    client = app.test_client()
    headers = {**token(client, "supervisor"), "Accept-Language": "en"}
    answer = client.get("/api/v1/supervision/figures?period=2026-1&agency=court", headers=headers)
    assert answer.status_code == 422
    assert answer.get_json()["error"]["fields"] == {"period": "Not in the expected format.",
                                                    "agency": "Choose from the list."}
    assert client.get("/api/v1/supervision/figures?period=2026-11&agency=tax", headers=headers).status_code == 200


def test_a_method_the_address_does_not_allow_says_which_it_does(app):
    answer = app.test_client().put("/api/v1/tokens", json={})
    assert answer.status_code == 405
    assert answer.get_json()["error"]["code"] == "method_not_allowed"
    assert set(answer.headers["Allow"].replace(" ", "").split(",")) >= {"POST"}
    assert "PUT" not in answer.headers["Allow"]
