"""The bare endpoint ``bench/bench_http.py`` compares the bank notification with: a small Flask
app with SQLAlchemy Core doing the database work of a successful notification, and nothing else.

Same reads and writes as ``POST /bank/notify`` of LandPay (statement by statement: find the
order by its reference, lock the notice and the order, read the notice's lines, update the
order, each line's paid amount, insert the payment's lines, update the notice, insert the
receipt, update the dossier, insert the dossier's event and its outbox row, insert the logged
notification, commit), without the application's logic: no signature check, no state machine,
no rules, no ORM, no receipt signing (the receipt's token is a fixed text of the same size).

Served by gunicorn with LandPay's own settings:
``gunicorn -c python:app.gunicorn_conf --chdir bench bare_app:app`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from flask import Flask, jsonify, request
from sqlalchemy import MetaData, bindparam, create_engine, insert, select, text, update

TABLES = ("payment_orders", "notices", "notice_lines", "payment_lines", "receipts", "dossiers",
          "events", "outbox", "bank_notifications")
#: A signed receipt of LandPay is a compact JWS of about this many characters.
RECEIPT_TOKEN = "e" * 900

app = Flask(__name__)
# Made when each worker imports this module (after the fork: gunicorn's preload_app is off).
_engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
_meta = MetaData()
_meta.reflect(_engine, only=TABLES)
_engine.dispose()  # no connection made before serving


def _db():
    return _engine, _meta.tables


@app.get("/healthz")
def health():
    engine, _ = _db()
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


@app.post("/bank/notify")
def notify():
    engine, t = _db()
    form = request.form
    ref, bank_ref = form["lp_order_ref"], form["lp_transaction_no"]
    orders, notices, lines = t["payment_orders"], t["notices"], t["notice_lines"]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        order = conn.execute(select(orders.c.id, orders.c.notice_id)
                             .where(orders.c.ref == ref)).first()
        notice = conn.execute(select(notices).where(notices.c.id == order.notice_id)
                              .with_for_update()).first()
        order = conn.execute(select(orders).where(orders.c.id == order.id).with_for_update()).first()
        owed = conn.execute(select(lines.c.id, lines.c.amount, lines.c.paid)
                            .where(lines.c.notice_id == notice.id).order_by(lines.c.id)).all()
        conn.execute(update(orders).where(orders.c.id == order.id).values(
            status="SUCCEEDED", bank_ref=bank_ref, response_code="00", finished_at=now,
            needs_refund=False))
        conn.execute(update(lines).where(lines.c.id == bindparam("line_id"))
                     .values(paid=bindparam("paid")),
                     [{"line_id": line.id, "paid": line.amount} for line in owed])
        conn.execute(insert(t["payment_lines"]), [
            {"payment_id": order.id, "notice_line_id": line.id, "amount": line.amount - line.paid}
            for line in owed])
        conn.execute(update(notices).where(notices.c.id == notice.id).values(
            status="PAID", paid_at=now))
        conn.execute(insert(t["receipts"]).values(
            number="BL" + uuid.uuid4().hex[:20].upper(), payment_id=order.id, notice_id=notice.id,
            token=RECEIPT_TOKEN, kid="landpay-1", issued_at=now,
            claims={"notice_code": notice.code, "total": order.amount, "order_ref": ref}))
        conn.execute(update(t["dossiers"]).where(t["dossiers"].c.id == notice.dossier_id)
                     .values(status="PAID"))
        uid = str(uuid.uuid4())
        data = {"order_ref": ref, "bank_ref": bank_ref, "amount": order.amount}
        conn.execute(insert(t["events"]).values(
            uid=uid, dossier_id=notice.dossier_id, kind="payment_confirmed",
            from_status="AWAITING_PAYMENT", to_status="PAID", actor_label="bank", at=now,
            data=data))
        conn.execute(insert(t["outbox"]).values(
            event_uid=uid, destination="national_portal", payload={"event": uid, **data},
            created_at=now, attempts=0, dossier_id=notice.dossier_id, state="pending",
            next_attempt_at=now))
        conn.execute(insert(t["bank_notifications"]).values(
            received_at=now, order_ref=ref, answer_code="00",
            detail=f"order {ref} -> succeeded", params={k: form[k] for k in form
                                                         if k != "lp_secure_hash"}))
    return jsonify({"RspCode": "00", "Message": "Confirm Success"})
