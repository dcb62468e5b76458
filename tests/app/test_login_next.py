"""A page that needs a login sends the user to log in, in their language, and back to it."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_token


def _login_at(client, url: str, username: str = "binh"):
    token = csrf_token(client, url)
    return client.post(url, data={"username": username, "password": PASSWORD, "csrf_token": token})


def test_login_returns_to_the_page_asked_for(app, world):
    client = app.test_client()
    asked = client.get("/me/?tab=paid")
    assert asked.status_code == 302
    login_url = asked.headers["Location"]
    assert login_url.startswith("/login?next=")
    page = client.get(login_url).get_data(as_text=True)
    assert "Vui lòng đăng nhập để xem trang này." in page  # Vietnamese by default
    assert 'class="flash info"' in page
    done = _login_at(client, login_url)
    assert done.status_code == 302 and done.headers["Location"] == "/me/?tab=paid"


def test_the_message_follows_the_chosen_language(app, world):
    client = app.test_client()
    client.post("/language/en", data={"csrf_token": csrf_token(client, "/")})
    page = client.get(client.get("/me/").headers["Location"]).get_data(as_text=True)
    assert "Please log in to see this page." in page


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
    "/me/\r\nLocation: https://evil.example/", "/login?next=/me/",
])
def test_login_never_goes_elsewhere(app, world, target):
    from urllib.parse import quote

    client = app.test_client()
    done = _login_at(client, "/login?next=" + quote(target, safe=""))
    assert done.status_code == 302
    assert done.headers["Location"] == "/me/"  # the user's home instead
