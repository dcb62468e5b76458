"""The transition table, checked for every pair of statuses."""

from __future__ import annotations

import itertools

import pytest

from payments.errors import InvalidTransition, PaymentError
from payments.states import (
    FINAL,
    PaymentStatus,
    RefundState,
    check_transition,
    move,
    move_refund,
)

C, ST, OK, F, EX = (
    PaymentStatus.CREATED,
    PaymentStatus.STARTED,
    PaymentStatus.SUCCEEDED,
    PaymentStatus.FAILED,
    PaymentStatus.EXPIRED,
)

#: Rows: from; columns: to, in the order C ST OK F EX. 1 = allowed.
TABLE = {
    C: (0, 1, 1, 1, 1),
    ST: (0, 0, 1, 1, 1),
    OK: (0, 0, 0, 0, 0),
    F: (0, 0, 0, 0, 0),
    EX: (0, 0, 1, 0, 0),  # a late bank confirmation of money actually taken
}
COLUMNS = (C, ST, OK, F, EX)
CASES = [(a, b, bool(TABLE[a][i])) for a in COLUMNS for i, b in enumerate(COLUMNS)]


def test_table_covers_every_pair():
    assert {(a, b) for a, b, _ in CASES} == set(itertools.product(PaymentStatus, repeat=2))


@pytest.mark.parametrize(
    ("current", "new", "allowed"), CASES, ids=[f"{a.value}->{b.value}" for a, b, _ in CASES]
)
def test_transition(current, new, allowed):
    if allowed:
        check_transition(current, new)
    else:
        with pytest.raises(InvalidTransition) as info:
            check_transition(current, new)
        assert isinstance(info.value, PaymentError)
        assert info.value.current is current and info.value.new is new


def test_final_set():
    assert FINAL == {OK, F, EX}


def test_string_values_are_accepted():
    check_transition("created", "started")  # type: ignore[arg-type]
    assert PaymentStatus("succeeded") is OK and str(OK) == "succeeded"


class _Order:
    def __init__(self, status):
        self.status = status


@pytest.mark.parametrize(("current", "new", "allowed"), CASES,
                         ids=[f"move:{a.value}->{b.value}" for a, b, _ in CASES])
def test_move_checks_and_assigns_together(current, new, allowed):
    order = _Order(current)
    if allowed:
        move(order, new)
        assert order.status is new
    else:
        with pytest.raises(InvalidTransition):
            move(order, new)
        assert order.status is current  # a refused change leaves the order as it was


def test_refund_moves_only_from_requested():
    for new in (RefundState.SUCCEEDED, RefundState.FAILED):
        refund = type("R", (), {"state": RefundState.REQUESTED})()
        move_refund(refund, new)
        assert refund.state is new
        for again in RefundState:
            with pytest.raises(InvalidTransition):
                move_refund(refund, again)
