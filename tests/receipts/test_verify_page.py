"""The public verification page: by number, by pasted code (either kind), by photo."""

from __future__ import annotations

import io
import re

import qrcode
from PIL import Image
from sqlalchemy import select

from tests.conftest import csrf_token
from tests.receipts.conftest import pdf_qr_texts


def _stored(app, number):
    from app.extensions import db
    from app.models import Receipt

    with app.app_context():
        return db.session.scalar(select(Receipt.token).where(Receipt.number == number))


def _compact(app, number):
    from app.extensions import db
    from app.models import Receipt
    from app.services.documents import compact_code

    with app.app_context():
        return compact_code(db.session.scalar(select(Receipt).where(Receipt.number == number)))


def _post(client, **data):
    data.setdefault("csrf_token", csrf_token(client, "/verify"))
    return client.post("/verify", data=data, content_type="multipart/form-data")


def test_page_needs_no_outside_network_and_offers_the_camera(app):
    html = app.test_client().get("/verify").get_data(as_text=True)
    assert re.search(r'<input[^>]*type="file"[^>]*accept="image/\*"[^>]*capture="environment"', html) or \
        re.search(r'<input[^>]*capture="environment"[^>]*type="file"', html)
    assert 'enctype="multipart/form-data"' in html
    for tag in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html):
        assert not tag.startswith(("http:", "https:", "//")), tag


def test_lookup_by_number_shows_public_facts_only(app, world, paid):
    client = app.test_client()
    response = client.get(f"/verify?number={paid['number']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="verify-result" data-kind="lookup"' in html
    assert paid["number"] in html and paid["notice"] in html and "Tax office 1" in html
    assert f"{paid['amount']:,}".replace(",", ".") in html or f"{paid['amount']:,}" in html
    for private in ("Trần Thị Bình", "Nguyễn Văn An", "12 Lê Lợi", paid["dossier"], "079085000002"):
        assert private not in html, private
    missing = client.get("/verify?number=BL000000NOSUCH")
    assert missing.status_code == 404 and 'data-kind' not in missing.get_data(as_text=True)


def test_pasted_codes_of_both_kinds(app, world, paid):
    client = app.test_client()
    jws = _post(client, token=_stored(app, paid["number"]))
    assert jws.status_code == 200
    assert 'data-kind="jws"' in jws.get_data(as_text=True)
    compact = _post(client, token=_compact(app, paid["number"]))
    assert compact.status_code == 200
    html = compact.get_data(as_text=True)
    assert 'data-kind="compact"' in html and paid["number"] in html
    code = _compact(app, paid["number"])
    tampered = code[:-5] + ("0" if code[-5] != "0" else "1") + code[-4:]
    refused = _post(client, token=tampered)
    assert refused.status_code == 422 and "data-kind" not in refused.get_data(as_text=True)
    assert _post(client).status_code == 422  # nothing given


def test_uploaded_photo_of_the_printed_code(app, world, paid):
    from tests.conftest import login

    owner = app.test_client()
    login(owner, "binh")
    printed = pdf_qr_texts(owner.get(f"/me/receipts/{paid['number']}.pdf").data)[0]
    # A "photo": the code, slightly rotated, on a large noisy page; far larger than the
    # other forms accept.
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6)
    qr.add_data(printed)
    code = qr.make_image().get_image().convert("L").rotate(7, expand=True, fillcolor=255)
    photo = Image.effect_noise((2400, 1800), 60)
    photo.paste(code, (900, 500))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=92)
    assert len(buffer.getvalue()) > app.config["MAX_CONTENT_LENGTH"]
    client = app.test_client()
    for field in ("camera", "image"):
        response = _post(client, **{field: (io.BytesIO(buffer.getvalue()), "photo.jpg")})
        assert response.status_code == 200, response.get_data(as_text=True)[-800:]
        html = response.get_data(as_text=True)
        assert 'data-kind="compact"' in html and paid["number"] in html


def test_upload_without_a_code_or_not_an_image(app):
    client = app.test_client()
    blank = io.BytesIO()
    Image.new("L", (300, 300), 255).save(blank, "PNG")
    for upload in (blank.getvalue(), b"%PDF-1.4 not an image", b"\x89PNG\r\n\x1a\n broken"):
        response = _post(client, image=(io.BytesIO(upload), "x.png"))
        assert response.status_code == 422
        assert "data-kind" not in response.get_data(as_text=True)


def test_api_verifies_both_kinds(app, world, paid):
    client = app.test_client()
    jws = client.post("/api/v1/receipts/verify", json={"token": _stored(app, paid["number"])}).get_json()
    assert jws["kind"] == "jws" and jws["claims"]["receipt_id"] == paid["number"]
    compact = client.post("/api/v1/receipts/verify", json={"token": _compact(app, paid["number"])}).get_json()
    assert compact["kind"] == "compact" and compact["claims"]["total"] == paid["amount"]
    bad = client.post("/api/v1/receipts/verify", json={"token": "LP1:000"})
    assert bad.status_code == 422 and "token" in bad.get_json()["error"]["fields"]
