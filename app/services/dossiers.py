"""Use cases of the registry and the tax office: file a dossier, assess it,
confirm the assessment into a payment notice, complete the dossier.

Each public function is one step and one transaction: it commits once at the
end, or raises and changes nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import tax_calc
from app.citizen_ids import citizen_id_problem
from app.deadlines import add_working_days
from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.models import (
    CLOSED_STATUSES,
    Assessment,
    AssessmentLine,
    AssessmentStatus,
    Dossier,
    DossierStatus,
    Notice,
    NoticeLine,
    NoticeStatus,
    Parcel,
    Party,
    PriceEntry,
    PriceTableVersion,
    Role,
    User,
)
from app.services import holdings, workflow
from app.services.data_import import adjustment_coefficient, price_version_in_force
from tax_calc.rules import FAMILY_RELATIONSHIPS

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: Family relationships that exempt a transfer: the rules engine's own list.
RELATIONSHIPS = FAMILY_RELATIONSHIPS


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


def _code(prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(8))


@dataclass(frozen=True)
class PartyInput:
    full_name: str
    citizen_id: str


@dataclass(frozen=True)
class TransferInput:
    parcel_id: int
    transferor: PartyInput
    transferee: PartyInput
    declared_price: int
    relationship: str | None
    sole_residence: bool = False


def _check_citizen_ids(**parties: PartyInput) -> None:
    """Every citizen id well formed (``app.citizen_ids``), before anything is looked up."""
    problems = {f"{field}_citizen_id": problem for field, data in parties.items()
                if (problem := citizen_id_problem(data.citizen_id)) is not None}
    if problems:
        raise ValidationFailed(_("A citizen id is not valid."), fields=problems)


def _party(data: PartyInput, field: str) -> Party:
    """The party with this citizen id, or a new one; the name must be the same (compared in
    NFC form, case-folded) and is stored in NFC form."""
    party = db.session.scalar(select(Party).where(Party.citizen_id == data.citizen_id))
    if party is None:
        party = Party(full_name=holdings.normalise_name(data.full_name), citizen_id=data.citizen_id)
        db.session.add(party)
    elif not holdings.same_name(party.full_name, data.full_name):
        raise ValidationFailed(
            _("The citizen id belongs to someone with another name."),
            fields={f"{field}_name": _("Does not match the name registered for this citizen id.")},
        )
    return party


def _require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise Forbidden(_("Your role may not do this."))


def _lock_parcel(parcel_id: int) -> Parcel | None:
    """The parcel, its row locked: filings and completions of one parcel take turns."""
    return db.session.scalar(
        select(Parcel).where(Parcel.id == parcel_id).with_for_update()
        .execution_options(populate_existing=True)
    )


def open_dossier(parcel_id: int) -> Dossier | None:
    """The parcel's open dossier (one at most: a partial unique index sees to it)."""
    return db.session.scalar(
        select(Dossier).where(Dossier.parcel_id == parcel_id,
                              Dossier.status.not_in(CLOSED_STATUSES)).limit(1)
    )


def _already_open(label: str, code: str) -> Conflict:
    return Conflict(
        _("Parcel %(parcel)s already has an open dossier, %(code)s: a new one can be filed "
          "once it is completed.", parcel=label, code=code),
        fields={"parcel_id": _("Open dossier %(code)s.", code=code)},
    )


def _refuse_if_open(parcel: Parcel) -> None:
    existing = open_dossier(parcel.id)
    if existing is not None:
        raise _already_open(parcel.label, existing.code)


