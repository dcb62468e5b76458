"""The test bank's pages and endpoints (docs/protocols/bank-gateway.md, section 6)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from mock_bank import accounts
from mock_bank.checks import (
    MERCHANT_ID,
    REFERENCE,
    STAMP,
    CheckoutRequest,
    Refused,
    check_checkout,
    window_state,
)
from mock_bank.forms import CheckoutForm
from mock_bank.models import Transaction
from mock_bank.notify import deliver, deliver_later, result_fields
from mock_bank.signing import hash_matches, with_hash

bp = Blueprint("bank", __name__)


def bank_config() -> dict[str, Any]:
    return current_app.extensions["mock_bank"]["config"]


def db_session():  # type: ignore[no-untyped-def]
    return current_app.extensions["mock_bank"]["sessions"]()


def now() -> datetime:
    return bank_config()["CLOCK"]()


def format_dong(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


@bp.app_template_filter("dong")
def _dong_filter(amount: int) -> str:
    return format_dong(amount)


def refused_page(exc: Refused):  # type: ignore[no-untyped-def]
    return render_template("refused.html", reason=exc.message, kind=exc.kind), exc.status


# -- the payment itself ---------------------------------------------------------------------


@dataclass
class Completed:
    transaction: Transaction
    notifications: list[dict]
    redirect_url: str
    return_params: dict[str, str]


def _new_transaction_no(moment: datetime) -> str:
    return "MB" + moment.strftime("%Y%m%d") + secrets.token_hex(5).upper()


def complete(req: CheckoutRequest, *, action: str, account: str | None) -> Completed:
    """What happens when the payer confirms or cancels: record, notify, build the return."""
    cfg = bank_config()
    moment = now()
    state = window_state(req, moment, cfg["CHECKOUT_TTL"])
    if state == "future":
        raise Refused("invalid_request", "The payment request is dated in the future.")
    if action == "cancel":
        result, mode, account = accounts.CANCELLED, "once", None
    elif action == "confirm":
        chosen = accounts.ACCOUNTS.get(account or "")
        if chosen is None:
            raise Refused("unknown_account", "Choose one of the test accounts.")
        result, mode = chosen.result, chosen.notify
        if state == "expired":
            result, mode = accounts.EXPIRED, "once"
    else:
        raise Refused("invalid_request", "Unknown action.")

    with db_session() as db:
        txn = Transaction(
            transaction_no=_new_transaction_no(moment),
            merchant_id=req.merchant.merchant_id,
            order_ref=req.order_ref,
            amount=req.amount,
            order_info=req.order_info,
            locale=req.locale,
            return_url=req.return_url,
            create_date=req.create_date,
            account=account,
            response_code=result,
            notify_mode=mode,
            pay_date=moment,
        )
        db.add(txn)
        try:
            db.commit()
        except IntegrityError as exc:
            db.rollback()
            raise Refused(
                "duplicate_order", "This order has already been paid or cancelled.", 409
            ) from exc

    sessions = current_app.extensions["mock_bank"]["sessions"]
    notifications: list[dict] = []
    if mode in ("once", "twice"):
        notifications += deliver(cfg, sessions, txn.id, "confirm")
    if mode == "twice":
        notifications += deliver(cfg, sessions, txn.id, "duplicate")
    if mode == "delayed":
        deliver_later(cfg, sessions, txn.id, float(cfg["IPN_DELAY"]))

    params = result_fields(txn, req.merchant)
    separator = "&" if "?" in req.return_url else "?"
    return Completed(txn, notifications, req.return_url + separator + urlencode(params), params)


def _existing(req: CheckoutRequest) -> Transaction | None:
    with db_session() as db:
        return db.scalar(
            select(Transaction).where(
                Transaction.merchant_id == req.merchant.merchant_id,
                Transaction.order_ref == req.order_ref,
            )
        )


# -- checkout page --------------------------------------------------------------------------


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("index.html", accounts=accounts.ACCOUNTS.values(),
                           customers=accounts.CUSTOMERS, customer_password=accounts.CUSTOMER_PASSWORD)


@bp.get("/checkout")
def checkout():  # type: ignore[no-untyped-def]
    try:
        req = check_checkout(request.args, bank_config()["MERCHANTS"])
        state = window_state(req, now(), bank_config()["CHECKOUT_TTL"])
        if state == "future":
            raise Refused("invalid_request", "The payment request is dated in the future.")
        if state == "expired":
            raise Refused("expired", "The payment request has expired. Start the payment again.")
        if _existing(req) is not None:
            raise Refused("duplicate_order", "This order has already been paid or cancelled.", 409)
    except Refused as exc:
        return refused_page(exc)
    form = CheckoutForm()
    return render_template(
        "checkout.html", req=req, form=form, hidden=req.fields
    )


@bp.post("/checkout")
def checkout_submit():  # type: ignore[no-untyped-def]
    form = CheckoutForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            return refused_page(
                Refused("csrf", "The form has expired or was not sent from this page.")
            )
        return refused_page(Refused("invalid_request", "Choose one of the test accounts."))
    try:
        req = check_checkout(request.form, bank_config()["MERCHANTS"])
        action = "cancel" if form.cancel.data else "confirm"
        done = complete(req, action=action, account=form.account.data)
    except Refused as exc:
        return refused_page(exc)
    return redirect(done.redirect_url, code=302)


# -- status query ---------------------------------------------------------------------------


@bp.post("/api/query")
def api_query():  # type: ignore[no-untyped-def]
    fields = {k: v for k, v in request.form.items() if k.startswith("lp_")}
    cfg = bank_config()
    answer: dict[str, str] = {
        k: fields[k]
        for k in ("lp_merchant_id", "lp_order_ref", "lp_request_id")
        if fields.get(k) and len(fields[k]) <= 64
    }
    answer["lp_response_date"] = now().strftime("%Y%m%d%H%M%S")
    merchant = cfg["MERCHANTS"].get(fields.get("lp_merchant_id", ""))
    if merchant is None:
        return jsonify(answer | {"lp_response_code": "03", "lp_message": "Unknown merchant"})
    if not hash_matches(fields, merchant.secret):
        return jsonify(
            with_hash(
                answer | {"lp_response_code": "97", "lp_message": "Invalid signature"},
                merchant.secret,
            )
        )
    well_formed = (
        fields.get("lp_version") == "1"
        and fields.get("lp_command") == "query"
        and MERCHANT_ID.fullmatch(fields.get("lp_merchant_id", ""))
        and REFERENCE.fullmatch(fields.get("lp_order_ref", ""))
        and REFERENCE.fullmatch(fields.get("lp_request_id", ""))
        and STAMP.fullmatch(fields.get("lp_request_date", ""))
    )
    if not well_formed:
        return jsonify(answer | {"lp_response_code": "03", "lp_message": "Malformed request"})
    with db_session() as db:
        txn = db.scalar(
            select(Transaction).where(
                Transaction.merchant_id == merchant.merchant_id,
                Transaction.order_ref == fields["lp_order_ref"],
            )
        )
    if txn is None:
        answer |= {"lp_response_code": "91", "lp_message": "Transaction not found"}
    else:
        answer |= {
            "lp_response_code": "00",
            "lp_message": "Found",
            "lp_amount": str(txn.amount),
            "lp_order_info": txn.order_info,
            "lp_transaction_no": txn.transaction_no,
            "lp_transaction_status": txn.response_code,
            "lp_pay_date": txn.pay_date.strftime("%Y%m%d%H%M%S"),
        }
    return jsonify(with_hash(answer, merchant.secret))


# -- admin ----------------------------------------------------------------------------------


def _all_transactions() -> list[Transaction]:
    with db_session() as db:
        return list(
            db.scalars(
                select(Transaction)
                .options(selectinload(Transaction.notifications))
                .order_by(Transaction.id.desc())
            )
        )


def transaction_dict(txn: Transaction) -> dict[str, Any]:
    return {
        "transaction_no": txn.transaction_no,
        "merchant_id": txn.merchant_id,
        "order_ref": txn.order_ref,
        "amount": txn.amount,
        "order_info": txn.order_info,
        "account": txn.account,
        "response_code": txn.response_code,
        "notify_mode": txn.notify_mode,
        "pay_date": txn.pay_date.isoformat(),
        "created_at": txn.created_at.isoformat(),
        "notifications": [n.as_dict() for n in txn.notifications],
    }


@bp.get("/admin/transactions")
def admin_transactions():  # type: ignore[no-untyped-def]
    return render_template(
        "transactions.html", transactions=_all_transactions(), results=accounts.RESULT_TEXT
    )


@bp.get("/admin/transactions.json")
def admin_transactions_json():  # type: ignore[no-untyped-def]
    return jsonify({"transactions": [transaction_dict(t) for t in _all_transactions()]})


# -- test hooks -----------------------------------------------------------------------------

hooks = Blueprint("test_hooks", __name__, url_prefix="/test")


@hooks.before_request
def _hooks_enabled():  # type: ignore[no-untyped-def]
    if not bank_config()["TEST_HOOKS"]:
        abort(404)


def _json_refused(exc: Refused):  # type: ignore[no-untyped-def]
    return jsonify({"error": exc.kind, "message": exc.message}), exc.status


@hooks.post("/pay")
def test_pay():  # type: ignore[no-untyped-def]
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
            return _json_refused(Refused("invalid_request", "Send a JSON object of strings."))
    else:
        body = request.form.to_dict()
    try:
        req = check_checkout(body, bank_config()["MERCHANTS"])
        done = complete(
            req, action=body.get("test_action", "confirm"), account=body.get("test_account")
        )
    except Refused as exc:
        return _json_refused(exc)
    return jsonify(
        {
            "transaction_no": done.transaction.transaction_no,
            "response_code": done.transaction.response_code,
            "notification_mode": done.transaction.notify_mode,
            "return_url": done.redirect_url,
            "return_params": done.return_params,
            "notifications": done.notifications,
        }
    )


@hooks.post("/renotify/<transaction_no>")
def test_renotify(transaction_no: str):  # type: ignore[no-untyped-def]
    with db_session() as db:
        txn = db.scalar(select(Transaction).where(Transaction.transaction_no == transaction_no))
    if txn is None:
        return jsonify({"error": "not_found", "message": "No such transaction."}), 404
    attempts = deliver(
        bank_config(), current_app.extensions["mock_bank"]["sessions"], txn.id, "renotify"
    )
    return jsonify({"transaction_no": transaction_no, "notifications": attempts})
