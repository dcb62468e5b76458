"""Every list pages by its key: following the next links (pages) or ``next_cursor`` (API) from
the first page with a small ``limit`` shows every item once, in the list's order, with its
filters kept; times repeat between rows, so the order must rest on the id too. A cursor that
is not the list's, or a wrong limit, is refused."""

from __future__ import annotations

import base64
import html as htmlmod
import json
import re
from datetime import timedelta

import pytest

from tests.conftest import PASSWORD, login
from tests.lists.rows import START, add_annual, add_dead_letters, add_dossiers, add_items

NEXT_DAY = START + timedelta(days=1)


def api_walk(client, username: str, path: str, key: str = "code", limit: int = 5) -> list:
    """Every item of an API list, page by page (``next_cursor``, and once the ``Link``
    header); asserts that no page is larger than ``limit``."""
    token = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    sep = "&" if "?" in path else "?"
    answer = client.get(f"{path}{sep}limit={limit}", headers=headers)
    seen, pages = [], 0
    while True:
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        assert len(body["items"]) <= limit
        seen += [item[key] for item in body["items"]]
        pages += 1
        assert pages < 100
        if body["next_cursor"] is None:
            assert "Link" not in answer.headers
            return seen
        link = re.fullmatch(r'<([^>]+)>; rel="next"', answer.headers["Link"]).group(1)
        assert f"cursor={body['next_cursor']}" in link
        answer = client.get(link, headers=headers)


def page_walk(client, url: str, list_id: str, pattern: str, limit: int = 4, prefix: str = "") -> list:
    """Every item of one list of a page, following its "next page" link."""
    sep = "&" if "?" in url else "?"
    url = f"{url}{sep}{prefix}limit={limit}"
    seen = []
    for _ in range(100):
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.get_data(as_text=True)
        table = re.search(rf'id="{list_id}".*?</table>', text, re.S)
        found = re.findall(pattern, table.group(0)) if table else []
        assert len(found) <= limit
        seen += found
        nxt = re.search(rf'<nav class="pager"[^>]*data-list="{list_id}">.*?</nav>', text, re.S)
        link = re.search(r'<a href="([^"]+)#' + re.escape(list_id) + r'" rel="next">', nxt.group(0)) if nxt else None
        if link is None:
            return seen
        url = htmlmod.unescape(link.group(1))
    raise AssertionError("more than 100 pages")


def test_dossiers_api_pages_newest_first_with_filters(app, world):
    first = add_dossiers(world, 13, tie=3)
    paid = add_dossiers(world, 7, status="paid", tie=4, start=NEXT_DAY)
    add_dossiers(world, 4, office="REG2")
    client = app.test_client()
    everything = list(reversed(first + paid))
    assert api_walk(client, "registry", "/api/v1/dossiers") == everything
    assert api_walk(client, "registry", "/api/v1/dossiers?status=paid", limit=2) == list(reversed(paid))
    # The first day of filing only (Vietnam time), with a party's citizen id.
    assert api_walk(client, "registry", "/api/v1/dossiers?from=2026-03-02&to=2026-03-02&citizen_id=079085000002",
                    limit=3) == list(reversed(first))
    assert api_walk(client, "registry", "/api/v1/dossiers?from=2026-03-04") == []
    assert api_walk(client, "registry", f"/api/v1/dossiers?code={paid[2]}") == [paid[2]]
    assert len(api_walk(client, "admin", "/api/v1/dossiers", limit=7)) == 24


def test_registry_inbox_pages_with_its_filter(app, world):
    first = add_dossiers(world, 10, tie=3)
    paid = add_dossiers(world, 5, status="paid", tie=5, start=NEXT_DAY)
    client = app.test_client()
    login(client, "registry")
    code = r'href="/registry/dossiers/(HSL[0-9]+)"'
    assert page_walk(client, "/registry/", "dossiers", code) == list(reversed(first + paid))
    assert page_walk(client, "/registry/?status=paid", "dossiers", code, limit=2) == list(reversed(paid))


def test_tax_queue_pages_oldest_first(app, world):
    waiting = add_dossiers(world, 11, status="awaiting_confirmation", assessment="pending", notice=None, tie=4)
    add_dossiers(world, 3, status="awaiting_confirmation", assessment="pending", notice=None, office="REG2")
    add_dossiers(world, 5, tie=1)  # confirmed: in "recently confirmed", not in the queue
    client = app.test_client()
    login(client, "tax")
    assert page_walk(client, "/tax/", "pending", r'href="/tax/assessments/[0-9]+">(HSL[0-9]+)<') == waiting
    assert api_walk(client, "tax", "/api/v1/assessments?status=pending", key="dossier_code", limit=3) == waiting


