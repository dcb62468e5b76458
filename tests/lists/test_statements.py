"""A list page runs the same number of SQL statements whatever its length: related rows are
loaded in bulk, never one query per row. Each list page is asked for with 10 rows and with 100
(``limit=100``), and the statements counted; ``-s`` prints the counts."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.conftest import PASSWORD, login
from tests.lists.rows import add_annual, add_dead_letters, add_dossiers, add_items

#: (who, address, how to add n rows of its list)
PAGES = [
    ("registry", "/registry/", lambda w, n: add_dossiers(w, n)),
    ("tax", "/tax/", lambda w, n: add_dossiers(w, n, status="awaiting_confirmation", assessment="pending",
                                               notice=None)),
    ("binh", "/me/", lambda w, n: (add_dossiers(w, n, status="awaiting_payment", notice="unpaid"),
                                  add_annual(w, range(1900 + n, 1900 + 2 * n)))),
    ("accountant", "/accounting/?status=all", lambda w, n: add_items(w, n)),
    ("admin", "/admin/", lambda w, n: add_dead_letters(w, n)),
    # The filing form finds a parcel by a search showing a few at a time, never every parcel.
    ("registry", "/registry/dossiers/new?q=Danh", lambda w, n: add_dossiers(w, n)),
]
API = [
    ("registry", "/api/v1/dossiers", lambda w, n: add_dossiers(w, n)),
    ("registry", "/api/v1/parcels", lambda w, n: add_dossiers(w, n)),
    ("tax", "/api/v1/assessments?status=pending",
     lambda w, n: add_dossiers(w, n, status="awaiting_confirmation", assessment="pending", notice=None)),
    ("binh", "/api/v1/notices", lambda w, n: add_dossiers(w, n, status="awaiting_payment", notice="unpaid",
                                                          co_buyer=True)),
    ("tax", "/api/v1/notices", lambda w, n: add_dossiers(w, n, status="awaiting_payment", notice="unpaid")),
    ("accountant", "/api/v1/reconciliation/items?status=all", lambda w, n: add_items(w, n)),
    ("admin", "/api/v1/sync/dead-letter", lambda w, n: add_dead_letters(w, n)),
]


def counted(app, fn) -> int:
    from app.extensions import db

    count = 0

    def tick(*_args):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", tick)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", tick)
    return count


def _with(url: str) -> str:
    return url + ("&" if "?" in url else "?") + "limit=100"


@pytest.mark.parametrize("username, url, add", PAGES, ids=[p[1] for p in PAGES])
def test_list_page_statements_do_not_grow_with_its_rows(app, world, username, url, add):
    client = app.test_client()
    login(client, username)
    add(world, 10)
    client.get(_with(url))  # caches warm
    ten = counted(app, lambda: client.get(_with(url)))
    add(world, 90)
    hundred = counted(app, lambda: client.get(_with(url)))
    assert client.get(_with(url)).status_code == 200
    print(f"\n{url:45} 10 rows: {ten:3} statements, 100 rows: {hundred:3}")
    assert hundred == ten, (url, ten, hundred)


@pytest.mark.parametrize("username, url, add", API, ids=[f"{a[0]} {a[1]}" for a in API])
def test_api_list_statements_do_not_grow_with_its_rows(app, world, username, url, add):
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    add(world, 10)
    client.get(_with(url), headers=headers)
    ten = counted(app, lambda: client.get(_with(url), headers=headers))
    add(world, 90)
    answer = client.get(_with(url), headers=headers)
    assert answer.status_code == 200 and len(answer.get_json()["items"]) >= 100, answer.get_json()
    hundred = counted(app, lambda: client.get(_with(url), headers=headers))
    print(f"\n{username + ' ' + url:45} 10 rows: {ten:3} statements, 100 rows: {hundred:3}")
    assert hundred == ten, (url, ten, hundred)
