"""Officers' decisions on a dossier and the landholder's withdrawal, with their money.

Each public function is one decision and one transaction: it checks who may take it in the
dossier's present state (``workflow.DECISIONS``), takes its locks, records the decision as an
event (which goes to the national portal), and commits once; or it raises and changes nothing.

Money is never lost nor counted twice. Per obligation line:

* a withdrawal or a rejection cancels every notice: each line's amount becomes 0 and all
  that was paid on it is refunded (``app.services.refunds.request_refund``);
* an adjustment cancels the notices in force: of what was paid on a line, the part the new
  version still asks for stays counted there (the old line's amount becomes that part), the
  rest is refunded; the corrected notice asks only for what is left to pay.

So for every obligation, the lines of all the dossier's notices add up to the amount of the
assessment version in force (0 once the dossier ended), and ``amount = paid - refunded +
outstanding`` holds on each line (a refund requested but not yet made shows as a negative
outstanding until the bank returns the money).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

import tax_calc
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    AdjustmentStatus,
    Assessment,
    AssessmentAdjustment,
    AssessmentStatus,
    Dossier,
    DossierReturn,
    DossierStatus,
    Notice,
    NoticeLine,
    NoticeStatus,
    PartyRole,
    PaymentOrder,
    Role,
    User,
)
from app.services import treasury, workflow
from app.services.dossiers import (
    RELATIONSHIPS,
    _code,
    _notice_due_on,
    assessment_lines,
    line_payer,
    review_reasons,
    today_local,
)
from app.services.workflow import Decision
from payments.states import PaymentStatus

#: Longest reason, legal ground or note kept (characters).
MAX_TEXT = 2000
#: Adjustments whose total changes by more than this many dong wait for a second tax officer
#: (``DECISIONS_APPROVAL_ABOVE`` in the configuration overrides it).
DEFAULT_APPROVAL_ABOVE = 50_000_000
#: Largest paper a landholder may upload (``DECISIONS_PAPER_MAX_BYTES`` overrides it).
DEFAULT_PAPER_MAX_BYTES = 5 * 1024 * 1024
#: The kinds of paper accepted, recognised by their first bytes (never by the name or by
#: what the browser claims): type -> (signature, extension).
PAPER_TYPES = {
    "application/pdf": (b"%PDF-", "pdf"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "png"),
    "image/jpeg": (b"\xff\xd8\xff", "jpg"),
}
#: What an adjustment may change in the case given to the rules engine.
ADJUSTABLE = ("declared_price", "relationship", "sole_residence", "area_m2")


def approval_above() -> int:
    return int(current_app.config.get("DECISIONS_APPROVAL_ABOVE", DEFAULT_APPROVAL_ABOVE))


def paper_max_bytes() -> int:
    return int(current_app.config.get("DECISIONS_PAPER_MAX_BYTES", DEFAULT_PAPER_MAX_BYTES))


def papers_dir() -> Path:
    """Where supplied papers are kept: ``DECISIONS_PAPERS_DIR``, else the instance folder."""
    configured = current_app.config.get("DECISIONS_PAPERS_DIR")
    if configured:
        return Path(configured)
    from app.config import INSTANCE_DIR

    return INSTANCE_DIR / "papers"


# -- checks shared by every decision -----------------------------------------------------------


def _text(value, field: str, *, required: bool = True) -> str | None:
    """A reason, a legal ground or a note: required ones non-empty, all bounded."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(_("Invalid input."), fields={field: _("Required.")})
        return None
    if not isinstance(value, str):
        raise ValidationFailed(_("Invalid input."), fields={field: _("Enter text.")})
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise ValidationFailed(_("Invalid input."),
                               fields={field: _("At most %(n)s characters.", n=MAX_TEXT)})
    return value


def may_act_on(user: User, dossier: Dossier) -> bool:
    """Whether the dossier is the user's to decide on: their registry or tax office's, or one
    they are a party of (a landholder)."""
    if user.role is Role.REGISTRY_OFFICER:
        return dossier.registry_office_id == user.office_id
    if user.role is Role.TAX_OFFICER:
        return dossier.tax_office_id == user.office_id
    if user.role is Role.LANDHOLDER:
        return user.party_id is not None and user.party_id in dossier.party_ids
    return False


