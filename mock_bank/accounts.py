"""Test accounts: the one the payer picks decides the outcome (docs section 6.2)."""

from __future__ import annotations

from dataclasses import dataclass

PAID = "00"
CANCELLED = "24"
INSUFFICIENT_FUNDS = "51"
EXPIRED = "11"

RESULT_TEXT = {
    PAID: "Paid",
    CANCELLED: "Cancelled by the payer",
    INSUFFICIENT_FUNDS: "Declined: insufficient funds",
    EXPIRED: "Checkout window expired",
    "99": "Bank error",
}


@dataclass(frozen=True)
class TestAccount:
    number: str
    label: str
    result: str
    notify: str  #: once | twice | never | delayed


ACCOUNTS = {
    a.number: a
    for a in (
        TestAccount("9704000000000018", "Pays", PAID, "once"),
        TestAccount("9704000000000026", "Declined: insufficient funds", INSUFFICIENT_FUNDS, "once"),
        TestAccount("9704000000000034", "Pays, notification sent twice", PAID, "twice"),
        TestAccount("9704000000000042", "Pays, notification never sent", PAID, "never"),
        TestAccount("9704000000000059", "Pays, notification delayed", PAID, "delayed"),
    )
}
DEFAULT_ACCOUNT = "9704000000000018"
