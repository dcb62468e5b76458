"""What each user may see. Every query for dossiers, notices and payments goes
through here, so a landholder sees only their own and an officer only their office's."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import Select, exists, or_, select

from app.errors import NotFound
from app.extensions import db
from app.models import Assessment, Dossier, DossierParty, Notice, Parcel, Role, User


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


def notices_for(user: User) -> Select:
    query = select(Notice).join(Dossier, Notice.dossier_id == Dossier.id)
    if user.role is Role.ADMIN:
        return query
    if user.role is Role.TAX_OFFICER:
        return query.where(Dossier.tax_office_id == user.office_id)
    if user.role is Role.REGISTRY_OFFICER:
        return query.where(Dossier.registry_office_id == user.office_id)
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
