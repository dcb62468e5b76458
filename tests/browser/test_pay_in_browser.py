"""A landholder, in a real headless Chromium, logs in, opens the notice, pays at the
mock bank and sees the receipt."""

from __future__ import annotations

import re

import pytest

from app.cli import DEMO_PASSWORD
from tests.e2e.test_flow_http import file_dossier

pytestmark = pytest.mark.browser


def login(page, stack, username, home=r".*/me/$"):
    page.goto(stack.app_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login")
    page.wait_for_url(re.compile(home))


def pay_at_the_bank(page, stack, account: str) -> str:
    """From the notice page: pay, choose the test account at the bank, confirm, come back;
    returns the payment state the return page shows."""
    page.click("#pay")
    page.wait_for_url(re.compile(re.escape(stack.bank_url) + r"/checkout"))
    page.check(f"input[value='{account}']")
    page.click("input.pay, button.pay")
    page.wait_for_url(re.compile(re.escape(stack.app_url) + r"/me/bank-return"))
    return page.get_attribute("#payment-state", "data-status")


def test_landholder_pays_and_gets_the_receipt(stack, page, tmp_path):
    code, notice = file_dossier(stack)
    login(page, stack, "binh")
    page.click(f"text={notice}")
    assert page.inner_text("#notice-code") == notice
    total = page.inner_text("#notice-total")
    # Each amount is explained with its legal basis.
    assert "10/2022" in page.inner_text("table.lines")

    assert pay_at_the_bank(page, stack, "9704000000000018") == "succeeded"

    page.click("#receipt-link")
    page.wait_for_selector("#receipt-number")
    assert page.inner_text("#receipt-total") == total
    page.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)
    # The QR code of the signed receipt is a real image that loaded.
    page.wait_for_function("() => { const i = document.querySelector('.receipt img');"
                           " return i && i.complete && i.naturalWidth > 0; }")

    # The registry officer completes it: irreversible, so the first click only asks.
    page.context.clear_cookies()
    login(page, stack, "registry", home=r".*/registry/$")
    page.goto(f"{stack.app_url}/registry/dossiers/{code}")
    assert not page.is_visible("#complete")
    page.click("#complete-ask")
    page.click("#complete")
    page.wait_for_selector("#certificate-no")


def test_declined_payment_shows_retry(stack, page):
    _code, notice = file_dossier(stack)
    login(page, stack, "binh")
    page.goto(f"{stack.app_url}/me/notices/{notice}")
    assert pay_at_the_bank(page, stack, "9704000000000026") == "failed"
    # The bank's outcome in words, in the page's language, not a code.
    assert "không đủ số dư" in page.inner_text("#bank-outcome")
    # A retry is one step: straight back to the bank's checkout.
    page.click("#retry")
    page.wait_for_url(re.compile(re.escape(stack.bank_url) + r"/checkout"))
    page.goto(f"{stack.app_url}/me/notices/{notice}")
    assert page.is_visible("#pay")
