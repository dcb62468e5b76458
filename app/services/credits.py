"""Money that arrives by VietQR transfer: the bank's signed credit notification (or a statement
line nobody notified) becomes a payment of the notice its purpose names, or an item in the
reconciliation queue. Never lost, never counted twice: one credit per bank transaction id
(a unique column), and one payment per credit.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    BankCredit,
    ItemKind,
    ItemStatus,
    Notice,
    NoticeStatus,
    PaymentOrder,
    ReconciliationItem,
)
from app.models.annual import annual_notice_codes_in
from app.services import paying
from payments.credits import (
    Credit,
    CreditAnswer,
    CreditOutcome,
    answer,
    classify,
    notice_codes,
    parse_credit,
)
from payments.errors import MalformedNotification, SignatureError
from payments.gateway import BankResult
from payments.states import PaymentStatus

log = logging.getLogger(__name__)

_ITEM_KIND = {
    CreditOutcome.UNKNOWN: ItemKind.UNKNOWN_CREDIT,
    CreditOutcome.SHORT: ItemKind.SHORT,
    CreditOutcome.OVER: ItemKind.OVER,
    CreditOutcome.DUPLICATE: ItemKind.DUPLICATE,
}


def transfer_ref() -> str:
    """Our reference of a payment that came by transfer (the receipt number follows it)."""
    return "TR" + datetime.now(UTC).strftime("%y%m%d") + secrets.token_hex(5).upper()


def owed_by_transfer(notice: Notice, value_date: date | None = None) -> int:
    """What a transfer must bring to pay the notice: what its VietQR code asks on the day the
    money arrives (app.services.views.vietqr_payload), the outstanding amount of an unpaid
    notice with that day's late-payment interest."""
    if notice.status is not NoticeStatus.UNPAID:
        return 0
    return notice.outstanding + paying.interest_due(notice, value_date or paying.local_day())


def open_item(kind: ItemKind, key: str, *, amount: int, detail: str, transaction_id: str | None = None,
              credit: BankCredit | None = None, payment: PaymentOrder | None = None,
              notice: Notice | None = None, statement_date=None) -> ReconciliationItem:
    """Open an item unless one with the same key exists (a finding is recorded once)."""
    existing = db.session.scalar(select(ReconciliationItem).where(ReconciliationItem.key == key))
    if existing is not None:
        return existing
    item = ReconciliationItem(
        key=key[:120], kind=kind, status=ItemStatus.OPEN, amount=amount, detail=detail[:2000],
        transaction_id=transaction_id, credit=credit, payment=payment, notice=notice,
        statement_date=statement_date,
    )
    db.session.add(item)
    db.session.flush()
    return item


def pay_notice_with_credit(credit: BankCredit, notice: Notice, *, actor_label: str) -> PaymentOrder:
    """Turn a credit into a payment of the locked notice: a transfer payment order, then the
    same steps as a card payment (lines, receipt, dossier)."""
    # The interest of the day the money arrived, when the transfer brought it (a transfer
    # accepted for less pays the lines only).
    interest = paying.interest_due(notice, credit.value_date)
    order = PaymentOrder(
        ref=transfer_ref(), notice=notice, amount=credit.amount,
        late_interest=interest if credit.amount >= notice.outstanding + interest else 0,
        status=PaymentStatus.CREATED, channel="transfer", created_at=datetime.now(UTC),
    )
    db.session.add(order)
    db.session.flush()
    paying.record_bank_success(order, BankResult(
        order_ref=order.ref, amount=credit.amount, succeeded=True, bank_ref=credit.transaction_id,
        response_code="00", paid_at=credit.booked_at, raw={},
    ), actor_label=actor_label)
    credit.payment = order
    return order


def _notice_code(purpose: str) -> str | None:
    """The one notice code a transfer's purpose names: a dossier notice's (``TB``), an annual
    tax notice's (``NN``) or an annual rent notice's (``TD``); None when it names none or several (a transfer meant for two
    notices cannot be split by guessing)."""
    codes = notice_codes(purpose) + annual_notice_codes_in(purpose)
    return codes[0] if len(codes) == 1 else None


