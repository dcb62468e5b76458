"""Paying a notice at the bank: start an order, take the bank's signed
notification as the truth, issue the signed e-receipt.

The browser's return from the bank only displays the state; the server-to-server
notification is what marks a payment succeeded, under a row lock so duplicate or
concurrent notifications end in one payment and one receipt.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

import tax_calc
from app.errors import BadGateway, Conflict, Forbidden
from app.extensions import db
from app.models import (
    BankNotification,
    Dossier,
    DossierParty,
    DossierStatus,
    Notice,
    NoticeLine,
    NoticeStatus,
    Party,
    PaymentOrder,
    Receipt,
    Role,
    User,
)
from app.models.keys import KeyStatus, ReceiptKey
from app.models.refunds import PaymentLine
from app.services import treasury, workflow
from app.services.keys import receipt_signer
from payments.errors import GatewayError, MalformedNotification, SignatureError
from payments.gateway import BankGateway, BankResult, IpnCode, configured_gateway, ipn_response
from payments.ipn import decide_notification
from payments.receipts import build_receipt_claims
from payments.states import PaymentStatus, move

log = logging.getLogger(__name__)


def gateway() -> BankGateway:
    """The application's one configured bank client (payments.gateway.configured_gateway)."""
    return configured_gateway(current_app)


def _order_ref() -> str:
    return "LP" + datetime.now(UTC).strftime("%y%m%d") + secrets.token_hex(5).upper()


LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local_day(at: datetime | None = None) -> date:
    """The day in Vietnam (due dates and late interest are counted in local days)."""
    return (at or datetime.now(UTC)).astimezone(LOCAL_TZ).date()


def late_interest_lines(notice: Notice, paid_on: date) -> list[tax_calc.Line]:
    """The late-payment interest owed if the notice's outstanding amount is paid on
    ``paid_on``: for each instalment still unpaid after its due date, the rules engine's
    ``late_interest`` on the unpaid part (what was paid covers a line's instalments in
    order). Empty when nothing is overdue."""
    found = []
    for line in notice.lines:
        if line.obligation == "late_interest":
            continue  # an interest line itself bears no interest
        covered = line.paid - line.refunded
        for part in line.installments or ():
            take = min(part["amount"], max(covered, 0))
            covered -= take
            unpaid = part["amount"] - take
            if unpaid <= 0 or not part["due_on"]:
                continue
            due = date.fromisoformat(part["due_on"])
            if due < paid_on:
                interest = tax_calc.late_interest(unpaid, due, paid_on)
                if interest.amount > 0:
                    found.append(interest)
    return found


def interest_due(notice: Notice, paid_on: date) -> int:
    """The late-payment interest a payment of the whole outstanding amount on ``paid_on``
    brings with it (0 when nothing is overdue): the one figure the card payment, the VietQR
    code and a bank transfer all use."""
    return sum(line.amount for line in late_interest_lines(notice, paid_on))


def late_interest_detail(lines: list[tax_calc.Line]) -> dict:
    """What a notice's late-interest line keeps of the rules engine's lines."""
    return {
        "base": sum(line.base for line in lines),
        "rate": str(lines[0].rate) if lines else None,
        "legal_basis": "; ".join(dict.fromkeys(line.legal_basis for line in lines)),
        "rule_version": "+".join(dict.fromkeys(line.rule_version for line in lines)),
        "explanation_vi": "; ".join(line.explanation_vi for line in lines),
        "explanation_en": "; ".join(line.explanation_en for line in lines),
    }


#: How long after it started an order may still turn into money at the bank: the bank's
#: checkout page is valid for 15 minutes; the margin covers clocks and slow payers.
OPEN_WINDOW = timedelta(minutes=30)


# Locks are always taken in one order — the notice, then its payment orders — so a retry
# and a notification for the same notice wait for each other instead of deadlocking.


def _lock_notice(notice_id: int, *, unless_unsettled: bool = False) -> Notice | None:
    """The notice, row-locked and read afresh, with its dossier in the same statement, and its
    lines in the next one: a statement that waited for the lock still reads the other tables
    as they were when it began, so what another payment changed meanwhile is read after it.
    ``unless_unsettled``: only when none of its orders may still be money at the bank without
    our knowing (``unsettled_orders``); None, and nothing locked, when one may."""
    query = select(Notice).where(Notice.id == notice_id)
    if unless_unsettled:
        query = query.where(~exists().where(PaymentOrder.notice_id == Notice.id, _unsettled()))
    return db.session.scalars(
        query
        .options(selectinload(Notice.lines), joinedload(Notice.dossier))
        .with_for_update(of=Notice)
        .execution_options(populate_existing=True)
    ).unique().one_or_none()


