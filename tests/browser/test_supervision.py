"""A supervisor, in a real headless Chromium, opens the on-time dashboard: the charts are
drawn (server-side SVG, nothing fetched from outside), the national portal's figures stand
beside ours, a figure drills down to the late steps and the CSV export downloads."""

from __future__ import annotations

import re

import pytest

from app.cli import DEMO_PASSWORD
from tests.e2e.test_flow_http import file_dossier
from tests.stack import start_portal, start_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The app and the bank, with a mock national portal whose figures the dashboard reads."""
    tmp = tmp_path_factory.mktemp("supervision-stack")
    portal = start_portal(tmp)
    mp = pytest.MonkeyPatch()
    mp.setenv("PORTAL_BASE_URL", portal.url)
    try:
        running = start_stack(tmp, f"sqlite:///{tmp / 'landpay.db'}")
    finally:
        mp.undo()
    yield running
    running.stop()
    portal.stop()


def test_supervisor_opens_the_dashboard(stack, page, tmp_path):
    code, _notice = file_dossier(stack)
    outside = []
    page.on("request", lambda r: outside.append(r.url)
            if not r.url.startswith((stack.app_url, "data:")) else None)
    page.goto(stack.app_url + "/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login")
    page.wait_for_url(re.compile(r".*/supervision/$"))
    assert page.locator("h1").inner_text()
    assert page.locator("svg.chart").count() == 4
    # The filed dossier's tax step is finished (or waits for the officer): a bar is drawn.
    assert page.locator("#by-agency svg.chart rect").count() >= 1
    assert re.fullmatch(r"\d+ \S+ \d+", page.locator("#sync-dossiers").inner_text())
    assert page.locator("#portal-unavailable").count() == 0
    assert page.locator("#portal-table tbody tr").count() >= 1
    page.screenshot(path=str(tmp_path / "supervision.png"), full_page=True)
    page.click("#drill-late")
    page.wait_for_url(re.compile(r".*/supervision/late.*"))
    assert page.locator("#late-steps").count() == 1
    page.go_back()
    with page.expect_download() as download:
        page.click("#csv")
    text = open(download.value.path(), encoding="utf-8").read()
    assert text.startswith("dossier_code,") and code in text
    assert outside == [], outside
