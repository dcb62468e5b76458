"""The bank-gateway client, against a real test bank on loopback."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from flask import Flask, jsonify, request
from paykit import MERCHANT, SECRET, serving

import mock_bank
from payments.errors import GatewayError, MalformedNotification, PaymentError, SignatureError
from payments.gateway import BankGateway, BankResult, IpnCode, ipn_response
from payments.ipn import decide_notification
from payments.signing import SIGNATURE_FIELD, signed, verify_params
from payments.states import PaymentStatus, check_transition

NOW = datetime(2025, 3, 1, 8, 30, 15, tzinfo=UTC)


def gateway(url="http://bank.invalid", secret=SECRET, **kw):  # type: ignore[no-untyped-def]
    return BankGateway(url, MERCHANT, secret, **kw)


def checkout(gw, order_ref="PAY-1", created=None, **kw):  # type: ignore[no-untyped-def]
    args = dict(
        order_ref=order_ref,
        amount=12_500_000,
        description="Nộp lệ phí trước bạ TB-2025-000123",
        return_url="https://landpay.example/payments/return",
        created_at=created or datetime.now(UTC),
    )
    args.update(kw)
    return gw.checkout_url(**args)


def test_checkout_url_matches_the_documented_example():
    url = checkout(gateway("https://bank.example/"), "PAY-20250301-0001", NOW)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "bank.example", "/checkout")
    params = dict(parse_qsl(parts.query))
    assert params["lp_create_date"] == "20250301083015"
    assert params["lp_amount"] == "12500000"
    assert params[SIGNATURE_FIELD] == (
        "3821b9f9967af597b90cccf480a35a36445852e49eb4be3f7b1fe2bb498ea585"
        "86d5f8b7a68f8917e619dc7791b856550aba41b097b6d3b8f0493f1b2f0336f7"
    )


def test_create_time_is_converted_to_utc():
    hanoi = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh"))
    params = dict(parse_qsl(urlsplit(checkout(gateway(), created=hanoi)).query))
    assert params["lp_create_date"] == "20250301083015"


@pytest.mark.parametrize(
    "bad",
    [
        {"amount": 0},
        {"amount": -5},
        {"amount": 1.5},
        {"amount": True},
        {"amount": 10**15},
        {"order_ref": "has space"},
        {"order_ref": ""},
        {"locale": "fr"},
        {"description": ""},
        {"description": "x" * 256},
        {"return_url": "/relative"},
        {"created": datetime(2025, 3, 1)},
    ],
)
def test_checkout_refuses_bad_arguments(bad):
    with pytest.raises(ValueError):
        checkout(gateway(), **bad)


def test_secret_is_required_and_not_shown():
    with pytest.raises(ValueError):
        BankGateway("http://x", MERCHANT, "")
    assert SECRET not in repr(gateway())


def result_params(**over):  # type: ignore[no-untyped-def]
    params = {
        "lp_version": "1",
        "lp_merchant_id": MERCHANT,
        "lp_order_ref": "PAY-1",
        "lp_amount": "12500000",
        "lp_order_info": "x",
        "lp_response_code": "00",
        "lp_transaction_no": "MB1",
        "lp_pay_date": "20250301083152",
    }
    params.update(over)
    return signed(params, SECRET)


@pytest.mark.parametrize("method", ["parse_return", "parse_notification"])
def test_parse_result(method):
    result = getattr(gateway(), method)(result_params() | {"other": "ignored"})
    assert result == BankResult(
        "PAY-1", 12_500_000, True, "MB1", "00", datetime(2025, 3, 1, 8, 31, 52, tzinfo=UTC), {}
    )
    assert result.paid_at.tzinfo is UTC
    assert "other" not in result.raw


def test_failed_result_has_no_paid_at():
    result = gateway().parse_notification(result_params(lp_response_code="51"))
    assert not result.succeeded and result.paid_at is None and result.response_code == "51"


@pytest.mark.parametrize("method", ["parse_return", "parse_notification"])
def test_bad_signatures(method):
    parse = getattr(gateway(), method)
    with pytest.raises(SignatureError):
        parse(result_params() | {"lp_amount": "1"})
    unsigned = result_params()
    del unsigned[SIGNATURE_FIELD]
    with pytest.raises(SignatureError):
        parse(unsigned)
    with pytest.raises(SignatureError):
        gateway(secret="other").__getattribute__(method)(result_params())


@pytest.mark.parametrize(
    "over",
    [
        {"lp_amount": "abc"},
        {"lp_amount": ""},
        {"lp_order_ref": ""},
        {"lp_response_code": "0"},
        {"lp_pay_date": "2025-03-01"},
        {"lp_transaction_no": ""},
        {"lp_merchant_id": "OTHER"},
        {"lp_transaction_no": "bad ref"},
    ],
)
def test_malformed_notifications(over):
    with pytest.raises(MalformedNotification) as info:
        gateway().parse_notification(result_params(**over))
    assert isinstance(info.value, PaymentError)


def test_query_not_found(bank_url):
    assert gateway(bank_url).query("PAY-NONE") is None


def test_query_after_payment_without_notification(bank_url):
    gw = gateway(bank_url)
    params = dict(parse_qsl(urlsplit(checkout(gw, "PAY-Q")).query))
    paid = requests.post(
        f"{bank_url}/test/pay", data=params | {"test_account": "9704000000000042"}, timeout=5
    ).json()
    result = gw.query("PAY-Q")
    assert result is not None
    assert result.succeeded and result.amount == 12_500_000 and result.order_ref == "PAY-Q"
    assert result.bank_ref == paid["transaction_no"]
    assert result.response_code == "00"
    assert result.paid_at is not None and result.paid_at.tzinfo is not None


def test_query_of_declined_payment(bank_url):
    gw = gateway(bank_url)
    params = dict(parse_qsl(urlsplit(checkout(gw, "PAY-D")).query))
    requests.post(
        f"{bank_url}/test/pay", data=params | {"test_account": "9704000000000026"}, timeout=5
    )
    result = gw.query("PAY-D")
    assert result is not None and not result.succeeded and result.response_code == "51"


def test_query_with_wrong_secret_is_a_gateway_error(bank_url):
    with pytest.raises(GatewayError):
        gateway(bank_url, secret="wrong").query("PAY-1")


def test_query_unreachable_bank():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(GatewayError):
        gateway(f"http://127.0.0.1:{port}").query("PAY-1")


def fake_bank(handler):  # type: ignore[no-untyped-def]
    app = Flask("fake")
    app.post("/api/query")(handler)
    return serving(app)


def test_query_answer_signed_with_another_key():
    def handler():  # type: ignore[no-untyped-def]
        return jsonify(signed({"lp_response_code": "91", "lp_order_ref": "PAY-1"}, "nope"))

    with fake_bank(handler) as url, pytest.raises(SignatureError):
        gateway(url).query("PAY-1")


def test_query_answer_about_another_order():
    def handler():  # type: ignore[no-untyped-def]
        return jsonify(signed({"lp_response_code": "91", "lp_order_ref": "PAY-2"}, SECRET))

    with fake_bank(handler) as url, pytest.raises(GatewayError):
        gateway(url).query("PAY-1")


@pytest.mark.parametrize(
    "answer",
    [
        ("boom", 500),
        ("not json", 200),
        ("[1]", 200),
        ('{"lp_response_code": 5}', 200),
        ('{"lp_response_code": "97"}', 200),
        ('{"lp_response_code": "03"}', 200),
    ],
)
def test_query_bad_answers(answer):
    with fake_bank(lambda: answer) as url, pytest.raises(GatewayError):
        gateway(url).query("PAY-1")


def test_query_timeout():
    release = threading.Event()

    def handler():  # type: ignore[no-untyped-def]
        release.wait(2)
        return jsonify({})

    with fake_bank(handler) as url:
        with pytest.raises(GatewayError):
            gateway(url, timeout=0.2).query("PAY-1")
        release.set()


def test_query_sends_signed_form(bank_url):
    seen = {}

    def handler():  # type: ignore[no-untyped-def]
        seen.update(request.form.to_dict())
        return jsonify(signed({"lp_response_code": "91", "lp_order_ref": "PAY-1"}, SECRET))

    with fake_bank(handler) as url:
        assert gateway(url).query("PAY-1", now=NOW) is None
    assert verify_params(seen, SECRET)
    assert seen["lp_command"] == "query" and seen["lp_request_date"] == "20250301083015"
    assert seen["lp_request_id"]


# -- end to end: our gateway and decision against the test bank ------------------------------


class Merchant:
    """A tiny merchant: orders in memory, notifications handled with payments' own code."""

    def __init__(self) -> None:
        self.orders: dict[str, dict] = {}
        self.answers: list[str] = []
        self.gateway: BankGateway | None = None
        self.lock = threading.Lock()

    def app(self) -> Flask:
        app = Flask("merchant")

        @app.post("/notify")
        def notify():  # type: ignore[no-untyped-def]
            assert self.gateway is not None
            with self.lock:
                try:
                    result = self.gateway.parse_notification(request.form.to_dict())
                    ok = True
                except (SignatureError, MalformedNotification):
                    result, ok = None, False
                order = self.orders.get(result.order_ref) if result else None
                code, new = decide_notification(
                    result,
                    signature_ok=ok,
                    order_found=order is not None,
                    order_amount=order["amount"] if order else None,
                    order_status=order["status"] if order else None,
                )
                if new is not None:
                    check_transition(order["status"], new)
                    order["status"] = new
                    order["bank_ref"] = result.bank_ref
                self.answers.append(code.value)
            return jsonify(ipn_response(code))

        return app


