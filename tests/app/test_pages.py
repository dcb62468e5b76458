"""Pages for people: friendly errors, CSRF on every form, language choice, hardened sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token, login, post_form

GOOD = {
    "transferor_name": "Nguyễn Văn An", "transferor_citizen_id": "079080000001",
    "transferee_name": "Trần Thị Bình", "transferee_citizen_id": "079085000002",
    "declared_price": "12000000000", "relationship": "",
}

BAD_FORMS = [
    ("price missing", {"declared_price": ""}, "declared_price"),
    ("price negative", {"declared_price": "-1"}, "declared_price"),
    ("price not a number", {"declared_price": "12 tỷ"}, "declared_price"),
    ("citizen id short", {"transferee_citizen_id": "12345"}, "transferee_citizen_id"),
    ("name missing", {"transferor_name": ""}, "transferor_name"),
    ("relationship unknown", {"relationship": "cousin"}, "relationship"),
    ("transferor not the holder", {"transferor_name": "Lê Văn Cường", "transferor_citizen_id": "079070000003"},
     "transferor_citizen_id"),
]


@pytest.mark.parametrize("case, change, field", BAD_FORMS, ids=[b[0] for b in BAD_FORMS])
def test_bad_form_input_shows_the_form_again_and_changes_nothing(app, world, case, change, field):
    from app.extensions import db
    from app.models import Dossier

    client = app.test_client()
    login(client, "registry")
    data = {**GOOD, "parcel_id": world.parcel_id, **change}
    response = post_form(client, "/registry/dossiers/new", "/registry/dossiers/new", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field has-error"' in html or 'class="flash error"' in html
    assert f'name="{field}"' in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0


def test_every_form_needs_its_csrf_token(app, world):
    from app.extensions import db
    from app.models import Dossier

    client = app.test_client()
    login(client, "registry")
    response = client.post("/registry/dossiers/new", data={**GOOD, "parcel_id": world.parcel_id})
    assert response.status_code == 400
    assert "form" in response.get_data(as_text=True).lower()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Dossier)) == 0
    stranger = app.test_client()
    assert stranger.post("/login", data={"username": "registry", "password": "x"}).status_code == 400


def test_wrong_password_is_a_friendly_refusal(app, world):
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"username": "registry", "password": "wrong", "csrf_token": token})
    assert response.status_code == 401
    assert 'class="flash error"' in response.get_data(as_text=True)


def test_vietnamese_by_default_english_on_request(app, world):
    client = app.test_client()
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert 'lang="vi"' in page and "Đăng nhập" in page  # the browser's language is not a choice
    token = csrf_token(client, "/login")
    response = client.post("/language/en", data={"csrf_token": token, "next": "/login"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page and "Log in" in page
    # An open redirect is not possible through the language switch.
    response = client.post("/language/vi", data={"csrf_token": token, "next": "//evil.example"})
    assert response.headers["Location"] == "/"


def test_session_cookie_is_hardened_and_login_rotates_the_session(app, world):
    client = app.test_client()
    client.get("/login")
    before = client.get_cookie("landpay_session").value
    login(client, "binh")
    cookie = client.get_cookie("landpay_session")
    assert cookie.http_only and cookie.same_site == "Lax"
    assert cookie.value != before


def test_production_cookies_are_secure():
    from app.config import Production

    assert Production.SESSION_COOKIE_SECURE and Production.REMEMBER_COOKIE_SECURE


def test_unknown_page_is_friendly(app):
    response = app.test_client().get("/no/such/page")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)


def test_security_headers(app):
    response = app.test_client().get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_receipt_verification_page(app, world):
    from app.extensions import db
    from app.models import Notice, Receipt
    from app.services import paying
    from tests.app.bank import notification

    _code, notice_code = world.file_and_confirm()
    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        order, _ = paying.start_payment(world.user("binh"), notice)
        ref, amount = order.ref, order.amount
    app.test_client().post("/bank/notify", data=notification(ref, amount))
    with app.app_context():
        token = db.session.scalar(select(Receipt.token))
    client = app.test_client()  # anyone, not logged in
    ok = post_form(client, "/verify", "/verify", {"token": token})
    assert ok.status_code == 200 and "verify-result" in ok.get_data(as_text=True)
    bad = post_form(client, "/verify", "/verify", {"token": token[:-3] + "xyz"})
    assert bad.status_code == 422
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert jwks["keys"][0]["crv"] == "Ed25519" and "d" not in jwks["keys"][0]


def test_vietnamese_catalogue_is_complete():
    """Every message the app shows has a Vietnamese translation, with its placeholders kept."""
    import re
    from pathlib import Path

    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2]
    with (root / "app/translations/vi/LC_MESSAGES/messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {}
    for m in catalogue:
        if not m.id or m.fuzzy:
            continue
        if isinstance(m.id, tuple):  # a plural: each form translated, keyed by its singular
            if all(m.string):
                translated[m.id[0]] = m.string[0]
        elif m.string:
            translated[m.id] = m.string
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    used = {msg[2] for msg in extract_from_dir(str(root), method_map, keywords=keywords)}
    used = {m if isinstance(m, str) else m[0] for m in used}
    missing = sorted(m for m in used if m not in translated)
    assert missing == []
    for msgid, text in translated.items():
        assert re.findall(r"%\(\w+\)[sd]", msgid) == re.findall(r"%\(\w+\)[sd]", text), msgid


def test_repeated_wrong_passwords_slow_down_further_attempts(app, world):
    from datetime import UTC, datetime, timedelta

    from app.extensions import db
    from app.models import LoginThrottle
    from tests.conftest import PASSWORD

    client = app.test_client()
    for _ in range(5):
        token = csrf_token(client, "/login")
        response = client.post("/login", data={"username": "binh", "password": "guess", "csrf_token": token})
        assert response.status_code == 401
    token = csrf_token(client, "/login")
    slowed = client.post("/login", data={"username": "binh", "password": PASSWORD, "csrf_token": token})
    assert slowed.status_code == 429 and 'class="flash error"' in slowed.get_data(as_text=True)
    api = client.post("/api/v1/tokens", json={"username": "binh", "password": PASSWORD})
    assert api.status_code == 429 and api.get_json()["error"]["code"] == "too_many_attempts"
    # An unknown username is treated the same way: the answers do not reveal which exist.
    for _ in range(5):
        assert client.post("/api/v1/tokens", json={"username": "nobody", "password": "x"}).status_code == 401
    assert client.post("/api/v1/tokens", json={"username": "nobody", "password": "x"}).status_code == 429
    with app.app_context():  # the wait ends by itself
        for row in db.session.scalars(select(LoginThrottle)):
            row.blocked_until = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()
    login(client, "binh")
    with app.app_context():
        assert {t.failures for t in db.session.scalars(select(LoginThrottle))} >= {0}


@pytest.mark.postgres
def test_parallel_guesses_are_counted_one_by_one(pg_app, pg_world):
    import threading

    from app.extensions import db
    from app.models import LoginThrottle

    answers = []
    barrier = threading.Barrier(12)

    def guess():
        client = pg_app.test_client()
        barrier.wait()
        answers.append(client.post("/api/v1/tokens", json={"username": "binh", "password": "guess"}).status_code)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(answers) == [401] * 5 + [429] * 7
    with pg_app.app_context():
        assert max(t.failures for t in db.session.scalars(select(LoginThrottle))) == 5


@pytest.mark.parametrize("method, url, kwargs", [
    ("post", "/login", {"data": {"username": "a\x00b", "password": "x"}}),
    ("get", "/me/notices/TB%00X", {}),
    ("get", "/verify?x=%00", {}),
    ("post", "/api/v1/tokens", {"json": {"username": "a\u0000b", "password": "x"}}),
])
def test_nul_characters_are_refused_before_anything_runs(app, world, method, url, kwargs):
    response = getattr(app.test_client(), method)(url, **kwargs)
    assert response.status_code == 400


def test_ids_beyond_the_integer_range_are_not_found(app, world):
    client = app.test_client()
    login(client, "tax")
    assert client.get("/tax/assessments/9223372036854775808").status_code == 404


def test_deeply_nested_json_is_a_clear_error(app, world):
    body = "[" * 5000 + "]" * 5000
    response = app.test_client().post("/api/v1/tokens", data=body, content_type="application/json")
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "validation_failed"