def can(decision: Decision, user: User, dossier: Dossier) -> bool:
    """Whether the user may take the decision on this dossier now (what a page offers)."""
    return (user.is_authenticated and may_act_on(user, dossier)
            and workflow.allowed(decision, user.role, dossier.status))


def _lock(decision: Decision, user: User, dossier: Dossier) -> Dossier:
    """Lock the dossier's notices (in id order, as paying takes a notice before its dossier),
    then the dossier, re-read its state and ask the table."""
    if user.role not in workflow.DECISIONS[decision].roles:
        raise Forbidden(_("Your role may not do this."))
    if not may_act_on(user, dossier):
        raise NotFound(_("No such dossier."))
    for notice_id in db.session.scalars(
            select(Notice.id).where(Notice.dossier_id == dossier.id).order_by(Notice.id)).all():
        db.session.scalar(select(Notice).where(Notice.id == notice_id).with_for_update()
                          .execution_options(populate_existing=True))
    dossier = db.session.scalar(select(Dossier).where(Dossier.id == dossier.id).with_for_update()
                                .execution_options(populate_existing=True))
    workflow.require(decision, user, dossier)
    return dossier


def notices_of(dossier: Dossier, *, live_only: bool = False) -> list[Notice]:
    query = select(Notice).where(Notice.dossier_id == dossier.id).order_by(Notice.id)
    if live_only:
        query = query.where(Notice.status != NoticeStatus.CANCELLED)
    return list(db.session.scalars(query))


def assessment_in_force(dossier: Dossier) -> Assessment | None:
    """The dossier's latest assessment version (the older ones are superseded)."""
    return db.session.scalar(
        select(Assessment).where(Assessment.dossier_id == dossier.id,
                                 Assessment.status != AssessmentStatus.SUPERSEDED)
        .order_by(Assessment.id.desc()).limit(1))


def pending_adjustment(dossier: Dossier) -> AssessmentAdjustment | None:
    return db.session.scalar(
        select(AssessmentAdjustment).where(
            AssessmentAdjustment.dossier_id == dossier.id,
            AssessmentAdjustment.status == AdjustmentStatus.PENDING_APPROVAL))


def open_return(dossier: Dossier) -> DossierReturn | None:
    return db.session.scalar(
        select(DossierReturn).where(DossierReturn.dossier_id == dossier.id,
                                    DossierReturn.supplied_at.is_(None)))


# -- refunds ---------------------------------------------------------------------------------


def _succeeded_payments(notice: Notice) -> list[PaymentOrder]:
    return list(db.session.scalars(
        select(PaymentOrder).where(PaymentOrder.notice_id == notice.id,
                                   PaymentOrder.status == PaymentStatus.SUCCEEDED)
        .order_by(PaymentOrder.id)))


def _refund(notice: Notice, wanted: dict[int, int] | None, reason: str, actor: User | None,
            note: str) -> list[dict]:
    """Request the refunds of a notice: ``wanted`` maps notice line ids to the dong to give
    back from each (None: everything still refundable of every payment of the notice). Each
    payment's money is taken where the payment recorded it; money a payment settled on no
    recorded line is taken last.

    A part of a line comes only from the money that settled lines: the payments with a
    recorded split first, then older payments that recorded none. Never from a duplicate
    payment (``needs_refund``) nor an overpayment's surplus: that money settled nothing, is
    refunded whole on its own, and a line's ``refunded`` only grows by refund parts on it."""
    from app.services.refunds import payment_lines, refundable, request_refund

    done = []
    remaining = dict(wanted or {})
    payments = _succeeded_payments(notice)
    if wanted is not None:
        split_known = {payment.id: bool(payment_lines(payment.id)) for payment in payments}
        payments = sorted((payment for payment in payments if not payment.needs_refund),
                          key=lambda payment: (not split_known[payment.id], payment.id))
    for payment in payments:
        pools = refundable(payment)
        if wanted is None:
            split = dict(pools)
        else:
            split = {}
            for line_id in remaining:
                take = min(remaining[line_id], pools.get(line_id, 0))
                if take > 0:
                    split[line_id] = take
                    remaining[line_id] -= take
            if not split_known[payment.id] and pools.get(None, 0) > 0:
                # An older payment that recorded no split by line: what is left comes from it.
                free = pools[None]
                for line_id in remaining:
                    take = min(remaining[line_id], free)
                    if take > 0:
                        split[None] = split.get(None, 0) + take
                        remaining[line_id] -= take
                        free -= take
        amount = sum(split.values())
        if amount <= 0:
            continue
        refund = request_refund(payment, amount, reason, actor=actor, lines=split, note=note)
        done.append({"refund_ref": refund.ref, "order_ref": payment.ref, "amount": amount})
    return done