def _lock_order(order_id: int) -> PaymentOrder:
    return db.session.scalar(
        select(PaymentOrder).where(PaymentOrder.id == order_id).with_for_update()
        .execution_options(populate_existing=True)
    )


def settle_pending(older_than: timedelta = timedelta(minutes=15)) -> tuple[int, list[str], list[int]]:
    """Ask the bank about every order started more than ``older_than`` ago whose notification
    has not come, one order and one transaction at a time; an order the bank cannot answer
    about does not hold up the others. Returns how many were asked about, the outcomes and the
    ids not answered."""
    from app.errors import BadGateway

    outcomes, unanswered = [], []
    ids = unsettled_orders(started_before=datetime.now(UTC) - older_than)
    for order_id in ids:
        try:
            outcomes.extend(settle([order_id], actor_label="worker"))
            db.session.commit()
        except BadGateway:
            db.session.rollback()
            unanswered.append(order_id)
    return len(ids), outcomes, unanswered


def unsettled_orders(*, notice_id: int | None = None, started_before: datetime | None = None) -> list[int]:
    """Orders that may be (or still become) money at the bank without our knowing: those
    still at the bank, and those we expired until the bank has been asked about them after
    their checkout page closed."""
    query = select(PaymentOrder.id).where(_unsettled()).order_by(PaymentOrder.id)
    if notice_id is not None:
        query = query.where(PaymentOrder.notice_id == notice_id)
    if started_before is not None:
        query = query.where(PaymentOrder.created_at < started_before)
    return list(db.session.scalars(query))


def _unsettled():
    """The condition on an order of ``unsettled_orders``."""
    return or_(
        PaymentOrder.status == PaymentStatus.STARTED,
        and_(
            PaymentOrder.status == PaymentStatus.EXPIRED,
            or_(PaymentOrder.checked_at.is_(None), PaymentOrder.open_until.is_(None),
                PaymentOrder.checked_at <= PaymentOrder.open_until),
        ),
    )


def settle(order_ids: list[int], *, actor_label: str = "bank-query") -> list[str]:
    """Ask the bank about each order, then apply each answer under the locks. The bank is
    asked before any lock is taken, so no row stays locked while the network is slow.
    Raises BadGateway when the bank cannot be reached. The caller commits."""
    answers: list[tuple[int, BankResult | None]] = []
    for order_id in order_ids:
        ref = db.session.scalar(select(PaymentOrder.ref).where(PaymentOrder.id == order_id))
        try:
            answers.append((order_id, gateway().query(ref)))
        except (GatewayError, SignatureError):
            raise BadGateway(_("The bank cannot be reached; please try again in a moment.")) from None
    outcomes = []
    for order_id, result in answers:
        notice_id = db.session.scalar(select(PaymentOrder.notice_id).where(PaymentOrder.id == order_id))
        _lock_notice(notice_id)
        order = _lock_order(order_id)
        order.checked_at = datetime.now(UTC)
        outcomes.append(_apply_query(order, result, actor_label=actor_label))
    return outcomes


def _apply_query(order: PaymentOrder, result: BankResult | None, *, actor_label: str) -> str:
    if result is None:
        if order.status is PaymentStatus.STARTED:
            # The payer never confirmed at the bank. Expired, not cancelled: should the bank
            # still take the money on that old page, the late success is recorded, not lost.
            move(order, PaymentStatus.EXPIRED)
            order.finished_at = datetime.now(UTC)
            return f"{order.ref}: not at the bank, expired"
        return f"{order.ref}: not at the bank"
    if result.amount != order.amount:
        log.warning("bank reports %s dong for order %s of %s dong", result.amount, order.ref, order.amount)
        return f"{order.ref}: amount differs at the bank, left for reconciliation"
    if result.succeeded and order.status in (PaymentStatus.STARTED, PaymentStatus.EXPIRED):
        _apply(order, result, actor_label=actor_label)
        return f"{order.ref}: paid at the bank, recorded"
    if not result.succeeded and order.status is PaymentStatus.STARTED:
        _apply(order, result, actor_label=actor_label)
        return f"{order.ref}: refused at the bank ({result.response_code})"
    return f"{order.ref}: already {order.status.value}"