@pytest.fixture
def e2e(tmp_path):  # type: ignore[no-untyped-def]
    merchant = Merchant()
    with serving(merchant.app()) as merchant_url:
        bank = mock_bank.create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path}/bank.sqlite3",
                "MERCHANTS": f"{MERCHANT}:{SECRET}:{merchant_url}/notify",
                "SECRET_KEY": "k",
                "TEST_HOOKS": True,
                "IPN_BACKOFF": [0.0],
            }
        )
        with serving(bank) as bank_url:
            merchant.gateway = gateway(bank_url)
            yield merchant, bank_url


def start_payment(merchant, bank_url, ref, amount=12_500_000):  # type: ignore[no-untyped-def]
    merchant.orders[ref] = {"amount": amount, "status": PaymentStatus.STARTED}
    return dict(parse_qsl(urlsplit(checkout(merchant.gateway, ref, amount=amount)).query))


@pytest.mark.e2e
def test_e2e_paid_once_even_with_duplicate_and_replay(e2e):
    merchant, bank_url = e2e
    params = start_payment(merchant, bank_url, "PAY-E1")
    paid = requests.post(
        f"{bank_url}/test/pay", data=params | {"test_account": "9704000000000034"}, timeout=10
    ).json()
    assert merchant.orders["PAY-E1"]["status"] is PaymentStatus.SUCCEEDED
    assert merchant.answers == ["00", "02"]
    requests.post(f"{bank_url}/test/renotify/{paid['transaction_no']}", timeout=10)
    assert merchant.answers == ["00", "02", "02"]
    shown = merchant.gateway.parse_return(dict(parse_qsl(urlsplit(paid["return_url"]).query)))
    assert shown.succeeded and shown.bank_ref == merchant.orders["PAY-E1"]["bank_ref"]


