"""A paid dossier with its receipt, and an unpaid notice, for the receipt pages and PDFs."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from tests.app.bank import notification
from tests.app.conftest import world  # noqa: F401  (the fixture, shared)


def pay(app, world, username: str = "binh", **file_kwargs) -> dict:  # noqa: F811
    """File, confirm and pay a dossier: its codes and the receipt number."""
    from app.extensions import db
    from app.models import Notice, Receipt
    from app.services import paying

    code, notice_code = world.file_and_confirm(**file_kwargs)
    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        order, _url = paying.start_payment(world.user(username), notice)
        ref, amount, notice_id = order.ref, order.amount, notice.id
    app.test_client().post("/bank/notify", data=notification(ref, amount))
    with app.app_context():
        number = db.session.scalar(select(Receipt.number).where(Receipt.notice_id == notice_id))
    assert number
    return {"dossier": code, "notice": notice_code, "number": number, "amount": amount}


@pytest.fixture
def paid(app, world):  # noqa: F811
    return pay(app, world)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pdf_qr_texts(data: bytes) -> list[str]:
    """The text of each QR code in the PDF's images, read as a phone camera would."""
    texts = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for image in page.images:
            picture = Image.open(io.BytesIO(image.data)).convert("L")
            texts += [code.text for code in zxingcpp.read_barcodes(picture) if code.valid]
    return texts
