"""Refunds: giving a payment's money back through the bank.

Two halves, so no row stays locked while the bank is slow:

* :func:`request_refund` is called inside another use case (an officer's cancellation, the
  worker finding a duplicate payment...). It adds a ``requested`` refund, split by notice line,
  in the caller's transaction; it neither commits nor calls the bank.
* :func:`send_pending_refunds` is the worker: it calls the bank outside any lock, with the
  refund's own reference so a retry can never pay twice, then records the answer under the
  locks (notice, then payment order, then refund: the order every use case takes them in).

Per line, the refunded money is counted when the bank has returned it, so for every notice
line ``amount = paid - refunded + outstanding`` holds from the rows themselves.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import Notice, NoticeLine, PaymentOrder, User
from app.models.refunds import PaymentLine, Refund, RefundLine
from payments.errors import GatewayError, SignatureError
from payments.states import PaymentStatus, RefundReason, RefundState, move_refund

log = logging.getLogger(__name__)

#: Attempts at the bank before a refund is left to an officer as failed.
MAX_ATTEMPTS = 8
#: Backoff after the n-th failed attempt: 1, 2, 4... minutes, at most six hours.
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)


def _record(notice: Notice, kind: str, **kwargs) -> None:
    """A refund fact as an event of the notice's dossier (app.services.paying decides what a
    notice without a dossier keeps instead)."""
    from app.services.paying import record_for_notice

    record_for_notice(notice, kind, **kwargs)


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _refund_ref() -> str:
    return "RF" + datetime.now(UTC).strftime("%y%m%d") + secrets.token_hex(5).upper()


def payment_lines(payment_id: int) -> dict[int, int]:
    """What a payment settled, per notice line id."""
    rows = db.session.execute(
        select(PaymentLine.notice_line_id, func.sum(PaymentLine.amount))
        .where(PaymentLine.payment_id == payment_id).group_by(PaymentLine.notice_line_id)
    )
    return {line_id: int(total) for line_id, total in rows}


def refundable(payment: PaymentOrder) -> dict[int | None, int]:
    """What of ``payment`` can still be refunded, per notice line id; the key None is the
    money that settled no line (a duplicate payment, an overpayment's surplus). Refunds
    requested or made count. A failed refund counts too unless the bank refused it (its
    answer, ``response_code``, is known and not ``00``): one left failed after every attempt
    went unanswered, or answered for another amount, may have been made, so its money is
    never offered again."""
    if payment.status is not PaymentStatus.SUCCEEDED:
        return {}
    settled = payment_lines(payment.id)
    pools: dict[int | None, int] = dict(settled)
    pools[None] = payment.amount - sum(settled.values())
    taken = db.session.execute(
        select(RefundLine.notice_line_id, func.sum(RefundLine.amount))
        .join(Refund, Refund.id == RefundLine.refund_id)
        .where(Refund.payment_id == payment.id,
               (Refund.state != RefundState.FAILED) | Refund.response_code.is_(None)
               | (Refund.response_code == "00"))
        .group_by(RefundLine.notice_line_id)
    )
    for line_id, total in taken:
        pools[line_id] = pools.get(line_id, 0) - int(total)
    return {key: value for key, value in pools.items() if value > 0}


def _split(amount: int, pools: dict[int | None, int]) -> dict[int | None, int]:
    """Take ``amount`` first from the money that settled no line, then from the lines in
    proportion to what each can still give back (largest remainder, so it adds up exactly)."""
    split: dict[int | None, int] = {}
    free = min(amount, pools.get(None, 0))
    if free:
        split[None] = free
    rest = amount - free
    lines = {k: v for k, v in pools.items() if k is not None}
    total = sum(lines.values())
    if rest and total:
        shares = {k: rest * v // total for k, v in lines.items()}
        left = rest - sum(shares.values())
        order = sorted(lines, key=lambda k: (-(rest * lines[k] % total), k))
        for key in order[:left]:
            shares[key] += 1
        split.update({k: v for k, v in shares.items() if v})
    return split


def request_refund(
    payment: PaymentOrder,
    amount: int,
    reason: str,
    *,
    actor: User | None = None,
    lines: Mapping[int | None, int] | None = None,
    note: str | None = None,
) -> Refund:
    """Add a refund of ``amount`` dong of ``payment`` to the caller's transaction.

    ``lines`` gives the split per notice line id (None: money that settled no line); without
    it the split is computed (see :func:`_split`). Refuses, changing nothing, a payment that
    did not succeed, a reason not in :class:`RefundReason` and an amount above what the
    payment can still refund. The caller commits; the worker calls the bank.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed(_("Check the refund."),
                               fields={"amount": _("Enter a whole number of dong above zero.")})
    try:
        reason = RefundReason(reason)
    except ValueError:
        raise ValidationFailed(_("Check the refund."),
                               fields={"reason": _("Choose a reason for the refund.")}) from None
    # Lock order: the notice, then its payment order (as when paying).
    db.session.scalar(select(Notice).where(Notice.id == payment.notice_id).with_for_update())
    db.session.scalar(select(PaymentOrder).where(PaymentOrder.id == payment.id).with_for_update())
    if payment.status is not PaymentStatus.SUCCEEDED:
        raise Conflict(_("Only a payment the bank took can be refunded."))
    pools = refundable(payment)
    available = sum(pools.values())
    if amount > available:
        raise ValidationFailed(
            _("Check the refund."),
            fields={"amount": _("At most %(amount)s dong of this payment can still be refunded.",
                                amount=f"{available:,}".replace(",", "."))},
        )
    if lines is None:
        split = _split(amount, pools)
    else:
        split = {key: int(value) for key, value in lines.items() if int(value)}
        if sum(split.values()) != amount or any(
                value < 0 or value > pools.get(key, 0) for key, value in split.items()):
            raise ValidationFailed(
                _("Check the refund."),
                fields={"lines": _("The parts per line must add up to the amount, each within "
                                   "what that line of the payment can still refund.")})
    now = datetime.now(UTC)
    refund = Refund(
        ref=_refund_ref(), payment=payment, notice_id=payment.notice_id, amount=amount,
        reason=reason, note=note, state=RefundState.REQUESTED, attempts=0,
        next_attempt_at=now, requested_by=actor, requested_at=now,
        lines=[RefundLine(notice_line_id=key, amount=value) for key, value in split.items()],
    )
    db.session.add(refund)
    db.session.flush()
    _record(
        payment.notice, "refund_requested", actor=actor,
        actor_label=None if actor else "system",
        data={"refund_ref": refund.ref, "order_ref": payment.ref, "amount": amount,
              "reason": reason.value},
    )
    return refund


def request_due_refunds() -> list[Refund]:
    """Request the refund of every payment's money that settled nothing and is not being
    refunded yet: duplicate payments (``needs_refund``) and overpayments' surplus. Only
    payments whose split by line is recorded are looked at, so older ones are never refunded
    by guess. A payment whose refund of that money failed is left to a person: asking again
    under a new reference could return the money twice. The caller commits."""
    settled = (select(func.coalesce(func.sum(PaymentLine.amount), 0))
               .where(PaymentLine.payment_id == PaymentOrder.id).scalar_subquery())
    has_lines = select(PaymentLine.id).where(PaymentLine.payment_id == PaymentOrder.id).exists()
    failed_before = (select(RefundLine.id).join(Refund, Refund.id == RefundLine.refund_id)
                     .where(Refund.payment_id == PaymentOrder.id, Refund.state == RefundState.FAILED,
                            RefundLine.notice_line_id.is_(None)).exists())
    candidates = db.session.scalars(
        select(PaymentOrder).where(
            PaymentOrder.status == PaymentStatus.SUCCEEDED, ~failed_before,
            PaymentOrder.needs_refund.is_(True) | (has_lines & (settled < PaymentOrder.amount)),
        ).order_by(PaymentOrder.id)
    ).all()
    made = []
    for payment in candidates:
        free = refundable(payment).get(None, 0)
        if free > 0:
            reason = RefundReason.DUPLICATE if payment.needs_refund else RefundReason.OVERPAYMENT
            made.append(request_refund(payment, free, reason, lines={None: free}))
    return made


def refunds_of_notice(notice_id: int) -> list[Refund]:
    return list(db.session.scalars(
        select(Refund).where(Refund.notice_id == notice_id).order_by(Refund.id)))


def refunds_of_payment(payment_id: int) -> list[Refund]:
    return list(db.session.scalars(
        select(Refund).where(Refund.payment_id == payment_id).order_by(Refund.id)))


# -- the worker ------------------------------------------------------------------------------


def due_refunds(now: datetime | None = None) -> list[int]:
    now = now or datetime.now(UTC)
    return list(db.session.scalars(
        select(Refund.id).where(Refund.state == RefundState.REQUESTED,
                                Refund.next_attempt_at <= now).order_by(Refund.id)))


def send_pending_refunds(now: datetime | None = None) -> list[str]:
    """Send every due refund to the bank, one transaction each; returns one line per refund.

    The bank is called with no lock held; what it answers is recorded under the locks. A
    refusal by the bank fails the refund at once; a bank that cannot be reached is tried
    again after :func:`backoff`, up to :data:`MAX_ATTEMPTS` attempts.
    """
    from app.services.paying import gateway

    outcomes = []
    for refund_id in due_refunds(now):
        row = db.session.execute(
            select(Refund.ref, Refund.amount, PaymentOrder.ref, PaymentOrder.bank_ref)
            .join(PaymentOrder, PaymentOrder.id == Refund.payment_id).where(Refund.id == refund_id)
        ).one()
        db.session.rollback()  # end the read: nothing is held while the bank answers
        result, error = None, None
        try:
            result = gateway().refund(refund_ref=row[0], order_ref=row[2], bank_ref=row[3],
                                      amount=row[1])
        except (GatewayError, SignatureError) as exc:
            error = str(exc)[:200]
        outcomes.append(_record_answer(refund_id, result, error))
        db.session.commit()
    return outcomes


def _record_answer(refund_id: int, result, error: str | None) -> str:
    notice_id = db.session.scalar(select(Refund.notice_id).where(Refund.id == refund_id))
    notice = db.session.scalar(select(Notice).where(Notice.id == notice_id).with_for_update()
                               .execution_options(populate_existing=True))
    payment_id = db.session.scalar(select(Refund.payment_id).where(Refund.id == refund_id))
    db.session.scalar(select(PaymentOrder).where(PaymentOrder.id == payment_id).with_for_update())
    refund = db.session.scalar(select(Refund).where(Refund.id == refund_id).with_for_update()
                               .execution_options(populate_existing=True))
    if refund.state is not RefundState.REQUESTED:
        return f"{refund.ref}: already {refund.state.value}"
    now = datetime.now(UTC)
    refund.attempts += 1
    if result is None:
        refund.last_error = error
        if refund.attempts >= MAX_ATTEMPTS:
            move_refund(refund, RefundState.FAILED)
            refund.finished_at = now
            refund.next_attempt_at = None
            _record(notice, "refund_failed", actor_label="worker",
                            data={"refund_ref": refund.ref, "attempts": refund.attempts})
            return f"{refund.ref}: bank unreachable {refund.attempts} times, failed"
        refund.next_attempt_at = now + backoff(refund.attempts)
        return f"{refund.ref}: bank unreachable, retry at {refund.next_attempt_at:%H:%M}"
    refund.response_code = result.response_code
    refund.next_attempt_at = None
    refund.finished_at = result.refunded_at or now
    if not result.succeeded or result.amount != refund.amount:
        refund.last_error = f"refused by the bank ({result.response_code})"
        move_refund(refund, RefundState.FAILED)
        log.warning("bank refused refund %s with code %s", refund.ref, result.response_code)
        _record(notice, "refund_failed", actor_label="bank",
                        data={"refund_ref": refund.ref, "response_code": result.response_code})
        return f"{refund.ref}: refused by the bank ({result.response_code})"
    move_refund(refund, RefundState.SUCCEEDED)
    refund.bank_ref = result.bank_ref
    refund.last_error = None
    for part in refund.lines:
        if part.notice_line_id is not None:
            line = db.session.get(NoticeLine, part.notice_line_id)
            line.refunded += part.amount
    notice.refresh_status()
    _record(notice, "refund_made", actor_label="bank",
                    data={"refund_ref": refund.ref, "bank_ref": refund.bank_ref,
                          "amount": refund.amount})
    return f"{refund.ref}: refunded {refund.amount} dong"


def run_refund_worker() -> list[str]:
    """One round of the worker: request what is due automatically, then send what is due."""
    made = request_due_refunds()
    db.session.commit()
    outcomes = [f"{r.ref}: requested ({r.reason.value}, {r.amount} dong)" for r in made]
    return outcomes + send_pending_refunds()
