"""Read models shared by the pages and the API."""

from __future__ import annotations

from flask import Response, current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.errors import Conflict
from app.extensions import db
from app.models import Assessment, Dossier, Notice, NoticeStatus, PaymentOrder, Receipt
from payments.vietqr import build_payload, qr_png, qr_svg


def dossier_view(dossier: Dossier) -> dict:
    # Each with the rows shown with it (lines, a payment's receipt), in the same statement.
    assessment = db.session.scalars(
        select(Assessment).where(Assessment.dossier_id == dossier.id).order_by(Assessment.id.desc()).limit(1)
        .options(joinedload(Assessment.lines))
    ).unique().first()
    # One notice per payer side; ``notice`` is the first, kept for older readers.
    notices = db.session.scalars(
        select(Notice).where(Notice.dossier_id == dossier.id).order_by(Notice.id)
        .options(joinedload(Notice.lines))).unique().all()
    notice = notices[0] if notices else None
    ids = [n.id for n in notices]
    payments = db.session.scalars(
        select(PaymentOrder).where(PaymentOrder.notice_id.in_(ids)).order_by(PaymentOrder.id)
        .options(joinedload(PaymentOrder.receipt))
    ).all() if ids else []
    receipts = db.session.scalars(
        select(Receipt).where(Receipt.notice_id.in_(ids)).order_by(Receipt.id)
    ).all() if ids else []
    return {
        "dossier": dossier,
        "assessment": assessment,
        "notice": notice,
        "notices": notices,
        "payments": payments,
        "receipts": receipts,
        "events": dossier.events,
    }


def notice_view(notice: Notice) -> dict:
    """The page context of a notice without a dossier (the annual tax): what ``dossier_view``
    gives, for this notice alone."""
    payments = db.session.scalars(
        select(PaymentOrder).where(PaymentOrder.notice_id == notice.id).order_by(PaymentOrder.id)
    ).all()
    receipts = db.session.scalars(
        select(Receipt).where(Receipt.notice_id == notice.id).order_by(Receipt.id)).all()
    return {"dossier": None, "assessment": None, "notice": notice, "notices": [notice],
            "payments": payments, "receipts": receipts, "events": []}


def line_json(line) -> dict:
    return {
        "obligation": line.obligation,
        "base": line.base,
        "base_method": line.base_method,
        "rate": line.rate,
        "amount": line.amount,
        "rounding": line.rounding,
        "legal_basis": line.legal_basis,
        "rule_version": line.rule_version,
        "explanation": {"vi": line.explanation_vi, "en": line.explanation_en},
    }


def reason_json(reason: dict) -> dict:
    """A review reason: its code, the input it concerns, its text in both languages."""
    return {"code": reason["code"], "field": reason.get("field"),
            "text": {"vi": reason.get("text_vi"), "en": reason.get("text_en")}}


def _date(value) -> str | None:
    return value.isoformat() if value else None


def assessment_json(a: Assessment) -> dict:
    return {
        "id": a.id,
        "dossier_code": a.dossier.code,
        "status": a.status.value,
        "total": a.total,
        "valid_on": a.valid_on.isoformat(),
        "price_table_version": a.price_table_version,
        "rule_versions": a.rule_versions,
        "review_reasons": [reason_json(r) for r in a.review_reasons or ()],
        "auto_confirmed": a.auto_confirmed,
        "confirmed_at": a.confirmed_at.isoformat() if a.confirmed_at else None,
        "lines": [line_json(line) for line in a.lines],
    }


def late_interest_today(n: Notice) -> dict | None:
    """The late-payment interest the notice would carry if paid today (None when nothing is
    overdue): shown before paying, charged as its own line when the order is made."""
    from app.services.paying import late_interest_detail, late_interest_lines, local_day

    if n.outstanding <= 0:
        return None
    today = local_day()
    lines = late_interest_lines(n, today)
    if not lines:
        return None
    detail = late_interest_detail(lines)
    amount = sum(line.amount for line in lines)
    return {"obligation": "late_interest", "as_of": today.isoformat(), "amount": amount,
            "amount_due_today": n.outstanding + amount, "legal_basis": detail["legal_basis"],
            "rate": detail["rate"],
            "explanation": {"vi": detail["explanation_vi"], "en": detail["explanation_en"]}}


