"""Every list of the pages and the API: its scoped query, its filters, its sort key and the
related rows it loads in bulk. The pages and the API build a list here and page it with
``app.services.pages``; the EXPLAIN test builds the same lists (tests/lists).

Filters (query parameters, as fits each list): ``status``, ``from`` and ``to`` (days, local
time, both included), ``code`` (the dossier's or the notice's), ``citizen_id`` (a party's),
``parcel`` (a parcel's id or ``sheet/number``), ``kind``. A bad value is refused with 422
naming the parameter, on a page as in the API."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.errors import ValidationFailed
from app.models import (
    AnnualTaxNotice,
    Assessment,
    AssessmentStatus,
    Dossier,
    DossierParty,
    DossierStatus,
    Holding,
    ItemKind,
    ItemStatus,
    Notice,
    NoticeLine,
    NoticeStatus,
    OutboxMessage,
    Parcel,
    Party,
    PaymentOrder,
    Receipt,
    ReconciliationItem,
    Role,
    User,
)
from app.services import scoping
from app.services.pages import Key, Listing

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    since: date | None = None
    until: date | None = None
    code: str | None = None
    citizen_id: str | None = None
    parcel: str | None = None
    kind: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str], *, statuses: Iterable[str] = (),
                  kinds: Iterable[str] = (), default_status: str | None = None) -> Filters:
        errors: dict[str, str] = {}

        def text(name: str, pattern: str | None = None, message: str | None = None) -> str | None:
            value = (args.get(name) or "").strip()
            if not value:
                return None
            if len(value) > 60 or (pattern and not re.fullmatch(pattern, value)):
                errors[name] = message or _("Not understood.")
                return None
            return value

        def day(name: str) -> date | None:
            value = text(name)
            if value is None:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                errors[name] = _("A date such as 2026-01-31.")
                return None

        status = text("status") or default_status
        statuses = list(statuses)
        if status is not None and status not in statuses:
            errors["status"] = _("Unknown status.")
        kind = text("kind")
        if kind is not None and kind not in set(kinds):
            errors["kind"] = _("Unknown kind of item.")
        found = cls(
            status=status, since=day("from"), until=day("to"),
            code=text("code", r"[A-Za-z0-9-]{1,30}", _("A code such as HS2026-000123.")),
            citizen_id=text("citizen_id", r"[0-9]{12}", _("12 digits.")),
            parcel=text("parcel", r"[0-9]{1,10}|[^/\s]{1,20}\s*/\s*[^/\s]{1,20}",
                        _("A parcel's number such as 10/101, or its id.")),
            kind=kind,
        )
        if found.since and found.until and found.since > found.until:
            errors["to"] = _("The end date is before the start date.")
        if errors:
            raise ValidationFailed(_("Check the filters."), fields=errors)
        return found

    def between(self, column, query):
        """Rows whose ``column`` (a UTC time) falls on the days ``from``..``to``, local time."""
        if self.since:
            query = query.where(column >= _start_of(self.since))
        if self.until:
            query = query.where(column < _start_of(self.until + timedelta(days=1)))
        return query


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC)


def _party_id(citizen_id: str):
    return select(Party.id).where(Party.citizen_id == citizen_id).scalar_subquery()


def _parcel_ids(user: User, parcel: str):
    """The parcels ``parcel`` names (an id, or ``sheet/number``)."""
    if parcel.isdigit():
        return [int(parcel)]
    sheet, number = (part.strip() for part in parcel.split("/"))
    # A registry officer's own parcels: found by the office's index on sheet and number.
    query = scoping.parcels_for(user) if user.role is Role.REGISTRY_OFFICER else select(Parcel)
    return query.with_only_columns(Parcel.id).where(Parcel.map_sheet == sheet, Parcel.parcel_no == number)


# --- dossiers ---------------------------------------------------------------------------------

DOSSIER_STATUSES = [s.value for s in DossierStatus]
#: Newest first.
DOSSIER_KEY = (Key(Dossier.filed_at, desc=True), Key(Dossier.id, desc=True))


def dossiers(user: User, f: Filters = Filters(), *, with_parties: bool = True) -> Listing:
    """The registry inbox, a landholder's dossiers, ``GET /api/v1/dossiers``."""
    query = scoping.dossiers_for(user)
    if f.status:
        query = query.where(Dossier.status == DossierStatus(f.status))
    if f.code:
        query = query.where(Dossier.code == f.code)
    if f.citizen_id:
        query = query.where(Dossier.id.in_(select(DossierParty.dossier_id).where(
            DossierParty.party_id == _party_id(f.citizen_id))))
    if f.parcel:
        query = query.where(Dossier.parcel_id.in_(_parcel_ids(user, f.parcel)))
    query = f.between(Dossier.filed_at, query)
    if with_parties:
        query = query.options(selectinload(Dossier.parcel),
                              selectinload(Dossier.parties).joinedload(DossierParty.party))
    return Listing("dossiers", query, DOSSIER_KEY)


def paid_ready(user: User) -> Listing:
    """The registry's paid dossiers with the receipt that paid them, the longest paid first:
    proof of payment that arrived by itself. Read in the order of the office's index on
    (state, time paid, id), so a page reads its own dossiers only; each row's receipt (its
    last for money that settled something) is looked up by the dossier's notices."""
    last_receipt = (
        select(Receipt.id)
        .join(Notice, Notice.id == Receipt.notice_id)
        .join(PaymentOrder, PaymentOrder.id == Receipt.payment_id)
        .where(Notice.dossier_id == Dossier.id, PaymentOrder.needs_refund.is_(False))
        .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
        .limit(1)
        .correlate(Dossier)
        .scalar_subquery()
    )
    query = (
        scoping.dossiers_for(user)
        .add_columns(Receipt.number, Receipt.issued_at, Receipt.id.label("receipt_id"))
        .join(Receipt, Receipt.id == last_receipt)
        .where(Dossier.status == DossierStatus.PAID, Dossier.paid_at.is_not(None))
        .options(selectinload(Dossier.parcel),
                 selectinload(Dossier.parties).joinedload(DossierParty.party))
    )
    return Listing("ready", query, (Key(Dossier.paid_at, read=lambda r: r[0].paid_at),
                                    Key(Dossier.id, read=lambda r: r[0].id)), scalars=False)


