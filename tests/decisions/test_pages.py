"""The decision forms appear where the user may take the decision now, and nowhere else."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import login


def test_each_page_offers_only_what_the_user_may_decide_now(app, world):
    from app.extensions import db
    from app.models import Assessment

    code, notice_code = world.file_and_confirm()
    with app.app_context():
        assessment_id = db.session.scalar(select(Assessment.id))
    client = app.test_client()
    login(client, "registry")
    page = client.get(f"/registry/dossiers/{code}").get_data(as_text=True)
    assert 'id="reject-form"' in page and 'id="return-form"' in page
    assert 'id="record-papers"' not in page and 'id="adjust-form"' not in page
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(f"/decisions/dossiers/{code}/return", follow_redirects=True,
                         data={"csrf_token": csrf, "missing": "Land use certificate original",
                               "reason": "Only a copy was filed."})
    page = answer.get_data(as_text=True)
    assert 'id="record-papers"' in page and 'id="return-form"' not in page
    assert "Land use certificate original" in page
    assert "Hồ sơ được trả để bổ sung giấy tờ" in page  # the history in words (Vietnamese by default)

    tax = app.test_client()
    login(tax, "tax")
    page = tax.get(f"/tax/assessments/{assessment_id}").get_data(as_text=True)
    assert 'id="adjust-form"' not in page  # returned: nothing to adjust now

    answer = client.post(f"/decisions/dossiers/{code}/papers",
                         data={"csrf_token": csrf, "note": "Original seen and copied."})
    assert answer.status_code == 302
    page = tax.get(f"/tax/assessments/{assessment_id}").get_data(as_text=True)
    assert 'id="adjust-form"' in page
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = tax.post(f"/decisions/assessments/{assessment_id}/adjust", follow_redirects=True,
                      data={"csrf_token": csrf, "declared_price": "12300000000",
                            "reason": "Comparable sales in the street."})
    page = answer.get_data(as_text=True)
    assert "Phiên bản 2" in page and "Comparable sales in the street." in page

    landholder = app.test_client()
    login(landholder, "cuong")
    assert landholder.get(f"/decisions/dossiers/{code}").status_code == 404
    login(landholder, "an")
    page = landholder.get(f"/decisions/dossiers/{code}").get_data(as_text=True)
    assert 'id="withdraw-form"' in page and 'id="papers-form"' not in page
    assert "Comparable sales in the street." in page  # the landholder sees why


def test_a_paper_of_a_megabyte_is_taken_on_the_page(app, world, tmp_path):
    """The page's upload limit is the papers' (5 MB by default), not the 256 KB of every
    other request: it applies before the CSRF check reads the form."""
    import io

    from tests.app.test_api import token

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    app.config["DECISIONS_PAPERS_DIR"] = str(tmp_path / "papers")
    code, _notice = world.file_and_confirm()
    client = app.test_client()
    returned = client.post(f"/api/v1/dossiers/{code}/return", headers=token(client, "registry"),
                           json={"missing": "Contract", "reason": "Not notarised"})
    assert returned.status_code == 200
    login(client, "binh")
    page = client.get(f"/decisions/dossiers/{code}").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(f"/decisions/dossiers/{code}/papers", content_type="multipart/form-data",
                         data={"csrf_token": csrf, "file": (io.BytesIO(pdf + b"0" * 1024 * 1024), "scan.pdf")})
    assert answer.status_code == 302
    assert len(list((tmp_path / "papers").rglob("*.pdf"))) == 1
    too_big = client.post("/me/contact", data={"email": "x" * (300 * 1024)})
    assert too_big.status_code == 413  # every other page keeps the small limit
