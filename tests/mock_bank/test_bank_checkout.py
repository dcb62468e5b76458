"""The checkout page, driven like a browser through Flask's test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from bankkit import MERCHANT, OK_ACCOUNT, SECRET, checkout_params, csrf_token

from payments.signing import verify_params


def open_page(client, params):  # type: ignore[no-untyped-def]
    return client.get("/checkout", query_string=params)


def test_page_shows_amount_info_and_accounts(app):
    client = app.test_client()
    page = open_page(client, checkout_params())
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "12.500.000 ₫" in html
    assert "Nộp lệ phí trước bạ TB-2025-000123" in html
    assert "TEST BANK" in html
    for account in (
        "9704000000000018",
        "9704000000000026",
        "9704000000000034",
        "9704000000000042",
        "9704000000000059",
    ):
        assert account in html
    assert 'name="csrf_token"' in html
    assert "Hủy thanh toán" in html  # Vietnamese unless English is asked for


def test_english_locale(app):
    html = open_page(app.test_client(), checkout_params(lp_locale="en")).get_data(as_text=True)
    assert "Amount" in html


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"lp_amount": "12500001"}, "bad_signature"),
        ({"lp_secure_hash": "00" * 64}, "bad_signature"),
        ({"lp_secure_hash": ""}, "bad_signature"),
        ({"lp_merchant_id": "NOBODY"}, "unknown_merchant"),
    ],
)
def test_tampered_or_unknown_request_is_refused_clearly(app, change, kind):
    params = checkout_params() | change
    page = open_page(app.test_client(), params)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "Yêu cầu thanh toán bị từ chối" in html
    assert kind in html
    assert app.test_client().get("/admin/transactions.json").json["transactions"] == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("lp_amount", "0"),
        ("lp_amount", "012"),
        ("lp_amount", "1.5"),
        ("lp_currency", "USD"),
        ("lp_locale", "fr"),
        ("lp_return_url", "javascript:alert(1)"),
        ("lp_create_date", "2025-03-01"),
        ("lp_order_ref", "bad ref"),
        ("lp_version", "2"),
    ],
)
def test_malformed_signed_field_is_refused(app, field, value):
    page = open_page(app.test_client(), checkout_params(**{field: value}))
    assert page.status_code == 400
    assert field in page.get_data(as_text=True)


def test_expired_and_future_requests_are_refused(app):
    old = datetime.now(UTC) - timedelta(minutes=16)
    page = open_page(app.test_client(), checkout_params(created=old))
    assert page.status_code == 400 and "expired" in page.get_data(as_text=True)
    future = datetime.now(UTC) + timedelta(minutes=10)
    assert open_page(app.test_client(), checkout_params(created=future)).status_code == 400


def confirm(client, params, *, account=OK_ACCOUNT, button="confirm"):  # type: ignore[no-untyped-def]
    page = open_page(client, params)
    form = dict(params, csrf_token=csrf_token(page.get_data(as_text=True)), account=account)
    form[button] = "x"
    return client.post("/checkout", data=form)


def test_confirm_redirects_to_signed_return_url(app):
    client = app.test_client()
    response = confirm(client, checkout_params())
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc == "landpay.example" and location.path == "/payments/return"
    back = dict(parse_qsl(location.query))
    assert verify_params(back, SECRET)
    assert back["lp_response_code"] == "00"
    assert back["lp_order_ref"] == "PAY-0001"
    assert back["lp_amount"] == "12500000"
    assert back["lp_merchant_id"] == MERCHANT
    assert back["lp_transaction_no"].startswith("MB")
    assert len(back["lp_pay_date"]) == 14


def test_return_url_with_its_own_query_keeps_it(app):
    params = checkout_params(lp_return_url="https://landpay.example/r?attempt=2")
    location = confirm(app.test_client(), params).headers["Location"]
    back = dict(parse_qsl(urlsplit(location).query))
    assert back["attempt"] == "2"
    assert verify_params(back, SECRET)


def test_cancel_button_records_code_24(app):
    response = confirm(app.test_client(), checkout_params(), button="cancel")
    back = dict(parse_qsl(urlsplit(response.headers["Location"]).query))
    assert back["lp_response_code"] == "24"
    [txn] = app.test_client().get("/admin/transactions.json").json["transactions"]
    assert txn["response_code"] == "24" and txn["account"] is None


def test_declining_account(app):
    response = confirm(app.test_client(), checkout_params(), account="9704000000000026")
    back = dict(parse_qsl(urlsplit(response.headers["Location"]).query))
    assert back["lp_response_code"] == "51"


def test_csrf_token_is_required(app):
    client = app.test_client()
    open_page(client, checkout_params())
    response = client.post(
        "/checkout", data=dict(checkout_params(), account=OK_ACCOUNT, confirm="x")
    )
    assert response.status_code == 400
    assert "csrf" in response.get_data(as_text=True)
    assert client.get("/admin/transactions.json").json["transactions"] == []


def test_csrf_token_from_another_session_is_refused(app):
    token = csrf_token(open_page(app.test_client(), checkout_params()).get_data(as_text=True))
    other = app.test_client()
    response = other.post(
        "/checkout", data=dict(checkout_params(), csrf_token=token, account=OK_ACCOUNT, confirm="x")
    )
    assert response.status_code == 400


def test_hidden_fields_tampered_after_page_load_are_refused(app):
    client = app.test_client()
    params = checkout_params()
    token = csrf_token(open_page(client, params).get_data(as_text=True))
    response = client.post(
        "/checkout",
        data=dict(params, lp_amount="1", csrf_token=token, account=OK_ACCOUNT, confirm="x"),
    )
    assert response.status_code == 400
    assert "bad_signature" in response.get_data(as_text=True)


def test_unknown_account_is_refused(app):
    response = confirm(app.test_client(), checkout_params(), account="1234")
    assert response.status_code == 400
    assert app.test_client().get("/admin/transactions.json").json["transactions"] == []


def test_order_ref_is_accepted_once(app):
    client = app.test_client()
    assert confirm(client, checkout_params()).status_code == 302
    again = open_page(client, checkout_params())
    assert again.status_code == 409
    assert len(client.get("/admin/transactions.json").json["transactions"]) == 1


def test_confirm_after_window_records_expired(app):
    client = app.test_client()
    params = checkout_params(created=datetime.now(UTC) - timedelta(minutes=14))
    token = csrf_token(open_page(client, params).get_data(as_text=True))
    app.extensions["mock_bank"]["config"]["CLOCK"] = lambda: (
        datetime.now(UTC) + timedelta(minutes=5)
    )
    response = client.post(
        "/checkout", data=dict(params, csrf_token=token, account=OK_ACCOUNT, confirm="x")
    )
    back = dict(parse_qsl(urlsplit(response.headers["Location"]).query))
    assert back["lp_response_code"] == "11"


def test_admin_page_lists_transactions(app):
    confirm(app.test_client(), checkout_params())
    html = app.test_client().get("/admin/transactions").get_data(as_text=True)
    assert "PAY-0001" in html and "12.500.000 ₫" in html
    # the notification URL of the app fixture refuses connections: the attempt is recorded
    assert "ConnectionError" in html


def test_unknown_page_is_404(app):
    assert app.test_client().get("/nope").status_code == 404
    assert app.test_client().get("/api/nope").json["error"] == "not_found"