# -- rejection and withdrawal ----------------------------------------------------------------


def _end(dossier: Dossier, new: DossierStatus, actor: User, data: dict) -> Dossier:
    """End a dossier: discard an adjustment waiting for approval, cancel every notice and
    refund all that was paid on it, free the parcel (a closed state), record the event."""
    for adjustment in db.session.scalars(select(AssessmentAdjustment).where(
            AssessmentAdjustment.dossier_id == dossier.id,
            AssessmentAdjustment.status == AdjustmentStatus.PENDING_APPROVAL)):
        adjustment.status = AdjustmentStatus.DISCARDED
    cancelled = []
    notices = notices_of(dossier)
    for notice in notices:
        if notice.status is not NoticeStatus.CANCELLED:
            cancelled.append({"notice_code": notice.code, "total": notice.total,
                              "paid": sum(line.paid - line.refunded for line in notice.lines)})
            notice.status = NoticeStatus.CANCELLED
        for line in notice.lines:
            line.amount = 0
    assessment = assessment_in_force(dossier)
    workflow.move(dossier, new, actor=actor, data={
        **data, "notices_cancelled": cancelled,
        "assessment_id": assessment.id if assessment else None,
        "assessment_version": assessment.version if assessment else None,
    })
    # Everything still refundable: also what an earlier adjustment kept counted on a
    # notice it replaced.
    for notice in notices:
        _refund(notice, None, "cancelled", actor, data["reason"])
    db.session.flush()
    return dossier


def reject(officer: User, dossier: Dossier, *, legal_ground, reason) -> Dossier:
    """The registry rejects the dossier on a legal ground: it ends, its notices are
    cancelled, what was paid is refunded, and the parcel is free for a new dossier."""
    legal_ground = _text(legal_ground, "legal_ground")
    reason = _text(reason, "reason")
    dossier = _lock(Decision.REJECT, officer, dossier)
    _end(dossier, DossierStatus.REJECTED, officer,
         {"reason": reason, "legal_ground": legal_ground})
    db.session.commit()
    return dossier


def withdraw(user: User, dossier: Dossier, *, reason) -> Dossier:
    """A landholder of the dossier withdraws it before completion (same consequences as a
    rejection)."""
    reason = _text(reason, "reason")
    dossier = _lock(Decision.WITHDRAW, user, dossier)
    _end(dossier, DossierStatus.WITHDRAWN, user, {"reason": reason})
    db.session.commit()
    return dossier


# -- return for a missing paper, and the paper supplied --------------------------------------


def return_dossier(officer: User, dossier: Dossier, *, missing, reason) -> DossierReturn:
    """The registry returns the dossier, naming the missing paper: the agency's clock
    pauses (event ``dossier_returned``) until the paper is supplied."""
    missing = _text(missing, "missing")
    reason = _text(reason, "reason")
    dossier = _lock(Decision.RETURN, officer, dossier)
    record = DossierReturn(dossier=dossier, returned_from=dossier.status.value, missing=missing,
                           reason=reason, returned_by=officer, returned_at=datetime.now(UTC))
    db.session.add(record)
    db.session.flush()
    workflow.move(dossier, DossierStatus.RETURNED, actor=officer,
                  data={"return_id": record.id, "missing": missing, "reason": reason})
    db.session.commit()
    return record


@dataclass(frozen=True)
class Paper:
    """A file a landholder uploads: its name as given and its bytes."""

    filename: str
    content: bytes


def paper_type(content: bytes) -> str | None:
    for kind, (signature, _ext) in PAPER_TYPES.items():
        if content.startswith(signature):
            return kind
    return None


