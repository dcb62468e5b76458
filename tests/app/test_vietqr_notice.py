"""Every unpaid notice carries a VietQR transfer code: in the API, as PNG and SVG images, and on
the landholder's notice page. The payload is read here with a parser and a CRC of the test's
own, not with ``payments.vietqr``."""

from __future__ import annotations

import binascii
import io
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from tests.app.bank import notification
from tests.conftest import PASSWORD, login

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tlv(data: str) -> dict[str, str]:
    """EMVCo fields: id (2 digits), length (2 digits), value; no id twice, nothing left over."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        tag, length = data[pos:pos + 2], int(data[pos + 2:pos + 4])
        value = data[pos + 4:pos + 4 + length]
        assert len(value) == length, (tag, data)
        assert tag not in fields, (tag, data)
        fields[tag] = value
        pos += 4 + length
    return fields


def check_crc(payload: str) -> None:
    assert payload[-8:-4] == "6304"
    crc = binascii.crc_hqx(payload[:-4].encode("ascii"), 0xFFFF)  # CRC-16/CCITT-FALSE
    assert payload[-4:] == f"{crc:04X}"


def api_token(client, username: str) -> dict:
    token = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def unpaid(app, world):
    _code, notice_code = world.file_and_confirm()
    return notice_code


def test_payload_in_the_api_is_the_outstanding_amount_to_the_treasury_account(app, unpaid):
    client = app.test_client()
    body = client.get(f"/api/v1/notices/{unpaid}", headers=api_token(client, "binh")).get_json()
    assert body["status"] == "unpaid" and body["outstanding"] > 0
    qr = body["vietqr"]
    assert qr["png"] == f"/api/v1/notices/{unpaid}/vietqr.png"
    assert qr["svg"] == f"/api/v1/notices/{unpaid}/vietqr.svg"
    payload = qr["payload"]
    check_crc(payload)
    top = tlv(payload)
    assert list(top) == ["00", "01", "38", "53", "54", "58", "62", "63"]
    assert top["00"] == "01"
    assert top["01"] == "12"  # dynamic: the amount is fixed
    assert top["53"] == "704" and top["58"] == "VN"
    assert int(top["54"]) == body["outstanding"]
    merchant = tlv(top["38"])
    assert merchant["00"] == "A000000727" and merchant["02"] == "QRIBFTTA"
    beneficiary = tlv(merchant["01"])
    assert beneficiary == {"00": app.config["VIETQR_ACQUIRER_ID"], "01": app.config["VIETQR_ACCOUNT"]}
    assert beneficiary == {"00": "970436", "01": "0011001932418"}  # the test configuration's values
    additional = tlv(top["62"])
    assert additional["01"] == unpaid
    assert unpaid in additional["08"]


def test_a_corrupted_payload_fails_the_checks_of_this_test():
    # The test's own parser and CRC must be able to say no.
    payload = ("00020101021238570010A00000072701270006970436011300110019324180208QRIBFTTA"
               "53037045408125000005802VN62490114TB-2025-0001230827Nop thue TB-2025-000123 dat"
               "63047EF7")
    check_crc(payload)
    with pytest.raises(AssertionError):
        check_crc(payload.replace("12500000", "12500001"))
    with pytest.raises(AssertionError):
        tlv("0002010102")


def test_images_are_a_png_and_an_svg_of_the_payload(app, unpaid):
    client = app.test_client()
    headers = api_token(client, "binh")
    payload = client.get(f"/api/v1/notices/{unpaid}", headers=headers).get_json()["vietqr"]["payload"]

    png = client.get(f"/api/v1/notices/{unpaid}/vietqr.png", headers=headers)
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.headers["Cache-Control"] == "no-store"
    assert png.data.startswith(PNG_MAGIC)

    svg = client.get(f"/api/v1/notices/{unpaid}/vietqr.svg", headers=headers)
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.headers["Cache-Control"] == "no-store"
    root = ET.fromstring(svg.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"

    decoded = zxingcpp.read_barcode(Image.open(io.BytesIO(png.data)))
    assert decoded is not None and decoded.text == payload


def test_landholder_page_and_its_images(app, unpaid):
    client = app.test_client()
    login(client, "binh")
    page = client.get(f"/me/notices/{unpaid}").get_data(as_text=True)
    assert 'id="vietqr"' in page
    assert f"/me/notices/{unpaid}/vietqr.svg" in page
    assert "0011001932418" in page and "970436" in page
    for ext, mimetype in (("png", "image/png"), ("svg", "image/svg+xml")):
        response = client.get(f"/me/notices/{unpaid}/vietqr.{ext}")
        assert response.status_code == 200 and response.mimetype == mimetype
        assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"/me/notices/{unpaid}/vietqr.png").data.startswith(PNG_MAGIC)
    ET.fromstring(client.get(f"/me/notices/{unpaid}/vietqr.svg").data)


def test_another_landholder_gets_404_for_the_images(app, unpaid):
    client = app.test_client()
    login(client, "cuong")
    for ext in ("png", "svg"):
        assert client.get(f"/me/notices/{unpaid}/vietqr.{ext}").status_code == 404
    headers = api_token(client, "cuong")
    for ext in ("png", "svg"):
        response = client.get(f"/api/v1/notices/{unpaid}/vietqr.{ext}", headers=headers)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def test_a_paid_notice_has_no_code(app, world, unpaid):
    from app.extensions import db
    from app.models import Notice
    from app.services import paying

    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == unpaid))
        order, _url = paying.start_payment(world.user("binh"), notice)
        ref, amount = order.ref, order.amount
    assert app.test_client().post("/bank/notify", data=notification(ref, amount)).get_json()["RspCode"] == "00"

    client = app.test_client()
    headers = api_token(client, "binh")
    body = client.get(f"/api/v1/notices/{unpaid}", headers=headers).get_json()
    assert body["status"] == "paid" and body["vietqr"] is None
    assert client.get(f"/api/v1/notices/{unpaid}/vietqr.png", headers=headers).status_code == 409
    login(client, "binh")
    assert 'id="vietqr"' not in client.get(f"/me/notices/{unpaid}").get_data(as_text=True)
    assert client.get(f"/me/notices/{unpaid}/vietqr.svg").status_code == 409