def file_transfer(officer: User, data: TransferInput) -> Dossier:
    """File a transfer dossier, send it to tax at once and assess it. The transferor must be
    the parcel's current holder, and the parcel must have no open dossier."""
    _require_role(officer, Role.REGISTRY_OFFICER)
    _check_citizen_ids(transferor=data.transferor, transferee=data.transferee)
    parcel = _lock_parcel(data.parcel_id)
    if parcel is None or parcel.registry_office_id != officer.office_id:
        raise ValidationFailed(
            _("Choose a parcel of your office."), fields={"parcel_id": _("Unknown parcel.")}
        )
    if data.relationship is not None and data.relationship not in RELATIONSHIPS:
        raise ValidationFailed(
            _("Unknown family relationship."), fields={"relationship": _("Choose from the list.")}
        )
    if data.transferor.citizen_id == data.transferee.citizen_id:
        raise ValidationFailed(
            _("Transferor and transferee must be different people."),
            fields={"transferee_citizen_id": _("Same as the transferor.")},
        )
    office = officer.office
    if office is None or office.tax_office_id is None:
        raise ValidationFailed(_("Your office has no tax office configured."))
    (transferor,) = holdings.check_transferors(
        parcel, [(data.transferor.full_name, data.transferor.citizen_id)])
    _refuse_if_open(parcel)
    transferee = _party(data.transferee, "transferee")
    today = today_local()
    dossier = Dossier(
        code=_code("HS"),
        procedure="transfer",
        parcel=parcel,
        registry_office_id=office.id,
        tax_office_id=office.tax_office_id,
        transferor=transferor,
        transferee=transferee,
        declared_price=data.declared_price,
        relationship_kind=data.relationship,
        sole_residence=data.sole_residence,
        filed_by=officer,
        valid_on=today,
        due_on=add_working_days(today, current_app.config["TRANSFER_DUE_WORKING_DAYS"]),
    )
    db.session.add(dossier)
    parcel_id, label = parcel.id, parcel.label
    try:
        workflow.move(dossier, DossierStatus.FILED, actor=officer)  # flushes the dossier
    except IntegrityError:
        # Another filing for this parcel got in first (the database's partial unique index).
        db.session.rollback()
        existing = open_dossier(parcel_id)
        if existing is None:
            raise
        raise _already_open(label, existing.code) from None
    workflow.record(
        dossier, "cadastral_data_sent_to_tax", actor=officer,
        data={"tax_office": dossier.tax_office.code},
    )
    _assess(dossier)
    db.session.commit()
    return dossier


def _price_version(province: str, on: date) -> PriceTableVersion:
    version = price_version_in_force(province, on)
    if version is None:
        raise ValidationFailed(
            _("No land price table is in force for this province on this date."),
            fields={"parcel_id": _("No price table.")},
        )
    return version


def build_case(dossier: Dossier) -> tuple[dict, dict]:
    """The transfer case for the rules engine, with the prices in force on the valid date,
    and the versions of the data it used."""
    parcel = dossier.parcel
    version = _price_version(parcel.province, dossier.valid_on)
    entry = db.session.scalar(
        select(PriceEntry).where(
            PriceEntry.version_id == version.id,
            PriceEntry.price_key == parcel.price_key,
            PriceEntry.position == parcel.position,
            PriceEntry.land_type == parcel.land_type,
        )
    )
    if entry is None:
        raise ValidationFailed(
            _("The parcel's street and position are not in the land price table."),
            fields={"parcel_id": _("No price for this parcel.")},
        )
    coefficient, coefficient_version = adjustment_coefficient(
        parcel.province, parcel.price_key, parcel.land_type, dossier.valid_on,
        required=_floor_uses_coefficient(dossier.valid_on),
    )
    return {
        "procedure": "transfer",
        "valid_on": dossier.valid_on.isoformat(),
        "notice_date": today_local().isoformat(),
        "province": parcel.province,
        "price_table_version": version.label,
        "parcels": [
            {
                "land_type": parcel.land_type,
                "area_m2": str(parcel.area_m2),
                "table_price_per_m2": entry.price_per_m2,
                "adjustment_coefficient": str(coefficient),
            }
        ],
        "declared_price": dossier.declared_price,
        "relationship": dossier.relationship_kind,
        "sole_residence_183_days": dossier.sole_residence,
    }, {"price_table": version.label, "adjustment_coefficients": coefficient_version}


