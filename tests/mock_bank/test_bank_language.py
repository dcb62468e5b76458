"""The test bank's pages speak Vietnamese unless English is asked for (``?lang=en``, kept in a
cookie, or the browser's Accept-Language); the checkout follows the merchant's lp_locale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bankkit import checkout_params

import mock_bank
from mock_bank import accounts, forms
from mock_bank.i18n import VI


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


@pytest.mark.parametrize("path", ["/", "/app/login", "/admin/transactions"])
def test_pages_are_vietnamese_by_default_and_english_on_request(app, path):
    client = app.test_client()
    vi = client.get(path).get_data(as_text=True)
    assert '<html lang="vi">' in vi
    assert "?lang=en" in vi  # the way to English is on the page
    en = client.get(path + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en
    # The choice is remembered for the next page.
    assert '<html lang="en">' in client.get(path).get_data(as_text=True)
    # A browser that prefers English gets English without asking.
    other = app.test_client().get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in other.get_data(as_text=True)


def test_the_banking_app_sign_in_in_vietnamese_has_no_english_left(app):
    html = app.test_client().get("/app/login").get_data(as_text=True)
    visible = _text(html.split("<body>", 1)[1])
    for english in ("Banking app", "Username", "Password", "Sign in", "Test customers", "Opening balance"):
        assert english not in visible, english
    assert VI["Sign in"] in html and VI["Test customers"] in html


def test_the_checkout_follows_the_merchant_locale_and_the_payer_choice(app):
    client = app.test_client()
    vi = client.get("/checkout", query_string=checkout_params(lp_locale="vn")).get_data(as_text=True)
    assert "Số tiền" in vi and 'value="Thanh toán"' in vi and "Bị từ chối: không đủ số dư" in vi
    en = client.get("/checkout", query_string=checkout_params(lp_locale="en")).get_data(as_text=True)
    assert "Amount" in en and 'value="Pay"' in en and "Declined: insufficient funds" in en
    chosen = client.get("/checkout", query_string={**checkout_params(lp_locale="vn"), "lang": "en"})
    assert 'value="Cancel payment"' in chosen.get_data(as_text=True)


def test_a_refusal_is_worded_in_the_language(app):
    params = checkout_params() | {"lp_merchant_id": "NOBODY"}
    vi = app.test_client().get("/checkout", query_string=params).get_data(as_text=True)
    assert VI["This merchant is not registered with the bank."] in vi
    en = app.test_client().get("/checkout", query_string={**params, "lang": "en"}).get_data(as_text=True)
    assert "This merchant is not registered with the bank." in en


def _english_of_the_bank() -> set[str]:
    """Every English text the bank's pages can show: the words of its templates, its form
    labels, its test accounts and results, and the messages of its refusals."""
    root = Path(mock_bank.__file__).parent
    texts: set[str] = set()
    for template in (root / "templates").rglob("*.html"):
        texts |= set(re.findall(r"""\bt\(\s*"([^"]+)"\s*\)""", template.read_text(encoding="utf-8")))
        texts |= set(re.findall(r"""\bt\(\s*'([^']+)'\s*\)""", template.read_text(encoding="utf-8")))
    for module in root.glob("*.py"):
        source = module.read_text(encoding="utf-8")
        texts |= set(re.findall(r"""Refused\(\s*"[a-z_]+",\s*"([^"{}]+)"\s*[,)]""", source))
        texts |= set(re.findall(r"""(?:TransferRefused|BadPayload)\(\s*"([^"{}]+)"\s*\)""", source))
        texts |= set(re.findall(r"""\b(?:error|reason|message)\s*=\s*"([^"{}]+)"\s*""", source))
    texts |= {a.label for a in accounts.ACCOUNTS.values()} | set(accounts.RESULT_TEXT.values())
    for form in (forms.CheckoutForm, forms.LoginForm, forms.ScanForm, forms.ConfirmForm):
        texts |= {f.args[0] for f in vars(form).values() if getattr(f, "args", None)
                  and isinstance(f.args[0], str)}
    return texts


def test_every_english_text_of_the_bank_has_vietnamese():
    texts = _english_of_the_bank()
    assert {"Pay", "Sign in", "Insufficient funds.", "Pays, notification delayed",
            "This merchant is not registered with the bank."} <= texts  # the collection works
    assert sorted(t for t in texts if t not in VI) == []


@pytest.mark.parametrize(("english", "vietnamese"), [
    ("The field lp_amount is missing or malformed.", "Trường lp_amount bị thiếu hoặc sai định dạng."),
    ("field 54 is repeated", "trường 54 bị lặp lại"),
    ("broken field header at position 12", "phần đầu trường bị hỏng tại vị trí 12"),
])
def test_messages_with_a_name_in_them_are_worded_in_vietnamese(app, english, vietnamese):
    from mock_bank.i18n import t

    with app.test_request_context("/"):
        assert t(english) == vietnamese
    with app.test_request_context("/?lang=en"):
        assert t(english) == english