def record_credit(credit: Credit, *, source: str, statement_date=None) -> BankCredit:
    """Record one credit, once. The caller commits.

    A repeat (same bank transaction id) returns the credit recorded first and changes nothing.
    """
    existing = db.session.scalar(select(BankCredit).where(BankCredit.transaction_id == credit.transaction_id))
    if existing is not None:
        return existing
    code = _notice_code(credit.purpose)
    notice_id = db.session.scalar(select(Notice.id).where(Notice.code == code)) if code else None
    notice = paying.lock_notice(notice_id) if notice_id is not None else None
    if notice is not None:
        # Under the notice's lock a concurrent delivery of the same credit has either committed
        # (seen here) or waits for us (and then sees ours).
        existing = db.session.scalar(
            select(BankCredit).where(BankCredit.transaction_id == credit.transaction_id)
            .execution_options(populate_existing=True))
        if existing is not None:
            return existing
    outcome = classify(credit.amount, notice_found=notice is not None,
                       already_paid=notice is not None and notice.status is NoticeStatus.PAID,
                       owed=owed_by_transfer(notice, credit.value_date) if notice is not None else 0)
    row = BankCredit(
        transaction_id=credit.transaction_id, account=credit.account, amount=credit.amount,
        purpose=credit.purpose[:255], payer_name=credit.payer_name[:120],
        payer_account=credit.payer_account[:40], value_date=credit.value_date,
        booked_at=credit.booked_at, source=source, notice_code=code, outcome=outcome.value,
        notice=notice,
    )
    db.session.add(row)
    db.session.flush()
    if outcome is CreditOutcome.PAYS:
        order = pay_notice_with_credit(row, notice, actor_label="bank")
        paying.record_for_notice(notice, "transfer_received", actor_label="bank",
                        data={"notice_code": notice.code, "order_ref": order.ref,
                              "bank_ref": credit.transaction_id, "amount": credit.amount})
        return row
    owed = owed_by_transfer(notice, credit.value_date) if notice is not None else None
    detail = {
        CreditOutcome.UNKNOWN: f"purpose {credit.purpose!r} names no notice we issued"
        if code is None or notice is None else "",
        CreditOutcome.SHORT: f"{credit.amount} dong for notice {code} which owes {owed}",
        CreditOutcome.OVER: f"{credit.amount} dong for notice {code} which owes {owed}",
        CreditOutcome.DUPLICATE: f"{credit.amount} dong for notice {code} which owes nothing "
                                 f"(status {notice.status.value if notice else '?'})",
    }[outcome] or f"purpose {credit.purpose!r} names no notice we issued"
    open_item(_ITEM_KIND[outcome], f"credit:{credit.transaction_id}", amount=credit.amount,
              detail=detail, transaction_id=credit.transaction_id, credit=row, notice=notice,
              statement_date=statement_date)
    if notice is not None:
        paying.record_for_notice(notice, "transfer_to_reconcile", actor_label="bank",
                        data={"notice_code": notice.code, "bank_ref": credit.transaction_id,
                              "amount": credit.amount, "outcome": outcome.value})
    log.info("credit %s for %s dong: %s", credit.transaction_id, credit.amount, outcome.value)
    return row


def _our_account(credit: Credit) -> bool:
    cfg = current_app.config
    return credit.account == cfg.get("VIETQR_ACCOUNT") and credit.bank_bin == cfg.get("VIETQR_ACQUIRER_ID")


def handle_credit_notification(params: dict[str, str]) -> dict[str, str]:
    """The bank's credit notification; returns the JSON answer. Signature first, then the
    account, then the credit, recorded once; a repeat is acknowledged the same way."""
    try:
        credit = parse_credit(params, current_app.config["BANK_SECRET"])
    except SignatureError:
        log.warning("credit notification refused: bad signature")
        return answer(CreditAnswer.BAD_SIGNATURE)
    except MalformedNotification as exc:
        log.warning("credit notification refused: %s", exc)
        return answer(CreditAnswer.BAD_SIGNATURE, "malformed")
    if not _our_account(credit):
        log.warning("credit notification %s for another account refused", credit.transaction_id)
        return answer(CreditAnswer.WRONG_ACCOUNT)
    try:
        record_credit(credit, source="notification")
        db.session.commit()
    except IntegrityError:
        # The same credit recorded at the same moment by another process: it is there now.
        db.session.rollback()
        if db.session.scalar(select(BankCredit.id).where(BankCredit.transaction_id == credit.transaction_id)) is None:
            raise
    return answer(CreditAnswer.OK)