def start_payment(user: User | None, notice: Notice, *, payer_name: str | None = None,
                  paid_for: Party | None = None,
                  return_url: Callable[[PaymentOrder], str] | None = None) -> tuple[PaymentOrder, str]:
    """Create a payment order for the notice's outstanding amount; return it and the bank URL.

    Without a user (anyone may pay, app/services/public_pay.py) the order keeps the paying
    person's name and the party paid for, and the bank sends the browser to ``return_url``."""
    if user is None:
        if not payer_name or paid_for is None:
            raise Forbidden(_("Only a landholder pays a notice."))
    elif user.role is not Role.LANDHOLDER:
        raise Forbidden(_("Only a landholder pays a notice."))
    # An earlier attempt may have been paid at the bank: ask before paying again, with no
    # lock held. Most notices have no such attempt: the statement that finds none locks the
    # notice at once (it reads the orders later than a read before it would).
    locked = _lock_notice(notice.id, unless_unsettled=True)
    if locked is None:
        settle(unsettled_orders(notice_id=notice.id))
        locked = _lock_notice(notice.id)
    notice = locked
    if notice.status is NoticeStatus.PAID or notice.outstanding <= 0:
        db.session.commit()  # the use case's one commit: it keeps what the bank told us
        raise Conflict(_("This notice is already paid."))
    now = datetime.now(UTC)
    interest = interest_due(notice, local_day(now))
    order = PaymentOrder(
        ref=_order_ref(),
        notice=notice,
        amount=notice.outstanding + interest,
        late_interest=interest,
        status=PaymentStatus.STARTED,
        created_by=user,
        created_at=now,
        open_until=now + OPEN_WINDOW,
        payer_name=payer_name if user is None else None,
        paid_for=paid_for if user is None else None,
        receipt=None,  # a new order has none: nothing to look up when it is shown
    )
    db.session.add(order)
    record_for_notice(
        notice, "payment_started", actor=user, actor_label=None if user else "public-payer",
        data={"notice_code": notice.code, "order_ref": order.ref, "amount": order.amount,
              "late_interest": interest},
    )
    url = gateway().checkout_url(
        order_ref=order.ref,
        amount=order.amount,
        description=f"Thanh toan thong bao {notice.code}",
        return_url=return_url(order) if return_url else
        current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for("landholder.bank_return"),
        created_at=order.created_at,
        locale="en" if str(get_locale()) == "en" else "vn",
    )
    workflow.commit()
    return order, url


