"""Importing the versioned data files (price tables and the rest) into the database.

A file is parsed and validated by ``tax_calc.tables``; a version is stored once and
never changed, so an assessment that names it can always be reproduced."""

from __future__ import annotations

import dataclasses
import hashlib
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import DataTable, PriceEntry, PriceTableVersion
from tax_calc import tables


class ImportConflict(ValueError):
    """The same version label was imported before with different content."""


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    return value


def _segment_label(row) -> str:
    """Street and segment as people read them: "Lê Lợi" or "Lê Lợi (A – B)"."""
    segment = " – ".join(part for part in (row.segment_from, row.segment_to) if part)
    return f"{row.street} ({segment})" if segment else row.street


def import_file(path: str | Path) -> tuple[str, bool]:
    """Import one data file; returns (description, whether anything new was stored)."""
    raw = Path(path).read_bytes()
    checksum = hashlib.sha256(raw).hexdigest()
    table = tables.load_table(path)
    meta = table.meta
    if meta.kind == "price_table":
        existing = db.session.scalar(
            select(PriceTableVersion).where(
                PriceTableVersion.province == meta.province, PriceTableVersion.label == meta.version
            )
        )
        if existing is not None:
            if existing.checksum != checksum:
                raise ImportConflict(
                    f"{meta.province} {meta.version} was imported before with other content; "
                    "give the new file a new version label"
                )
            return f"price table {meta.version}: already imported", False
        version = PriceTableVersion(
            province=meta.province, label=meta.version, effective_from=meta.effective_from,
            source=meta.source, checksum=checksum, parameters=meta.to_dict(),
        )
        db.session.add(version)
        db.session.flush()
        entries = [
            {
                "version_id": version.id, "price_key": row.zone_code, "position": row.position,
                "land_type": row.land_type, "price_per_m2": row.price_per_m2,
                "label": _segment_label(row)[:300],
            }
            for row in table.rows
            if row.price_per_m2 is not None
        ]
        if entries:
            db.session.execute(PriceEntry.__table__.insert(), entries)
        return f"price table {meta.version}: {len(entries)} prices", True
    existing = db.session.scalar(
        select(DataTable).where(
            DataTable.kind == meta.kind, DataTable.province == meta.province,
            DataTable.label == meta.version,
        )
    )
    if existing is not None:
        if existing.checksum != checksum:
            raise ImportConflict(
                f"{meta.kind} {meta.version} was imported before with other content; "
                "give the new file a new version label"
            )
        return f"{meta.kind} {meta.version}: already imported", False
    rows = [
        {k: _jsonable(v) for k, v in dataclasses.asdict(row).items() if k != "line"}
        for row in table.rows
    ]
    db.session.add(
        DataTable(
            kind=meta.kind, province=meta.province, label=meta.version,
            effective_from=meta.effective_from, effective_to=meta.effective_to,
            source=meta.source, checksum=checksum, rows=rows,
        )
    )
    return f"{meta.kind} {meta.version}: {len(rows)} rows", True


def price_version_in_force(province: str, on) -> PriceTableVersion | None:
    """The province's land price table in force on a date: the latest one effective by then."""
    return db.session.scalar(
        select(PriceTableVersion)
        .where(PriceTableVersion.province == province, PriceTableVersion.effective_from <= on)
        .order_by(PriceTableVersion.effective_from.desc(), PriceTableVersion.id.desc())
        .limit(1)
    )


def data_table(kind: str, province: str, on) -> DataTable | None:
    return db.session.scalar(
        select(DataTable)
        .where(DataTable.kind == kind, DataTable.province == province, DataTable.effective_from <= on)
        .order_by(DataTable.effective_from.desc(), DataTable.id.desc())
        .limit(1)
    )


def adjustment_coefficient(province: str, zone_code: str, land_type: str, on) -> tuple[Decimal, str | None]:
    """The province's adjustment coefficient for a zone and land type on a date (1 if none)."""
    table = data_table("adjustment_coefficients", province, on)
    if table is None:
        return Decimal(1), None
    best = None
    for row in table.rows:
        if row["land_type"] != land_type:
            continue
        if row["zone_code"] == zone_code:
            best = row
            break
        if row["zone_code"] == "*" and best is None:
            best = row
    return (Decimal(best["coefficient"]) if best else Decimal(1)), table.label
