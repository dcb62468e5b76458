"""What each user may see. Every query for dossiers, notices and payments goes
through here, so a landholder sees only their own and an officer only their office's."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, or_, select

from app.errors import NotFound
from app.extensions import db
from app.models import Assessment, Dossier, DossierParty, Notice, Office, Parcel, Role, User


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
    from app.models import AnnualTaxNotice

    return and_(Notice.dossier_id.is_(None), exists().where(
        AnnualTaxNotice.code == Notice.code, Parcel.id == AnnualTaxNotice.parcel_id,
        Parcel.registry_office_id.in_(offices)))


def notices_for(user: User) -> Select:
    # Outer join: a notice of the annual tax has no dossier; it is scoped through its parcel
    # (officers) or its payer (the holder of 1 January).
    query = select(Notice).outerjoin(Dossier, Notice.dossier_id == Dossier.id)
    if user.role is Role.ADMIN:
        return query
    if user.role is Role.TAX_OFFICER:
        return query.where(or_(
            Dossier.tax_office_id == user.office_id,
            _annual_of_offices(select(Office.id).where(Office.tax_office_id == user.office_id))))
    if user.role is Role.REGISTRY_OFFICER:
        return query.where(or_(
            Dossier.registry_office_id == user.office_id,
            _annual_of_offices([user.office_id])))
    if user.role is Role.LANDHOLDER and user.party_id:
        # A landholder sees the notices of their own side of the dossier (the lines they
        # owe), not those the other side owes.
        return query.where(
            or_(
                Notice.payer_id == user.party_id,
                exists().where(DossierParty.dossier_id == Notice.dossier_id,
                               DossierParty.party_id == user.party_id,
                               DossierParty.role == Notice.payer_role),
            )
        )
    return query.where(False)


def assessments_for(user: User) -> Select:
    query = select(Assessment)
    if user.role is Role.ADMIN:
        return query
    if user.role is Role.TAX_OFFICER:
        return query.where(Assessment.tax_office_id == user.office_id)
    return query.where(False)


def get_dossier(user: User, code: str) -> Dossier:
    dossier = db.session.scalar(dossiers_for(user).where(Dossier.code == code))
    if dossier is None:
        raise NotFound(_("No such dossier."))
    return dossier


def get_notice(user: User, code: str) -> Notice:
    notice = db.session.scalar(notices_for(user).where(Notice.code == code))
    if notice is None:
        raise NotFound(_("No such notice."))
    return notice


def get_assessment(user: User, assessment_id: int) -> Assessment:
    assessment = db.session.scalar(assessments_for(user).where(Assessment.id == assessment_id))
    if assessment is None:
        raise NotFound(_("No such assessment."))
    return assessment
