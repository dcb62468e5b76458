"""Building the bank's signed credit notifications and statements as the protocol describes."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from payments.credits import Credit, credit_params
from payments.statements import sign_document

SECRET = "test-bank-secret"  # config.Test's BANK_SECRET
BIN, ACCOUNT = "970436", "0011001932418"  # config.Test's VietQR collecting account


def txn_id() -> str:
    return "FT" + secrets.token_hex(8).upper()


def credit(purpose: str, amount: int, *, txn: str | None = None, value_date: date | None = None,
           booked_at: datetime | None = None, account: str = ACCOUNT) -> Credit:
    booked = booked_at or datetime.now(UTC)
    return Credit(transaction_id=txn or txn_id(), bank_bin=BIN, account=account, amount=amount,
                  purpose=purpose, payer_name="PHAM THI LAN", payer_account="1012345678",
                  value_date=value_date or booked.date(), booked_at=booked)


def post_credit(client, c: Credit, secret: str = SECRET) -> dict:
    response = client.post("/bank/credits", data=credit_params(c, secret))
    assert response.status_code == 200
    return response.get_json()


def statement(day: date, lines: list[dict], opening: int = 0) -> dict:
    total = sum(x["amount"] if x["direction"] == "credit" else -x["amount"] for x in lines)
    return sign_document({"version": "1", "bank_bin": BIN, "account": ACCOUNT, "date": day.isoformat(),
                          "opening_balance": opening, "closing_balance": opening + total,
                          "lines": lines}, SECRET)


def line(txn: str, amount: int, *, purpose: str = "", day: date, direction: str = "credit",
         channel: str = "transfer") -> dict:
    return {"transaction_id": txn, "direction": direction, "channel": channel, "amount": amount,
            "purpose": purpose, "value_date": day.isoformat(), "booked_at": f"{day.isoformat()}T03:00:00Z",
            "counterparty_name": "PHAM THI LAN", "counterparty_account": "1012345678"}
