"""Signatures: the pinned vectors of docs/protocols/bank-gateway.md section 5, and properties."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_bank import signing as bank_signing
from payments.signing import SIGNATURE_FIELD, canonical_query, sign_params, signed, verify_params

SECRET = "TESTSECRET-DO-NOT-USE"
INFO = "Nộp lệ phí trước bạ TB-2025-000123"

CHECKOUT = {
    "lp_version": "1",
    "lp_command": "pay",
    "lp_merchant_id": "LANDPAY01",
    "lp_order_ref": "PAY-20250301-0001",
    "lp_amount": "12500000",
    "lp_currency": "VND",
    "lp_order_info": INFO,
    "lp_locale": "vn",
    "lp_return_url": "https://landpay.example/payments/return",
    "lp_create_date": "20250301083015",
}
CHECKOUT_CANONICAL = (
    "lp_amount=12500000&lp_command=pay&lp_create_date=20250301083015&lp_currency=VND"
    "&lp_locale=vn&lp_merchant_id=LANDPAY01&lp_order_info=N%E1%BB%99p+l%E1%BB%87+ph%C3%AD"
    "+tr%C6%B0%E1%BB%9Bc+b%E1%BA%A1+TB-2025-000123&lp_order_ref=PAY-20250301-0001"
    "&lp_return_url=https%3A%2F%2Flandpay.example%2Fpayments%2Freturn&lp_version=1"
)
CHECKOUT_SIG = (
    "3821b9f9967af597b90cccf480a35a36445852e49eb4be3f7b1fe2bb498ea585"
    "86d5f8b7a68f8917e619dc7791b856550aba41b097b6d3b8f0493f1b2f0336f7"
)
IPN = {
    "lp_version": "1",
    "lp_merchant_id": "LANDPAY01",
    "lp_order_ref": "PAY-20250301-0001",
    "lp_amount": "12500000",
    "lp_order_info": INFO,
    "lp_response_code": "00",
    "lp_transaction_no": "MB20250301000001",
    "lp_pay_date": "20250301083152",
}
IPN_SIG = (
    "b7bbe412cfb3988f3964bff75d80de494ad579157639417542215f9ecdf8054c"
    "0facf7f7ffcfa9bc49c584577df4ff08e641410d88e0941a7570a00fba6286ac"
)
QUERY = {
    "lp_version": "1",
    "lp_command": "query",
    "lp_merchant_id": "LANDPAY01",
    "lp_order_ref": "PAY-20250301-0001",
    "lp_request_id": "Q-20250301-0001",
    "lp_request_date": "20250301084500",
}
QUERY_SIG = (
    "1ab898660f7bbee97b0b0a0335aa28b23fbf9f987f95aa0e94b9cf62103cb0cc"
    "b4a98612dc846f8c630c2fb8fa05f8e652a1399684b6611521730902cac9dcd2"
)


def test_checkout_vector():
    assert canonical_query(CHECKOUT) == CHECKOUT_CANONICAL
    assert sign_params(CHECKOUT, SECRET) == CHECKOUT_SIG


@pytest.mark.parametrize(
    ("params", "sig"), [(CHECKOUT, CHECKOUT_SIG), (IPN, IPN_SIG), (QUERY, QUERY_SIG)]
)
def test_documented_vectors(params, sig):
    assert sign_params(params, SECRET) == sig
    assert verify_params(params | {SIGNATURE_FIELD: sig}, SECRET)
    assert verify_params(params | {SIGNATURE_FIELD: sig.upper()}, SECRET)
    assert bank_signing.compute_hash(params, SECRET) == sig


def test_left_out_fields():
    base = {"lp_b": "2", "lp_a": "1"}
    assert canonical_query(base) == "lp_a=1&lp_b=2"
    noisy = base | {
        "lp_empty": "",
        SIGNATURE_FIELD: "x",
        "lp_secure_hash_type": "HMACSHA512",
        "attempt": "2",
        "csrf_token": "t",
    }
    assert canonical_query(noisy) == "lp_a=1&lp_b=2"


def test_encoding_rules():
    assert canonical_query({"lp_x": "a b+c/~*-._"}) == "lp_x=a+b%2Bc%2F~%2A-._"
    assert canonical_query({"lp_x": "đ"}) == "lp_x=%C4%91"


def test_tampering_or_wrong_secret_fails():
    good = signed(IPN, SECRET)
    assert verify_params(good, SECRET)
    assert not verify_params(good | {"lp_amount": "12500001"}, SECRET)
    assert not verify_params(good | {"lp_extra": "1"}, SECRET)
    assert not verify_params(good, "another secret")
    assert not verify_params(dict(IPN), SECRET)
    assert not verify_params(good | {SIGNATURE_FIELD: ""}, SECRET)
    assert not verify_params(good | {SIGNATURE_FIELD: "zz" + good[SIGNATURE_FIELD]}, SECRET)
    assert not verify_params(good | {SIGNATURE_FIELD: "é" * 128}, SECRET)


def test_empty_secret_is_refused():
    with pytest.raises(ValueError):
        sign_params(IPN, "")


def test_non_string_values_are_refused():
    with pytest.raises(TypeError):
        sign_params({"lp_amount": 12}, SECRET)  # type: ignore[dict-item]
    assert not verify_params({"lp_amount": 12, SIGNATURE_FIELD: "ab"}, SECRET)  # type: ignore[dict-item]


names = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12).map(
    lambda s: "lp_" + s
)
values = st.text(max_size=40).filter(lambda s: "\x00" not in s)
param_dicts = st.dictionaries(names, values, max_size=8)


@given(param_dicts)
def test_sign_then_verify(params):
    assert verify_params(signed(params, SECRET), SECRET)


@given(param_dicts)
def test_both_sides_agree(params):
    """Our signing and the test bank's, written separately from the document, agree."""
    assert canonical_query(params) == bank_signing.signing_string(params)
    assert sign_params(params, SECRET) == bank_signing.compute_hash(params, SECRET)


@given(param_dicts, names, values)
def test_changing_a_signed_value_breaks_the_signature(params, name, value):
    original = signed(params, SECRET)
    changed = dict(original)
    changed[name] = value
    if canonical_query(changed) != canonical_query(original):
        assert not verify_params(changed, SECRET)