def _floor_uses_coefficient(valid_on: date) -> bool:
    """Whether the income tax rule in force multiplies the table price by the adjustment
    coefficient (the rules engine's parameter; from 01/07/2026 it does)."""
    try:
        rule = tax_calc.rule_for("personal_income_tax", valid_on)
    except tax_calc.CaseError as err:
        raise ValidationFailed(
            _("The obligations could not be assessed: %(reason)s", reason=str(err)),
            fields={getattr(err, "field", "valid_on"): str(err)},
        ) from err
    return bool(rule.params["floor_uses_adjustment_coefficient"])


def _office_reason(code: str, text: Callable[[], str]) -> dict:
    """A reason of the tax office's own policy (not of the law), in the shape of the rules
    engine's ``ReviewReason.to_dict()``, its text in both languages."""
    with force_locale("vi"):
        text_vi = text()
    with force_locale("en"):
        text_en = text()
    return {"code": code, "field": "tax_office", "text_vi": text_vi, "text_en": text_en}


def review_reasons(result: tax_calc.Assessment, office) -> list[dict]:
    """Why the assessment waits for a tax officer: the rules engine's reasons (the law:
    a declared price below the floor, a claimed exemption...), then the office's policy."""
    reasons = [reason.to_dict() for reason in result.review_reasons]
    if not office.auto_confirm:
        reasons.append(_office_reason(
            "office_confirms_every_assessment",
            lambda: _("This office confirms every assessment"),
        ))
    elif office.auto_confirm_max_total is not None and result.total > office.auto_confirm_max_total:
        ceiling = office.auto_confirm_max_total
        reasons.append(_office_reason(
            "total_above_auto_confirmation_ceiling",
            lambda: _("Total above the auto-confirmation ceiling (%(ceiling)s VND)",
                      ceiling=format_decimal(ceiling)),
        ))
    return reasons


def _assess(dossier: Dossier) -> Assessment:
    case, data_versions = build_case(dossier)
    try:
        result = tax_calc.assess(case)
    except tax_calc.CaseError as err:
        raise ValidationFailed(
            _("The obligations could not be assessed: %(reason)s", reason=str(err)),
            fields={getattr(err, "field", "case"): str(err)},
        ) from err
    reasons = review_reasons(result, dossier.tax_office)
    assessment = Assessment(
        dossier=dossier,
        tax_office_id=dossier.tax_office_id,
        status=AssessmentStatus.PENDING,
        total=result.total,
        price_table_version=str(result.price_table_version),
        rule_versions={**dict(result.rule_versions), "data": data_versions},
        valid_on=result.valid_on,
        case=case,
        review_reasons=reasons,
    )
    for line in result.lines:
        assessment.lines.append(
            AssessmentLine(
                obligation=line.obligation,
                base=line.base,
                base_method=line.base_method,
                rate=str(line.rate),
                amount=line.amount,
                rounding=line.rounding,
                legal_basis=line.legal_basis,
                rule_version=line.rule_version,
                explanation_vi=line.explanation_vi,
                explanation_en=line.explanation_en,
                due_terms=[term.to_dict() for term in line.due_terms],
            )
        )
    db.session.add(assessment)
    db.session.flush()
    if reasons:
        workflow.move(
            dossier, DossierStatus.AWAITING_CONFIRMATION, actor_label="tax_calc",
            data={"assessment_id": assessment.id, "total": assessment.total,
                  "reasons": [reason["code"] for reason in reasons]},
        )
    else:
        _confirm(assessment, officer=None)
    return assessment


