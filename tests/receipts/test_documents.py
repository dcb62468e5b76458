"""The printable PDF receipt and notice: Vietnamese text, every fact, a QR code that reads."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD, login
from tests.receipts.conftest import pdf_qr_texts, pdf_text


def _legal_bases(app, notice_code: str) -> set[str]:
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Notice

    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        return {line.info("legal_basis") for line in notice.lines}


def _api(client, username="binh"):
    token = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_receipt_pdf_has_every_fact_and_a_readable_qr(app, world, paid):
    client = app.test_client()
    login(client, "binh")
    page = client.get(f"/me/receipts/{paid['number']}")
    assert f"/me/receipts/{paid['number']}.pdf" in page.get_data(as_text=True)
    response = client.get(f"/me/receipts/{paid['number']}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    text = pdf_text(response.data)
    # Vietnamese with its diacritics survives (names, address, obligation names in Vietnamese).
    for fact in (paid["number"], paid["notice"], paid["dossier"], "Trần Thị Bình", "12 Lê Lợi",
                 "Tax office 1", "0011001932418", "Lệ phí trước bạ"):
        assert fact in text, fact
    assert f"{paid['amount']:,}".replace(",", ".") in text or f"{paid['amount']:,}" in text
    flat = " ".join(text.split())  # the table wraps long text: compare without line breaks
    from app.legal_words import legal_basis_vi

    for basis in _legal_bases(app, paid["notice"]):  # in Vietnamese, as the receipt is
        assert " ".join(legal_basis_vi(basis).split())[:25] in flat, basis
    # The short link printed beside the code leads to the look-up by number.
    link = re.search(r"https?://\S+?/verify\?number=" + paid["number"], "".join(text.split()))
    assert link, text
    assert link.group(0).startswith(app.config["PUBLIC_BASE_URL"])
    assert client.get(link.group(0)[len(app.config["PUBLIC_BASE_URL"]):]).status_code == 200
    codes = pdf_qr_texts(response.data)
    assert len(codes) == 1 and codes[0].startswith("LP1:")
    verified = client.post("/api/v1/receipts/verify", json={"token": codes[0]})
    assert verified.status_code == 200, verified.get_json()
    body = verified.get_json()
    assert body["kind"] == "compact"
    assert body["claims"]["receipt_id"] == paid["number"]
    assert body["claims"]["total"] == paid["amount"]
    assert body["claims"]["notice_code"] == paid["notice"]


def test_notice_pdf_with_vietqr_code(app, world):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Notice

    _code, notice_code = world.file_and_confirm()
    client = app.test_client()
    login(client, "binh")
    assert f"/me/notices/{notice_code}.pdf" in client.get(f"/me/notices/{notice_code}").get_data(as_text=True)
    response = client.get(f"/me/notices/{notice_code}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        basis = notice.lines[0].info("legal_basis")
    for fact in (notice_code, "Trần Thị Bình", "12 Lê Lợi", "Tax office 1", "0011001932418"):
        assert fact in text, fact
    from app.legal_words import legal_basis_vi

    assert " ".join(legal_basis_vi(basis).split())[:25] in " ".join(text.split())
    codes = pdf_qr_texts(response.data)
    assert len(codes) == 1
    assert notice_code in codes[0] and "0011001932418" in codes[0]  # the VietQR transfer


def test_pdfs_are_for_their_owner_only(app, world, paid):
    for username in ("cuong", "an"):
        client = app.test_client()
        login(client, username)
        assert client.get(f"/me/receipts/{paid['number']}.pdf").status_code == 404
        assert client.get(f"/me/notices/{paid['notice']}.pdf").status_code == 404
    assert app.test_client().get(f"/me/receipts/{paid['number']}.pdf").status_code == 302


def test_api_receipt_pdf(app, world, paid):
    client = app.test_client()
    response = client.get(f"/api/v1/receipts/{paid['number']}.pdf", headers=_api(client))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert paid["number"] in pdf_text(response.data)
    refused = client.get(f"/api/v1/receipts/{paid['number']}.pdf", headers=_api(client, "cuong"))
    assert refused.status_code == 404 and refused.get_json()["error"]
    assert client.get(f"/api/v1/receipts/{paid['number']}.pdf").status_code == 401
    # The JSON receipt is still served beside it.
    assert client.get(f"/api/v1/receipts/{paid['number']}", headers=_api(client)).get_json()["number"] == paid["number"]


def test_receipt_page_qr_is_the_compact_code(app, world, paid):
    import io

    import zxingcpp
    from PIL import Image

    client = app.test_client()
    login(client, "binh")
    png = client.get(f"/me/receipts/{paid['number']}/qr.png").data
    codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [c.text[:4] for c in codes] == ["LP1:"]
    assert codes[0].symbology_identifier  # read as a QR code
    assert client.post("/api/v1/receipts/verify", json={"token": codes[0].text}).get_json()["valid"] is True
