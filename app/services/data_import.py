"""Importing the versioned data files (price tables and the rest) into the database.

A file is parsed and validated by ``tax_calc.tables``; a version is stored once and
never changed, so an assessment that names it can always be reproduced."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.models import DataTable, PriceEntry, PriceTableVersion
from tax_calc import CaseError, tables


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
            effective_to=meta.effective_to, source=meta.source, checksum=checksum, parameters=meta.to_dict(),
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


def _meta(kind: str, row: PriceTableVersion | DataTable) -> tables.TableMeta:
    """The stored version's data-file header, for ``tables.in_force``."""
    status = row.parameters.get("status", "") if isinstance(row, PriceTableVersion) else ""
    return tables.TableMeta(kind=kind, province=row.province, version=row.label,
                            effective_from=row.effective_from, effective_to=row.effective_to,
                            source=row.source, status=status)


def _in_force(kind: str, row: PriceTableVersion | DataTable, province: str, on: date) -> bool:
    try:
        tables.in_force(_meta(kind, row), province, on, kind)
    except CaseError:
        return False
    return True


def price_version_in_force(province: str, on: date) -> PriceTableVersion | None:
    """The province's land price table in force on a date: of the province's tables that
    started by then (newest first), the first that ``tables.in_force`` accepts, so a table
    past its ``effective_to`` is never used. None when there is none."""
    candidates = db.session.scalars(
        select(PriceTableVersion)
        .where(PriceTableVersion.province == province, PriceTableVersion.effective_from <= on)
        .order_by(PriceTableVersion.effective_from.desc(), PriceTableVersion.id.desc())
    )
    return next((v for v in candidates if _in_force("price_table", v, province, on)), None)


def data_table(kind: str, province: str, on: date) -> DataTable | None:
    """The province's data table of ``kind`` in force on a date, chosen as
    ``price_version_in_force`` chooses a price table. None when there is none."""
    candidates = db.session.scalars(
        select(DataTable)
        .where(DataTable.kind == kind, DataTable.province == province, DataTable.effective_from <= on)
        .order_by(DataTable.effective_from.desc(), DataTable.id.desc())
    )
    return next((t for t in candidates if _in_force(kind, t, province, on)), None)


def adjustment_coefficient(province: str, zone_code: str, land_type: str, on: date, *,
                           required: bool) -> tuple[Decimal, str | None]:
    """The province's adjustment coefficient for a zone and land type on a date, and the
    version of the table it came from.

    ``required``: the rules in force on that date use the coefficient (the caller asks the
    rules engine). Then a missing table or row is a ValidationFailed naming the field; only
    when the coefficient is not used does a missing one count as 1 (and no version is named).
    """
    table = data_table("adjustment_coefficients", province, on)
    best = None
    if table is not None:
        for row in table.rows:
            if row["land_type"] != land_type:
                continue
            if row["zone_code"] == zone_code:
                best = row
                break
            if row["zone_code"] == "*" and best is None:
                best = row
    if best is not None:
        return Decimal(best["coefficient"]), table.label
    if not required:
        return Decimal(1), None
    if table is None:
        message = _("No adjustment coefficient table is in force for this province on this date.")
    else:
        message = _("The adjustment coefficient table %(version)s has no coefficient for this "
                    "parcel's zone and land type.", version=table.label)
    raise ValidationFailed(
        message, fields={"adjustment_coefficient": _("No adjustment coefficient in force.")}
    )
