"""payments.credits: reading the bank's credit notification and the one rule for a credit."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.credits import (
    Credit,
    CreditOutcome,
    classify,
    credit_params,
    notice_code,
    notice_codes,
    parse_credit,
)
from payments.errors import MalformedNotification, SignatureError

SECRET = "unit-secret"
CREDIT = Credit(transaction_id="FT20261127ABCDE12345", bank_bin="970436", account="0011001932418",
                amount=1_500_000, purpose="Nop thue TBK7QM2X9A", payer_name="PHAM THI LAN",
                payer_account="1012345678", value_date=date(2026, 11, 27),
                booked_at=datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC))


def test_a_signed_credit_reads_back_the_same():
    assert parse_credit(credit_params(CREDIT, SECRET), SECRET) == CREDIT


@pytest.mark.parametrize("change", [
    {"lp_amount": "1500001"},
    {"lp_purpose": "Nop thue TBAAAAAAAA"},
    {"lp_transaction_id": "FT2"},
    {"lp_secure_hash": ""},
])
def test_any_changed_field_breaks_the_signature(change):
    params = credit_params(CREDIT, SECRET) | change
    with pytest.raises(SignatureError):
        parse_credit(params, SECRET)


def test_another_secret_is_refused():
    with pytest.raises(SignatureError):
        parse_credit(credit_params(CREDIT, "other"), SECRET)


@pytest.mark.parametrize("field, value", [
    ("lp_amount", "0"), ("lp_amount", "-5"), ("lp_amount", "1.5"), ("lp_value_date", "20261399"),
    ("lp_booked_at", "2026"), ("lp_bank_bin", "97043"), ("lp_transaction_id", "bad id"),
    ("lp_type", "debit"),
])
def test_malformed_fields_are_refused_even_when_signed(field, value):
    from payments.signing import signed

    params = credit_params(CREDIT, SECRET) | {field: value}
    with pytest.raises(MalformedNotification):
        parse_credit(signed(params, SECRET), SECRET)


@pytest.mark.parametrize("purpose, codes", [
    ("TBK7QM2X9A", ["TBK7QM2X9A"]),
    ("Nop thue tbk7qm2x9a dat", ["TBK7QM2X9A"]),  # a banking app may change the case
    ("TBK7QM2X9A TBK7QM2X9A", ["TBK7QM2X9A"]),
    ("TBK7QM2X9A and TBZZZZZZZZ", ["TBK7QM2X9A", "TBZZZZZZZZ"]),
    ("XTBK7QM2X9A", []),  # glued to another letter: not a code
    ("TBK7QM2X9A1", []),
    ("TBK7QM2X0A", []),  # 0 is not in the alphabet of codes
    ("", []),
    ("chuyen tien", []),
])
def test_notice_codes_in_a_purpose(purpose, codes):
    assert notice_codes(purpose) == codes
    assert notice_code(purpose) == (codes[0] if len(codes) == 1 else None)


@pytest.mark.parametrize("amount, found, paid, owed, outcome", [
    (1_500_000, True, False, 1_500_000, CreditOutcome.PAYS),
    (1_499_999, True, False, 1_500_000, CreditOutcome.SHORT),
    (1_500_001, True, False, 1_500_000, CreditOutcome.OVER),
    (1_500_000, True, True, 0, CreditOutcome.DUPLICATE),
    (1_500_000, True, True, 1_500_000, CreditOutcome.DUPLICATE),  # paid wins over what is owed
    (1_500_000, True, False, 0, CreditOutcome.DUPLICATE),  # nothing owed (e.g. cancelled)
    (1_500_000, False, False, 0, CreditOutcome.UNKNOWN),
])
def test_the_rule_for_a_credit(amount, found, paid, owed, outcome):
    assert classify(amount, notice_found=found, already_paid=paid, owed=owed) is outcome


@given(st.integers(1, 10**12), st.integers(1, 10**12))
def test_only_the_exact_amount_pays(amount, owed):
    outcome = classify(amount, notice_found=True, already_paid=False, owed=owed)
    assert (outcome is CreditOutcome.PAYS) == (amount == owed)
    assert outcome in (CreditOutcome.PAYS, CreditOutcome.SHORT, CreditOutcome.OVER)
