"""Sessions live on the server: logging out ends them for every copy of the cookie, and an
administrator can end all of a user's sessions; pages with personal data are never cached."""

from __future__ import annotations

from app.extensions import db
from app.models import User
from tests.conftest import csrf_token, login


def _cookie(client) -> str:
    cookie = client.get_cookie("landpay_session")
    assert cookie is not None
    return cookie.value


def _copy(app, value: str):
    other = app.test_client()
    other.set_cookie("landpay_session", value)
    return other


def test_a_copied_cookie_stops_working_at_logout(app, world):
    client = app.test_client()
    login(client, "binh")
    stolen = _copy(app, _cookie(client))
    assert stolen.get("/me/").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/me/")}).status_code == 302
    answer = stolen.get("/me/")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_ending_all_sessions_logs_the_user_out_everywhere(app, world):
    from app.auth import end_all_sessions

    phone, laptop = app.test_client(), app.test_client()
    login(phone, "binh")
    login(laptop, "binh")
    assert phone.get("/me/").status_code == 200 and laptop.get("/me/").status_code == 200
    with app.app_context():
        user = db.session.query(User).filter_by(username="binh").one()
        assert end_all_sessions(user) >= 2
        db.session.commit()
    for client in (phone, laptop):
        assert client.get("/me/").status_code == 302
    # Another user's session is untouched.
    other = app.test_client()
    login(other, "an")
    assert other.get("/me/").status_code == 200


def test_a_forged_session_id_is_not_a_session(app, world):
    client = app.test_client()
    login(client, "binh")
    with client.session_transaction() as sess:
        sess["sid"] = "not-a-real-session-id"
    assert client.get("/me/").status_code == 302


def test_personal_pages_and_the_token_answer_are_not_cached(app, world):
    client = app.test_client()
    login(client, "binh")
    page = client.get("/me/")
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    answer = app.test_client().post("/api/v1/tokens", json={"username": "binh", "password": "x" * 12})
    assert answer.headers["Cache-Control"] == "no-store"
    static = client.get("/static/style.css")
    assert static.status_code == 200 and "no-store" not in static.headers.get("Cache-Control", "")


def test_end_sessions_command(app, world):
    client = app.test_client()
    login(client, "binh")
    result = app.test_cli_runner().invoke(args=["end-sessions", "binh"])
    assert result.exit_code == 0, result.output
    assert "binh: 1 sessions" in result.output
    assert client.get("/me/").status_code == 302
    assert app.test_cli_runner().invoke(args=["end-sessions", "nobody"]).exit_code != 0


