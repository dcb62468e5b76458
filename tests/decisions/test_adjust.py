"""A tax officer adjusts an assessment: tax_calc reassesses, a new version is kept beside the
old, issued notices are replaced, money paid is counted or refunded, and large adjustments
need a second officer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import tax_calc
from tests.conftest import login
from tests.decisions.conftest import pay, token


def _expected_total(app, assessment_id: int, price: int) -> int:
    """What the rules engine says for the assessment's case at another price (the oracle)."""
    from app.extensions import db
    from app.models import Assessment

    with app.app_context():
        case = dict(db.session.get(Assessment, assessment_id).case)
    case["declared_price"] = price
    return tax_calc.assess(case).total


def _ids(app, code):
    from app.extensions import db
    from app.models import Assessment, Dossier

    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        return db.session.scalar(select(Assessment.id).where(Assessment.dossier_id == dossier.id)
                                 .order_by(Assessment.id.desc()).limit(1))


def _notices(app, code):
    from app.extensions import db
    from app.models import Dossier, Notice

    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        return [(n.code, n.status.value, n.total, [(line.amount, line.paid) for line in n.lines],
                 n.replaces_id, n.id)
                for n in db.session.scalars(select(Notice).where(Notice.dossier_id == dossier.id)
                                            .order_by(Notice.id))]


def _adjust(client, headers, assessment_id, price, reason="Price below comparable sales"):
    return client.post(f"/api/v1/assessments/{assessment_id}/adjust", headers=headers,
                       json={"changes": {"declared_price": price}, "reason": reason})


def test_adjusting_an_unpaid_notice_replaces_it(app, world):
    from app.extensions import db
    from app.models import Assessment, Event

    code, notice_code = world.file_and_confirm()
    first = _ids(app, code)
    client = app.test_client()
    answer = _adjust(client, token(client, "tax"), first, 12_500_000_000)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    expected = _expected_total(app, first, 12_500_000_000)
    assert body["status"] == "applied" and body["new_version"] == 2
    assert body["total_after"] == expected != body["total_before"]
    (old, status, _total, lines, _r, old_id), new = _notices(app, code)
    assert (old, status) == (notice_code, "cancelled") and all(a == 0 for a, _p in lines)
    assert new[1] == "unpaid" and new[2] == expected and new[4] == old_id
    with app.app_context():
        versions = db.session.scalars(select(Assessment).order_by(Assessment.id)).all()
        assert [(a.version, a.status.value) for a in versions] == [(1, "superseded"),
                                                                    (2, "confirmed")]
        assert versions[1].supersedes_id == versions[0].id
        event = db.session.scalar(select(Event).where(Event.kind == "assessment_adjusted"))
        assert event.data["assessment_version_before"] == 1
        assert event.data["assessment_version_after"] == 2
        assert event.data["notices_issued"][0]["replaces"] == notice_code
    # The old version cannot be adjusted again: a newer one is in force.
    assert _adjust(client, token(client, "tax"), first, 13_000_000_000).status_code == 409


def test_adjusting_up_after_payment_issues_an_additional_notice(app, world):
    from app.extensions import db
    from app.models import Dossier, Receipt

    code, notice_code = world.file_and_confirm()
    paid = pay(app, "binh", notice_code)
    first = _ids(app, code)
    client = app.test_client()
    answer = _adjust(client, token(client, "tax"), first, 13_000_000_000)
    assert answer.status_code == 201
    expected = _expected_total(app, first, 13_000_000_000)
    old, new = _notices(app, code)
    assert old[1] == "cancelled" and sum(a for a, _p in old[3]) == paid  # what was paid counts
    assert new[1] == "unpaid" and new[2] == expected - paid  # only the difference is asked
    assert answer.get_json()["dossier_status"] == "awaiting_payment"
    # The landholder sees why on the additional notice.
    login(client, "binh")
    page = client.get(f"/me/notices/{new[0]}").get_data(as_text=True)
    assert "Price below comparable sales" in page
    pay(app, "binh", new[0])
    with app.app_context():
        assert db.session.scalar(select(Dossier.status).where(Dossier.code == code)).value == "paid"
        totals = sorted(r.claims["total"] for r in db.session.scalars(select(Receipt)))
        assert totals == sorted([paid, expected - paid])


def test_adjusting_down_after_payment_refunds_the_difference(app, world):
    from app.extensions import db
    from app.models import Dossier, Refund

    code, notice_code = world.file_and_confirm()
    paid = pay(app, "binh", notice_code)
    first = _ids(app, code)
    client = app.test_client()
    assert _adjust(client, token(client, "tax"), first, 11_500_000_000).status_code == 201
    expected = _expected_total(app, first, 11_500_000_000)
    assert expected < paid
    old, new = _notices(app, code)
    assert sum(a for a, _p in old[3]) == expected and new[2] == 0 and new[1] == "paid"
    with app.app_context():
        refunds = db.session.scalars(select(Refund)).all()
        assert [(r.amount, r.reason.value) for r in refunds] == [(paid - expected, "correction")]
        assert db.session.scalar(select(Dossier.status).where(Dossier.code == code)).value == "paid"