def test_landholder_notices_pages_both_ways_of_owing(app, world):
    """binh owes as the named payer; cuong is a second transferee of some dossiers and sees
    their notices through the dossier (the UNION's other branch)."""
    alone = add_dossiers(world, 7, status="awaiting_payment", notice="unpaid", tie=2)
    shared = add_dossiers(world, 6, co_buyer=True, tie=3, start=NEXT_DAY)
    notices = [c.replace("HSL", "TBL") for c in alone + shared]
    client = app.test_client()
    assert api_walk(client, "binh", "/api/v1/notices", limit=4) == list(reversed(notices))
    assert api_walk(client, "cuong", "/api/v1/notices", limit=4) == [c.replace("HSL", "TBL") for c in reversed(shared)]
    assert api_walk(client, "binh", "/api/v1/notices?status=unpaid", limit=3) == \
        [c.replace("HSL", "TBL") for c in reversed(alone)]
    assert api_walk(client, "an", "/api/v1/notices") == []  # the seller owes nothing here
    login(client, "binh")
    assert page_walk(client, "/me/", "notices", r'href="/me/notices/(TBL[0-9]+)"') == list(reversed(notices))


def test_landholder_dossiers_and_annual_notices_page_on_their_own(app, world):
    codes = add_dossiers(world, 9, tie=2)
    annual = add_annual(world, range(2018, 2027))
    client = app.test_client()
    login(client, "an")
    assert page_walk(client, "/me/", "my-dossiers", r'href="/decisions/dossiers/(HSL[0-9]+)"',
                     prefix="dossiers_", limit=4) == list(reversed(codes))
    login(client, "binh")
    assert page_walk(client, "/me/", "annual", r'data-code="(NN[0-9-]+)"', prefix="annual_",
                     limit=4) == list(reversed(annual))
    assert api_walk(client, "an", "/api/v1/dossiers", limit=4) == list(reversed(codes))


def test_reconciliation_and_dead_letter_pages(app, world):
    ids = add_items(world, 17)
    dead = add_dead_letters(world, 9)
    client = app.test_client()
    assert api_walk(client, "accountant", "/api/v1/reconciliation/items?status=all", key="id") == list(reversed(ids))
    assert api_walk(client, "accountant", "/api/v1/reconciliation/items", key="id", limit=3) == \
        [i for i in reversed(ids) if (i - ids[0]) % 2 == 0]
    assert api_walk(client, "admin", "/api/v1/sync/dead-letter", key="event_id", limit=4) == dead
    login(client, "accountant")
    assert page_walk(client, "/accounting/?status=all", "items", r'href="/accounting/items/([0-9]+)"') == \
        [str(i) for i in reversed(ids)]
    login(client, "admin")
    assert page_walk(client, "/admin/", "dead-letter", r"<code>(dead-[0-9]+)</code>") == dead


def test_parcels_api_pages_by_id(app, world):
    add_dossiers(world, 8)
    client = app.test_client()
    seen = api_walk(client, "registry", "/api/v1/parcels", key="id", limit=3)
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 9  # the world's parcel and 8 more


def _cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("query, field", [
    ("cursor=not-a-cursor", "cursor"),
    # Altered: an id no column holds, a key of the wrong type, too few parts.
    ("cursor=" + _cursor("dossiers", "2026-03-02T01:00:00+00:00", 10**30), "cursor"),
    ("cursor=" + _cursor("dossiers", "2026-03-02T01:00:00+00:00", "7"), "cursor"),
    ("cursor=" + _cursor("dossiers", "2026-03-02T01:00:00"), "cursor"),
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=ten", "limit"),
    ("from=2026-13-01", "from"), ("status=lost", "status"), ("citizen_id=12345", "citizen_id"),
])
def test_bad_paging_or_filters_are_refused(app, world, query, field):
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "registry", "password": PASSWORD}).get_json()["token"]
    answer = client.get(f"/api/v1/dossiers?{query}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422 and field in answer.get_json()["error"]["fields"], answer.get_json()
    login(client, "registry")
    page = client.get(f"/registry/?{query}")
    assert page.status_code == 422 and "<form" in page.get_data(as_text=True).lower() or page.status_code == 422


def test_a_cursor_of_another_list_is_refused(app, world):
    add_dossiers(world, 4, status="awaiting_payment", notice="unpaid")
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "binh", "password": PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    cursor = client.get("/api/v1/notices?limit=1", headers=headers).get_json()["next_cursor"]
    assert cursor
    answer = client.get(f"/api/v1/dossiers?cursor={cursor}", headers=headers)
    assert answer.status_code == 422 and "cursor" in answer.get_json()["error"]["fields"]
