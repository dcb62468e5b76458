"""Each kind of user walks every page they can reach, at a phone's width (375 px) and a
desktop's, in Vietnamese and in English. On every page: no sideways scrolling, one h1, a skip
link to the main content, a caption on every table, no serious or critical accessibility
violation (axe-core), no error in the browser's console, no request to another host; in
Vietnamese, no text of the catalogue left in English. Screenshots are kept as test artefacts
(in the test's temporary folder, or under $LANDPAY_TEST_ARTIFACTS when it is set)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from babel.messages.pofile import read_po

from app.cli import DEMO_PASSWORD
from app.help import TOPICS
from tests.e2e.test_flow_http import DECLINES, PAYS, Api, file_dossier, pay_at_bank

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = Axe()
#: A page that does not exist: the error page is walked too (its 404 is expected).
MISSING = "/no-such-page"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


# ----------------------------------------------------------------------------- the catalogue

@dataclass
class Catalogue:
    """The English texts of the Vietnamese catalogue that must not show on a Vietnamese page:
    every msgid whose Vietnamese differs from it (or that has none)."""

    exact: set[str] = field(default_factory=set)
    patterns: list[re.Pattern] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)

    @classmethod
    def load(cls) -> Catalogue:
        with (ROOT / "app/translations/vi/LC_MESSAGES/messages.po").open("rb") as handle:
            po = read_po(handle)
        found = cls()
        for message in po:
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for msgid in ids:
                text = " ".join(msgid.split())
                if not text or not re.search(r"[A-Za-z]{2}", text) or (text in strings and all(strings)):
                    continue
                literal = re.split(r"%\(\w+\)[sd]|%[sd]", text)
                if len(literal) == 1:
                    found.exact.add(text)
                    if len(text.split()) >= 3:
                        found.phrases.append(text)
                else:
                    found.patterns.append(re.compile(
                        r"\s*".join(re.escape(part.strip()) for part in literal)
                        .replace(r"\s*\s*", r"\s*"), re.S))
                    longest = max((p.strip() for p in literal), key=len)
                    if len(longest.split()) >= 3:
                        found.phrases.append(longest)
        return found

    def untranslated(self, texts: list[str], whole: str) -> list[str]:
        left = {t for t in texts if t in self.exact}
        for pattern in self.patterns:
            left |= {t for t in texts if pattern.fullmatch(t)}
        left |= {p for p in self.phrases if p in whole}
        return sorted(left)


#: Texts of a page, in JavaScript: each visible text node, and the texts people meet in
#: attributes (placeholders, titles, labels, alternative texts, the words on buttons); parts
#: marked as another language (lang="en" on the switch to English) are left out.
TEXTS_JS = """() => {
  const out = [];
  const foreign = el => { const l = el.closest('[lang]'); return l && !l.lang.startsWith('vi'); };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('script, style, code, pre, noscript') || foreign(el)) continue;
    const text = n.textContent.replace(/\\s+/g, ' ').trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt], input[type=submit], input[type=button]')) {
    if (foreign(el)) continue;
    for (const a of ['placeholder', 'title', 'aria-label', 'alt']) if (el.getAttribute(a)) out.push(el.getAttribute(a).trim());
    if (el.matches('input[type=submit], input[type=button]') && el.value) out.push(el.value.trim());
  }
  out.push(document.title.trim());
  return out;
}"""


# ----------------------------------------------------------------------------- the scene

@dataclass
class Scene:
    """What the walks visit: the pages of each role, once the stack holds a dossier of each
    kind (paid and completed, waiting for payment, waiting for a tax officer), a payment made
    without an account, and a bank transfer left for the accountant."""

    walks: list[tuple[str, str | None, list[str]]]


def _build(stack) -> Scene:
    # A dossier paid (after a declined attempt) and completed: receipts, events, history.
    paid_code, paid_notice = file_dossier(stack)
    buyer = Api(stack.app_url, "binh")
    declined = buyer.post(f"/notices/{paid_notice}/payments").json()
    pay_at_bank(stack, declined["redirect_url"], DECLINES)
    payment = buyer.post(f"/notices/{paid_notice}/payments").json()
    pay_at_bank(stack, payment["redirect_url"], PAYS)
    receipt = buyer.get(f"/payments/{payment['ref']}").json()["receipt_number"]
    registry = Api(stack.app_url, "registry")
    assert registry.post(f"/dossiers/{paid_code}/complete").status_code == 200
    # A dossier waiting for payment, paid by someone without an account.
    open_code, open_notice = file_dossier(stack, price=50_000_000_000)
    public = requests.post(f"{stack.app_url}/api/v1/public/notices/{open_notice}/payments", timeout=30,
                           json={"citizen_id": "079085000002", "payer_name": "Phạm Văn Hùng"})
    assert public.status_code == 201, public.text
    started = public.json()
    token = urlsplit(started["status_url"]).path.rsplit("/", 1)[-1]
    pay_at_bank(stack, started["redirect_url"], PAYS)
    # A notice nobody has paid yet.
    _unpaid_code, unpaid_notice = file_dossier(stack, price=40_000_000_000)
    # A dossier still with the tax officer (a price far above the table asks for a person).
    waiting_code, _ = _file_without_confirming(stack)
    tax = Api(stack.app_url, "tax")
    pending = tax.get("/assessments").json()["items"]
    assessment = pending[0]["id"] if pending else None
    # A transfer with no notice code in its purpose: an item for the accountant.
    requests.post(f"{stack.bank_url}/test/credit", timeout=30,
                  json={"amount": 700_000, "purpose": "NOP TIEN DAT"})
    items = Api(stack.app_url, "accountant").get("/reconciliation/items").json()["items"]

    help_pages = ["/help/"] + [f"/help/{topic}" for topic in TOPICS]
    officers_dossier = [f"/registry/dossiers/{paid_code}", f"/registry/dossiers/{open_code}",
                        f"/clocks/{paid_code}", f"/clocks/{paid_code}/apologies"]
    return Scene(walks=[
        ("public", None, ["/", "/login", "/verify", f"/verify?number={receipt}", "/pay/",
                          f"/pay/payments/{token}", f"/pay/payments/{token}/receipt",
                          "/api/v1/docs", *help_pages, MISSING]),
        ("landholder", "binh", ["/me/", f"/me/notices/{paid_notice}", f"/me/notices/{unpaid_notice}", f"/me/payments/{payment['ref']}",
                                f"/me/payments/{declined['ref']}",
                                f"/me/receipts/{receipt}", f"/decisions/dossiers/{paid_code}",
                                f"/decisions/dossiers/{open_code}", "/me/contact", "/help/paying"]),
        ("registry officer", "registry", ["/registry/", "/registry/dossiers/new",
                                          "/registry/dossiers/new?q=079080000001", *officers_dossier,
                                          f"/registry/dossiers/{waiting_code}", "/tax/calculator"]),
        ("tax officer", "tax", ["/tax/", *([f"/tax/assessments/{assessment}"] if assessment else []),
                                f"/clocks/{waiting_code}", "/tax/calculator",
                                "/tax/calculator?procedure=land_rent_annual",
                                "/tax/calculator?procedure=late_interest"]),
        ("accountant", "accountant", ["/accounting/", *[f"/accounting/items/{i['id']}" for i in items[:1]]]),
        ("supervisor", "supervisor", ["/supervision/", "/supervision/late", f"/clocks/{paid_code}"]),
        ("admin", "admin", ["/admin/", "/registry/", "/tax/", "/accounting/", "/supervision/"]),
    ])


def _file_without_confirming(stack) -> tuple[str, int | None]:
    registry = Api(stack.app_url, "registry")
    parcel = next(p for p in registry.get("/parcels").json()["items"]
                  if p["holder"]["citizen_id"] == "079080000001" and p["open_dossier"] is None
                  and p["land_type"] == "residential")
    created = registry.post("/dossiers", {
        "parcel_id": parcel["id"], "transferor": parcel["holder"],
        "transferee": {"full_name": "Lê Văn Cường", "citizen_id": "079090000004"},
        "declared_price": 900_000_000_000, "tax_payer_clause": "buyer_pays_all"})
    assert created.status_code == 201, created.text
    return created.json()["code"], (created.json().get("assessment") or {}).get("id")


@pytest.fixture(scope="module")
def scene(stack) -> Scene:
    return _build(stack)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.load()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> Path:
    chosen = os.environ.get("LANDPAY_TEST_ARTIFACTS")
    if chosen:
        path = Path(chosen) / "walks"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("walks")


# ----------------------------------------------------------------------------- the walk

def _context(browser, viewport):
    context = browser.new_context(viewport=viewport, locale="vi-VN", is_mobile=viewport is PHONE,
                                  has_touch=viewport is PHONE)
    # axe-core is loaded into every page as it opens, rather than sent again for each check.
    context.add_init_script(script=AXE.axe_script)
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


def _login(page, stack, username: str, lang: str) -> None:
    page.goto(stack.app_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login")
    page.wait_for_load_state("load")
    _choose(page, lang)


def _choose(page, lang: str) -> None:
    button = page.locator(f"header button[lang={lang}]")
    if "current" not in (button.get_attribute("class") or ""):
        button.click()
        page.wait_for_load_state("load")


def _check(page, url: str, lang: str, catalogue: Catalogue, shot: Path) -> list[str]:
    """Everything wrong with the page at ``url``, in words."""
    found = []
    response = page.goto(url)
    expected = 404 if url.endswith(MISSING) else 200
    if response is None or response.status != expected:
        found.append(f"answered {response.status if response else 'nothing'}, not {expected}")
    width, client = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if width > client:
        culprits = page.evaluate("""(w) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(-4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className)""", client)
        found.append(f"scrolls sideways ({width} px in {client}): {culprits}")
    if (h1 := page.locator("h1").count()) != 1:
        found.append(f"{h1} h1")
    if page.locator("a.skip-link[href='#main']").count() != 1 or page.locator("#main").count() != 1:
        found.append("no skip link to #main")
    uncaptioned = page.evaluate("""() => [...document.querySelectorAll('table')]
        .filter(t => !(t.caption && t.caption.textContent.trim()) && !t.getAttribute('aria-label')
                     && !t.getAttribute('aria-labelledby')).map(t => t.id || t.className || 'table')""")
    if uncaptioned:
        found.append(f"tables without a caption: {uncaptioned}")
    violations = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
               for v in violations if v["impact"] in ("serious", "critical")]
    if serious:
        found.append(f"axe: {serious}")
    if lang == "vi":
        texts = page.evaluate(TEXTS_JS)
        left = catalogue.untranslated(texts, " ".join(texts))
        if left:
            found.append(f"left in English: {left}")
    # The whole page, unless it is very long (the API reference): then what the screen shows.
    tall = page.evaluate("() => document.documentElement.scrollHeight") > 6000
    page.screenshot(path=str(shot), full_page=not tall, timeout=60_000)
    return found


@pytest.mark.parametrize(("viewport", "lang"), [(PHONE, "vi"), (PHONE, "en"), (DESKTOP, "vi"), (DESKTOP, "en")],
                         ids=["phone-vi", "phone-en", "desktop-vi", "desktop-en"])
def test_each_role_walks_every_page(stack, browser, scene, catalogue, artefacts, viewport, lang):
    size = "phone" if viewport is PHONE else "desktop"
    problems: dict[str, list[str]] = {}
    visited = 0
    for role, username, paths in scene.walks:
        context, page = _context(browser, viewport)
        try:
            if username:
                _login(page, stack, username, lang)
            else:
                page.goto(stack.app_url + "/")
                _choose(page, lang)
            for path in paths:
                name = re.sub(r"\W+", "-", f"{size}-{lang}-{role}{path}").strip("-")
                found = _check(page, stack.app_url + path, lang, catalogue, artefacts / f"{name}.png")
                found += [p for p in page.problems
                          if not (path == MISSING and ("404" in p and MISSING in p or "status of 404" in p))]
                page.problems.clear()
                visited += 1
                if found:
                    problems[f"{role} {path}"] = found
            if role == "landholder":
                found = _pay_button_fits(page, stack, viewport)
                if found:
                    problems[f"{role} pay button"] = found
        finally:
            context.close()
    assert visited >= 45
    assert problems == {}, "\n".join(f"{where}: {what}" for where, what in problems.items())


def _pay_button_fits(page, stack, viewport) -> list[str]:
    """On an unpaid notice, the pay button is on the screen, large enough to tap, and nothing
    covers it."""
    page.goto(stack.app_url + "/me/")
    links = [a.get_attribute("href") for a in page.locator("#notices a[href^='/me/notices/']").all()]
    for href in links:
        page.goto(stack.app_url + href)
        if page.locator("#pay").count():
            break
    else:
        return ["no unpaid notice with a pay button"]
    pay = page.locator("#pay")
    pay.scroll_into_view_if_needed()
    box = pay.bounding_box()
    found = []
    if not (box and box["height"] >= 40 and box["x"] + box["width"] <= viewport["width"]):
        found.append(f"pay button box {box}")
    covered = page.evaluate("() => { const b = document.querySelector('#pay').getBoundingClientRect();"
                            " const e = document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2);"
                            " return !(e && (e.id === 'pay' || e.closest('#pay') !== null)); }")
    if covered:
        found.append("the pay button is covered")
    return found


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_test_bank_pages_fit_a_phone_in_both_languages(stack, browser, artefacts, lang):
    """The payer's side of the bank: its checkout page and its banking app, at a phone's
    width, Vietnamese unless English is chosen (in Vietnamese, none of the bank's own English
    words left)."""
    from mock_bank.i18n import VI

    _code, notice = file_dossier(stack, price=30_000_000_000)
    started = requests.post(f"{stack.app_url}/api/v1/public/notices/{notice}/payments", timeout=30,
                            json={"citizen_id": "079085000002", "payer_name": "Phạm Văn Hùng"}).json()
    checkout = started["redirect_url"] + ("&lang=en" if lang == "en" else "")
    context, page = _context(browser, PHONE)
    problems = {}
    try:
        for name, url in (("checkout", checkout), ("banking-app", f"{stack.bank_url}/app/login")):
            found = []
            response = page.goto(url)
            if response is None or response.status != 200:
                found.append(f"answered {response.status if response else 'nothing'}")
            if page.evaluate("() => document.documentElement.scrollWidth > document.documentElement.clientWidth"):
                found.append("scrolls sideways")
            if page.locator("h1").count() != 1:
                found.append("not one h1")
            if page.locator("html").get_attribute("lang") != lang:
                found.append(f"html lang {page.locator('html').get_attribute('lang')}")
            violations = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
            found += [f"axe: {v['id']}" for v in violations if v["impact"] in ("serious", "critical")]
            if lang == "vi":
                texts = set(page.evaluate(TEXTS_JS))
                found += [f"left in English: {english}" for english, vi in VI.items()
                          if english != vi and english in texts]
            found += page.problems
            page.problems.clear()
            page.screenshot(path=str(artefacts / f"phone-{lang}-bank-{name}.png"), full_page=True)
            if found:
                problems[name] = found
    finally:
        context.close()
    assert problems == {}
