"""A landholder, in a real headless Chromium, pays a notice, then withdraws the dossier from
its page: the dossier ends, the notice is cancelled and the payment's refund is requested."""

from __future__ import annotations

import re

import pytest

from tests.browser.test_pay_in_browser import login, pay_at_the_bank
from tests.e2e.test_flow_http import Api, file_dossier

pytestmark = pytest.mark.browser


def test_landholder_withdraws_a_paid_dossier_and_is_refunded(stack, page):
    code, notice = file_dossier(stack)
    login(page, stack, "binh")
    page.goto(f"{stack.app_url}/me/notices/{notice}")
    assert pay_at_the_bank(page, stack, "9704000000000018") == "succeeded"

    page.goto(f"{stack.app_url}/me/notices/{notice}")
    page.click("#dossier-decisions")
    page.wait_for_url(re.compile(rf".*/decisions/dossiers/{code}$"))
    page.fill("#withdraw-reason", "Chúng tôi đã huỷ hợp đồng.")
    page.click("#withdraw")
    page.wait_for_selector("span.badge.withdrawn")
    assert not page.is_visible("#withdraw-form")
    history = page.inner_text("ol.events")
    assert "Chúng tôi đã huỷ hợp đồng." in history

    page.goto(f"{stack.app_url}/me/notices/{notice}")
    assert page.is_visible("#notice-cancelled")
    assert not page.is_visible("#pay")
    # The refund of everything paid is requested, as an event of the dossier.
    dossier = Api(stack.app_url, "registry").get(f"/dossiers/{code}").json()
    kinds = [e["kind"] for e in dossier["events"]]
    assert dossier["status"] == "withdrawn"
    assert kinds.index("dossier_withdrawn") < kinds.index("refund_requested")


def test_adjustment_after_payment_is_paid_on_an_additional_notice(stack, page, browser):
    """The buyer pays; the tax officer raises the price in the browser; the buyer sees why and
    pays the difference on the additional notice: one receipt for each notice."""
    from app.cli import DEMO_PASSWORD

    code, notice = file_dossier(stack)
    login(page, stack, "binh")
    page.goto(f"{stack.app_url}/me/notices/{notice}")
    assert pay_at_the_bank(page, stack, "9704000000000018") == "succeeded"

    registry = Api(stack.app_url, "registry")
    assessment = registry.get(f"/dossiers/{code}").json()["assessment"]
    officer = browser.new_context(locale="vi-VN").new_page()
    officer.goto(stack.app_url + "/login")
    officer.fill("input[name=username]", "tax")
    officer.fill("input[name=password]", DEMO_PASSWORD)
    officer.click("#login")
    officer.wait_for_url(re.compile(r".*/tax/$"))
    officer.goto(f"{stack.app_url}/tax/assessments/{assessment['id']}")
    price = registry.get(f"/dossiers/{code}").json()["declared_price"]
    officer.fill("#adjust-price", str(price + 1_000_000_000))
    officer.fill("#adjust-reason", "Giá khai thấp hơn giá chuyển nhượng phổ biến.")
    officer.click("#adjust")
    officer.wait_for_selector("#assessment-version")
    officer.context.close()

    dossier = registry.get(f"/dossiers/{code}").json()
    assert dossier["status"] == "awaiting_payment"
    additional = next(n for n in dossier["notices"] if n["status"] == "unpaid")
    page.goto(f"{stack.app_url}/me/notices/{additional['code']}")
    assert "Giá khai thấp hơn giá chuyển nhượng phổ biến." in page.inner_text("#decisions-history")
    assert pay_at_the_bank(page, stack, "9704000000000018") == "succeeded"

    dossier = registry.get(f"/dossiers/{code}").json()
    assert dossier["status"] == "paid"
    receipts = [p["receipt_number"] for p in dossier["payments"] if p["status"] == "succeeded"]
    assert len(receipts) == 2 and all(receipts)
