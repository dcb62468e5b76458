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


# -- the banking app's test customers (docs/protocols/bank-transfer.md, section 5) ---------------

#: Every test customer signs in to the banking app with this password (test data, not a secret).
CUSTOMER_PASSWORD = "bank-test-2026"  # noqa: S105


@dataclass(frozen=True)
class TestCustomer:
    username: str
    name: str
    account: str
    balance: int  #: opening balance, whole dong


CUSTOMERS = (
    TestCustomer("lan", "PHAM THI LAN", "1012345678", 5_000_000_000),
    TestCustomer("minh", "HOANG VAN MINH", "1023456789", 2_000_000_000),
    TestCustomer("nga", "DINH THI NGA", "1034567890", 100_000),  # too little for most notices
)
