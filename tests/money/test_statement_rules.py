"""payments.statements: the signed statement and the matching rules, as tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from payments.errors import MalformedNotification, SignatureError
from payments.statements import (
    Line,
    LineKind,
    Record,
    match_statement,
    parse_statement,
    sign_document,
)

SECRET = "unit-secret"
DAY = date(2026, 11, 27)
BEFORE = date(2026, 11, 26)


def doc(lines, opening=0):
    total = sum(int(x["amount"]) * (1 if x["direction"] == "credit" else -1) for x in lines
                if str(x["amount"]).isdigit())
    return {"version": "1", "bank_bin": "970436", "account": "0011001932418", "date": DAY.isoformat(),
            "opening_balance": opening, "closing_balance": opening + total, "lines": lines}


def raw(txn, amount, direction="credit", value_date=DAY, channel="transfer"):
    return {"transaction_id": txn, "direction": direction, "channel": channel, "amount": amount,
            "purpose": "Nộp thuế TBK7QM2X9A", "value_date": value_date.isoformat(),
            "booked_at": "2026-11-27T03:00:00Z"}


def test_a_signed_statement_reads_back():
    st = parse_statement(sign_document(doc([raw("A", 5), raw("B", 2, "debit")], opening=10), SECRET), SECRET)
    assert (st.day, st.opening_balance, st.closing_balance, st.credits, st.debits) == (DAY, 10, 13, 5, 2)
    assert [line.transaction_id for line in st.lines] == ["A", "B"]
    assert st.lines[0].purpose == "Nộp thuế TBK7QM2X9A"  # signed as UTF-8, not escaped


@pytest.mark.parametrize("tamper", [
    lambda e: e["statement"]["lines"][0].__setitem__("amount", 6),
    lambda e: e["statement"].__setitem__("date", "2026-11-28"),
    lambda e: e["signature"].__setitem__("value", "00" * 64),
    lambda e: e["signature"].__setitem__("algorithm", "none"),
    lambda e: e.pop("signature"),
])
def test_a_changed_statement_is_refused(tamper):
    envelope = sign_document(doc([raw("A", 5)]), SECRET)
    tamper(envelope)
    with pytest.raises((SignatureError, MalformedNotification)):
        parse_statement(envelope, SECRET)


@pytest.mark.parametrize("line_change, document_change", [
    ({"amount": 0}, {}), ({"amount": "5"}, {}), ({"direction": "sideways"}, {}),
    ({"value_date": "yesterday"}, {}), ({"booked_at": "2026-11-27T03:00:00"}, {}),
    ({"transaction_id": "a b"}, {}), ({}, {"closing_balance": 99}), ({}, {"version": "2"}),
])
def test_a_signed_but_malformed_statement_is_refused(line_change, document_change):
    document = doc([raw("A", 5) | line_change]) | document_change
    with pytest.raises(MalformedNotification):
        parse_statement(sign_document(document, SECRET), SECRET)


def line(txn, amount, direction="credit", value_date=DAY):
    return Line(txn, direction, "transfer", amount, "", value_date, datetime(2026, 11, 27, 3, tzinfo=UTC))


# Each row: statement lines, LandPay's records, records counted on DAY, ids shown on other days,
# then the expected kind of each line and the ids missing from the statement.
CASES = {
    "all matched": (
        [line("A", 5), line("B", 7)], [Record("A", 5, DAY), Record("B", 7, DAY)],
        ["A", "B"], [], [LineKind.MATCHED, LineKind.MATCHED], []),
    "a credit never notified": (
        [line("A", 5)], [], [], [], [LineKind.NEW], []),
    "a debit we did not order": (
        [line("D", 5, "debit")], [], [], [], [LineKind.NEW], []),
    "a record of the other direction is not a match": (
        [line("A", 5, "debit")], [Record("A", 5, DAY)], ["A"], [], [LineKind.NEW], []),
    "amount differs": (
        [line("A", 6)], [Record("A", 5, DAY)], ["A"], [], [LineKind.AMOUNT_DIFFERS], []),
    "counted the day before, shown today": (
        [line("A", 5)], [Record("A", 5, BEFORE)], [], [], [LineKind.OTHER_DAY], []),
    "back-valued line": (
        [line("A", 5, value_date=BEFORE)], [Record("A", 5, DAY)], ["A"], [], [LineKind.OTHER_DAY], []),
    "the same line twice": (
        [line("A", 5), line("A", 5)], [Record("A", 5, DAY)], ["A"], [],
        [LineKind.MATCHED, LineKind.DUPLICATE_LINE], []),
    "counted but missing": (
        [line("A", 5)], [Record("A", 5, DAY)], ["A", "B"], [], [LineKind.MATCHED], ["B"]),
    "counted, shown on another day's statement": (
        [], [], ["B"], ["B"], [], []),
    "empty day": ([], [], [], [], [], []),
}


@pytest.mark.parametrize("name", CASES)
def test_matching_rules(name):
    lines, records, counted_ids, elsewhere, kinds, missing = CASES[name]
    by_id = {r.transaction_id: r for r in records}
    counted = [by_id.get(t) or Record(t, 1, DAY) for t in counted_ids]
    result = match_statement(DAY, lines, by_id, counted, elsewhere)
    assert [m.kind for m in result.lines] == kinds
    assert [r.transaction_id for r in result.missing] == missing
    # Every line is accounted for once, in order.
    assert [m.index for m in result.lines] == list(range(len(lines)))