# --- assessments ------------------------------------------------------------------------------

ASSESSMENT_STATUSES = [s.value for s in AssessmentStatus]


def assessments(user: User, f: Filters = Filters(), *, with_lines: bool = False) -> Listing:
    """The tax officer's queue (``pending``, oldest first) and ``GET /api/v1/assessments``."""
    query = scoping.assessments_for(user)
    if f.status:
        query = query.where(Assessment.status == AssessmentStatus(f.status))
    if f.code:
        query = query.where(Assessment.dossier_id.in_(select(Dossier.id).where(Dossier.code == f.code)))
    if f.citizen_id:
        query = query.where(Assessment.dossier_id.in_(select(DossierParty.dossier_id).where(
            DossierParty.party_id == _party_id(f.citizen_id))))
    if f.parcel:
        query = query.where(Assessment.dossier_id.in_(select(Dossier.id).where(
            Dossier.parcel_id.in_(_parcel_ids(user, f.parcel)))))
    query = f.between(Assessment.created_at, query)
    query = query.options(joinedload(Assessment.dossier))
    if with_lines:
        query = query.options(selectinload(Assessment.lines))
    return Listing("assessments", query, (Key(Assessment.created_at), Key(Assessment.id)))


def recently_confirmed(user: User) -> Listing:
    """The tax officer's confirmed assessments, last confirmed first."""
    query = scoping.assessments_for(user).where(Assessment.status == AssessmentStatus.CONFIRMED) \
        .options(joinedload(Assessment.dossier), joinedload(Assessment.confirmed_by))
    return Listing("confirmed", query, (Key(Assessment.confirmed_at, desc=True),
                                        Key(Assessment.id, desc=True)))


# --- notices ----------------------------------------------------------------------------------

NOTICE_STATUSES = [s.value for s in NoticeStatus]


def notices(user: User, f: Filters = Filters(), *, full: bool = False) -> Listing:
    """A landholder's notices and ``GET /api/v1/notices``: newest first. ``full`` loads what
    the API's notice answers show (lines, payers, the annual notice's parcel)."""
    query = scoping.notices_for(user)
    if f.status:
        query = query.where(Notice.status == NoticeStatus(f.status))
    if f.code:
        query = query.where(Notice.code == f.code)
    if f.citizen_id:
        query = query.where(Notice.payer_id == _party_id(f.citizen_id))
    query = f.between(Notice.issued_at, query)
    options = [selectinload(Notice.dossier), selectinload(Notice.annual)]
    if full:
        options = [
            selectinload(Notice.dossier).selectinload(Dossier.parties).joinedload(DossierParty.party),
            selectinload(Notice.annual).joinedload(AnnualTaxNotice.parcel),
            selectinload(Notice.payer),
            selectinload(Notice.lines).joinedload(NoticeLine.assessment_line),
        ]
    return Listing("notices", query.options(*options),
                   (Key(Notice.issued_at, desc=True), Key(Notice.id, desc=True)))


def annual_notices(user: User, f: Filters = Filters()) -> Listing:
    """The annual tax notices: the latest year first."""
    query = scoping.annual_notices_for(user)
    if f.code:
        query = query.where(AnnualTaxNotice.code == f.code)
    query = query.options(joinedload(AnnualTaxNotice.parcel), selectinload(AnnualTaxNotice.notice))
    return Listing("annual", query, (Key(AnnualTaxNotice.tax_year, desc=True),
                                     Key(AnnualTaxNotice.id, desc=True)))


# --- parcels, money, the portal's dead letter -------------------------------------------------

def parcels(user: User) -> Listing:
    """The registry officer's parcels (``GET /api/v1/parcels`` without a search)."""
    query = scoping.parcels_for(user).options(selectinload(Parcel.holdings).joinedload(Holding.party))
    return Listing("parcels", query, (Key(Parcel.id),))


ITEM_STATUSES = ("open", "resolved", "all")
ITEM_KINDS = [k.value for k in ItemKind]


def reconciliation_items(f: Filters) -> Listing:
    """The accountants' queue, newest first."""
    query = select(ReconciliationItem)
    if f.kind:
        query = query.where(ReconciliationItem.kind == ItemKind(f.kind))
    if f.status == "open":
        query = query.where(ReconciliationItem.status == ItemStatus.OPEN)
    elif f.status == "resolved":
        query = query.where(ReconciliationItem.status != ItemStatus.OPEN)
    if f.code:
        query = query.where(ReconciliationItem.notice_id.in_(select(Notice.id).where(Notice.code == f.code)))
    query = f.between(ReconciliationItem.created_at, query)
    query = query.options(joinedload(ReconciliationItem.notice), joinedload(ReconciliationItem.payment),
                          joinedload(ReconciliationItem.credit), joinedload(ReconciliationItem.resolved_by))
    return Listing("items", query, (Key(ReconciliationItem.id, desc=True),))


def dead_letter() -> Listing:
    """Events the delivery worker gave up sending, oldest first."""
    from app.services.delivery import DEAD

    query = select(OutboxMessage).where(OutboxMessage.state == DEAD)
    return Listing("dead", query, (Key(OutboxMessage.id),))
