"""The test bank's refund endpoint (docs/protocols/bank-gateway.md, "Refund").

A refund sends part or all of a paid transaction back to the account that paid it. The
merchant's ``lp_refund_ref`` is the idempotency key: sent again with the same order and
amount, the first refund is answered again and no money moves twice; reused for anything
else, it is refused with code 94.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from mock_bank import models
from mock_bank.checks import MERCHANT_ID, REFERENCE, STAMP
from mock_bank.models import RefundTransfer, Transaction
from mock_bank.signing import hash_matches, with_hash

bp = Blueprint("refunds", __name__)

PAID = "00"
AMOUNT_LENGTH = 15


def _cfg() -> dict[str, Any]:
    return current_app.extensions["mock_bank"]["config"]


def _session():  # type: ignore[no-untyped-def]
    return current_app.extensions["mock_bank"]["sessions"]()


def _stamp(moment) -> str:  # type: ignore[no-untyped-def]
    return moment.strftime("%Y%m%d%H%M%S")


def _done(answer: dict[str, str], refund: RefundTransfer) -> dict[str, str]:
    return answer | {
        "lp_response_code": "00",
        "lp_message": "Refunded",
        "lp_amount": str(refund.amount),
        "lp_refund_transaction_no": refund.refund_no,
        "lp_refund_date": _stamp(refund.refund_date),
    }


def _paid_source(db, cfg: dict[str, Any], merchant_id: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
    """What the refund gives back from: ``(kind, id, amount paid, payer's account)`` of the
    merchant's paid card transaction for the order, or else of the transfer credit to one of
    the merchant's collecting accounts named by ``lp_transaction_no``; None if neither."""
    given = fields.get("lp_transaction_no")
    txn = db.scalar(select(Transaction).where(Transaction.merchant_id == merchant_id,
                                              Transaction.order_ref == fields["lp_order_ref"]))
    if txn is not None:
        if txn.response_code != PAID or (given and given != txn.transaction_no):
            return None
        return ("card", txn.id, txn.amount, txn.account)
    entry_model = getattr(models, "Entry", None)
    if not given or entry_model is None:
        return None
    entry = db.scalar(select(entry_model).where(entry_model.transaction_id == given))
    collecting = (cfg.get("COLLECTING") or {}).get(entry.to_account) if entry is not None else None
    if collecting is None or collecting.merchant_id != merchant_id:
        return None
    return ("transfer", entry.id, entry.amount, entry.from_account)


def _same_source(refund: RefundTransfer, source) -> bool:  # type: ignore[no-untyped-def]
    if source[0] == "card":
        return refund.transaction_id == source[1]
    return refund.entry_id == source[1]


def _credit_payer(db, account: str | None, amount: int) -> None:  # type: ignore[no-untyped-def]
    """Give the money back to the paying account, when it is one of the bank's customers (a
    card test account has no balance: the refund transfer row is its record)."""
    customer_model = getattr(models, "Customer", None)
    if account and customer_model is not None:
        customer = db.scalar(select(customer_model).where(customer_model.account == account))
        if customer is not None:
            customer.balance += amount


@bp.post("/api/refund")
def api_refund():  # type: ignore[no-untyped-def]
    fields = {k: v for k, v in request.form.items() if k.startswith("lp_")}
    cfg = _cfg()
    answer: dict[str, str] = {
        k: fields[k]
        for k in ("lp_merchant_id", "lp_order_ref", "lp_refund_ref")
        if fields.get(k) and len(fields[k]) <= 64
    }
    answer["lp_response_date"] = _stamp(cfg["CLOCK"]())
    merchant = cfg["MERCHANTS"].get(fields.get("lp_merchant_id", ""))
    if merchant is None:
        return jsonify(answer | {"lp_response_code": "99", "lp_message": "Unknown merchant"})
    secret = merchant.secret
    if not hash_matches(fields, secret):
        return jsonify(with_hash(answer | {"lp_response_code": "97", "lp_message": "Invalid signature"}, secret))
    amount_text = fields.get("lp_amount", "")
    well_formed = (
        fields.get("lp_version") == "1"
        and fields.get("lp_command") == "refund"
        and MERCHANT_ID.fullmatch(fields.get("lp_merchant_id", ""))
        and REFERENCE.fullmatch(fields.get("lp_order_ref", ""))
        and REFERENCE.fullmatch(fields.get("lp_refund_ref", ""))
        and STAMP.fullmatch(fields.get("lp_request_date", ""))
        and amount_text.isdigit() and not amount_text.startswith("0")
        and len(amount_text) <= AMOUNT_LENGTH
        and (not fields.get("lp_transaction_no") or REFERENCE.fullmatch(fields["lp_transaction_no"]))
    )
    if not well_formed:
        return jsonify(with_hash(answer | {"lp_response_code": "99", "lp_message": "Malformed request"}, secret))
    amount = int(amount_text)
    with _session() as db:
        source = _paid_source(db, cfg, merchant.merchant_id, fields)
        earlier = db.scalar(select(RefundTransfer).where(
            RefundTransfer.merchant_id == merchant.merchant_id,
            RefundTransfer.refund_ref == fields["lp_refund_ref"]))
        if earlier is not None:
            if source is not None and _same_source(earlier, source) and earlier.amount == amount:
                return jsonify(with_hash(_done(answer, earlier), secret))
            return jsonify(with_hash(answer | {"lp_response_code": "94", "lp_amount": amount_text,
                                               "lp_message": "Refund reference already used"}, secret))
        if source is None:
            return jsonify(with_hash(answer | {"lp_response_code": "02", "lp_amount": amount_text,
                                               "lp_message": "No such paid transaction"}, secret))
        column = RefundTransfer.transaction_id if source[0] == "card" else RefundTransfer.entry_id
        refunded = db.scalar(select(func.coalesce(func.sum(RefundTransfer.amount), 0))
                             .where(column == source[1]))
        if amount > source[2] - refunded:
            return jsonify(with_hash(answer | {"lp_response_code": "03", "lp_amount": amount_text,
                                               "lp_message": "More than is left to refund"}, secret))
        moment = cfg["CLOCK"]()
        refund = RefundTransfer(
            refund_no="RN" + _stamp(moment) + secrets.token_hex(4).upper(),
            merchant_id=merchant.merchant_id, refund_ref=fields["lp_refund_ref"],
            transaction_id=source[1] if source[0] == "card" else None,
            entry_id=source[1] if source[0] == "transfer" else None,
            amount=amount, account=source[3], refund_date=moment,
        )
        db.add(refund)
        _credit_payer(db, source[3], amount)
        try:
            db.commit()
        except IntegrityError:
            # The same reference sent twice at once: the first one won; answer as it did.
            db.rollback()
            refund = db.scalar(select(RefundTransfer).where(
                RefundTransfer.merchant_id == merchant.merchant_id,
                RefundTransfer.refund_ref == fields["lp_refund_ref"]))
            if refund is None or not _same_source(refund, source) or refund.amount != amount:
                return jsonify(with_hash(answer | {"lp_response_code": "94", "lp_amount": amount_text,
                                                   "lp_message": "Refund reference already used"},
                                         secret))
    return jsonify(with_hash(_done(answer, refund), secret))


@bp.get("/test/books")
def test_books():  # type: ignore[no-untyped-def]
    """The bank's side of the books, per paid order: what it took and what it gave back, and
    what each payer's account got back (test hook)."""
    if not _cfg()["TEST_HOOKS"]:
        abort(404)
    with _session() as db:
        txns = db.scalars(select(Transaction).where(Transaction.response_code == PAID)
                          .order_by(Transaction.id)).all()
        refunds = db.scalars(select(RefundTransfer).order_by(RefundTransfer.id)).all()
        by_txn: dict[int, int] = {}
        accounts: dict[str, int] = {}
        for refund in refunds:
            if refund.transaction_id is None:  # a transfer's refund: not a card order
                if refund.account:
                    accounts[refund.account] = accounts.get(refund.account, 0) + refund.amount
                continue
            by_txn[refund.transaction_id] = by_txn.get(refund.transaction_id, 0) + refund.amount
            if refund.account:
                accounts[refund.account] = accounts.get(refund.account, 0) + refund.amount
        return jsonify({
            "orders": {t.order_ref: {"merchant_id": t.merchant_id, "paid": t.amount,
                                     "refunded": by_txn.get(t.id, 0), "account": t.account}
                       for t in txns},
            "refunds": [{"refund_ref": r.refund_ref, "refund_no": r.refund_no, "amount": r.amount,
                         "order_ref": r.transaction.order_ref if r.transaction else None,
                         "transfer": r.entry_id is not None} for r in refunds],
            "refunded_to_accounts": accounts,
        })