@pytest.mark.e2e
def test_e2e_declined_is_processed_with_00(e2e):
    merchant, bank_url = e2e
    params = start_payment(merchant, bank_url, "PAY-E2")
    requests.post(
        f"{bank_url}/test/pay", data=params | {"test_account": "9704000000000026"}, timeout=10
    )
    assert merchant.orders["PAY-E2"]["status"] is PaymentStatus.FAILED
    assert merchant.answers == ["00"]


@pytest.mark.e2e
def test_e2e_wrong_amount_and_unknown_order(e2e):
    merchant, bank_url = e2e
    params = start_payment(merchant, bank_url, "PAY-E3")
    merchant.orders["PAY-E3"]["amount"] = 1  # our record disagrees with what the bank took
    answer = requests.post(
        f"{bank_url}/test/pay", data=params | {"test_account": "9704000000000018"}, timeout=10
    ).json()
    assert [n["rsp_code"] for n in answer["notifications"]] == ["04"]
    params = start_payment(merchant, bank_url, "PAY-E4")
    del merchant.orders["PAY-E4"]
    answer = requests.post(
        f"{bank_url}/test/pay", data=params | {"test_account": "9704000000000018"}, timeout=10
    ).json()
    assert [n["rsp_code"] for n in answer["notifications"]] == ["01"]


@pytest.mark.e2e
def test_e2e_silent_bank_is_settled_by_query(e2e):
    merchant, bank_url = e2e
    params = start_payment(merchant, bank_url, "PAY-E5")
    requests.post(
        f"{bank_url}/test/pay", data=params | {"test_account": "9704000000000042"}, timeout=10
    )
    assert merchant.answers == []
    result = merchant.gateway.query("PAY-E5")
    assert result is not None
    code, new = decide_notification(
        result,
        signature_ok=True,
        order_found=True,
        order_amount=12_500_000,
        order_status=PaymentStatus.STARTED,
    )
    assert (code, new) == (IpnCode.OK, PaymentStatus.SUCCEEDED)


def test_expired_checkout_window_is_reported_as_failure(e2e):
    merchant, bank_url = e2e
    merchant.orders["PAY-E6"] = {"amount": 12_500_000, "status": PaymentStatus.STARTED}
    old = datetime.now(UTC) - timedelta(minutes=20)
    params = dict(parse_qsl(urlsplit(checkout(merchant.gateway, "PAY-E6", created=old)).query))
    answer = requests.post(
        f"{bank_url}/test/pay", data=params | {"test_account": "9704000000000018"}, timeout=10
    ).json()
    assert answer["response_code"] == "11"
    assert merchant.orders["PAY-E6"]["status"] is PaymentStatus.FAILED
