"""The daily statement and the reconciliation queue (docs/reconciliation.md).

Importing a day's statement matches every line to what LandPay recorded and every payment
LandPay counted that day to a line (the rules are payments.statements.match_statement); each
mismatch becomes a ReconciliationItem. An accountant resolves each item with a reason:
match the money to a notice, send it back, or accept it as explained.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.errors import BadGateway, Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    BankCredit,
    BankStatement,
    ItemKind,
    ItemStatus,
    Notice,
    PaymentOrder,
    ReconciliationItem,
    StatementLine,
    User,
)
from app.services import credits as credit_service
from app.services import paying
from payments.credits import Credit
from payments.errors import GatewayError, MalformedNotification, SignatureError
from payments.statements import (
    ALGORITHM,
    LineKind,
    Record,
    Statement,
    fetch_statement,
    match_statement,
)
from payments.states import PaymentStatus, check_transition

log = logging.getLogger(__name__)


@dataclass
class ImportResult:
    day: date
    already: bool = False
    lines: int = 0
    matched: int = 0
    opened: list[str] = field(default_factory=list)  #: kinds of the items opened

    def summary(self) -> str:
        if self.already:
            return f"{self.day}: already imported"
        kinds = ", ".join(sorted(set(self.opened))) or "none"
        return (f"{self.day}: {self.lines} line(s), {self.matched} matched, "
                f"{len(self.opened)} item(s) opened ({kinds})")


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=paying.LOCAL_TZ).astimezone(UTC)
    return start, start + timedelta(days=1)


def _records(ids: list[str]) -> dict[str, Record]:
    """What LandPay recorded for the given bank transaction ids: credits, card payments and,
    when the refunds ledger has them, refunds the bank made."""
    found: dict[str, Record] = {}
    if not ids:
        return found
    for c in db.session.scalars(select(BankCredit).where(BankCredit.transaction_id.in_(ids))):
        found[c.transaction_id] = Record(c.transaction_id, c.amount, c.value_date)
    for o in db.session.scalars(select(PaymentOrder).where(
            PaymentOrder.bank_ref.in_(ids), PaymentOrder.channel == "card",
            PaymentOrder.status == PaymentStatus.SUCCEEDED)):
        found[o.bank_ref] = Record(o.bank_ref, o.amount, paying.local_day(o.finished_at))
    for r in _refunds(ids=ids):
        found[r.transaction_id] = r
    return found


def _refunds(*, ids: list[str] | None = None, day: date | None = None) -> list[Record]:
    try:
        from app.models.refunds import Refund
        from payments.states import RefundState
    except ImportError:  # the refunds ledger is optional for reconciliation
        return []
    query = select(Refund).where(Refund.state == RefundState.SUCCEEDED, Refund.bank_ref.is_not(None))
    if ids is not None:
        query = query.where(Refund.bank_ref.in_(ids))
    if day is not None:
        start, end = _day_bounds(day)
        query = query.where(Refund.finished_at >= start, Refund.finished_at < end)
    return [Record(r.bank_ref, r.amount, paying.local_day(r.finished_at), "debit")
            for r in db.session.scalars(query)]


def _counted_on(day: date) -> list[Record]:
    """Every movement of money LandPay counted for ``day``: credits received (whatever became
    of them), card payments taken, refunds made."""
    start, end = _day_bounds(day)
    counted = [Record(c.transaction_id, c.amount, c.value_date)
               for c in db.session.scalars(select(BankCredit).where(BankCredit.value_date == day))]
    counted += [Record(o.bank_ref, o.amount, day) for o in db.session.scalars(select(PaymentOrder).where(
        PaymentOrder.channel == "card", PaymentOrder.status == PaymentStatus.SUCCEEDED,
        PaymentOrder.bank_ref.is_not(None), PaymentOrder.finished_at >= start, PaymentOrder.finished_at < end))]
    return counted + _refunds(day=day)


def fetch(day: date) -> Statement:
    cfg = current_app.config
    try:
        return fetch_statement(cfg["BANK_BASE_URL"], merchant_id=cfg["BANK_MERCHANT_ID"],
                               account=cfg["VIETQR_ACCOUNT"], day=day, secret=cfg["BANK_SECRET"],
                               timeout=cfg.get("BANK_TIMEOUT", 10))
    except GatewayError as exc:
        raise BadGateway(_("The bank's statement could not be fetched: %(why)s", why=str(exc))) from None
    except (SignatureError, MalformedNotification) as exc:
        log.warning("statement of %s refused: %s", day, exc)
        raise Conflict(_("The bank's statement was refused: %(why)s", why=str(exc))) from None


def already_imported(day: date) -> bool:
    return db.session.scalar(select(BankStatement.id).where(
        BankStatement.account == current_app.config["VIETQR_ACCOUNT"],
        BankStatement.statement_date == day)) is not None


def import_statement(day: date, statement: Statement | None = None) -> ImportResult:
    """Import and match the statement of ``day``, once; commits. The bank is asked before any
    row is locked or written."""
    if already_imported(day):
        return ImportResult(day, already=True)
    statement = statement or fetch(day)
    if statement.day != day or statement.account != current_app.config["VIETQR_ACCOUNT"]:
        raise Conflict(_("The statement is for another day or account."))
    result = ImportResult(day, lines=len(statement.lines))
    ids = [line.transaction_id for line in statement.lines]
    elsewhere = set(db.session.scalars(select(StatementLine.transaction_id).where(
        StatementLine.transaction_id.in_([r.transaction_id for r in _counted_on(day)] or [""]))))
    matching = match_statement(day, statement.lines, _records(ids), _counted_on(day), elsewhere)
    row = BankStatement(
        account=statement.account, statement_date=day, opening_balance=statement.opening_balance,
        closing_balance=statement.closing_balance, credit_total=statement.credits,
        debit_total=statement.debits, signature=statement.signature,
        document={"statement": statement.document,
                  "signature": {"algorithm": ALGORITHM, "value": statement.signature}},
    )
    db.session.add(row)
    try:
        # The statement's row first: a second import of the day at the same moment waits on
        # its unique key here, before writing anything else, and then finds the day imported.
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        if already_imported(day):
            return ImportResult(day, already=True)
        raise
    for m in matching.lines:
        line = m.line
        db.session.add(StatementLine(
            statement=row, position=m.index, transaction_id=line.transaction_id, direction=line.direction,
            channel=line.channel, amount=line.amount, purpose=line.purpose[:255],
            value_date=line.value_date, booked_at=line.booked_at, match=m.kind.value))
        item = _finding(day, m)
        if item is not None:
            result.opened.append(item.kind.value)
        elif m.kind is LineKind.MATCHED:
            result.matched += 1
    for record in matching.missing:
        item = credit_service.open_item(
            ItemKind.MISSING, f"missing:{record.transaction_id}:{day}", amount=record.amount,
            transaction_id=record.transaction_id, statement_date=day,
            credit=db.session.scalar(select(BankCredit).where(BankCredit.transaction_id == record.transaction_id)),
            detail=f"counted on {record.value_date} but not on the bank's statement of {day}")
        result.opened.append(item.kind.value)
    db.session.commit()
    return result


def _finding(day: date, m) -> ReconciliationItem | None:
    line = m.line
    txn = line.transaction_id
    if m.kind is LineKind.MATCHED:
        return None
    if m.kind is LineKind.NEW and line.direction == "credit" and line.channel == "transfer":
        # Never notified: the statement is the backstop, the credit is recorded as if notified.
        before = db.session.scalar(select(ReconciliationItem.id).where(ReconciliationItem.key == f"credit:{txn}"))
        credit = credit_service.record_credit(Credit(
            transaction_id=txn, bank_bin=current_app.config["VIETQR_ACQUIRER_ID"],
            account=current_app.config["VIETQR_ACCOUNT"], amount=line.amount, purpose=line.purpose,
            payer_name=line.counterparty_name, payer_account=line.counterparty_account,
            value_date=line.value_date, booked_at=line.booked_at), source="statement", statement_date=day)
        if before is None and credit.payment_id is None:
            return db.session.scalar(select(ReconciliationItem).where(ReconciliationItem.key == f"credit:{txn}"))
        return None
    kind, detail = {
        LineKind.NEW: (ItemKind.UNKNOWN_CREDIT if line.direction == "credit" else ItemKind.UNKNOWN_DEBIT,
                       f"{line.channel} {line.direction} on the statement that LandPay has no record of"),
        LineKind.AMOUNT_DIFFERS: (ItemKind.AMOUNT_DIFFERS,
                                  f"statement says {line.amount} dong, LandPay recorded "
                                  f"{m.record.amount if m.record else '?'}"),
        LineKind.OTHER_DAY: (ItemKind.OTHER_DAY,
                             f"on the statement of {day}, value date {line.value_date}, counted by "
                             f"LandPay on {m.record.value_date if m.record else '?'}"),
        LineKind.DUPLICATE_LINE: (ItemKind.DUPLICATE, "the same transaction appears twice on the statement"),
    }[m.kind]
    credit = db.session.scalar(select(BankCredit).where(BankCredit.transaction_id == txn))
    return credit_service.open_item(kind, f"{m.kind.value}:{txn}:{day}:{m.index}", amount=line.amount,
                                    transaction_id=txn, statement_date=day, credit=credit,
                                    notice=credit.notice if credit else None, detail=detail)


# -- the accountant's actions ----------------------------------------------------------------

ACTIONS = ("match", "refund", "accept")
_REFUND_REASON = {ItemKind.DUPLICATE: "duplicate", ItemKind.OVER: "overpayment"}


def resolve(item_id: int, actor: User, *, action: str, reason: str, notice_code: str | None = None
            ) -> ReconciliationItem:
    """Close an open item: ``match`` its credit to a notice, ``refund`` it to the payer, or
    ``accept`` it as explained. The reason and the actor are kept. Commits once."""
    reason = (reason or "").strip()
    errors = {}
    if action not in ACTIONS:
        errors["action"] = _("Choose match, refund or accept.")
    if len(reason) < 3:
        errors["reason"] = _("Give the reason for this decision.")
    if action == "match" and not (notice_code or "").strip():
        errors["notice_code"] = _("Give the code of the notice this money pays.")
    if errors:
        raise ValidationFailed(_("Check the decision."), fields=errors)
    item = db.session.scalar(select(ReconciliationItem).where(ReconciliationItem.id == item_id))
    if item is None:
        raise NotFound(_("No such reconciliation item."))
    # Locks: the notices first, in id order (as every payment takes a notice first), then the item.
    target = db.session.scalar(select(Notice.id).where(Notice.code == notice_code.strip().upper())) \
        if action == "match" else None
    for notice_id in sorted({n for n in (item.notice_id, target) if n is not None}):
        paying.lock_notice(notice_id)
    item = db.session.scalar(select(ReconciliationItem).where(ReconciliationItem.id == item_id)
                             .with_for_update().execution_options(populate_existing=True))
    if item.status is not ItemStatus.OPEN:
        raise Conflict(_("This item is already resolved."))
    if action == "match":
        _match(item, actor, notice_code.strip().upper(), reason)
        item.status = ItemStatus.MATCHED
    elif action == "refund":
        _refund(item, actor, reason)
        item.status = ItemStatus.REFUND_REQUESTED
    else:
        item.status = ItemStatus.ACCEPTED
    item.resolved_at = datetime.now(UTC)
    item.resolved_by = actor
    item.resolution_reason = reason[:2000]
    db.session.commit()
    return item


def _unused_credit(item: ReconciliationItem) -> BankCredit:
    """The item's credit, row-locked, while its money is unused. Two items can name one credit
    (the notification's and the statement's), so their decisions meet on the credit's lock,
    taken after the notices and the item; the money is used once it paid a notice (its
    payment) or another item of it was resolved by sending it back."""
    credit = None
    if item.credit_id is not None:
        credit = db.session.scalar(select(BankCredit).where(BankCredit.id == item.credit_id)
                                   .with_for_update().execution_options(populate_existing=True))
    if credit is None or credit.payment_id is not None:
        raise Conflict(_("Only money not yet applied to a notice can be matched or refunded."))
    returned = db.session.scalar(select(ReconciliationItem.id).where(
        ReconciliationItem.credit_id == credit.id, ReconciliationItem.id != item.id,
        ReconciliationItem.status == ItemStatus.REFUND_REQUESTED).limit(1))
    if returned is not None:
        raise Conflict(_("This money is already being sent back to the payer."))
    return credit


def _match(item: ReconciliationItem, actor: User, code: str, reason: str) -> None:
    credit = _unused_credit(item)
    notice_id = db.session.scalar(select(Notice.id).where(Notice.code == code))
    if notice_id is None:
        raise ValidationFailed(_("Check the decision."), fields={"notice_code": _("No notice has this code.")})
    notice = paying.lock_notice(notice_id)
    owed = credit_service.owed_by_transfer(notice, credit.value_date)
    if owed <= 0:
        raise Conflict(_("This notice owes nothing: refund the money instead."))
    if credit.amount > owed:
        raise ValidationFailed(_("Check the decision."), fields={
            "notice_code": _("The money is more than this notice owes: refund it instead.")})
    order = credit_service.pay_notice_with_credit(credit, notice, actor_label="accountant")
    credit.notice = notice
    item.notice = notice
    item.payment = order
    paying.record_for_notice(notice, "transfer_matched", actor=actor,
                    data={"notice_code": notice.code, "order_ref": order.ref, "bank_ref": credit.transaction_id,
                          "amount": credit.amount, "reason": reason})


def _refund(item: ReconciliationItem, actor: User, reason: str) -> None:
    credit = _unused_credit(item)
    if credit.notice is None:
        # No notice to refund through: the treasury returns it to the payer's account by hand.
        # The item, resolved as refund_requested, marks the credit used (see _unused_credit).
        item.detail = (item.detail + " | to be returned outside LandPay (no notice)")[:2000]
        return
    from app.services.refunds import request_refund

    check_transition(PaymentStatus.CREATED, PaymentStatus.SUCCEEDED)
    # The money is held as a payment that pays nothing (needs_refund), so the refund has a
    # payment to give back from; the notice's lines are untouched.
    held = PaymentOrder(
        ref=credit_service.transfer_ref(), notice=credit.notice, amount=credit.amount, late_interest=0,
        status=PaymentStatus.SUCCEEDED, channel="transfer", needs_refund=True,
        bank_ref=credit.transaction_id, response_code="00", finished_at=credit.booked_at,
        created_at=datetime.now(UTC),
    )
    db.session.add(held)
    db.session.flush()
    credit.payment = held
    item.payment = held
    refund = request_refund(held, credit.amount, _REFUND_REASON.get(item.kind, "correction"),
                            actor=actor, note=reason)
    item.refund_ref = refund.ref


def item_json(item: ReconciliationItem) -> dict:
    return {
        "id": item.id, "kind": item.kind.value, "status": item.status.value, "amount": item.amount,
        "transaction_id": item.transaction_id,
        "statement_date": item.statement_date.isoformat() if item.statement_date else None,
        "detail": item.detail, "notice_code": item.notice.code if item.notice else None,
        "payment_ref": item.payment.ref if item.payment else None,
        "purpose": item.credit.purpose if item.credit else None,
        "payer_name": item.credit.payer_name if item.credit else None,
        "created_at": item.created_at.isoformat(),
        "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
        "resolved_by": item.resolved_by.username if item.resolved_by else None,
        "resolution_reason": item.resolution_reason, "refund_ref": item.refund_ref,
    }