def _check_paper(paper: Paper) -> str:
    if not paper.content:
        raise ValidationFailed(_("Invalid input."), fields={"file": _("The file is empty.")})
    limit = paper_max_bytes()
    if len(paper.content) > limit:
        raise ValidationFailed(_("Invalid input."), fields={
            "file": _("The file is larger than %(size)s KB.", size=limit // 1024)})
    kind = paper_type(paper.content)
    if kind is None:
        raise ValidationFailed(_("Invalid input."), fields={
            "file": _("Send a PDF, PNG or JPEG file.")})
    return kind


def supply_papers(user: User, dossier: Dossier, *, paper: Paper | None = None,
                  note=None) -> DossierReturn:
    """The missing paper is supplied: uploaded by a landholder of the dossier (a PDF, PNG or
    JPEG file within the size limit), or recorded by the registry officer who received it.
    The dossier resumes the state it was returned from (event ``papers_supplied``: the
    agency's clock resumes); a dossier whose notices were all paid meanwhile goes on to paid."""
    note = _text(note, "note", required=user.role is Role.REGISTRY_OFFICER)
    kind = None
    if user.role is Role.LANDHOLDER:
        if paper is None:
            raise ValidationFailed(_("Invalid input."), fields={"file": _("Required.")})
        kind = _check_paper(paper)
    dossier = _lock(Decision.SUPPLY_PAPERS, user, dossier)
    record = open_return(dossier)
    if record is None:  # pragma: no cover - a returned dossier always has its open return
        raise Conflict(_("This dossier waits for no paper."))
    written: Path | None = None
    if kind is not None:
        content = paper.content
        name = f"{uuid.uuid4().hex}.{PAPER_TYPES[kind][1]}"
        relative = Path(dossier.code) / name
        written = papers_dir() / relative
        written.parent.mkdir(parents=True, exist_ok=True)
        written.write_bytes(content)
        record.file_name = Path(paper.filename or name).name[:200]
        record.file_path = str(relative)
        record.file_type = kind
        record.file_size = len(content)
        record.file_sha256 = hashlib.sha256(content).hexdigest()
    try:
        record.supplied_at = datetime.now(UTC)
        record.supplied_by = user
        record.supplied_how = "upload" if kind else "officer_record"
        record.note = note
        resume = DossierStatus(record.returned_from)
        workflow.move(dossier, resume, actor=user, data={
            "return_id": record.id, "missing": record.missing, "how": record.supplied_how,
            "note": note, "file": record.file_name, "sha256": record.file_sha256})
        notices = notices_of(dossier, live_only=True)
        if resume is DossierStatus.AWAITING_PAYMENT and notices and all(
                n.status is NoticeStatus.PAID for n in notices):
            workflow.move(dossier, DossierStatus.PAID, actor_label="system",
                          data={"paid_while_returned": True})
        db.session.commit()
    except Exception:
        if written is not None:
            written.unlink(missing_ok=True)
        raise
    return record


# -- adjustments -----------------------------------------------------------------------------


def _changes(raw, assessment: Assessment) -> dict:
    """The adjustment's changes, checked; only what differs from the version in force."""
    if not isinstance(raw, dict) or not raw:
        raise ValidationFailed(_("Invalid input."), fields={"changes": _("Say what changes.")})
    unknown = sorted(set(raw) - set(ADJUSTABLE))
    if unknown:
        raise ValidationFailed(_("Invalid input."), fields={
            "changes": _("Cannot be adjusted: %(names)s", names=", ".join(unknown)[:200])})
    case = assessment.case
    current = {
        "declared_price": case.get("declared_price"),
        "relationship": case.get("relationship"),
        "sole_residence": bool(case.get("sole_residence_183_days")),
        "area_m2": str(case["parcels"][0]["area_m2"]) if case.get("parcels") else None,
    }
    changes = {}
    if "declared_price" in raw:
        value = raw["declared_price"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 10**15:
            raise ValidationFailed(_("Invalid input."), fields={
                "declared_price": _("Enter a positive amount in dong.")})
        if current["declared_price"] is None:
            raise ValidationFailed(_("Invalid input."), fields={
                "declared_price": _("This procedure has no declared price.")})
        changes["declared_price"] = value
    if "relationship" in raw:
        value = raw["relationship"] or None
        if value is not None and (not isinstance(value, str) or value not in RELATIONSHIPS):
            raise ValidationFailed(_("Invalid input."), fields={
                "relationship": _("Choose from the list.")})
        changes["relationship"] = value
    if "sole_residence" in raw:
        if not isinstance(raw["sole_residence"], bool):
            raise ValidationFailed(_("Invalid input."), fields={
                "sole_residence": _("Answer yes or no.")})
        changes["sole_residence"] = raw["sole_residence"]
    if "area_m2" in raw:
        try:
            area = Decimal(str(raw["area_m2"]))
        except (InvalidOperation, ValueError):
            area = Decimal(0)
        if isinstance(raw["area_m2"], bool) or not area.is_finite() or not 0 < area <= 10**9 \
                or area.as_tuple().exponent < -2:
            raise ValidationFailed(_("Invalid input."), fields={
                "area_m2": _("Enter an area in m2 above zero, at most two decimals.")})
        changes["area_m2"] = str(area)
    changes = {k: v for k, v in changes.items()
               if (Decimal(v) != Decimal(current[k]) if k == "area_m2" and current[k] else
                   v != current[k])}
    if not changes:
        raise ValidationFailed(_("Invalid input."), fields={
            "changes": _("Nothing differs from the assessment in force.")})
    return changes


def _reassess(assessment: Assessment, changes: dict) -> tuple[dict, tax_calc.Assessment]:
    """The rules engine's reading of the case with the changes (the app computes no tax)."""
    case = dict(assessment.case)
    if "declared_price" in changes:
        case["declared_price"] = changes["declared_price"]
    if "relationship" in changes:
        case["relationship"] = changes["relationship"]
    if "sole_residence" in changes:
        case["sole_residence_183_days"] = changes["sole_residence"]
    if "area_m2" in changes:
        case["parcels"] = [{**case["parcels"][0], "area_m2": changes["area_m2"]},
                           *case["parcels"][1:]]
    case["notice_date"] = today_local().isoformat()
    try:
        return case, tax_calc.assess(case)
    except tax_calc.CaseError as err:
        raise ValidationFailed(
            _("The obligations could not be assessed: %(reason)s", reason=str(err)),
            fields={getattr(err, "field", "changes"): str(err)}) from err


def _tax_lock(decision: Decision, officer: User, assessment: Assessment) -> Dossier:
    if officer.role is Role.TAX_OFFICER and assessment.tax_office_id != officer.office_id:
        raise NotFound(_("No such assessment."))
    return _lock(decision, officer, assessment.dossier)


def approved_total(dossier: Dossier) -> int:
    """The total that the four-eyes threshold is measured from: the one a second officer last
    approved, or else the first version's (what the office confirmed). Measuring each
    adjustment only against the version before it would let one officer move the total by
    any amount in small steps."""
    approved = db.session.scalar(
        select(AssessmentAdjustment.total_after).where(
            AssessmentAdjustment.dossier_id == dossier.id,
            AssessmentAdjustment.status == AdjustmentStatus.APPLIED,
            AssessmentAdjustment.approved_by_id.is_not(None))
        .order_by(AssessmentAdjustment.id.desc()).limit(1))
    if approved is not None:
        return approved
    return db.session.scalar(select(Assessment.total).where(
        Assessment.dossier_id == dossier.id, Assessment.version == 1))


def adjust(officer: User, assessment: Assessment, *, changes, reason) -> AssessmentAdjustment:
    """A tax officer adjusts the assessment in force (the declared price, an exemption, the
    area the lines are based on) with a written reason. ``tax_calc`` reassesses; a change of
    the total by more than ``DECISIONS_APPROVAL_ABOVE`` since the last approved total
    (:func:`approved_total`) waits for a second tax officer, a smaller one is applied at once
    (see :func:`_apply`)."""
    reason = _text(reason, "reason")
    dossier = _tax_lock(Decision.ADJUST, officer, assessment)
    if assessment.status is AssessmentStatus.SUPERSEDED or assessment_in_force(dossier) is not assessment:
        raise Conflict(_("A newer version of this assessment is in force."))
    if pending_adjustment(dossier) is not None:
        raise Conflict(_("An adjustment of this dossier already waits for approval."))
    changes = _changes(changes, assessment)
    case, result = _reassess(assessment, changes)
    adjustment = AssessmentAdjustment(
        dossier=dossier, assessment=assessment, changes=changes, reason=reason,
        total_before=assessment.total, total_after=result.total, requested_by=officer,
        requested_at=datetime.now(UTC), status=AdjustmentStatus.PENDING_APPROVAL)
    db.session.add(adjustment)
    db.session.flush()
    if abs(result.total - approved_total(dossier)) > approval_above():
        workflow.record(dossier, "assessment_adjusted", actor=officer, data={
            **_adjustment_data(adjustment), "pending_approval": True,
            "approval_above": approval_above()})
    else:
        data = _apply(adjustment, case, result, officer)
        workflow.record(dossier, "assessment_adjusted", actor=officer, data=data)
    db.session.commit()
    return adjustment


def approve(officer: User, adjustment: AssessmentAdjustment, *, reason) -> AssessmentAdjustment:
    """A second tax officer approves a large adjustment (never the one who asked for it):
    ``tax_calc`` reassesses again (today's notice date) and the adjustment is applied."""
    reason = _text(reason, "reason")
    dossier = _tax_lock(Decision.APPROVE_ADJUSTMENT, officer, adjustment.assessment)
    adjustment = db.session.scalar(
        select(AssessmentAdjustment).where(AssessmentAdjustment.id == adjustment.id)
        .with_for_update().execution_options(populate_existing=True))
    if adjustment.status is not AdjustmentStatus.PENDING_APPROVAL:
        raise Conflict(_("This adjustment does not wait for approval."))
    if adjustment.requested_by_id == officer.id:
        raise Forbidden(_("Another tax officer must approve your own adjustment."))
    if assessment_in_force(dossier) is not adjustment.assessment:
        raise Conflict(_("A newer version of this assessment is in force."))
    case, result = _reassess(adjustment.assessment, adjustment.changes)
    adjustment.total_after = result.total
    adjustment.approved_by = officer
    adjustment.approved_at = datetime.now(UTC)
    data = _apply(adjustment, case, result, officer)
    workflow.record(dossier, "adjustment_approved", actor=officer,
                    data={**data, "approval_reason": reason,
                          "requested_by": adjustment.requested_by.username})
    db.session.commit()
    return adjustment


def _adjustment_data(adjustment: AssessmentAdjustment) -> dict:
    return {"adjustment_id": adjustment.id, "reason": adjustment.reason,
            "changes": adjustment.changes, "total_before": adjustment.total_before,
            "total_after": adjustment.total_after,
            "assessment_id_before": adjustment.assessment_id,
            "assessment_version_before": adjustment.assessment.version}


def _apply(adjustment: AssessmentAdjustment, case: dict, result: tax_calc.Assessment,
           officer: User) -> dict:
    """Put the new version in force: the old one is kept as superseded. Before the notices
    are issued the new version waits for confirmation like the first; after, it is confirmed
    and the notices are replaced (:func:`_replace_notices`). Returns the event's data."""
    old = adjustment.assessment
    dossier = adjustment.dossier
    issued = dossier.status is not DossierStatus.AWAITING_CONFIRMATION
    now = datetime.now(UTC)
    new = Assessment(
        dossier=dossier, tax_office_id=old.tax_office_id,
        status=AssessmentStatus.CONFIRMED if issued else AssessmentStatus.PENDING,
        total=result.total, price_table_version=str(result.price_table_version),
        rule_versions={**dict(result.rule_versions), "data": (old.rule_versions or {}).get("data")},
        valid_on=result.valid_on, case=case,
        review_reasons=review_reasons(result, dossier.tax_office) if not issued else
        [reason.to_dict() for reason in result.review_reasons],
        version=old.version + 1, supersedes_id=old.id,
        confirmed_at=now if issued else None, confirmed_by=officer if issued else None,
    )
    new.lines.extend(assessment_lines(result))
    db.session.add(new)
    old.status = AssessmentStatus.SUPERSEDED
    db.session.flush()
    adjustment.new_assessment = new
    adjustment.status = AdjustmentStatus.APPLIED
    data = {**_adjustment_data(adjustment), "assessment_id_after": new.id,
            "assessment_version_after": new.version}
    if issued:
        data.update(_replace_notices(dossier, new, officer, adjustment.reason))
    return data


def _schedule(line, amount: int, issued: date) -> NoticeLine:
    """A corrected notice's line: what is left to pay of the new version's line, in the
    instalments the rules engine dates for it."""
    terms = [tax_calc.DueTerm.from_dict(term) for term in line.due_terms or ()]
    parts = tax_calc.schedule(amount, terms, issued) if amount > 0 else []
    return NoticeLine(
        assessment_line=line, obligation=line.obligation, amount=amount, paid=0, refunded=0,
        installments=[{"due_on": on.isoformat() if on else None, "amount": part}
                      for on, part in parts],
        due_on=parts[-1][0] if parts else None)


def _replace_notices(dossier: Dossier, new: Assessment, officer: User, reason: str) -> dict:
    """Cancel the notices in force and issue the corrected ones (one per payer side). Of what
    was paid on an old line, what the new line still asks for stays counted on the old line;
    the rest is refunded; the corrected line asks only for what is left."""
    wanted: dict[tuple[str, str], int] = {}
    lines_by_side: dict[str, list] = {}
    for line in new.lines:
        side = line_payer(dossier.procedure, dossier.tax_payer_clause, line.obligation).value
        wanted[(side, line.obligation)] = wanted.get((side, line.obligation), 0) + line.amount
        lines_by_side.setdefault(side, []).append(line)
    counted: dict[tuple[str, str], int] = {}
    old_by_side: dict[str, Notice] = {}
    cancelled, refunds = [], []
    # Every notice, the cancelled ones too: what an earlier adjustment kept counted on a
    # notice it replaced still counts (and may now be too much, then it is refunded).
    for notice in notices_of(dossier):
        live = notice.status is not NoticeStatus.CANCELLED
        back: dict[int, int] = {}
        for line in notice.lines:
            if line.assessment_line_id is None:
                continue  # late-payment interest paid stays paid
            key = (notice.payer_role, line.obligation)
            held = max(min(line.paid - line.refunded, line.amount), 0)
            keep = max(min(held, wanted.get(key, 0) - counted.get(key, 0)), 0)
            counted[key] = counted.get(key, 0) + keep
            line.amount = keep
            if held - keep > 0:
                back[line.id] = held - keep
        if live:
            old_by_side[notice.payer_role] = notice
            notice.status = NoticeStatus.CANCELLED
            cancelled.append({"notice_code": notice.code, "total": notice.total})
        if back:
            refunds += _refund(notice, back, "correction", officer, reason)
    issued_on = today_local()
    issued = []
    for side, lines in lines_by_side.items():
        notice_lines = []
        for line in lines:
            key = (side, line.obligation)
            take = min(counted.get(key, 0), line.amount)
            counted[key] = counted.get(key, 0) - take
            notice_line = _schedule(line, line.amount - take, issued_on)
            treasury.stamp(notice_line, dossier.parcel.province)
            notice_lines.append(notice_line)
        total = sum(nl.amount for nl in notice_lines)
        previous = old_by_side.get(side)
        notice = Notice(
            code=_code("TB"), dossier=dossier, assessment=new,
            payer_id=dossier.parties_in(PartyRole(side))[0].party_id, payer_role=side,
            status=NoticeStatus.UNPAID if total > 0 else NoticeStatus.PAID,
            total=total, due_on=_notice_due_on(notice_lines), lines=notice_lines,
            replaces_id=previous.id if previous else None,
            paid_at=datetime.now(UTC) if total == 0 else None,
        )
        db.session.add(notice)
        issued.append(notice)
    db.session.flush()
    owing = [n for n in issued if n.status is NoticeStatus.UNPAID]
    if owing and dossier.status is DossierStatus.PAID:
        workflow.move(dossier, DossierStatus.AWAITING_PAYMENT, actor=officer,
                      data={"notices": [n.code for n in owing]})
    elif not owing and dossier.status is DossierStatus.AWAITING_PAYMENT:
        workflow.move(dossier, DossierStatus.PAID, actor_label="system",
                      data={"after_adjustment": True})
    return {"notices_cancelled": cancelled, "refunds": refunds,
            "notices_issued": [{"notice_code": n.code, "payer_role": n.payer_role,
                                "total": n.total,
                                "replaces": old_by_side[n.payer_role].code
                                if n.payer_role in old_by_side else None}
                               for n in issued]}


def adjustment_for(user: User, adjustment_id: int) -> AssessmentAdjustment:
    """An adjustment of the user's tax office (404 otherwise)."""
    from app.services.scoping import get_adjustment

    return get_adjustment(user, adjustment_id)
