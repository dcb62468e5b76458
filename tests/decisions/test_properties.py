"""Generated sequences of decisions and payments: every decision taken is one the table
allows in the state it was taken (a refused one changes nothing), money is conserved per
obligation line, and no dossier is left in a state from which nothing can be decided."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.models import DossierStatus, Role
from app.services import workflow
from app.services.workflow import Decision
from tests.decisions.conftest import pay

STEPS = st.lists(st.one_of(
    st.tuples(st.just("pay"), st.sampled_from(["an", "binh"])),
    st.tuples(st.just("adjust"), st.sampled_from([-300, -100, 100, 200, 4000])),
    st.tuples(st.just("approve"), st.just(None)),
    st.tuples(st.just("return"), st.just(None)),
    st.tuples(st.just("supply"), st.sampled_from(["registry", "binh"])),
    st.tuples(st.just("withdraw"), st.just(None)),
    st.tuples(st.just("reject"), st.just(None)),
    st.tuples(st.just("complete"), st.just(None)),
), min_size=1, max_size=7)

DECISION_OF = {"adjust": (Decision.ADJUST, "tax"), "approve": (Decision.APPROVE_ADJUSTMENT, "tax_b"),
               "return": (Decision.RETURN, "registry"), "withdraw": (Decision.WITHDRAW, "binh"),
               "reject": (Decision.REJECT, "registry"), "complete": (Decision.COMPLETE, "registry")}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _dossier(code):
    from app.extensions import db
    from app.models import Dossier

    return db.session.scalar(select(Dossier).where(Dossier.code == code)
                             .execution_options(populate_existing=True))


def _act(world, code: str, kind: str, arg):
    from app.extensions import db
    from app.services import decisions, dossiers

    dossier = _dossier(code)
    if kind == "adjust":
        current = decisions.assessment_in_force(dossier)
        price = current.case["declared_price"] + arg * 1_000_000
        return decisions.adjust(world.user("tax"), current, changes={"declared_price": price},
                                reason="generated")
    if kind == "approve":
        pending = decisions.pending_adjustment(dossier)
        if pending is None:
            return None
        return decisions.approve(world.user("tax_b"), pending, reason="generated")
    if kind == "return":
        return decisions.return_dossier(world.user("registry"), dossier, missing="m", reason="r")
    if kind == "supply":
        user = world.user(arg)
        paper = decisions.Paper("p.png", PNG) if arg == "binh" else None
        return decisions.supply_papers(user, dossier, paper=paper, note="n")
    if kind == "withdraw":
        return decisions.withdraw(world.user("binh"), dossier, reason="r")
    if kind == "reject":
        return decisions.reject(world.user("registry"), dossier, legal_ground="g", reason="r")
    db.session.rollback()
    return dossiers.complete_dossier(world.user("registry"), dossier)


def _check_money(code: str) -> None:
    """Per obligation line, from the rows of each side separately."""
    from app.extensions import db
    from app.models import AssessmentStatus, Notice, NoticeStatus, PaymentOrder
    from app.models.refunds import Refund, RefundState
    from app.services import decisions
    from app.services.dossiers import line_payer
    from payments.states import PaymentStatus

    dossier = _dossier(code)
    notices = db.session.scalars(select(Notice).where(Notice.dossier_id == dossier.id)).all()
    ended = dossier.status in (DossierStatus.REJECTED, DossierStatus.WITHDRAWN)
    assessment = decisions.assessment_in_force(dossier)
    if assessment.status is AssessmentStatus.CONFIRMED:
        # Assessed: the lines of all notices add up to the version in force (0 once ended).
        wanted: dict[tuple[str, str], int] = {}
        for line in assessment.lines:
            key = (line_payer(dossier.procedure, dossier.tax_payer_clause, line.obligation).value,
                   line.obligation)
            wanted[key] = wanted.get(key, 0) + (0 if ended else line.amount)
        on_notices: dict[tuple[str, str], int] = {}
        for notice in notices:
            for line in notice.lines:
                key = (notice.payer_role, line.obligation)
                on_notices[key] = on_notices.get(key, 0) + line.amount
        assert {k: v for k, v in on_notices.items() if v} == {k: v for k, v in wanted.items() if v}
    # Paid: what the bank took, less what is being given back, is what the lines hold.
    ids = [n.id for n in notices]
    taken = db.session.scalar(select(func.coalesce(func.sum(PaymentOrder.amount), 0)).where(
        PaymentOrder.notice_id.in_(ids), PaymentOrder.status == PaymentStatus.SUCCEEDED))
    back = db.session.scalar(select(func.coalesce(func.sum(Refund.amount), 0)).where(
        Refund.notice_id.in_(ids), Refund.state != RefundState.FAILED))
    held = sum(min(line.paid - line.refunded, line.amount) for n in notices for line in n.lines)
    assert taken - back == held
    for notice in notices:
        for line in notice.lines:
            if notice.status is NoticeStatus.CANCELLED:
                assert 0 <= line.amount <= line.paid - line.refunded or line.paid == 0
            else:
                assert 0 <= line.paid - line.refunded <= line.amount  # never counted twice
    if ended:
        assert taken == back  # everything paid is refunded


def test_decisions_and_payments_keep_money_and_the_table(app, world, backend):
    from app.errors import AppError
    from app.extensions import db

    @settings(max_examples=10, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(STEPS)
    @example([("pay", "an"), ("adjust", -300), ("adjust", 200), ("pay", "an"), ("withdraw", None)])
    @example([("pay", "binh"), ("return", None), ("pay", "an"), ("supply", "binh"),
              ("adjust", 4000), ("approve", None), ("pay", "an"), ("complete", None)])
    def run(steps):
        code, _notice = world.file_and_confirm(parcel=world.add_parcel(), clause="default")
        for kind, arg in steps:
            with app.app_context():
                before = _dossier(code).status
                if kind == "pay":
                    from app.models import Notice, NoticeStatus

                    notice = db.session.scalar(select(Notice).where(
                        Notice.dossier_id == _dossier(code).id,
                        Notice.status == NoticeStatus.UNPAID,
                        Notice.payer_role == ("transferor" if arg == "an" else "transferee")))
                    if notice is None or before in (DossierStatus.REJECTED,
                                                    DossierStatus.WITHDRAWN,
                                                    DossierStatus.COMPLETED):
                        continue
                    notice_code = notice.code
            if kind == "pay":
                pay(app, arg, notice_code)
            else:
                decision = Decision.SUPPLY_PAPERS if kind == "supply" else DECISION_OF[kind][0]
                role = Role.LANDHOLDER if arg == "binh" and kind == "supply" else \
                    {"tax": Role.TAX_OFFICER, "tax_b": Role.TAX_OFFICER, "binh": Role.LANDHOLDER,
                     "registry": Role.REGISTRY_OFFICER}[DECISION_OF.get(kind, (None, "registry"))[1]]
                allowed = workflow.allowed(decision, role, before)
                with app.app_context():
                    try:
                        done = _act(world, code, kind, arg)
                    except AppError as err:
                        db.session.rollback()
                        done = None
                        assert err.status in (409, 422), (kind, before, err.message)
                        assert _dossier(code).status is before  # refused: nothing changed
                    if done is not None:
                        assert allowed, (kind, before)
                    if not allowed:
                        assert done is None, (kind, before)
            with app.app_context():
                _check_money(code)
        with app.app_context():
            final = _dossier(code).status
            closed = final in (DossierStatus.COMPLETED, DossierStatus.REJECTED,
                               DossierStatus.WITHDRAWN)
            # Never stuck: an open dossier still has a decision someone may take.
            assert closed or any(workflow.allowed(d, r, final) for d in Decision for r in Role)

    run()