def _apply(order: PaymentOrder, result: BankResult, *, actor_label: str,
           others: list[Notice] | None = None, signing_key: ReceiptKey | None = None) -> None:
    """Move a locked, non-final order to its final state and, on success, pay the notice.
    ``others``: the dossier's other notices, read after the caller locked the dossier too
    (after the notice and the order); None: the dossier is locked and they are read here,
    when it matters. ``signing_key``: the active receipt key, when the caller read it with
    its locks (None: read when the receipt is issued)."""
    new = PaymentStatus.SUCCEEDED if result.succeeded else PaymentStatus.FAILED
    notice = order.notice
    dossier = notice.dossier  # None for a notice without a dossier (the annual tax)
    # Read before any change, so no half-changed order is flushed early.
    already_paid = result.succeeded and notice.outstanding <= 0
    move(order, new)
    order.needs_refund = already_paid
    order.bank_ref = result.bank_ref
    order.response_code = result.response_code
    order.finished_at = result.paid_at or datetime.now(UTC)
    if not result.succeeded:
        record_for_notice(
            notice, "payment_failed", actor_label=actor_label,
            data={"order_ref": order.ref, "response_code": result.response_code},
        )
        return
    if already_paid:
        # Paid already through another attempt: keep the money's trace and flag it for refund.
        log.warning("payment %s received for notice %s that was already paid", order.ref, notice.code)
        record_for_notice(
            notice, "duplicate_payment_received", actor_label=actor_label,
            data={"order_ref": order.ref, "bank_ref": order.bank_ref, "amount": order.amount},
        )
        return
    remaining = order.amount
    shares = []
    if order.late_interest:
        # The interest the order included, for the day it was made: its own line, paid.
        interest = min(order.late_interest, remaining)
        interest_line = NoticeLine(
            obligation="late_interest", amount=interest, paid=interest, refunded=0,
            installments=[],
            detail=late_interest_detail(late_interest_lines(notice, local_day(order.created_at))),
        )
        treasury.stamp(interest_line, notice.parcel.province)
        notice.lines.append(interest_line)
        notice.total += interest
        remaining -= interest
        shares.append(_share(order, interest_line, interest))
    for line in notice.lines:
        share = min(line.outstanding, remaining)
        line.paid += share
        remaining -= share
        if share:
            shares.append(_share(order, line, share))
    if remaining > 0:
        # More than the notice owed: keep the trace; the surplus is for refund.
        log.warning("payment %s exceeds what notice %s owed by %s dong", order.ref, notice.code, remaining)
        record_for_notice(
            notice, "overpayment_received", actor_label=actor_label,
            data={"order_ref": order.ref, "surplus": remaining},
        )
    notice.refresh_status()
    notice.paid_at = order.finished_at
    _issue_receipt(order, shares, signing_key)
    # The dossier's state is asked after its lock (``_all_notices_paid`` takes it and reads
    # the dossier again unless the caller holds it).
    if notice.status is NoticeStatus.PAID and dossier is not None \
            and _all_notices_paid(dossier.id, notice, others) \
            and dossier.status is DossierStatus.AWAITING_PAYMENT:
        workflow.move(
            dossier, DossierStatus.PAID, actor_label=actor_label,
            data={"order_ref": order.ref, "bank_ref": order.bank_ref, "amount": order.amount,
                  "receipt": order.receipt.number if order.receipt else None},
        )


def record_for_notice(notice: Notice, kind: str, **kwargs) -> None:
    """Record a payment fact as an event of the notice's dossier. A notice without a dossier
    (the annual tax) has no event history to add to: its orders, receipts and refunds are its
    record, and the fact is logged."""
    if notice.dossier is not None:
        workflow.record(notice.dossier, kind, **kwargs)
    else:
        log.info("notice %s: %s", notice.code, kind)


def lock_notice(notice_id: int) -> Notice:
    """The notice, row-locked: other use cases that pay a notice take this lock first too."""
    return _lock_notice(notice_id)


def record_bank_success(order: PaymentOrder, result: BankResult, *, actor_label: str) -> None:
    """Pay the (locked) notice with money the bank reports taken by another channel than the
    checkout page (a VietQR transfer): the same lines, receipt and dossier step as a card
    payment. The caller holds the notice's lock and commits."""
    if not result.succeeded:
        raise ValueError("only a success pays a notice")
    _apply(order, result, actor_label=actor_label)


def _share(order: PaymentOrder, line: NoticeLine, amount: int) -> dict:
    """Record what the payment settled of one line (its own row), and the receipt's line."""
    db.session.add(PaymentLine(payment=order, notice_line=line, amount=amount))
    return {"obligation": line.obligation, "amount": amount, "budget_code": line.budget_code,
            "treasury_account": line.treasury_account}


def _all_notices_paid(dossier_id: int, notice: Notice, others: list[Notice] | None = None) -> bool:
    """Whether every notice of the dossier is paid (``notice``, the one being paid, as it is
    now in this transaction), the others read under the dossier's row lock (taken after the
    notice and its orders): two payers paying the last two notices at once wait for each
    other at that lock, and the second, whose reads start after it, sees the first's payment.
    ``others``: the other notices, read so by the caller already."""
    if others is None:
        with db.session.no_autoflush:
            db.session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update()
                              .execution_options(populate_existing=True))
            statuses = list(db.session.scalars(
                select(Notice.status).where(Notice.dossier_id == dossier_id, Notice.id != notice.id)))
    else:
        statuses = [other.status for other in others]
    statuses.append(notice.status)
    # A notice cancelled by a decision (replaced, or its dossier ended) is owed by nobody.
    return all(status in (NoticeStatus.PAID, NoticeStatus.CANCELLED) for status in statuses)