def test_large_adjustment_needs_another_officer(app, world):
    from app.extensions import db
    from app.models import Event

    code, _notice = world.file_and_confirm()
    first = _ids(app, code)
    client = app.test_client()
    tax = token(client, "tax")
    answer = _adjust(client, tax, first, 20_000_000_000)
    assert answer.status_code == 201
    adjustment = answer.get_json()
    assert adjustment["status"] == "pending_approval" and adjustment["new_version"] is None
    assert len(_notices(app, code)) == 1  # nothing changes before approval
    assert _adjust(client, tax, first, 21_000_000_000).status_code == 409  # one at a time
    url = f"/api/v1/adjustments/{adjustment['id']}/approve"
    own = client.post(url, headers=tax, json={"reason": "I agree with myself"})
    assert own.status_code == 403
    assert client.post(url, headers=token(client, "tax2"), json={"reason": "ok"}).status_code == 404
    approved = client.post(url, headers=token(client, "tax_b"),
                           json={"reason": "Checked the comparable sales."})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "applied"
    assert approved.get_json()["approved_by"] == "tax_b"
    assert _notices(app, code)[-1][2] == _expected_total(app, first, 20_000_000_000)
    again = client.post(url, headers=token(client, "tax_b"), json={"reason": "twice"})
    assert again.status_code == 409
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.kind == "adjustment_approved"))
        assert event.data["reason"] == "Price below comparable sales"
        assert event.data["approval_reason"] == "Checked the comparable sales."


def test_adjusting_before_confirmation_keeps_the_new_version_waiting(app, world):
    code = world.file()
    first = _ids(app, code)
    client = app.test_client()
    tax = token(client, "tax")
    answer = client.post(f"/api/v1/assessments/{first}/adjust", headers=tax,
                         json={"changes": {"relationship": "parent_child"},
                               "reason": "Birth certificate shows parent and child."})
    assert answer.status_code == 201, answer.get_json()
    adjustment = answer.get_json()
    assert adjustment["status"] == "pending_approval"  # the exemption takes off a lot
    # Nothing is confirmed while the adjustment waits.
    assert client.post(f"/api/v1/assessments/{first}/confirm", headers=tax).status_code == 409
    answer = client.post(f"/api/v1/adjustments/{adjustment['id']}/approve",
                         headers=token(client, "tax_b"), json={"reason": "Certificate seen."})
    assert answer.status_code == 200, answer.get_json()
    second = answer.get_json()["new_assessment_id"]
    assert client.post(f"/api/v1/assessments/{first}/confirm", headers=tax).status_code == 409
    confirmed = client.post(f"/api/v1/assessments/{second}/confirm", headers=tax)
    assert confirmed.status_code == 201, confirmed.get_json()
    (notice,) = _notices(app, code)
    assert notice[2] == answer.get_json()["total_after"]


def test_adjustment_input_is_checked(app, world):
    code, _notice = world.file_and_confirm()
    first = _ids(app, code)
    client = app.test_client()
    tax = token(client, "tax")
    for body in ({"changes": {"declared_price": 1}, "reason": ""},
                 {"changes": {}, "reason": "r"},
                 {"changes": {"rate": "0.1"}, "reason": "r"},
                 {"changes": {"declared_price": 12_000_000_000}, "reason": "r"},
                 {"changes": {"area_m2": "-3"}, "reason": "r"},
                 {"changes": {"declared_price": True}, "reason": "r"}):
        answer = client.post(f"/api/v1/assessments/{first}/adjust", headers=tax, json=body)
        assert answer.status_code == 422, (body, answer.get_json())
    assert len(_notices(app, code)) == 1


def _latest_assessment(app, code):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Assessment, Dossier

    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        latest = db.session.scalars(select(Assessment).where(Assessment.dossier_id == dossier.id)
                                    .order_by(Assessment.id.desc())).first()
        return latest.id, latest.total


def test_small_steps_cannot_avoid_the_second_officer(app, world):
    """The threshold is measured from the last approved total (or the confirmed first
    version), not from the version before: one officer lowering the total step by step, each
    step under the threshold, is stopped once the steps add up to more."""
    from tests.app.test_api import token

    code, _notice = world.file_and_confirm()
    client = app.test_client()
    headers = token(client, "tax")
    _first, first_total = _latest_assessment(app, code)
    steps = [{"area_m2": "1"}] + [{"declared_price": price} for price in range(10_500_000_000, 0, -1_500_000_000)]
    answers = []
    for change in steps:
        assessment_id, _total = _latest_assessment(app, code)
        answer = client.post(f"/api/v1/assessments/{assessment_id}/adjust", headers=headers,
                             json={"changes": change, "reason": "Comparable sales are lower."})
        answers.append(answer.get_json().get("status") if answer.status_code == 201 else answer.status_code)
    _latest, total = _latest_assessment(app, code)
    assert abs(first_total - total) <= 50_000_000
    assert "pending_approval" in answers  # the step that crossed the threshold waits


@pytest.mark.parametrize("value", [[1], {"a": 1}, 7, True])
def test_a_relationship_of_the_wrong_type_is_a_field_error(app, world, value):
    from tests.app.test_api import token

    code, _notice = world.file_and_confirm()
    assessment_id, _total = _latest_assessment(app, code)
    client = app.test_client()
    answer = client.post(f"/api/v1/assessments/{assessment_id}/adjust", headers=token(client, "tax"),
                         json={"changes": {"relationship": value}, "reason": "x"})
    assert answer.status_code == 422 and "relationship" in answer.get_json()["error"]["fields"]
