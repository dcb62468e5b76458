"""The payment state machine: one table says which status may follow which."""

from __future__ import annotations

from enum import Enum

from payments.errors import InvalidTransition


class PaymentStatus(str, Enum):  # noqa: UP042  (the agreed interface; values compare as str)
    CREATED = "created"  #: the order exists; the payer has not been sent to the bank yet
    STARTED = "started"  #: the payer was redirected to the bank
    SUCCEEDED = "succeeded"  #: the bank confirmed the payment (notification or query)
    FAILED = "failed"  #: the bank declined, or the payer cancelled at the bank
    EXPIRED = "expired"  #: no result within the payment window
    CANCELLED = "cancelled"  #: cancelled by the service before a result

    def __str__(self) -> str:
        return self.value


#: Statuses in which a payment has ended (see TRANSITIONS for the one late exception).
FINAL = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.EXPIRED, PaymentStatus.CANCELLED}
)

_S = PaymentStatus

#: Every allowed (current, new) pair. Anything else is refused, including staying put.
TRANSITIONS: frozenset[tuple[PaymentStatus, PaymentStatus]] = frozenset(
    {
        # current     new
        (_S.CREATED, _S.STARTED),
        (_S.CREATED, _S.SUCCEEDED),  # e.g. a VietQR transfer matched without a redirect
        (_S.CREATED, _S.FAILED),
        (_S.CREATED, _S.EXPIRED),
        (_S.CREATED, _S.CANCELLED),
        (_S.STARTED, _S.SUCCEEDED),
        (_S.STARTED, _S.FAILED),
        (_S.STARTED, _S.EXPIRED),
        (_S.STARTED, _S.CANCELLED),
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