def _receipt_parties(notice: Notice) -> dict:
    """Who the receipt is about: the dossier's parties by role or, for the annual tax, the
    holder, the tax year and the parcel (a receipt names what it was paid for)."""
    dossier = notice.dossier
    if dossier is not None:
        return {"procedure": dossier.procedure,
                "transferors": [p.full_name for p in dossier.transferors],
                "transferees": [p.full_name for p in dossier.transferees],
                "holders": [p.full_name for p in dossier.holders]}
    annual, parcel = notice.annual, notice.parcel
    return {"procedure": "annual_non_agricultural_tax",
            "holders": [p.full_name for p in notice.payers],
            "tax_year": str(annual.tax_year) if annual is not None else "",
            "parcel": f"{parcel.map_sheet}/{parcel.parcel_no}, {parcel.address}" if parcel else ""}


def _issue_receipt(order: PaymentOrder, shares: list[dict],
                   signing_key: ReceiptKey | None = None) -> Receipt:
    signer = receipt_signer(signing_key)
    notice = order.notice
    number = "BL" + order.ref[2:]
    # Who paid: the landholder who made the order (for whom: the notice's side).
    paid_by = order.created_by.party if order.created_by and order.created_by.party \
        else notice.payer
    # Paid without an account: the name the paying person gave.
    payer_name = order.payer_name or paid_by.full_name
    claims = build_receipt_claims(
        receipt_id=number,
        payment_id=str(order.id),
        order_ref=order.ref,
        notice_code=notice.code,
        dossier_code=notice.dossier.code if notice.dossier is not None else "",
        payer_name=payer_name,
        paid_for=[p.full_name for p in notice.payers],
        parties=_receipt_parties(notice),
        lines=shares,
        # What settled the notice's lines; an overpayment's surplus is refunded, not receipted.
        total=sum(share["amount"] for share in shares),
        bank_ref=order.bank_ref,
        paid_at=order.finished_at,
        issued_at=datetime.now(UTC),
        issuer=current_app.config.get("RECEIPT_ISSUER", "LandPay"),
    )
    receipt = Receipt(
        number=number, payment=order, notice=notice, token=signer.sign(claims),
        kid=signer.kid, claims=claims,
    )
    db.session.add(receipt)
    return receipt


#: What is kept of a notification we refuse: its protocol fields, each cut short.
_KEPT_FIELDS = 20
_KEPT_LENGTH = 128


def _safe_params(params: dict[str, str]) -> dict[str, str]:
    """The notification's fields worth keeping: no signature, bounded in number and size."""
    kept = {}
    for key, value in params.items():
        if not key.startswith("lp_") or "hash" in key.lower() or "secure" in key.lower():
            continue
        kept[key[:40]] = str(value)[:_KEPT_LENGTH]
        if len(kept) >= _KEPT_FIELDS:
            break
    return kept


#: How far in the future a bank's pay date may be (clock skew between the bank and us).
PAY_DATE_AHEAD = timedelta(days=1)
#: How long before its order was created a pay date may be (clock skew the other way).
PAY_DATE_BEHIND = timedelta(minutes=5)


def pay_date_is_sane(result: BankResult, order: PaymentOrder, now: datetime | None = None) -> bool:
    """A success's pay date lies between the order's creation and a day from now."""
    if not result.succeeded or result.paid_at is None:
        return True
    now = now or datetime.now(UTC)
    return order.created_at - PAY_DATE_BEHIND <= result.paid_at <= now + PAY_DATE_AHEAD


