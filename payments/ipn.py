"""What to answer to a bank notification and what it does to the payment: a pure decision."""

from __future__ import annotations

from payments.gateway import BankResult, IpnCode
from payments.states import FINAL, PaymentStatus


def decide_notification(
    result: BankResult | None,
    *,
    order_found: bool,
    order_amount: int | None,
    order_status: PaymentStatus | None,
    signature_ok: bool,
) -> tuple[IpnCode, PaymentStatus | None]:
    """The answer code and the payment's new status (None: leave it unchanged).

    The checks run in the protocol's order: signature, order exists, amount, already final.
    ``result`` is None when the notification could not be parsed; that is answered like a bad
    signature, since nothing in it can be trusted. A payment that expired here but that the bank
    reports as paid is recorded as succeeded: the money was taken (see ``states.TRANSITIONS``).
    """
    if not signature_ok or result is None:
        return IpnCode.BAD_SIGNATURE, None
    if not order_found or order_status is None:
        return IpnCode.NOT_FOUND, None
    if order_amount is None or result.amount != order_amount:
        return IpnCode.WRONG_AMOUNT, None
    if order_status in FINAL:
        if order_status is PaymentStatus.EXPIRED and result.succeeded:
            return IpnCode.OK, PaymentStatus.SUCCEEDED
        return IpnCode.ALREADY_CONFIRMED, None
    if result.succeeded:
        return IpnCode.OK, PaymentStatus.SUCCEEDED
    return IpnCode.OK, PaymentStatus.FAILED
