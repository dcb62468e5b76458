"""The refund call: the bank client against the test bank on loopback. The bank gives money
back to the account that paid, once per refund reference, never more than was paid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

import mock_bank
from payments.errors import GatewayError, SignatureError
from payments.gateway import BankGateway, BankProvider
from payments.signing import sign_params
from tests.mock_bank.bankkit import MERCHANT, OK_ACCOUNT, SECRET, serving

AMOUNT = 12_500_000


def _checkout(order_ref: str, amount: int = AMOUNT) -> dict[str, str]:
    params = {
        "lp_version": "1", "lp_command": "pay", "lp_merchant_id": MERCHANT,
        "lp_order_ref": order_ref, "lp_amount": str(amount), "lp_currency": "VND",
        "lp_order_info": "Nop le phi truoc ba", "lp_locale": "vn",
        "lp_return_url": "https://landpay.example/payments/return",
        "lp_create_date": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
    }
    params["lp_secure_hash"] = sign_params(params, SECRET)
    return params


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    path = tmp_path_factory.mktemp("bank") / "bank.sqlite3"
    app = mock_bank.create_app({
        "DATABASE_URL": f"sqlite:///{path}", "MERCHANTS": f"{MERCHANT}:{SECRET}:http://127.0.0.1:9/notify",
        "SECRET_KEY": "test-key", "TEST_HOOKS": True, "IPN_ATTEMPTS": 1, "IPN_TIMEOUT": 0.2,
        "IPN_BACKOFF": [0.0],
    })
    with serving(app) as url:
        yield url


def _paid(url: str, order_ref: str, amount: int = AMOUNT) -> str:
    body = dict(_checkout(order_ref, amount), test_account=OK_ACCOUNT)
    done = requests.post(f"{url}/test/pay", data=body, timeout=10).json()
    assert done["response_code"] == "00"
    return done["transaction_no"]


def _books(url: str) -> dict:
    return requests.get(f"{url}/test/books", timeout=5).json()


def test_the_client_is_a_provider():
    assert isinstance(BankGateway("http://x", MERCHANT, SECRET), BankProvider)


def test_refund_returns_the_money_once_per_reference(live):
    bank_no = _paid(live, "PAY-R1")
    gw = BankGateway(live, MERCHANT, SECRET)
    first = gw.refund(refund_ref="RF-1", order_ref="PAY-R1", bank_ref=bank_no, amount=2_000_000)
    assert first.succeeded and first.response_code == "00" and first.amount == 2_000_000
    assert first.bank_ref and first.refunded_at is not None
    again = gw.refund(refund_ref="RF-1", order_ref="PAY-R1", bank_ref=bank_no, amount=2_000_000)
    assert again.succeeded and again.bank_ref == first.bank_ref
    books = _books(live)
    assert books["orders"]["PAY-R1"]["refunded"] == 2_000_000
    assert books["refunded_to_accounts"][OK_ACCOUNT] >= 2_000_000
    # The rest can be refunded under another reference, and not a dong more.
    rest = gw.refund(refund_ref="RF-2", order_ref="PAY-R1", bank_ref=None, amount=AMOUNT - 2_000_000)
    assert rest.succeeded
    too_much = gw.refund(refund_ref="RF-3", order_ref="PAY-R1", bank_ref=None, amount=1)
    assert not too_much.succeeded and too_much.response_code == "03"
    assert _books(live)["orders"]["PAY-R1"]["refunded"] == AMOUNT


def test_refusals_come_back_with_their_code(live):
    bank_no = _paid(live, "PAY-R2")
    gw = BankGateway(live, MERCHANT, SECRET)
    assert gw.refund(refund_ref="RF-20", order_ref="PAY-R2", bank_ref=bank_no, amount=10).succeeded
    reused = gw.refund(refund_ref="RF-20", order_ref="PAY-R2", bank_ref=bank_no, amount=11)
    assert not reused.succeeded and reused.response_code == "94"
    unknown = gw.refund(refund_ref="RF-21", order_ref="PAY-NONE", bank_ref=None, amount=10)
    assert not unknown.succeeded and unknown.response_code == "02"
    other_txn = gw.refund(refund_ref="RF-22", order_ref="PAY-R2", bank_ref="MBWRONG", amount=10)
    assert other_txn.response_code == "02"
    assert _books(live)["orders"]["PAY-R2"]["refunded"] == 10


def test_wrong_secret_and_unreachable_bank_are_errors_to_retry(live):
    _paid(live, "PAY-R3")
    with pytest.raises((GatewayError, SignatureError)):
        BankGateway(live, MERCHANT, "another-secret").refund(
            refund_ref="RF-30", order_ref="PAY-R3", bank_ref=None, amount=10)
    with pytest.raises(GatewayError):
        BankGateway("http://127.0.0.1:9", MERCHANT, SECRET, timeout=0.5).refund(
            refund_ref="RF-31", order_ref="PAY-R3", bank_ref=None, amount=10)
    assert _books(live)["orders"]["PAY-R3"]["refunded"] == 0


@pytest.mark.parametrize("bad", [dict(amount=0), dict(amount=True), dict(refund_ref="bad ref"),
                                 dict(order_ref="")])
def test_bad_arguments_are_refused_before_any_call(bad):
    args = dict(refund_ref="RF-1", order_ref="PAY-1", bank_ref=None, amount=10) | bad
    with pytest.raises(ValueError):
        BankGateway("http://127.0.0.1:9", MERCHANT, SECRET).refund(**args)


def test_a_transfer_credit_is_refunded_by_its_transaction_number(tmp_path):
    """Money that came by bank transfer to a collecting account has no card order: the bank
    finds it by its transaction number and returns it to the account it came from."""
    app = mock_bank.create_app({
        "DATABASE_URL": f"sqlite:///{tmp_path}/bank.sqlite3",
        "MERCHANTS": f"{MERCHANT}:{SECRET}:http://127.0.0.1:9/notify",
        "COLLECTING": f"0011001932418:{MERCHANT}:http://127.0.0.1:9/credits",
        "SECRET_KEY": "test-key", "TEST_HOOKS": True, "IPN_ATTEMPTS": 1, "CREDIT_ATTEMPTS": 1,
    })
    client = app.test_client()
    credit = client.post("/test/credit", json={"amount": 500_000, "payer_account": "1234567890",
                                               "notify": False})
    if credit.status_code == 404:
        pytest.skip("this test bank has no transfer credits")
    txn_no = credit.get_json()["transaction_id"]
    with serving(app) as url:
        gw = BankGateway(url, MERCHANT, SECRET)
        done = gw.refund(refund_ref="RF-T1", order_ref="TR-1", bank_ref=txn_no, amount=500_000)
        assert done.succeeded
        assert gw.refund(refund_ref="RF-T1", order_ref="TR-1", bank_ref=txn_no, amount=500_000).bank_ref \
            == done.bank_ref
        assert gw.refund(refund_ref="RF-T2", order_ref="TR-1", bank_ref=txn_no, amount=1).response_code == "03"
        assert gw.refund(refund_ref="RF-T3", order_ref="TR-1", bank_ref=None, amount=1).response_code == "02"
        assert _books(url)["refunded_to_accounts"] == {"1234567890": 500_000}