def handle_notification(params: dict[str, str]) -> dict:
    """The bank's server-to-server notification; returns the JSON answer for the bank.

    Checked in order: signature, order, amount, final state (docs/protocols/bank-gateway.md).
    """
    safe_params = _safe_params(params)
    result: BankResult | None = None
    signature_ok = True
    try:
        result = gateway().parse_notification(params)
    except SignatureError:
        signature_ok = False
    except MalformedNotification:
        log.warning("malformed bank notification refused")
        return _log_answer(None, IpnCode.BAD_SIGNATURE, "malformed notification", safe_params)

    order, others, signing_key = (_lock_for_notification(result.order_ref) if result is not None
                                  else (None, None, None))
    code, new_status = decide_notification(
        result,
        order_found=order is not None,
        order_amount=order.amount if order else None,
        order_status=order.status if order else None,
        signature_ok=signature_ok,
    )
    # Only a verified reference is kept as such; an unverified one stays in the bounded params.
    ref = result.order_ref[:64] if result else None
    if code is IpnCode.OK and order is not None and not pay_date_is_sane(result, order):
        # A signed result whose pay date cannot be true (a bank clock or data error): refused
        # like a malformed field, logged, and left for the status query and reconciliation.
        log.warning("bank notification for order %s refused: pay date %s outside the sane window",
                    order.ref, result.paid_at.isoformat())
        db.session.rollback()
        return _log_answer(ref, IpnCode.BAD_SIGNATURE, "refused: pay date outside the sane window",
                           safe_params)
    if code is IpnCode.OK and order is not None and new_status is not None:
        _apply(order, result, actor_label="bank", others=others, signing_key=signing_key)
        detail = f"order {order.ref} -> {order.status.value}"
    elif (order is not None and result is not None and result.succeeded
          and order.status is PaymentStatus.FAILED):
        # The bank says it took money for an order we hold as failed: never silently dropped.
        detail = f"success reported for {order.status.value} order {order.ref}: to reconcile"
        log.warning("bank reports payment %s succeeded but it is %s", order.ref, order.status.value)
        record_for_notice(
            order.notice, "payment_to_reconcile", actor_label="bank",
            data={"order_ref": order.ref, "bank_ref": result.bank_ref, "amount": result.amount},
        )
    else:
        detail = f"refused: {code.name}"
        if code in (IpnCode.BAD_SIGNATURE, IpnCode.WRONG_AMOUNT):
            log.warning("bank notification refused (%s) for order %s", code.name, ref or "?")
    return _log_answer(ref, code, detail, safe_params)


def _lock_for_notification(ref: str) -> tuple[PaymentOrder | None, list[Notice] | None,
                                              ReceiptKey | None]:
    """The order a notification is about, with its notice and the notice's dossier, locked
    in the one order every use case takes them (the notice, its order, then the dossier) and
    read with what paying it needs (parties, the payer's account, a receipt), in one
    statement; then, in the next statement, every notice of the dossier with its lines (a
    statement that waited for the locks still reads other rows as they were when it began, so
    what another payment changed meanwhile is read after the locks). Returns the order (None
    when unknown), the dossier's other notices (None when the dossier is not locked: a
    notice without a dossier, the annual tax's, is locked as before, the notice then the
    order) and the active receipt key, read unlocked in the locking statement (None when
    not read so: the receipt then reads it)."""
    row = db.session.execute(
        select(PaymentOrder, ReceiptKey).select_from(PaymentOrder)
        .join(PaymentOrder.notice).join(Notice.dossier)
        .outerjoin(ReceiptKey, ReceiptKey.status == KeyStatus.ACTIVE)
        .where(PaymentOrder.ref == ref)
        .options(
            contains_eager(PaymentOrder.notice).contains_eager(Notice.dossier)
            .joinedload(Dossier.parties).joinedload(DossierParty.party),
            joinedload(PaymentOrder.created_by).joinedload(User.party),
            joinedload(PaymentOrder.receipt),
        )
        .with_for_update(of=[Notice, PaymentOrder, Dossier])
        .execution_options(populate_existing=True)
    ).unique().one_or_none()
    if row is not None:
        order, signing_key = row
        notices = db.session.scalars(
            select(Notice).where(Notice.dossier_id == order.notice.dossier_id)
            .options(joinedload(Notice.lines))
        ).unique().all()  # the notice just read under its lock; its lines and the others, first read here
        return order, [n for n in notices if n is not order.notice], signing_key
    found = db.session.execute(
        select(PaymentOrder.id, PaymentOrder.notice_id).where(PaymentOrder.ref == ref)
    ).first()
    if found is None:
        return None, None, None
    _lock_notice(found.notice_id)
    return _lock_order(found.id), None, None


def _log_answer(ref: str | None, code: IpnCode, detail: str, params: dict) -> dict:
    db.session.add(BankNotification(order_ref=ref, answer_code=code.value, detail=detail, params=params))
    db.session.commit()
    return ipn_response(code)


def order_for_return(params: dict[str, str]) -> PaymentOrder | None:
    """The order the browser came back for, if the return's signature is good (display only)."""
    try:
        result = gateway().parse_return(params)
    except (SignatureError, MalformedNotification):
        return None
    return db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == result.order_ref))