def vietqr_payload(n: Notice) -> str | None:
    """The VietQR transfer payload of an unpaid notice: its outstanding amount (with today's
    late-payment interest, if any) to the treasury collection account, the notice code as bill number and purpose; None when nothing is due
    (or when VietQR is not configured)."""
    config = current_app.config
    bank_bin, account = config.get("VIETQR_ACQUIRER_ID"), config.get("VIETQR_ACCOUNT")
    if n.status is not NoticeStatus.UNPAID or not bank_bin or not account:
        return None
    if n.outstanding <= 0:
        return None
    from app.services.paying import interest_due, local_day

    # Today's late interest included, as a card payment today would charge it.
    amount = n.outstanding + interest_due(n, local_day())
    return build_payload(bank_bin=bank_bin, account=account, amount=amount, purpose=n.code,
                         bill_number=n.code)


def vietqr_image(n: Notice, fmt: str) -> Response:
    """The notice's VietQR code as a PNG or SVG image; 409 when nothing is left to pay. Never
    cached: the amount changes as the notice is paid."""
    payload = vietqr_payload(n)
    if payload is None:
        raise Conflict(_("This notice has nothing left to pay."))
    if fmt == "svg":
        response = Response(qr_svg(payload), mimetype="image/svg+xml")
    else:
        response = Response(qr_png(payload), mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    return response


def notice_json(n: Notice) -> dict:
    payload = vietqr_payload(n)
    return {
        "code": n.code,
        "dossier_code": n.dossier.code if n.dossier is not None else None,
        # The annual tax's notices have no dossier: the year and parcel say what they are for.
        "annual": {"tax_year": n.annual.tax_year, "parcel": parcel_ref(n.parcel)}
        if n.dossier is None and n.annual is not None else None,
        "status": n.status.value,
        "payer": n.payer.full_name,
        "payer_role": n.payer_role,
        "payers": [party_json(p) for p in n.payers],
        "late_interest_today": late_interest_today(n),
        "total": n.total,
        "outstanding": n.outstanding,
        "issued_at": n.issued_at.isoformat(),
        "due_on": _date(n.due_on),
        "paid_at": n.paid_at.isoformat() if n.paid_at else None,
        "vietqr": {
            "payload": payload,
            "png": url_for("api.notice_vietqr_png", code=n.code),
            "svg": url_for("api.notice_vietqr_svg", code=n.code),
        } if payload else None,
        "lines": [
            {
                "obligation": line.obligation,
                "amount": line.amount,
                "paid": line.paid,
                "refunded": line.refunded,
                "outstanding": line.outstanding,
                "due_on": _date(line.due_on),
                "installments": [
                    {"due_on": part["due_on"], "amount": part["amount"]}
                    for part in line.installments or ()
                ],
                "explanation": {
                    "vi": line.info("explanation_vi"),
                    "en": line.info("explanation_en"),
                },
                "legal_basis": line.info("legal_basis"),
                "base": line.info("base"),
                "rate": line.info("rate"),
            }
            for line in n.lines
        ],
    }


def payment_json(p: PaymentOrder) -> dict:
    return {
        "ref": p.ref,
        "notice_code": p.notice.code,
        "amount": p.amount,
        "status": p.status.value,
        "bank_ref": p.bank_ref,
        "created_at": p.created_at.isoformat(),
        "finished_at": p.finished_at.isoformat() if p.finished_at else None,
        "receipt_number": p.receipt.number if p.receipt else None,
    }


def receipt_json(r: Receipt) -> dict:
    return {"number": r.number, "kid": r.kid, "token": r.token, "claims": r.claims,
            "issued_at": r.issued_at.isoformat()}


def parcel_ref(p) -> dict:
    """The facts that name a parcel (on a notice without a dossier)."""
    return {"province": p.province, "map_sheet": p.map_sheet, "parcel_no": p.parcel_no,
            "address": p.address, "area_m2": str(p.area_m2)}


def explained_lines(n: Notice) -> list:
    """The notice's lines with their explanation, for the "what you pay and why" table: the
    assessment's lines or, for a notice without one (the annual tax), the rules engine's
    explanation kept on each line (late-payment interest is shown on its own)."""
    if n.assessment_id is not None:
        return [line.assessment_line for line in n.lines if line.assessment_line is not None]
    return [{"rounding": "half_up_dong_once_per_line", **(line.detail or {}),
             "obligation": line.obligation, "amount": line.amount}
            for line in n.lines if line.obligation != "late_interest"]


def party_json(p) -> dict:
    return {"full_name": p.full_name, "citizen_id": p.citizen_id}


def parcel_json(p, open_dossier: str | None = None) -> dict:
    """A parcel with its current holders and their shares (exact fractions, as text), and
    the code of its open dossier if it has one (no other can be filed until it completes)."""
    current = p.current_holdings
    return {
        "open_dossier": open_dossier,
        "id": p.id, "label": p.label, "map_sheet": p.map_sheet, "parcel_no": p.parcel_no,
        "address": p.address, "land_type": p.land_type, "area_m2": str(p.area_m2),
        "term_ends_on": p.term_ends_on.isoformat() if p.term_ends_on else None,
        "holders": [{**party_json(h.party), "share": h.share_text,
                     "since": h.valid_from.isoformat() if h.valid_from else None,
                     "certificate_no": h.dossier.certificate_no if h.dossier else None}
                    for h in current],
        "holder": party_json(current[0].party) if current else None,
    }


def dossier_json(d: Dossier) -> dict:
    view = dossier_view(d)
    return {
        "code": d.code,
        "procedure": d.procedure,
        "status": d.status.value,
        "parcel": {"id": d.parcel.id, "label": d.parcel.label, "address": d.parcel.address,
                   "land_type": d.parcel.land_type, "area_m2": str(d.parcel.area_m2)},
        "transferor": party_json(d.transferor) if d.transferor else None,
        "transferee": party_json(d.transferee) if d.transferee else None,
        "transferors": [party_json(p) for p in d.transferors],
        "transferees": [{**party_json(p.party), "share": p.share_text}
                        for p in d.parties_in("transferee")],
        "holders": [party_json(p) for p in d.holders],
        "tax_payer_clause": d.tax_payer_clause,
        "new_land_type": d.new_land_type,
        "old_land_type": d.old_land_type,
        "declared_price": d.declared_price,
        "relationship": d.relationship_kind,
        "sole_residence": d.sole_residence,
        # The procedure's own facts (null where the procedure has none): docs/procedures.md.
        "recognition_kind": d.recognition_kind,
        "infrastructure_cost_per_m2": d.infrastructure_cost_per_m2,
        "rent_mode": d.rent_mode,
        "lease_term_years": d.lease_term_years,
        "rent_rate": format(d.rent_rate.normalize(), "f") if d.rent_rate is not None else None,
        "months_extended": d.months_extended,
        "old_term_end": d.old_term_end.isoformat() if d.old_term_end else None,
        "new_term_end": d.new_term_end.isoformat() if d.new_term_end else None,
        "filed_at": d.filed_at.isoformat(),
        "valid_on": d.valid_on.isoformat(),
        "due_on": d.due_on.isoformat(),
        "completed_at": d.completed_at.isoformat() if d.completed_at else None,
        "certificate_no": d.certificate_no,
        "assessment": assessment_json(view["assessment"]) if view["assessment"] else None,
        "notice": notice_json(view["notice"]) if view["notice"] else None,
        "notices": [notice_json(n) for n in view["notices"]],
        "payments": [payment_json(p) for p in view["payments"]],
        "events": [
            {"id": e.uid, "kind": e.kind, "from": e.from_status, "to": e.to_status,
             "actor": e.actor_label, "at": e.at.isoformat()}
            for e in view["events"]
        ],
    }
