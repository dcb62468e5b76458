"""Someone without an account, in a real headless Chromium, opens a notice on /pay with its
code and the payer's citizen id, pays at the mock bank, and sees the result and the receipt
naming who paid and for whom, without ever logging in."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_flow_http import file_dossier

pytestmark = pytest.mark.browser


def test_anyone_pays_a_notice_from_the_pay_page(stack, page, tmp_path):
    _code, notice = file_dossier(stack)
    page.goto(stack.app_url + "/")
    page.click("header nav a[href='/pay/']")
    page.wait_for_url(re.compile(r".*/pay/$"))

    # A wrong citizen id first: the one answer, nothing typed is shown back.
    page.fill("input[name=code]", notice)
    page.fill("input[name=citizen_id]", "079070000003")
    page.click("#lookup")
    assert page.is_visible("#pay-error")
    assert page.input_value("input[name=code]") == ""

    page.fill("input[name=code]", notice.lower())
    page.fill("input[name=citizen_id]", "079085000002")
    page.click("#lookup")
    assert page.inner_text("#notice-code") == notice
    assert page.inner_text("#paid-for") == "T. T. Bình"
    assert "10/2022" in page.inner_text("#due-lines")  # each amount with its legal basis
    total = page.inner_text("#amount-due-today")
    page.wait_for_function("() => { const i = document.querySelector('#vietqr-image');"
                           " return i && i.complete && i.naturalWidth > 0; }")

    page.fill("input[name=payer_name]", "Phạm Văn Hùng")
    page.click("#pay")
    page.wait_for_url(re.compile(re.escape(stack.bank_url) + r"/checkout"))
    page.check("input[value='9704000000000018']")
    page.click("input.pay, button.pay")
    page.wait_for_url(re.compile(re.escape(stack.app_url) + r"/pay/payments/"))
    for _attempt in range(30):  # the bank's notification comes a moment after the browser
        if page.get_attribute("#payment-state", "data-status") == "succeeded":
            break
        page.wait_for_timeout(300)
        page.reload()
    assert page.get_attribute("#payment-state", "data-status") == "succeeded"
    assert page.inner_text("#payment-payer") == "Phạm Văn Hùng"

    page.click("#receipt-link")
    page.wait_for_selector("#receipt-number")
    assert page.inner_text("#receipt-payer") == "Phạm Văn Hùng"
    assert "Trần Thị Bình" in page.inner_text("#receipt-paid-for")
    assert page.inner_text("#receipt-total") == total
    page.screenshot(path=str(tmp_path / "public-receipt.png"), full_page=True)
    # Nobody logged in at any point: the header still offers to log in.
    assert page.is_visible("header nav a[href='/login']")
