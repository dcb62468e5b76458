"""The help section: every topic in both languages, each with one h1, reachable from every page."""

from __future__ import annotations

import re

import pytest

from app.help import TOPICS
from tests.conftest import csrf_token


def _in(client, lang: str):
    client.post(f"/language/{lang}", data={"csrf_token": csrf_token(client, "/")})
    return client


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_topic_opens_in_both_languages(app, world, lang):
    client = _in(app.test_client(), lang)
    index = client.get("/help/").get_data(as_text=True)
    for slug in TOPICS:
        assert f'href="/help/{slug}"' in index
        page = client.get(f"/help/{slug}")
        assert page.status_code == 200, slug
        html = page.get_data(as_text=True)
        assert f'<html lang="{lang}">' in html
        assert len(re.findall(r"<h1[ >]", html)) == 1, slug


def test_the_vietnamese_pages_are_in_vietnamese(app, world):
    client = _in(app.test_client(), "vi")
    assert "Lệ phí trước bạ" in client.get("/help/obligations").get_data(as_text=True)
    assert "0,03% mỗi ngày" in client.get("/help/deadlines").get_data(as_text=True)
    english = _in(app.test_client(), "en")
    assert "Registration fee" in english.get("/help/obligations").get_data(as_text=True)


def test_contact_lists_the_offices(app, world):
    page = app.test_client().get("/help/contact").get_data(as_text=True)
    from app.extensions import db
    from app.models import Office

    with app.app_context():
        codes = [o.code for o in db.session.query(Office)]
    assert codes and all(code in page for code in codes)


def test_an_unknown_topic_is_a_friendly_404(app, world):
    page = app.test_client().get("/help/nothing-here")
    assert page.status_code == 404 and "<html" in page.get_data(as_text=True)


def test_every_page_links_to_help(app, world):
    assert 'href="/help/"' in app.test_client().get("/login").get_data(as_text=True)
