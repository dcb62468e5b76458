"""Bank credit notifications for VietQR transfers (docs/protocols/bank-transfer.md).

When money arrives on the collecting account by an interbank transfer, the bank posts a signed
notification. This module reads and checks it, finds the notice code in the transfer's purpose
and decides, from the notice's state, what the credit is. It knows nothing of the database: the
caller looks the notice up and acts on the decision.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from payments.errors import MalformedNotification, SignatureError
from payments.signing import signed, verify_params

#: The message type of a credit notification (``lp_type``).
CREDIT_TYPE = "credit"

_TXN_ID = re.compile(r"[A-Za-z0-9_-]{1,60}")
_ACCOUNT = re.compile(r"[0-9A-Za-z]{1,19}")
_BIN = re.compile(r"[0-9]{6}")
_AMOUNT = re.compile(r"[1-9][0-9]{0,14}")
_DAY = re.compile(r"[0-9]{8}")
_STAMP = re.compile(r"[0-9]{14}")

#: A notice code as LandPay issues it: ``TB`` and 8 letters or digits from an alphabet without
#: the look-alikes 0/O and 1/I. Banking apps may upper-case the purpose or glue words together,
#: so the code is looked for anywhere, not next to another letter or digit.
NOTICE_CODE = re.compile(r"(?<![A-Z0-9])TB[A-HJ-NP-Z2-9]{8}(?![A-Z0-9])")


class CreditAnswer(StrEnum):
    """What LandPay answers the bank (``RspCode``). Only ``00`` stops the bank's retries."""

    OK = "00"  #: recorded (or recorded before: a repeat is acknowledged the same way)
    WRONG_ACCOUNT = "01"  #: not our collecting account
    BAD_SIGNATURE = "97"  #: signature missing or wrong, or a malformed field
    RETRY = "99"  #: we could not record it now; send it again later


def answer(code: CreditAnswer, message: str = "") -> dict[str, str]:
    return {"RspCode": code.value, "Message": message or code.name.replace("_", " ").lower()}


@dataclass(frozen=True)
class Credit:
    """A credit on the collecting account, after its signature was checked."""

    transaction_id: str  #: the bank's unique transaction id: the idempotency key
    bank_bin: str
    account: str
    amount: int  #: whole dong
    purpose: str
    payer_name: str
    payer_account: str
    value_date: date  #: the banking day the money counts for
    booked_at: datetime  #: when the bank booked it (UTC)


def _field(params: Mapping[str, str], name: str, pattern: re.Pattern[str] | None = None,
           *, required: bool = True, limit: int = 255) -> str:
    value = params.get(name, "")
    if not isinstance(value, str):
        raise MalformedNotification(f"{name} is not text")
    if not value:
        if required:
            raise MalformedNotification(f"{name} is missing")
        return ""
    if len(value) > limit or (pattern is not None and not pattern.fullmatch(value)):
        raise MalformedNotification(f"{name} is malformed")
    return value


def parse_credit(params: Mapping[str, str], secret: str) -> Credit:
    """Check the signature first, then every field. Raises SignatureError or
    MalformedNotification; nothing of an unsigned message is trusted."""
    if not verify_params(params, secret):
        raise SignatureError("credit notification signature missing or wrong")
    if params.get("lp_version") != "1" or params.get("lp_type") != CREDIT_TYPE:
        raise MalformedNotification("lp_version must be 1 and lp_type credit")
    value_day = _field(params, "lp_value_date", _DAY)
    booked = _field(params, "lp_booked_at", _STAMP)
    try:
        value_date = datetime.strptime(value_day, "%Y%m%d").date()
        booked_at = datetime.strptime(booked, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError as exc:
        raise MalformedNotification("a date field is not a valid date") from exc
    return Credit(
        transaction_id=_field(params, "lp_transaction_id", _TXN_ID),
        bank_bin=_field(params, "lp_bank_bin", _BIN),
        account=_field(params, "lp_account", _ACCOUNT),
        amount=int(_field(params, "lp_amount", _AMOUNT)),
        purpose=_field(params, "lp_purpose", required=False),
        payer_name=_field(params, "lp_payer_name", required=False, limit=120),
        payer_account=_field(params, "lp_payer_account", required=False, limit=40),
        value_date=value_date,
        booked_at=booked_at,
    )


def credit_params(credit: Credit, secret: str) -> dict[str, str]:
    """The signed form fields of a credit notification (what the bank sends)."""
    return signed({
        "lp_version": "1",
        "lp_type": CREDIT_TYPE,
        "lp_transaction_id": credit.transaction_id,
        "lp_bank_bin": credit.bank_bin,
        "lp_account": credit.account,
        "lp_amount": str(credit.amount),
        "lp_purpose": credit.purpose,
        "lp_payer_name": credit.payer_name,
        "lp_payer_account": credit.payer_account,
        "lp_value_date": credit.value_date.strftime("%Y%m%d"),
        "lp_booked_at": credit.booked_at.astimezone(UTC).strftime("%Y%m%d%H%M%S"),
    }, secret)


def notice_codes(purpose: str) -> list[str]:
    """Every distinct notice code in a transfer's purpose, in order of appearance."""
    return list(dict.fromkeys(NOTICE_CODE.findall((purpose or "").upper())))


def notice_code(purpose: str) -> str | None:
    """The one notice code a purpose names; None when it names none or several (a transfer
    meant for two notices cannot be split by guessing)."""
    codes = notice_codes(purpose)
    return codes[0] if len(codes) == 1 else None


class CreditOutcome(StrEnum):
    """What a credit is, seen from the notice its purpose names."""

    PAYS = "pays"  #: exactly what the notice still owes: record the payment
    UNKNOWN = "unknown_credit"  #: no notice code, several, or a code we never issued
    SHORT = "short"  #: less than what is owed
    OVER = "over"  #: more than what is owed
    DUPLICATE = "duplicate"  #: the notice was already paid


def classify(amount: int, *, notice_found: bool, already_paid: bool, owed: int) -> CreditOutcome:
    """The one rule for a credit. ``owed`` is what the notice's VietQR code asks today.

    Only an exact amount pays a notice: a partial payment would leave a notice half paid by a
    payer who may think it settled, and a surplus must be given back; both go to an accountant.
    """
    if not notice_found:
        return CreditOutcome.UNKNOWN
    if already_paid or owed <= 0:
        return CreditOutcome.DUPLICATE
    if amount < owed:
        return CreditOutcome.SHORT
    if amount > owed:
        return CreditOutcome.OVER
    return CreditOutcome.PAYS
