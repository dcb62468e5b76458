"""What each user may see. Every query for dossiers, assessments, notices, payments, receipts,
annual notices and adjustments goes through here, so a landholder sees only their own and an
officer only their office's; nothing elsewhere filters by user, office or party by hand.

Each ``*_for(user)`` is a query of the rows the user may see (lists add their filters and
sort to it); each ``get_*`` finds one of them or answers 404, the same answer whether the
row does not exist or is someone else's."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, or_, select, union
from sqlalchemy.orm import joinedload

from app.errors import NotFound
from app.extensions import db
from app.models import (
    AnnualTaxNotice,
    Assessment,
    Dossier,
    DossierParty,
    Notice,
    Office,
    Parcel,
    PaymentOrder,
    Receipt,
    Role,
    User,
)


def dossiers_for(user: User) -> Select:
    query = select(Dossier)
    if user.role is Role.ADMIN:
        return query
    if user.role is Role.REGISTRY_OFFICER:
        return query.where(Dossier.registry_office_id == user.office_id)
    if user.role is Role.TAX_OFFICER:
        return query.where(Dossier.tax_office_id == user.office_id)
    if user.role is Role.LANDHOLDER and user.party_id:
        return query.where(Dossier.id.in_(
            select(DossierParty.dossier_id).where(DossierParty.party_id == user.party_id)))
    return query.where(False)


def readable_dossiers_for(user: User) -> Select:
    """Dossiers the user may read (not act on): a supervisor reads every office's, read-only
    (the deadline clocks); anyone else what ``dossiers_for`` gives."""
    if user.role is Role.SUPERVISOR:
        return select(Dossier)
    return dossiers_for(user)


def parcels_for(user: User) -> Select:
    """Parcels a user may look up: a registry officer those of their office (admin all)."""
    query = select(Parcel)
    if user.role is Role.ADMIN:
        return query
    if user.role is Role.REGISTRY_OFFICER:
        return query.where(Parcel.registry_office_id == user.office_id)
    return query.where(False)


def _annual_of_offices(offices):
    """The condition "this notice is the annual tax's (no dossier; its annual notice has its
    code) of a parcel whose registry office is one of ``offices``": correlated, so looking one
    notice up reads one annual row, not every annual row of the offices."""
    return and_(Notice.dossier_id.is_(None), exists().where(
        AnnualTaxNotice.code == Notice.code, Parcel.id == AnnualTaxNotice.parcel_id,
        Parcel.registry_office_id.in_(offices)))


def _registry_offices_of(user: User):
    """The registry offices whose parcels an officer's office serves: their own (registry), or
    those that send their dossiers to it (tax)."""
    if user.role is Role.TAX_OFFICER:
        return select(Office.id).where(Office.tax_office_id == user.office_id)
    return [user.office_id]


def landholder_notice_ids(party_id: int):
    """The ids of the notices a party owes: those naming them as payer, and those of their
    side of a dossier they are a party of. Two selects, each answered by an index (notices by
    payer; dossier_parties by party, then notices by dossier), joined by UNION: an OR across
    the two tables would defeat both indexes."""
    return union(
        select(Notice.id).where(Notice.payer_id == party_id),
        select(Notice.id).join(DossierParty, and_(DossierParty.dossier_id == Notice.dossier_id,
                                                  DossierParty.role == Notice.payer_role))
        .where(DossierParty.party_id == party_id),
    )


def notices_for(user: User) -> Select:
    query = select(Notice)
    if user.role is Role.ADMIN:
        return query
    if user.role in (Role.TAX_OFFICER, Role.REGISTRY_OFFICER):
        # A notice of the annual tax has no dossier: it is scoped through its parcel. Joined
        # (not a semi-join on the office's dossiers): a page of the newest notices reads the
        # notices in order and each one's dossier, not every dossier of the office first.
        office = Dossier.tax_office_id if user.role is Role.TAX_OFFICER else Dossier.registry_office_id
        return query.outerjoin(Dossier, Notice.dossier_id == Dossier.id).where(or_(
            office == user.office_id, _annual_of_offices(_registry_offices_of(user))))
    if user.role is Role.LANDHOLDER and user.party_id:
        # A landholder sees the notices of their own side of the dossier (the lines they
        # owe), not those the other side owes.
        return query.where(Notice.id.in_(landholder_notice_ids(user.party_id)))
    return query.where(False)


def _notice_ids_for(user: User):
    return notices_for(user).with_only_columns(Notice.id).scalar_subquery()


def payments_for(user: User) -> Select:
    """Payments of the notices the user may see."""
    query = select(PaymentOrder)
    if user.role is Role.ADMIN:
        return query
    return query.where(PaymentOrder.notice_id.in_(_notice_ids_for(user)))


def receipts_for(user: User) -> Select:
    """Receipts of the notices the user may see."""
    query = select(Receipt)
    if user.role is Role.ADMIN:
        return query
    return query.where(Receipt.notice_id.in_(_notice_ids_for(user)))


def annual_notices_for(user: User) -> Select:
    """Annual tax notices: a landholder's own (the holder of 1 January), an officer's those of
    the parcels their office serves, all for an administrator."""
    query = select(AnnualTaxNotice)
    if user.role is Role.ADMIN:
        return query
    if user.role is Role.LANDHOLDER and user.party_id:
        return query.where(AnnualTaxNotice.holder_id == user.party_id)
    if user.role in (Role.TAX_OFFICER, Role.REGISTRY_OFFICER):
        return query.where(AnnualTaxNotice.parcel_id.in_(
            select(Parcel.id).where(Parcel.registry_office_id.in_(_registry_offices_of(user)))))
    return query.where(False)


def assessments_for(user: User) -> Select:
    query = select(Assessment)
    if user.role is Role.ADMIN:
        return query
    if user.role is Role.TAX_OFFICER:
        return query.where(Assessment.tax_office_id == user.office_id)
    return query.where(False)


def adjustments_for(user: User) -> Select:
    """Adjustments of assessments of the tax officer's office (only tax officers adjust and
    approve)."""
    from app.models.decisions import AssessmentAdjustment

    query = select(AssessmentAdjustment)
    if user.role is Role.TAX_OFFICER:
        return query.where(AssessmentAdjustment.assessment_id.in_(
            select(Assessment.id).where(Assessment.tax_office_id == user.office_id)))
    return query.where(False)


def _one(query: Select, missing: str):
    """The one row ``query`` finds among what the user may see; otherwise 404, the same
    answer whether the row does not exist or belongs to someone else."""
    row = db.session.scalar(query)
    if row is None:
        raise NotFound(missing)
    return row


def get_dossier(user: User, code: str) -> Dossier:
    return _one(dossiers_for(user).where(Dossier.code == code), _("No such dossier."))


def get_readable_dossier(user: User, code: str) -> Dossier:
    return _one(readable_dossiers_for(user).where(Dossier.code == code), _("No such dossier."))


def get_notice(user: User, code: str) -> Notice:
    return _one(notices_for(user).where(Notice.code == code), _("No such notice."))


def get_payment(user: User, ref: str) -> PaymentOrder:
    return _one(payments_for(user).where(PaymentOrder.ref == ref).options(
        joinedload(PaymentOrder.notice), joinedload(PaymentOrder.receipt)),
        _("No such payment."))


def get_receipt(user: User, number: str) -> Receipt:
    return _one(receipts_for(user).where(Receipt.number == number), _("No such receipt."))


def get_assessment(user: User, assessment_id: int) -> Assessment:
    return _one(assessments_for(user).where(Assessment.id == assessment_id),
                _("No such assessment."))


def get_adjustment(user: User, adjustment_id: int):
    from app.models.decisions import AssessmentAdjustment

    return _one(adjustments_for(user).where(AssessmentAdjustment.id == adjustment_id),
                _("No such adjustment."))
