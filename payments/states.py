"""The payment and refund state machines: one table each says which state may follow which,
and one function each checks a change against its table and makes it."""

from __future__ import annotations

from enum import Enum
from typing import Protocol

from payments.errors import InvalidTransition


class PaymentStatus(str, Enum):  # noqa: UP042  (the agreed interface; values compare as str)
    CREATED = "created"  #: the order exists; no payer was sent to the bank (a bank transfer)
    STARTED = "started"  #: the payer was redirected to the bank
    SUCCEEDED = "succeeded"  #: the bank confirmed the payment (notification or query)
    FAILED = "failed"  #: the bank declined, or the payer cancelled at the bank
    EXPIRED = "expired"  #: no result within the payment window

    def __str__(self) -> str:
        return self.value


#: Statuses in which a payment has ended (see TRANSITIONS for the one late exception).
FINAL = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.EXPIRED})

_S = PaymentStatus

#: Every allowed (current, new) pair. Anything else is refused, including staying put.
TRANSITIONS: frozenset[tuple[PaymentStatus, PaymentStatus]] = frozenset(
    {
        # current     new
        (_S.CREATED, _S.STARTED),
        (_S.CREATED, _S.SUCCEEDED),  # e.g. a VietQR transfer matched without a redirect
        (_S.CREATED, _S.FAILED),
        (_S.CREATED, _S.EXPIRED),
        (_S.STARTED, _S.SUCCEEDED),
        (_S.STARTED, _S.FAILED),
        (_S.STARTED, _S.EXPIRED),
        # The one way out of a final status: the bank took the money after we gave up waiting.
        # Recording it keeps money conserved; reconciliation then handles a second payment.
        (_S.EXPIRED, _S.SUCCEEDED),
    }
)


def can_transition(current: PaymentStatus, new: PaymentStatus) -> bool:
    return (PaymentStatus(current), PaymentStatus(new)) in TRANSITIONS


def check_transition(current: PaymentStatus, new: PaymentStatus) -> None:
    """Return if ``current -> new`` is allowed, else raise :class:`InvalidTransition`."""
    if not can_transition(current, new):
        raise InvalidTransition(current, new)


class _HasStatus(Protocol):
    status: PaymentStatus


def move(order: _HasStatus, new: PaymentStatus) -> None:
    """Move a payment order to ``new``: the only place a payment's status is assigned, so no
    change escapes the table. Raises :class:`InvalidTransition` and changes nothing if refused."""
    new = PaymentStatus(new)
    check_transition(order.status, new)
    order.status = new


# -- refunds ---------------------------------------------------------------------------------


class RefundReason(str, Enum):  # noqa: UP042
    DUPLICATE = "duplicate"  #: the bank took a second payment for a notice already paid
    OVERPAYMENT = "overpayment"  #: a payment larger than what the notice still owed
    CANCELLED = "cancelled"  #: the dossier was cancelled or withdrawn after payment
    CORRECTION = "correction"  #: an officer's decision lowered what was owed

    def __str__(self) -> str:
        return self.value


class RefundState(str, Enum):  # noqa: UP042
    REQUESTED = "requested"  #: to be sent to the bank (again, after a failed attempt)
    SUCCEEDED = "succeeded"  #: the bank returned the money to the payer
    FAILED = "failed"  #: the bank refused it, or every attempt failed: an officer must act

    def __str__(self) -> str:
        return self.value


_R = RefundState

REFUND_TRANSITIONS: frozenset[tuple[RefundState, RefundState]] = frozenset(
    {(_R.REQUESTED, _R.SUCCEEDED), (_R.REQUESTED, _R.FAILED)}
)


class _HasState(Protocol):
    state: RefundState


def move_refund(refund: _HasState, new: RefundState) -> None:
    """Move a refund to ``new`` if :data:`REFUND_TRANSITIONS` allows it."""
    new = RefundState(new)
    if (RefundState(refund.state), new) not in REFUND_TRANSITIONS:
        raise InvalidTransition(refund.state, new)
    refund.state = new
