"""At a phone's width (375 px) and a desktop's, in both languages, no page scrolls sideways, has
more or fewer than one h1, or has a serious or critical accessibility violation (axe-core); the
browser logs no error, and no request leaves this machine. Screenshots are kept in the test's
temporary folder."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from app.cli import DEMO_PASSWORD
from tests.e2e.test_flow_http import file_dossier

pytestmark = pytest.mark.browser

AXE = Axe()
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _context(browser, stack, viewport, locale):
    context = browser.new_context(viewport=viewport, locale=locale, is_mobile=viewport is PHONE,
                                  has_touch=viewport is PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))

    def outside(request):
        host = urlsplit(request.url).hostname
        if request.url.startswith(("http://", "https://")) and host not in ("127.0.0.1", "localhost"):
            page.problems.append(f"request to another host: {request.url}")
    page.on("request", outside)
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"{r.status} for {r.url}"))
    return context, page


def _check(page, url, shots, name):
    page.goto(url)
    page.wait_for_load_state("load")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if widths[0] > widths[1]:
        culprits = page.evaluate("""(w) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w - 2 || e.scrollWidth > e.clientWidth + 1)
            .slice(-5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""",
                                 widths[1])
        pytest.fail(f"{url} scrolls sideways: {widths[0]} px wide in {widths[1]} px; {culprits}")
    assert page.locator("h1").count() == 1, f"{url} has {page.locator('h1').count()} h1"
    results = AXE.run(page)
    serious = [(v["id"], v["impact"], len(v["nodes"])) for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{url}: {serious}"
    page.screenshot(path=str(shots / f"{name}.png"), timeout=60_000)


def _login(page, stack, username):
    page.goto(stack.app_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login")
    page.wait_for_load_state("load")


@pytest.mark.parametrize(("viewport", "locale"), [(PHONE, "vi-VN"), (PHONE, "en-GB"), (DESKTOP, "vi-VN")],
                         ids=["phone-vi", "phone-en", "desktop-vi"])
def test_pages_fit_the_screen(stack, browser, tmp_path, viewport, locale):
    dossier, notice = file_dossier(stack)
    context, page = _context(browser, stack, viewport, locale)
    try:
        if locale.startswith("en"):
            page.goto(stack.app_url + "/")
            page.click("button[lang=en]")
        public = ["/", "/login", "/verify", "/help/", "/help/obligations", "/help/deadlines",
                  "/help/contact", "/api/v1/docs"]
        for path in public:
            _check(page, stack.app_url + path, tmp_path, "public" + re.sub(r"\W", "-", path))
        _login(page, stack, "binh")
        for path in ["/me/", f"/me/notices/{notice}"]:
            _check(page, stack.app_url + path, tmp_path, "binh" + re.sub(r"\W", "-", path))
        # The pay button is on the screen, large enough to tap, and nothing covers it.
        pay = page.locator("#pay")
        pay.scroll_into_view_if_needed()
        box = pay.bounding_box()
        assert box and box["height"] >= 40 and box["x"] + box["width"] <= viewport["width"]
        assert page.evaluate("() => { const b = document.querySelector('#pay').getBoundingClientRect();"
                             " const e = document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2);"
                             " return e && (e.id === 'pay' || e.closest('#pay') !== null); }")
        page.context.clear_cookies()
        _login(page, stack, "registry")
        for path in ["/registry/", "/registry/dossiers/new", f"/registry/dossiers/{dossier}"]:
            _check(page, stack.app_url + path, tmp_path, "registry" + re.sub(r"\W", "-", path))
        page.context.clear_cookies()
        _login(page, stack, "tax")
        for path in ["/tax/", "/tax/calculator"]:
            _check(page, stack.app_url + path, tmp_path, "tax" + re.sub(r"\W", "-", path))
        assert page.problems == []
    finally:
        context.close()
