"""A reconciliation day on both databases: a statement with every kind of mismatch, imported
once; every line and every counted payment accounted for."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tests.money.kit import credit, line, post_credit, statement, txn_id


def test_a_day_with_every_mismatch_kind(app, world):
    from app.extensions import db
    from app.models import (
        BankCredit,
        BankStatement,
        Notice,
        NoticeStatus,
        PaymentOrder,
        ReconciliationItem,
    )
    from app.services.reconciliation import import_statement
    from payments.statements import parse_statement
    from tests.money.kit import SECRET

    codes = [world.file_and_confirm(parcel=world.add_parcel())[1] for _ in range(4)]
    with app.app_context():
        owed = {c: db.session.scalar(select(Notice).where(Notice.code == c)).outstanding for c in codes}
    n1, n2, n3, n4 = codes
    day = date(2026, 11, 20)
    noon = datetime(2026, 11, 20, 5, tzinfo=UTC)
    client = app.test_client()
    # Notified the same day and on the statement: matched.
    a = credit(n1, owed[n1], value_date=day, booked_at=noon)
    # Notified for the day, never on its statement: missing.
    b = credit(n2, owed[n2], value_date=day, booked_at=noon)
    # Notified the day before, on this day's statement: other day.
    late = credit("tien dat khong ro", 70_000, value_date=day - timedelta(days=1), booked_at=noon)
    # Notified as 100 dong, the statement says 101: amount differs.
    odd = credit("khong ma", 100, value_date=day, booked_at=noon)
    for c in (a, b, late, odd):
        assert post_credit(client, c)["RspCode"] == "00"
    never, unknown, short, over, dup, debit = (txn_id() for _ in range(6))
    lines = [
        line(a.transaction_id, owed[n1], purpose=n1, day=day),
        line(a.transaction_id, owed[n1], purpose=n1, day=day),  # the bank repeated a line
        line(never, owed[n3], purpose=f"Nop {n3}", day=day),  # never notified, exact: pays N3
        line(unknown, 5_000, purpose="ung ho", day=day),
        line(short, owed[n4] - 1, purpose=n4, day=day),
        line(over, owed[n4] + 1, purpose=n4, day=day),
        line(dup, owed[n1], purpose=n1, day=day),  # N1 is paid already
        line(late.transaction_id, 70_000, purpose=late.purpose, day=day),
        line(odd.transaction_id, 101, purpose=odd.purpose, day=day),
        line(debit, 9_000, day=day, direction="debit", channel="other"),
    ]
    parsed = parse_statement(statement(day, lines, opening=1_000_000), SECRET)
    with app.app_context():
        result = import_statement(day, parsed)
        again = import_statement(day, parsed)
    assert again.already and not result.already
    assert result.lines == len(lines) and result.matched == 1
    with app.app_context():
        kinds = Counter(k.value for k in db.session.scalars(select(ReconciliationItem.kind)))
        notices = {c: db.session.scalar(select(Notice).where(Notice.code == c)) for c in codes}
        assert {c: n.status for c, n in notices.items()} == {
            n1: NoticeStatus.PAID, n2: NoticeStatus.PAID, n3: NoticeStatus.PAID, n4: NoticeStatus.UNPAID}
        paid_by = {o.bank_ref: o.channel for o in db.session.scalars(select(PaymentOrder))}
        assert paid_by == {a.transaction_id: "transfer", b.transaction_id: "transfer", never: "transfer"}
        # The signed document is kept: it verifies again with the bank's secret.
        [kept] = db.session.scalars(select(BankStatement)).all()
        assert parse_statement(kept.document, SECRET).lines == parsed.lines
        # No money lost: every credit recorded either paid a notice or waits in the queue.
        queued = set(db.session.scalars(select(ReconciliationItem.credit_id)))
        assert all(c.payment_id or c.id in queued for c in db.session.scalars(select(BankCredit)))
        items = {i.transaction_id: i.kind.value for i in db.session.scalars(
            select(ReconciliationItem).where(ReconciliationItem.statement_date == day))}
    # From the notifications: the unknown 'late' and 'odd' credits themselves.
    assert kinds == Counter({
        "unknown_credit": 3,  # late, odd (when notified), and the unknown line
        "duplicate": 2,  # the repeated line, and money for the paid N1
        "short": 1, "over": 1, "missing_from_statement": 1, "other_day": 1, "amount_differs": 1,
        "unknown_debit": 1,
    })
    assert items[b.transaction_id] == "missing_from_statement"
    assert items[late.transaction_id] == "other_day"
    assert items[odd.transaction_id] == "amount_differs"
    assert items[debit] == "unknown_debit"
    assert items[short] == "short" and items[over] == "over" and items[unknown] == "unknown_credit"


def test_card_payments_are_matched_by_the_banks_reference(app, world):
    """A card payment counted today is matched by the line with its bank reference; one the
    statement does not show is missing from it."""
    from app.extensions import db
    from app.models import ItemKind, Notice, ReconciliationItem
    from app.services import paying
    from app.services.paying import local_day
    from app.services.reconciliation import import_statement
    from payments.statements import parse_statement
    from tests.app.bank import notification
    from tests.money.kit import SECRET

    paid = []
    for _ in range(2):
        notice = world.file_and_confirm(parcel=world.add_parcel())[1]
        with app.test_request_context():
            order, _url = paying.start_payment(
                world.user("binh"), db.session.scalar(select(Notice).where(Notice.code == notice)))
            ref, amount = order.ref, order.amount
        bank_ref = txn_id()
        answer = app.test_client().post("/bank/notify", data=notification(ref, amount, bank_ref=bank_ref))
        assert answer.get_json()["RspCode"] == "00"
        paid.append((bank_ref, amount, notice))
    (shown_ref, amount, notice), (hidden_ref, hidden_amount, _n) = paid
    today = local_day()
    card = line(shown_ref, amount, purpose=f"Thanh toan thong bao {notice}", day=today, channel="card")
    with app.app_context():
        result = import_statement(today, parse_statement(statement(today, [card]), SECRET))
        assert (result.matched, result.opened) == (1, ["missing_from_statement"])
        item = db.session.scalar(select(ReconciliationItem))
        assert (item.kind, item.transaction_id, item.amount) == (ItemKind.MISSING, hidden_ref, hidden_amount)
