"""A landholder pays by bank transfer, in a real headless Chromium: the notice's VietQR code,
photographed from the notice page, is uploaded in the mock bank's banking app, which reads it,
shows the payee, amount and notice code, and on confirmation notifies LandPay; the notice page
then shows the notice paid and its e-receipt."""

from __future__ import annotations

import re

import pytest

from app.cli import DEMO_PASSWORD
from tests.e2e.test_flow_http import file_dossier

pytestmark = pytest.mark.browser


def test_landholder_pays_by_vietqr_in_the_banking_app(stack, page, tmp_path):
    _code, notice = file_dossier(stack)
    page.goto(stack.app_url + "/login")
    page.fill("input[name=username]", "binh")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login")
    page.goto(f"{stack.app_url}/me/notices/{notice}")
    assert page.inner_text("#vietqr-code") == notice
    amount = re.sub(r"\D", "", page.inner_text("#vietqr-amount"))
    # The phone's camera: a picture of the code as the page shows it.
    picture = tmp_path / "vietqr.png"
    page.locator("#vietqr-image").screenshot(path=str(picture))

    page.goto(stack.bank_url + "/app/login")
    page.fill("input[name=username]", "lan")
    page.fill("input[name=password]", "bank-test-2026")
    page.click("input.pay, button.pay")
    page.wait_for_url(re.compile(re.escape(stack.bank_url) + r"/app/$"))
    page.set_input_files("input[name=image]", str(picture))
    page.click("input.pay, button.pay")
    # The bank read the code: our account, the amount due and the notice code.
    assert page.inner_text("#purpose") == notice
    assert re.sub(r"\D", "", page.inner_text("#amount")) == amount
    page.click("input.pay, button.pay")
    page.wait_for_selector("#done")

    page.goto(f"{stack.app_url}/me/notices/{notice}")
    for _ in range(50):  # the bank notifies LandPay by itself, within a moment
        if page.locator("a[href*='/me/receipts/']").count():
            break
        page.wait_for_timeout(200)
        page.reload()
    page.click("a[href*='/me/receipts/']")
    page.wait_for_selector("#receipt-number")
    assert re.sub(r"\D", "", page.inner_text("#receipt-total")) == amount
    page.screenshot(path=str(tmp_path / "receipt.png"))
