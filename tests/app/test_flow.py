"""The one-session flow through the pages, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.app.bank import notification
from tests.conftest import login, post_form


def one(app, query):
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(query)


def test_transfer_flow_through_pages(app, world):
    from app.extensions import db
    from app.models import Assessment, Dossier, Event, Notice, OutboxMessage, PaymentOrder, Receipt

    # 1. The registry officer files the dossier.
    registry = app.test_client()
    login(registry, "registry")
    assert registry.get("/registry/dossiers/new").status_code == 200
    response = post_form(registry, "/registry/dossiers/new", "/registry/dossiers/new", {
        "parcel_id": world.parcel_id,
        "transferor_name": "Nguyễn Văn An", "transferor_citizen_id": "079080000001",
        "transferee_name": "Trần Thị Bình", "transferee_citizen_id": "079085000002",
        "declared_price": "12000000000", "relationship": "", "tax_payer_clause": "buyer_pays_all",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        dossier = db.session.scalar(select(Dossier))
        code = dossier.code
        assert dossier.status.value == "awaiting_confirmation"  # this office confirms every one
        assert dossier.due_on > dossier.valid_on

    # 2-3. The tax officer sees it in the queue, with every line explained, and confirms.
    tax = app.test_client()
    login(tax, "tax")
    assert code in tax.get("/tax/").get_data(as_text=True)
    with app.app_context():
        assessment = db.session.scalar(select(Assessment))
        assessment_id = assessment.id
        lines = {line.obligation: line.amount for line in assessment.lines}
    assert lines["registration_fee"] == 60_000_000  # 0.5% of 12 billion (above the table value)
    assert lines["personal_income_tax"] == 240_000_000  # 2%
    page = tax.get(f"/tax/assessments/{assessment_id}").get_data(as_text=True)
    assert "Decree 10/2022" in page or "10/2022" in page
    response = post_form(tax, f"/tax/assessments/{assessment_id}", f"/tax/assessments/{assessment_id}/confirm")
    assert response.status_code == 302
    notice_code = one(app, select(Notice.code))
    assert one(app, select(Notice.total)) == 300_000_000

    # 4. The landholder sees the notice explained and pays at the bank.
    buyer = app.test_client()
    login(buyer, "binh")
    page = buyer.get(f"/me/notices/{notice_code}").get_data(as_text=True)
    assert "300.000.000" in page or "300,000,000" in page
    response = post_form(buyer, f"/me/notices/{notice_code}", f"/me/notices/{notice_code}/pay")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("http://127.0.0.1:5001/checkout?")
    with app.app_context():
        order = db.session.scalar(select(PaymentOrder))
        ref, amount = order.ref, order.amount
        assert order.status.value == "started"

    # The bank's signed server-to-server notification is what marks it paid.
    answer = app.test_client().post("/bank/notify", data=notification(ref, amount))
    assert answer.get_json() == {"RspCode": "00", "Message": "Confirm success"}
    with app.app_context():
        order = db.session.scalar(select(PaymentOrder))
        assert order.status.value == "succeeded"
        assert db.session.scalar(select(Notice)).status.value == "paid"
        receipt = db.session.scalar(select(Receipt))
        number = receipt.number
        assert receipt.claims["total"] == 300_000_000

    # 5. The landholder sees the receipt and its QR code.
    page = buyer.get(f"/me/receipts/{number}")
    assert page.status_code == 200 and number in page.get_data(as_text=True)
    qr = buyer.get(f"/me/receipts/{number}/qr.png")
    assert qr.mimetype == "image/png" and qr.data[:8] == b"\x89PNG\r\n\x1a\n"

    # 6. The registry officer sees the proof and completes the dossier.
    inbox = registry.get("/registry/").get_data(as_text=True)
    ready = inbox[inbox.index('id="ready"'):inbox.index("</section>", inbox.index('id="ready"'))]
    assert code in ready and number in ready  # the proof arrived in the inbox by itself
    assert number in registry.get(f"/registry/dossiers/{code}").get_data(as_text=True)
    response = post_form(registry, f"/registry/dossiers/{code}", f"/registry/dossiers/{code}/complete")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Dossier)).status.value == "completed"
        kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.id))]
        outbox = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert kinds == [
        "dossier_filed", "cadastral_data_sent_to_tax", "assessment_waits_for_officer",
        "notice_issued", "payment_started", "payment_confirmed", "dossier_completed",
    ]
    assert outbox == len(kinds)
