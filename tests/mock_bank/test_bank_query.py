"""The status query endpoint."""

from __future__ import annotations

import requests
from bankkit import SECRET, SILENT_ACCOUNT, checkout_params, query_params

from payments.signing import verify_params


def query(bank, params):  # type: ignore[no-untyped-def]
    response = requests.post(f"{bank.url}/api/query", data=params, timeout=5)
    assert response.status_code == 200
    return response.json()


def test_not_found_is_signed(bank):
    answer = query(bank, query_params("PAY-NONE"))
    assert answer["lp_response_code"] == "91"
    assert answer["lp_order_ref"] == "PAY-NONE"
    assert answer["lp_request_id"] == "Q-1"
    assert verify_params(answer, SECRET)


def test_found_after_silent_payment(bank):
    body = dict(checkout_params("PAY-9"), test_account=SILENT_ACCOUNT)
    paid = requests.post(f"{bank.url}/test/pay", data=body, timeout=5).json()
    assert bank.receiver.received == []
    answer = query(bank, query_params("PAY-9"))
    assert verify_params(answer, SECRET)
    assert answer["lp_response_code"] == "00"
    assert answer["lp_transaction_status"] == "00"
    assert answer["lp_transaction_no"] == paid["transaction_no"]
    assert answer["lp_amount"] == "12500000"
    assert answer["lp_pay_date"] == paid["return_params"]["lp_pay_date"]
    assert all(isinstance(v, str) for v in answer.values())


def test_bad_signature(bank):
    params = query_params("PAY-1") | {"lp_order_ref": "PAY-2"}
    answer = query(bank, params)
    assert answer["lp_response_code"] == "97"
    assert verify_params(answer, SECRET)


def test_unknown_merchant_is_unsigned_03(bank):
    answer = query(bank, query_params("PAY-1", lp_merchant_id="NOBODY"))
    assert answer["lp_response_code"] == "03"
    assert "lp_secure_hash" not in answer


def test_malformed_query_is_03(bank):
    answer = query(bank, query_params("PAY-1", lp_command="pay"))
    assert answer["lp_response_code"] == "03"
    answer = query(bank, query_params("PAY 1"))
    assert answer["lp_response_code"] == "03"
