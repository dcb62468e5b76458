"""The notification decision table: signature, exists, amount, already final, result."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from payments.gateway import BankResult, IpnCode, ipn_response
from payments.ipn import decide_notification
from payments.states import PaymentStatus as S

PAID = BankResult("PAY-1", 100_000, True, "MB1", "00", datetime(2025, 3, 1, tzinfo=UTC), {})
DECLINED = BankResult("PAY-1", 100_000, False, "MB1", "51", None, {})

#: result, signature_ok, order_found, order_amount, order_status -> answer, new status
CASES = [
    # signature first: nothing else matters
    (PAID, False, True, 100_000, S.STARTED, IpnCode.BAD_SIGNATURE, None),
    (PAID, False, False, None, None, IpnCode.BAD_SIGNATURE, None),
    (None, True, True, 100_000, S.STARTED, IpnCode.BAD_SIGNATURE, None),
    # then existence
    (PAID, True, False, None, None, IpnCode.NOT_FOUND, None),
    (PAID, True, False, 999, S.SUCCEEDED, IpnCode.NOT_FOUND, None),
    # then amount, even for a final payment
    (PAID, True, True, 100_001, S.STARTED, IpnCode.WRONG_AMOUNT, None),
    (PAID, True, True, 99_999, S.SUCCEEDED, IpnCode.WRONG_AMOUNT, None),
    (DECLINED, True, True, 1, S.STARTED, IpnCode.WRONG_AMOUNT, None),
    (PAID, True, True, None, S.STARTED, IpnCode.WRONG_AMOUNT, None),
    # then already final
    (PAID, True, True, 100_000, S.SUCCEEDED, IpnCode.ALREADY_CONFIRMED, None),
    (DECLINED, True, True, 100_000, S.SUCCEEDED, IpnCode.ALREADY_CONFIRMED, None),
    (PAID, True, True, 100_000, S.FAILED, IpnCode.ALREADY_CONFIRMED, None),
    (DECLINED, True, True, 100_000, S.EXPIRED, IpnCode.ALREADY_CONFIRMED, None),
    # a late success after we expired the payment: the money was taken, record it
    (PAID, True, True, 100_000, S.EXPIRED, IpnCode.OK, S.SUCCEEDED),
    # then the result; a processed failure still answers 00
    (PAID, True, True, 100_000, S.STARTED, IpnCode.OK, S.SUCCEEDED),
    (PAID, True, True, 100_000, S.CREATED, IpnCode.OK, S.SUCCEEDED),
    (DECLINED, True, True, 100_000, S.STARTED, IpnCode.OK, S.FAILED),
    (DECLINED, True, True, 100_000, S.CREATED, IpnCode.OK, S.FAILED),
]


@pytest.mark.parametrize(("result", "sig", "found", "amount", "status", "code", "new"), CASES)
def test_decision(result, sig, found, amount, status, code, new):
    assert decide_notification(
        result, order_found=found, order_amount=amount, order_status=status, signature_ok=sig
    ) == (code, new)


@pytest.mark.parametrize(
    ("code", "rsp", "message"),
    [
        (IpnCode.OK, "00", "Confirm success"),
        (IpnCode.NOT_FOUND, "01", "Order not found"),
        (IpnCode.ALREADY_CONFIRMED, "02", "Order already confirmed"),
        (IpnCode.WRONG_AMOUNT, "04", "Invalid amount"),
        (IpnCode.BAD_SIGNATURE, "97", "Invalid signature"),
        (IpnCode.UNKNOWN, "99", "Unknown error"),
    ],
)
def test_ipn_response(code, rsp, message):
    assert ipn_response(code) == {"RspCode": rsp, "Message": message}
    assert ipn_response(rsp) == ipn_response(code)
