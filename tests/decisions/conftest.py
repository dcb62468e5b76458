"""Fixtures of the decision tests: the World with its adjustment coefficients, papers kept in
a temporary folder, a second tax officer of office 1, and helpers to pay and to call the API."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.app.bank import notification
from tests.app.conftest import add_coefficients
from tests.conftest import PASSWORD, World


@pytest.fixture
def world(app, tmp_path):
    app.config["DECISIONS_PAPERS_DIR"] = str(tmp_path / "papers")
    built = World(app)
    add_coefficients(app, {"*": "1.0"})
    with app.app_context():
        from app.extensions import db
        from app.models import Office, Role, User

        # A second tax officer of the first tax office: the four eyes.
        second = User(username="tax_b", full_name="Tax B", role=Role.TAX_OFFICER,
                      office=db.session.scalar(select(Office).where(Office.code == "TAX1")))
        second.set_password(PASSWORD)
        db.session.add(second)
        db.session.commit()
    return built


def pay(app, username: str, notice_code: str) -> int:
    """Pay the notice's outstanding amount at the (simulated) bank; returns the amount."""
    from app.extensions import db
    from app.models import Notice, User
    from app.services import paying

    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.username == username))
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        order, _url = paying.start_payment(user, notice)
        ref, amount = order.ref, order.amount
    response = app.test_client().post("/bank/notify", data=notification(ref, amount))
    assert response.get_json()["RspCode"] == "00", response.get_json()
    return amount


def token(client, username: str) -> dict:
    answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {answer.get_json()['token']}"}


def count(model, *where) -> int:
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(model).where(*where))
