"""Many rows of each list, made directly (not through the use cases, which would take far
longer): dossiers with their parcel, parties, assessment, notice and filing event; annual
notices; reconciliation items; dead letters. Times repeat (every ``tie`` rows share one), so
a list's order must rely on its id as well."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def add_dossiers(world, n: int, *, office: str = "REG1", status: str = "completed",
                 assessment: str = "confirmed", notice: str | None = "paid", tie: int = 3,
                 start: datetime = START, step: timedelta = timedelta(hours=1),
                 payer: str = "buyer", co_buyer: bool = False) -> list[str]:
    """``n`` dossiers of ``office`` filed from ``start`` on; returns their codes in filing order."""
    from app.extensions import db
    from app.models import (
        Assessment,
        AssessmentStatus,
        Dossier,
        DossierParty,
        DossierStatus,
        Event,
        Notice,
        NoticeStatus,
        Office,
        Parcel,
        User,
    )

    with world.app.app_context():
        registry = db.session.scalar(select(Office).where(Office.code == office))
        officer = db.session.scalar(select(User).where(User.office_id == registry.id))
        seller, buyer, other = (world.user(u).party_id for u in ("an", "binh", "cuong"))
        base = db.session.scalar(select(func.count()).select_from(Dossier))
        codes = []
        for i in range(n):
            number = base + i + 1
            at = start + step * (i // tie)
            parcel = Parcel(province="HCM", map_sheet="90", parcel_no=f"{office}-{number}",
                            address=f"{number} Đường Danh Sách", land_type="residential",
                            area_m2=Decimal("50.00"), price_key="Q1-LE-LOI", position=1,
                            registry_office_id=registry.id)
            d = Dossier(code=f"HSL{number:07d}", procedure="transfer", status=DossierStatus(status),
                        parcel=parcel, registry_office_id=registry.id, tax_office_id=registry.tax_office_id,
                        declared_price=1_000_000_000, sole_residence=False, filed_by_id=officer.id,
                        filed_at=at, valid_on=at.date(), due_on=at.date() + timedelta(days=10))
            d.parties.append(DossierParty(party_id=seller, role="transferor", position=1))
            d.parties.append(DossierParty(party_id=buyer, role="transferee", position=1, share_num=1,
                                          share_den=2 if co_buyer else 1))
            if co_buyer:  # a second transferee: sees the notice through the dossier, not as its payer
                d.parties.append(DossierParty(party_id=other, role="transferee", position=2, share_num=1,
                                              share_den=2))
            d.events.append(Event(kind="dossier_filed", from_status=None, to_status="filed",
                                  actor_label="registry_officer", at=at, data={}))
            a = Assessment(dossier=d, tax_office_id=registry.tax_office_id, status=AssessmentStatus(assessment),
                           total=25_000_000, price_table_version="HCM-TEST-1", rule_versions={},
                           valid_on=at.date(), case={}, review_reasons=[], created_at=at,
                           confirmed_at=at + timedelta(minutes=5) if assessment == "confirmed" else None)
            db.session.add_all([parcel, d, a])
            if notice:
                db.session.add(Notice(
                    code=f"TBL{number:07d}", dossier=d, assessment=a,
                    payer_id=buyer if payer == "buyer" else seller,
                    payer_role="transferee" if payer == "buyer" else "transferor",
                    status=NoticeStatus(notice), total=25_000_000, issued_at=at + timedelta(minutes=5),
                    due_on=at.date() + timedelta(days=30)))
            codes.append(d.code)
        db.session.commit()
        return codes


def add_annual(world, years: range, holder: str = "binh") -> list[str]:
    """One annual notice per year for as many new parcels of office 1 (none exempt)."""
    from app.extensions import db
    from app.models import AnnualTaxNotice, Office, Parcel

    with world.app.app_context():
        party = world.user(holder).party_id
        office = db.session.scalar(select(Office.id).where(Office.code == "REG1"))
        codes = []
        for year in years:
            parcel = Parcel(province="HCM", map_sheet="91", parcel_no=f"A{year}", address=f"{year} Đường Năm",
                            land_type="residential", area_m2=Decimal("50.00"), price_key="Q1-LE-LOI",
                            position=1, registry_office_id=office)
            db.session.add(parcel)
            db.session.flush()
            db.session.add(AnnualTaxNotice(
                code=f"NN{year}-{parcel.id:09d}", parcel_id=parcel.id, holder_id=party, tax_year=year,
                amount=120_000, exempt=False, price_table_version="HCM-TEST-1", quota_m2=Decimal("200"),
                quota_version="Q-1", rule_version="r-1", due_on=date(year, 10, 31)))
            codes.append(f"NN{year}-{parcel.id:09d}")
        db.session.commit()
        return codes


def add_items(world, n: int, *, open_every: int = 2) -> list[int]:
    """Reconciliation items, every ``open_every``-th open; returns their ids."""
    from app.extensions import db
    from app.models import ItemKind, ItemStatus, ReconciliationItem

    with world.app.app_context():
        base = db.session.scalar(select(func.count()).select_from(ReconciliationItem))
        items = [ReconciliationItem(key=f"list-{base + i}", kind=ItemKind.UNKNOWN_CREDIT,
                                    status=ItemStatus.OPEN if i % open_every == 0 else ItemStatus.ACCEPTED,
                                    amount=1_000 + i, detail="", created_at=START + timedelta(hours=i))
                 for i in range(n)]
        db.session.add_all(items)
        db.session.commit()
        return [i.id for i in items]


def add_dead_letters(world, n: int) -> list[str]:
    from app.extensions import db
    from app.models import OutboxMessage

    with world.app.app_context():
        base = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        rows = [OutboxMessage(event_uid=f"dead-{base + i:04d}", payload={"dossier_code": f"HS{i}", "kind": "x"},
                              attempts=9, state="dead", last_error="refused") for i in range(n)]
        db.session.add_all(rows)
        db.session.commit()
        return [r.event_uid for r in rows]
