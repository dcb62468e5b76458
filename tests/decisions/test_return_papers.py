"""Return for a missing paper and the paper supplied: the dossier waits (``dossier_returned``,
the agency's clock pauses) and resumes where it was (``papers_supplied``)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from sqlalchemy import select

from tests.conftest import login
from tests.decisions.conftest import pay, token

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _status(code):
    from app.extensions import db
    from app.models import Dossier

    return db.session.scalar(select(Dossier.status).where(Dossier.code == code)).value


def _csrf(client, url):
    page = client.get(url).get_data(as_text=True)
    return page, page.split('name="csrf_token" value="')[1].split('"')[0]


def test_return_then_upload_resumes_the_dossier(app, world):
    from app.extensions import db
    from app.models import DossierReturn, Event

    code, _notice = world.file_and_confirm()
    client = app.test_client()
    answer = client.post(f"/api/v1/dossiers/{code}/return", headers=token(client, "registry"),
                         json={"missing": "Notarised sale contract",
                               "reason": "The copy filed is not notarised."})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "returned"
    assert answer.get_json()["decisions_now"] == ["supply_papers", "reject"]

    login(client, "binh")
    page, csrf = _csrf(client, f"/decisions/dossiers/{code}")
    assert "Notarised sale contract" in page and 'id="papers-form"' in page
    # Not a paper: refused by its content whatever its name says, nothing changes.
    refused = client.post(f"/decisions/dossiers/{code}/papers", content_type="multipart/form-data",
                          data={"csrf_token": csrf,
                                "file": (io.BytesIO(b"MZ\x90\x00 not a pdf"), "contract.pdf")})
    assert refused.status_code == 302
    with app.app_context():
        assert _status(code) == "returned"
    answer = client.post(f"/decisions/dossiers/{code}/papers", content_type="multipart/form-data",
                         data={"csrf_token": csrf, "note": "Signed at the notary's",
                               "file": (io.BytesIO(PDF), "../../hop-dong.pdf")})
    assert answer.status_code == 302
    with app.app_context():
        assert _status(code) == "awaiting_payment"
        record = db.session.scalar(select(DossierReturn))
        assert record.supplied_how == "upload" and record.file_type == "application/pdf"
        assert record.file_name == "hop-dong.pdf"  # no path from the browser is kept
        stored = Path(app.config["DECISIONS_PAPERS_DIR"]) / record.file_path
        assert stored.read_bytes() == PDF
        assert record.file_sha256 == hashlib.sha256(PDF).hexdigest()
        kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.id))]
        assert kinds[-2:] == ["dossier_returned", "papers_supplied"]


def test_paper_too_large_is_refused(app, world):
    from app.extensions import db
    from app.models import DossierReturn

    app.config["DECISIONS_PAPER_MAX_BYTES"] = 1024
    code, _notice = world.file_and_confirm()
    client = app.test_client()
    client.post(f"/api/v1/dossiers/{code}/return", headers=token(client, "registry"),
                json={"missing": "Receipt of the notary", "reason": "Missing"})
    headers = token(client, "binh")
    big = client.post(f"/api/v1/dossiers/{code}/papers", headers=headers,
                      data={"file": (io.BytesIO(PDF + b"0" * 2048), "big.pdf")},
                      content_type="multipart/form-data")
    assert big.status_code == 422
    assert "file" in big.get_json()["error"]["fields"]
    with app.app_context():
        assert _status(code) == "returned"
        assert db.session.scalar(select(DossierReturn.supplied_at)) is None
        assert not list(Path(app.config["DECISIONS_PAPERS_DIR"]).glob("**/*.pdf"))


def test_officer_records_the_paper_and_a_dossier_paid_meanwhile_goes_on_to_paid(app, world):
    code, notice_code = world.file_and_confirm()
    client = app.test_client()
    registry = token(client, "registry")
    client.post(f"/api/v1/dossiers/{code}/return", headers=registry,
                json={"missing": "ID card copy", "reason": "Unreadable copy"})
    pay(app, "binh", notice_code)  # paying is not a decision: allowed while returned
    with app.app_context():
        assert _status(code) == "returned"
    # A registry officer must say what was received.
    assert client.post(f"/api/v1/dossiers/{code}/papers", headers=registry,
                       json={"note": ""}).status_code == 422
    answer = client.post(f"/api/v1/dossiers/{code}/papers", headers=registry,
                         json={"note": "Certified copy handed in at the counter"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "paid"
    assert client.post(f"/api/v1/dossiers/{code}/papers", headers=registry,
                       json={"note": "again"}).status_code == 409
