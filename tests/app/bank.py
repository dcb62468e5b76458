"""Build the bank's signed messages as the protocol document describes them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from payments.signing import signed

TEST_SECRET = "test-bank-secret"


def notification(order_ref: str, amount: int, *, code: str = "00", secret: str = TEST_SECRET,
                 merchant: str = "LANDPAY", bank_ref: str | None = None) -> dict[str, str]:
    params = {
        "lp_version": "1",
        "lp_merchant_id": merchant,
        "lp_order_ref": order_ref,
        "lp_amount": str(amount),
        "lp_response_code": code,
        "lp_transaction_no": bank_ref or ("MB" + secrets.token_hex(6).upper()),
        "lp_pay_date": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
    }
    return signed(params, secret)
