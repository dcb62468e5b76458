"""The test bank's banking app: a test customer signs in, reads a VietQR code (pasted text or
an uploaded picture), confirms, and the money moves; plus the statement API for merchants
(docs/protocols/bank-transfer.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import select

from mock_bank import accounts, credits, emvco
from mock_bank.checks import STAMP, parse_stamp
from mock_bank.forms import ConfirmForm, LoginForm, ScanForm
from mock_bank.models import Customer, Entry
from mock_bank.signing import hash_matches

banking = Blueprint("banking", __name__, url_prefix="/app")
statements = Blueprint("statements", __name__)
credit_hooks = Blueprint("credit_hooks", __name__, url_prefix="/test")

#: How far a statement request's time may be from the bank's clock.
REQUEST_SKEW = timedelta(minutes=10)


def _ext() -> dict[str, Any]:
    return current_app.extensions["mock_bank"]


def _now() -> datetime:
    return _ext()["config"]["CLOCK"]()


def seed_customers(make_session: Any) -> None:
    """The test customers and their opening balances, created once."""
    with make_session() as db:
        for c in accounts.CUSTOMERS:
            if db.scalar(select(Customer.id).where(Customer.username == c.username)) is None:
                db.add(Customer(username=c.username, name=c.name, account=c.account, balance=c.balance))
        db.commit()


def _customer(db: Any) -> Customer | None:
    cid = session.get("customer_id")
    return db.get(Customer, cid) if cid else None


@banking.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        with _ext()["sessions"]() as db:
            found = db.scalar(select(Customer).where(Customer.username == form.username.data.strip()))
        if found is not None and form.password.data == accounts.CUSTOMER_PASSWORD:
            session.clear()
            session["customer_id"] = found.id
            return redirect(url_for("banking.home"))
        error = "Wrong username or password."
    return render_template("banking/login.html", form=form, error=error,
                           customers=accounts.CUSTOMERS, password=accounts.CUSTOMER_PASSWORD), 200 if not error else 401


@banking.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    session.clear()
    return redirect(url_for("banking.login"))


@banking.get("/")
def home():  # type: ignore[no-untyped-def]
    with _ext()["sessions"]() as db:
        customer = _customer(db)
        if customer is None:
            return redirect(url_for("banking.login"))
        recent = list(db.scalars(select(Entry).where(Entry.from_account == customer.account)
                                 .order_by(Entry.id.desc()).limit(10)))
    return render_template("banking/home.html", customer=customer, recent=recent, form=ScanForm(),
                           done=request.args.get("done"))


def _read(form: ScanForm) -> str:
    upload = form.image.data
    if upload is not None and getattr(upload, "filename", ""):
        return emvco.decode_image(upload.read(2_000_000))
    if form.payload.data and form.payload.data.strip():
        return form.payload.data.strip()
    raise emvco.BadPayload("Paste the code's text or choose a picture of it.")


@banking.post("/scan")
def scan():  # type: ignore[no-untyped-def]
    with _ext()["sessions"]() as db:
        customer = _customer(db)
    if customer is None:
        return redirect(url_for("banking.login"))
    form = ScanForm()
    if not form.validate_on_submit():
        return render_template("banking/home.html", customer=customer, recent=[], form=form,
                               error="The form has expired; try again."), 400
    try:
        payload = _read(form)
        parsed = emvco.read(payload)
    except emvco.BadPayload as exc:
        return render_template("banking/home.html", customer=customer, recent=[], form=form,
                               error=str(exc)), 422
    confirm = ConfirmForm(formdata=None, payload=payload)
    return render_template("banking/confirm.html", customer=customer, transfer=parsed, form=confirm)


@banking.post("/transfer")
def transfer():  # type: ignore[no-untyped-def]
    cfg = _ext()["config"]
    make_session = _ext()["sessions"]
    form = ConfirmForm()
    with make_session() as db:
        customer = _customer(db)
        if customer is None:
            return redirect(url_for("banking.login"))
        if not form.validate_on_submit():
            return render_template("banking/refused.html", reason="The form has expired; start again."), 400
        try:
            parsed = emvco.read(form.payload.data)
            amount = parsed.amount if parsed.amount is not None else form.amount.data
            if not amount:
                raise credits.TransferRefused("Enter the amount.")
            entry = credits.transfer(db, cfg, customer, to_bin=parsed.bank_bin, to_account=parsed.account,
                                     amount=amount, purpose=parsed.purpose, moment=_now())
            db.commit()
        except (emvco.BadPayload, credits.TransferRefused) as exc:
            db.rollback()
            return render_template("banking/refused.html", reason=str(exc)), 422
        entry_id, txn_id, notify = entry.id, entry.transaction_id, entry.notify
    if notify == "notify":
        credits.deliver_in_background(cfg, make_session, entry_id)
    return redirect(url_for("banking.home", done=txn_id))


# -- statement API ------------------------------------------------------------------------------


@statements.get("/api/statement")
def statement():  # type: ignore[no-untyped-def]
    """The signed statement of a collecting account for one day; the request is signed by the
    account's merchant (lp_version, lp_command=statement, lp_merchant_id, lp_account, lp_date,
    lp_request_date, lp_secure_hash)."""
    cfg = _ext()["config"]
    fields = {k: v for k, v in request.args.items() if k.startswith("lp_")}
    merchant = cfg["MERCHANTS"].get(fields.get("lp_merchant_id", ""))
    if merchant is None or not hash_matches(fields, merchant.secret):
        return jsonify({"error": "bad_signature", "message": "Unknown merchant or bad signature."}), 403
    collecting = cfg["COLLECTING"].get(fields.get("lp_account", ""))
    if collecting is None or collecting.merchant_id != merchant.merchant_id:
        return jsonify({"error": "unknown_account", "message": "Not your collecting account."}), 403
    try:
        day = datetime.strptime(fields.get("lp_date", ""), "%Y%m%d").date()
        if fields.get("lp_version") != "1" or fields.get("lp_command") != "statement" \
                or not STAMP.fullmatch(fields.get("lp_request_date", "")):
            raise ValueError
        asked = parse_stamp(fields["lp_request_date"])
    except ValueError:
        return jsonify({"error": "invalid_request", "message": "Malformed statement request."}), 400
    now = _now()
    if abs(now - asked) > REQUEST_SKEW:
        return jsonify({"error": "invalid_request", "message": "The request is too old or in the future."}), 400
    if day >= now.astimezone(credits.LOCAL).date():
        return jsonify({"error": "not_ready", "message": "A day's statement exists once the day is over."}), 409
    with _ext()["sessions"]() as db:
        return jsonify(credits.statement(db, cfg, collecting.account, day, now))


# -- test hooks -----------------------------------------------------------------------------------


@credit_hooks.before_request
def _hooks_enabled():  # type: ignore[no-untyped-def]
    if not _ext()["config"]["TEST_HOOKS"]:
        return jsonify({"error": "not_found", "message": "Not found."}), 404
    return None


@credit_hooks.post("/credit")
def test_credit():  # type: ignore[no-untyped-def]
    """Book money on a collecting account as any payer would: amount, purpose, and optionally
    booked_at (ISO, UTC), value_date and notify=false (the notification is never sent)."""
    cfg = _ext()["config"]
    body = request.get_json(silent=True) or {}
    account = body.get("account") or next(iter(cfg["COLLECTING"]), None)
    amount = body.get("amount")
    if account not in cfg["COLLECTING"] or not isinstance(amount, int) or amount <= 0:
        return jsonify({"error": "invalid_request", "message": "Give a collecting account and an amount."}), 400
    try:
        booked = datetime.fromisoformat(body["booked_at"]).astimezone(UTC) if body.get("booked_at") else _now()
        value_date = date.fromisoformat(body["value_date"]).isoformat() if body.get("value_date") \
            else credits.local_day(booked)
    except (TypeError, ValueError):
        return jsonify({"error": "invalid_request", "message": "booked_at or value_date is malformed."}), 400
    direction = body.get("direction", "credit")
    notify = direction == "credit" and body.get("notify", True) is not False
    with _ext()["sessions"]() as db:
        entry = Entry(
            transaction_id=credits.new_transaction_id(booked), direction=direction,
            channel=str(body.get("channel", "transfer" if direction == "credit" else "other")),
            from_account=str(body.get("payer_account", "9999000011")) if direction == "credit" else account,
            from_name=str(body.get("payer_name", "TEST PAYER")), to_bin=cfg["BANK_BIN"],
            to_account=account if direction == "credit" else str(body.get("payee_account", "9999000011")),
            amount=amount, purpose=str(body.get("purpose", ""))[:255], value_date=value_date,
            booked_at=booked, notify="notify" if notify else "silent",
        )
        db.add(entry)
        db.commit()
        entry_id, txn_id = entry.id, entry.transaction_id
    acknowledged = credits.deliver(cfg, _ext()["sessions"], entry_id) if notify else False
    return jsonify({"transaction_id": txn_id, "acknowledged": acknowledged})


@credit_hooks.post("/credits/<transaction_id>/renotify")
def test_renotify_credit(transaction_id: str):  # type: ignore[no-untyped-def]
    with _ext()["sessions"]() as db:
        entry = db.scalar(select(Entry).where(Entry.transaction_id == transaction_id))
        if entry is None or entry.notify == "none":
            return jsonify({"error": "not_found", "message": "No such credit."}), 404
        entry.acknowledged_at = None
        entry.notify = "notify"
        db.commit()
        entry_id = entry.id
    acknowledged = credits.deliver(_ext()["config"], _ext()["sessions"], entry_id, attempts=1)
    return jsonify({"transaction_id": transaction_id, "acknowledged": acknowledged})


@credit_hooks.get("/ledger")
def test_ledger():  # type: ignore[no-untyped-def]
    with _ext()["sessions"]() as db:
        entries = list(db.scalars(select(Entry).order_by(Entry.id)))
        customers = {c.username: c.balance for c in db.scalars(select(Customer))}
        return jsonify({"entries": [e.as_dict() for e in entries], "balances": customers})
