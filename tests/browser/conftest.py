from __future__ import annotations

import os
import shutil

import pytest

from tests.stack import start_stack

CHROMIUM = os.environ.get("LANDPAY_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """One web app and one bank for the browser tests (each test files its own dossiers)."""
    tmp = tmp_path_factory.mktemp("browser-stack")
    running = start_stack(tmp, f"sqlite:///{tmp / 'landpay.db'}")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is needed for the browser tests (looked for {CHROMIUM})")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()
