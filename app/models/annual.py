"""The annual non-agricultural land use tax: one notice per residential parcel and year,
and a record of each batch run that assessed them. Land leases, and the notice of each year
of a lease with annual rent."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app.extensions import db
from app.models.base import BigId, Money, UTCDateTime, utcnow
from app.models.people import Party
from app.models.registry import Dossier, Parcel
from app.models.tax import Notice

__all__ = ["AnnualTaxNotice", "AnnualTaxRun", "Lease", "LeaseRentYear", "annual_notice_code",
           "annual_notice_codes_in"]

#: A yearly notice code in a transfer's purpose: the annual tax's (``NN``) or a lease's annual
#: rent (``TD``). Banking apps may drop the hyphen, upper-case the purpose or glue words
#: together, so it is looked for anywhere, hyphen or not.
_ANNUAL_CODE = re.compile(r"(?<![A-Z0-9])(NN|TD)([0-9]{4})-?([0-9]{9})(?![0-9])")


def annual_notice_code(tax_year: int, parcel_id: int) -> str:
    """The notice code of a parcel's tax year: the same on every run, so a re-run can never
    create a second notice under another code."""
    return f"NN{tax_year}-{parcel_id:09d}"


def annual_notice_codes_in(purpose: str) -> list[str]:
    """Every distinct yearly notice code (annual tax, annual rent) a transfer's purpose names,
    written as issued."""
    return list(dict.fromkeys(
        f"{kind}{year}-{number}" for kind, year, number in _ANNUAL_CODE.findall((purpose or "").upper())))


class AnnualTaxNotice(db.Model):
    """The non-agricultural land use tax of one residential parcel for one year. Unless
    exempt it is paid through its ``notice``, a ``Notice`` like any other but with no dossier:
    the payment paths read its parcel and payer from the notice (``Notice.parcel``,
    ``Notice.payers``)."""

    __tablename__ = "annual_tax_notices"
    #: One notice per parcel and year: what makes the batch safe to re-run.
    __table_args__ = (UniqueConstraint("parcel_id", "tax_year"),
                      # A holder's list, the latest year first (app/services/lists.py).
                      Index("ix_annual_tax_notices_holder_year", "holder_id", "tax_year", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: ``NN{year}-{parcel id:09d}`` (``annual_notice_code``); also the payment reference.
    code: Mapped[str] = mapped_column(String(30), unique=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"))
    #: The parcel's holder when the notice was assessed.
    holder_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    tax_year: Mapped[int]
    #: Whole dong due; 0 when exempt.
    amount: Mapped[int] = mapped_column(Money)
    #: The rule's small-amount exemption applied (annual tax of 50,000 VND or less).
    exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Label of the price table version in force on 1 January of the year.
    price_table_version: Mapped[str] = mapped_column(String(40))
    #: The residential quota used for the progressive brackets, and its data table version.
    quota_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    quota_version: Mapped[str] = mapped_column(String(40))
    rule_version: Mapped[str] = mapped_column(String(60))
    #: The due date of the year's tax under the rule in force (``tax_calc.annual_due_date``;
    #: the rule's ``annual_due`` parameter).
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parcel: Mapped[Parcel] = relationship()
    holder: Mapped[Party] = relationship()
    #: The payable notice issued for it: the notice of the same code (codes are unique
    #: across notices, and ``NN`` is this tax's alone), no dossier, owed by ``holder``. None
    #: when exempt: nothing is owed, so nothing can be paid. Joined on the code rather than
    #: a column of its own, so issuing it never rewrites the annual rows (millions a year).
    notice: Mapped[Notice | None] = relationship(
        primaryjoin="AnnualTaxNotice.code == foreign(Notice.code)", viewonly=True,
        uselist=False, backref=backref("annual", uselist=False, viewonly=True))


class AnnualTaxRun(db.Model):
    """One run of the annual batch; its counters are updated with each committed batch,
    so a run that stopped half-way shows how far it got."""

    __tablename__ = "annual_tax_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    tax_year: Mapped[int] = mapped_column(index=True)
    #: The province the run was limited to, or None for every province.
    province: Mapped[str | None] = mapped_column(String(10))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: None while running (or when the run stopped before the end).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parcels_seen: Mapped[int] = mapped_column(default=0)
    notices_created: Mapped[int] = mapped_column(default=0)
    #: Parcels skipped because the price table (or the quota) has no value for them.
    missing_price: Mapped[int] = mapped_column(default=0)
    missing_quota: Mapped[int] = mapped_column(default=0)
    #: Parcels skipped because their own data is refused by the rules (e.g. a negative area).
    invalid_data: Mapped[int] = mapped_column(default=0)
    #: Price table version label per province, e.g. {"HCM": "HCM-2026.1"}.
    price_table_versions: Mapped[dict] = mapped_column(JSON, default=dict)
    rule_version: Mapped[str] = mapped_column(String(60))


class Lease(db.Model):
    """A lease of State land, recorded when its dossier is completed. The lessee is whoever
    holds the parcel (its holdings); with annual rent each year's rent is a notice
    (``LeaseRentYear``) to the holders on record."""

    __tablename__ = "leases"

    id: Mapped[int] = mapped_column(primary_key=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id"), index=True)
    #: The completed lease dossier (one lease per dossier).
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    #: ``one_time`` or ``annual``.
    rent_mode: Mapped[str] = mapped_column(String(10))
    #: The province's annual rate as a fraction (annual rent only).
    rent_rate: Mapped[Decimal | None] = mapped_column(Numeric(8, 6))
    term_years: Mapped[int]
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    parcel: Mapped[Parcel] = relationship()
    dossier: Mapped[Dossier] = relationship()


class LeaseRentYear(db.Model):
    """The annual rent of one lease for one year, issued as a notice. The first year's rent is
    the lease dossier's own notice; later years are issued by the annual rent batch."""

    __tablename__ = "lease_rent_years"
    #: One notice per lease and year: what makes the batch safe to re-run.
    __table_args__ = (UniqueConstraint("lease_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"))
    year: Mapped[int]
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lease: Mapped[Lease] = relationship()