def _notice_line(line: AssessmentLine, issued: date) -> NoticeLine:
    """The notice line of an assessment line, its instalments dated for the issue date by
    the rules engine (no due-date arithmetic here)."""
    terms = [tax_calc.DueTerm.from_dict(term) for term in line.due_terms or ()]
    parts = tax_calc.schedule(line.amount, terms, issued)
    installments = [{"due_on": on.isoformat() if on else None, "amount": amount}
                    for on, amount in parts]
    return NoticeLine(
        assessment_line=line, obligation=line.obligation, amount=line.amount,
        installments=installments, due_on=parts[-1][0] if parts else None,
    )


def _notice_due_on(lines: list[NoticeLine]) -> date | None:
    """What the landholder sees as "due by": the first date on which a part of the notice
    falls due (nothing is paid yet when a notice is issued). Paying the notice by then keeps
    every part on time; a later part's own date is on its line. None when nothing is due."""
    dates = [date.fromisoformat(part["due_on"]) for line in lines
             for part in line.installments if part["due_on"] and part["amount"] > 0]
    return min(dates, default=None)


def _confirm(assessment: Assessment, officer: User | None) -> Notice:
    assessment.status = AssessmentStatus.CONFIRMED
    assessment.confirmed_at = datetime.now(LOCAL_TZ)
    assessment.confirmed_by = officer
    assessment.auto_confirmed = officer is None
    dossier = assessment.dossier
    issued = today_local()
    lines = [_notice_line(line, issued) for line in assessment.lines]
    due = _notice_due_on(lines)
    notice = Notice(
        code=_code("TB"),
        dossier=dossier,
        assessment=assessment,
        payer_id=dossier.transferee_id,
        status=NoticeStatus.UNPAID,
        total=assessment.total,
        due_on=due,
        lines=lines,
    )
    db.session.add(notice)
    db.session.flush()
    workflow.move(
        dossier, DossierStatus.AWAITING_PAYMENT,
        actor=officer, actor_label=None if officer else "auto-confirmation",
        data={"notice_code": notice.code, "total": notice.total,
              "due_on": due.isoformat() if due else None},
    )
    if notice.total == 0:
        # Nothing to pay (every line exempt): the obligation is fulfilled at once.
        notice.status = NoticeStatus.PAID
        notice.paid_at = assessment.confirmed_at
        workflow.move(dossier, DossierStatus.PAID, actor_label="system", data={"notice_code": notice.code, "exempt": True})
    return notice


def confirm_assessment(officer: User, assessment: Assessment) -> Notice:
    _require_role(officer, Role.TAX_OFFICER)
    if assessment.tax_office_id != officer.office_id:
        raise Forbidden(_("This assessment belongs to another tax office."))
    if assessment.status is not AssessmentStatus.PENDING:
        raise Conflict(_("This assessment is already confirmed."))
    notice = _confirm(assessment, officer)
    db.session.commit()
    return notice


def complete_dossier(officer: User, dossier: Dossier) -> Dossier:
    """Complete a paid dossier: in the same transaction the transferor's holding is closed,
    the transferee's opened, and the certificate number issued."""
    _require_role(officer, Role.REGISTRY_OFFICER)
    if dossier.registry_office_id != officer.office_id:
        raise Forbidden(_("This dossier belongs to another office."))
    # Lock the parcel, then the dossier (the order filing uses too): two officers completing
    # at once record one completion, and no filing reads holders that are being moved.
    _lock_parcel(dossier.parcel_id)
    dossier = db.session.scalar(
        select(Dossier).where(Dossier.id == dossier.id).with_for_update()
        .execution_options(populate_existing=True)
    )
    now = datetime.now(UTC)
    certificate_no = holdings.certificate_number(dossier, now)
    workflow.move(dossier, DossierStatus.COMPLETED, actor=officer,
                  data={"certificate_no": certificate_no})
    dossier.completed_at = now
    dossier.certificate_no = certificate_no
    holdings.move_holdings(dossier, [dossier.transferor], [(dossier.transferee, Fraction(1))], now)
    db.session.commit()
    return dossier
