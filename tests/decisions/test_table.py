"""The one table of who may take which decision in which state, tested both ways for every
decision, role and state: allowed ones succeed, refused ones answer 403 (role) or 409 (state)
and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from app.models import DossierStatus, Role
from app.services import workflow
from app.services.workflow import Decision

S = DossierStatus
WORKING = {S.FILED, S.AWAITING_CONFIRMATION, S.AWAITING_PAYMENT, S.PAID}
#: The table as docs/decisions.md states it, written out independently of the code.
EXPECTED = {
    Decision.CONFIRM: ({Role.TAX_OFFICER}, {S.AWAITING_CONFIRMATION}),
    Decision.ADJUST: ({Role.TAX_OFFICER}, {S.AWAITING_CONFIRMATION, S.AWAITING_PAYMENT, S.PAID}),
    Decision.APPROVE_ADJUSTMENT: ({Role.TAX_OFFICER},
                                  {S.AWAITING_CONFIRMATION, S.AWAITING_PAYMENT, S.PAID}),
    Decision.RETURN: ({Role.REGISTRY_OFFICER}, WORKING),
    Decision.SUPPLY_PAPERS: ({Role.LANDHOLDER, Role.REGISTRY_OFFICER}, {S.RETURNED}),
    Decision.REJECT: ({Role.REGISTRY_OFFICER}, WORKING | {S.RETURNED}),
    Decision.WITHDRAW: ({Role.LANDHOLDER}, WORKING | {S.RETURNED}),
    Decision.COMPLETE: ({Role.REGISTRY_OFFICER}, {S.PAID}),
}
#: Who acts for each decision in the database tests.
ACTOR = {Decision.CONFIRM: "tax", Decision.ADJUST: "tax", Decision.APPROVE_ADJUSTMENT: "tax_b",
         Decision.RETURN: "registry", Decision.SUPPLY_PAPERS: "registry",
         Decision.REJECT: "registry", Decision.WITHDRAW: "binh", Decision.COMPLETE: "registry"}
USER_OF_ROLE = {Role.TAX_OFFICER: "tax", Role.REGISTRY_OFFICER: "registry",
                Role.LANDHOLDER: "binh", Role.ADMIN: "admin", Role.ACCOUNTANT: "accountant",
                Role.SUPERVISOR: "supervisor"}


@pytest.mark.parametrize("decision", list(Decision))
def test_table_for_every_role_and_state(decision):
    roles, states = EXPECTED[decision]
    for role in Role:
        for state in DossierStatus:
            assert workflow.allowed(decision, role, state) is (role in roles and state in states), \
                (decision, role, state)
    # Closed dossiers take no decision at all.
    for state in (S.COMPLETED, S.REJECTED, S.WITHDRAWN):
        assert not any(workflow.allowed(decision, role, state) for role in Role)


def _file(app, world, *, confirm: bool) -> str:
    from app.extensions import db
    from app.models import Assessment, Dossier
    from app.services.dossiers import confirm_assessment

    code = world.file(parcel=world.add_parcel())
    if confirm:
        with app.app_context():
            dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
            assessment = db.session.scalar(select(Assessment).where(
                Assessment.dossier_id == dossier.id))
            confirm_assessment(world.user("tax"), assessment)
    return code


def _force(code: str, state: DossierStatus) -> None:
    """Put the dossier in a state directly (only tests do this)."""
    from app.extensions import db
    from app.models import Dossier

    db.session.execute(update(Dossier).where(Dossier.code == code).values(status=state))
    db.session.commit()


def _take(decision: Decision, world, code: str, username: str | None = None,
          adjustment_id: int | None = None):
    """Take the decision with valid input: the state and the role decide."""
    from app.extensions import db
    from app.models import AssessmentAdjustment, Dossier
    from app.services import decisions, dossiers

    user = world.user(username or ACTOR[decision])
    dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
    if decision is Decision.CONFIRM:
        return dossiers.confirm_assessment(user, decisions.assessment_in_force(dossier))
    if decision is Decision.ADJUST:
        current = decisions.assessment_in_force(dossier)
        return decisions.adjust(user, current, reason="r", changes={
            "declared_price": current.case["declared_price"] + 100_000_000})
    if decision is Decision.APPROVE_ADJUSTMENT:
        return decisions.approve(user, db.session.get(AssessmentAdjustment, adjustment_id),
                                 reason="r")
    if decision is Decision.RETURN:
        return decisions.return_dossier(user, dossier, missing="m", reason="r")
    if decision is Decision.SUPPLY_PAPERS:
        return decisions.supply_papers(user, dossier, note="n")
    if decision is Decision.REJECT:
        return decisions.reject(user, dossier, legal_ground="g", reason="r")
    if decision is Decision.WITHDRAW:
        return decisions.withdraw(user, dossier, reason="r")
    return dossiers.complete_dossier(user, dossier)


def _snapshot(code: str):
    from app.extensions import db
    from app.models import AssessmentAdjustment, Dossier, Event, Notice

    dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
    return (dossier.status,
            db.session.scalar(select(func.count()).select_from(Event)
                              .where(Event.dossier_id == dossier.id)),
            [(n.status, n.total) for n in db.session.scalars(
                select(Notice).where(Notice.dossier_id == dossier.id).order_by(Notice.id))],
            [a.status for a in db.session.scalars(select(AssessmentAdjustment))])


def _pending_adjustment(app, world, code: str) -> int:
    """An adjustment above the threshold, waiting for approval."""
    from app.extensions import db
    from app.models import Dossier
    from app.services import decisions

    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        current = decisions.assessment_in_force(dossier)
        return decisions.adjust(world.user("tax"), current, reason="large", changes={
            "declared_price": current.case["declared_price"] * 3}).id


# The database tests loop over the decisions inside one test each (one World to build).


def test_refused_states_answer_409_and_change_nothing(app, world):
    for decision in Decision:
        _refused_states(app, world, decision)


def _refused_states(app, world, decision):
    from app.errors import Conflict
    from app.extensions import db

    roles, states = EXPECTED[decision]
    code = _file(app, world, confirm=decision is not Decision.CONFIRM)
    adjustment_id = _pending_adjustment(app, world, code) \
        if decision is Decision.APPROVE_ADJUSTMENT else None
    for state in sorted(set(DossierStatus) - states):
        with app.app_context():
            _force(code, state)
            before = _snapshot(code)
            with pytest.raises(Conflict):
                _take(decision, world, code, adjustment_id=adjustment_id)
            db.session.rollback()
            assert _snapshot(code) == before, (decision, state)


def test_refused_roles_answer_403_and_change_nothing(app, world, backend):
    for decision in Decision:
        _refused_roles(app, world, decision)


def _refused_roles(app, world, decision):
    from app.errors import Forbidden
    from app.extensions import db

    roles, states = EXPECTED[decision]
    code = _file(app, world, confirm=decision is not Decision.CONFIRM)
    adjustment_id = _pending_adjustment(app, world, code) \
        if decision is Decision.APPROVE_ADJUSTMENT else None
    for role, username in USER_OF_ROLE.items():
        if role in roles:
            continue
        with app.app_context():
            _force(code, sorted(states)[0])
            before = _snapshot(code)
            with pytest.raises(Forbidden):
                _take(decision, world, code, username, adjustment_id)
            db.session.rollback()
            assert _snapshot(code) == before, (decision, role)


RESULT = {Decision.REJECT: S.REJECTED, Decision.WITHDRAW: S.WITHDRAWN,
          Decision.RETURN: S.RETURNED, Decision.COMPLETE: S.COMPLETED,
          Decision.CONFIRM: S.AWAITING_PAYMENT}


def test_allowed_states_take_the_decision(app, world):
    """Every state the table allows: the decision is taken (for supplying papers, from a
    return out of every working state, the dossier resuming where it was)."""
    for decision in Decision:
        _allowed_states(app, world, decision)


def _allowed_states(app, world, decision):
    from app.extensions import db
    from app.models import Dossier

    roles, states = EXPECTED[decision]
    if decision is Decision.SUPPLY_PAPERS:
        states = WORKING  # the state returned from
    for state in sorted(states):
        code = _file(app, world, confirm=state is not S.AWAITING_CONFIRMATION)
        adjustment_id = _pending_adjustment(app, world, code) \
            if decision is Decision.APPROVE_ADJUSTMENT else None
        with app.app_context():
            if decision is Decision.SUPPLY_PAPERS:
                _force(code, state)
                _take(Decision.RETURN, world, code)
            else:
                _force(code, state)
            before = _snapshot(code)
            _take(decision, world, code, adjustment_id=adjustment_id)
            db.session.expire_all()
            after = db.session.scalar(select(Dossier.status).where(Dossier.code == code))
            if decision in RESULT:
                assert after is RESULT[decision], (decision, state)
            elif decision is Decision.SUPPLY_PAPERS:
                assert after is state
            else:  # an adjustment: a new version, the dossier still open and assessed
                assert _snapshot(code)[1] > before[1]
                assert after in EXPECTED[Decision.ADJUST][1], (decision, state, after)
