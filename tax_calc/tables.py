"""Pure loaders and validators for the versioned data files under ``data/``.

Every file is a UTF-8 CSV preceded by ``# key: value`` header lines naming what it is:

    # kind: price_table            (price_table | adjustment_coefficients | position_factors
    #                                | quotas | fee_schedule)
    # province: HCM
    # version: HCM-2026.1
    # effective_from: 2026-01-01
    # effective_to:                (optional)
    # source: the legal document (and appendix) the rows were transcribed from
    # unit: VND/m2
    # status: official | sample | unverified

The loaders take a path or a text stream and return frozen dataclasses (metadata + a tuple
of frozen rows) so another process can import them into a database unchanged. Problems raise
``TableError`` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from .errors import CaseError, TableError
from .money import round_dong

KINDS = ("price_table", "adjustment_coefficients", "position_factors", "quotas", "fee_schedule")
LAND_TYPES = frozenset({"residential", "agricultural", "commercial", "production_business",
                        "non_agricultural_other"})
REQUIRED_META = ("kind", "province", "version", "effective_from", "source", "status")
COLUMNS = {
    "price_table": ("zone_code", "street", "segment_from", "segment_to", "position",
                    "land_type", "price_per_m2"),
    "adjustment_coefficients": ("zone_code", "land_type", "coefficient"),
    "position_factors": ("land_type", "position", "factor"),
    "quotas": ("location", "quota_m2", "note"),
    "fee_schedule": ("fee_code", "category", "amount", "online_amount", "description"),
}


def default_data_dir() -> Path:
    """The repository's ``data/`` folder (beside the package)."""
    return Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class TableMeta:
    kind: str
    province: str
    version: str
    effective_from: date
    effective_to: date | None
    source: str
    status: str
    unit: str = ""
    title: str = ""
    origin: str = ""  # file name or "<stream>", for error messages only

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "province": self.province, "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "source": self.source, "status": self.status, "unit": self.unit,
            "title": self.title,
        }


@dataclass(frozen=True)
class PriceRow:
    zone_code: str
    street: str
    segment_from: str
    segment_to: str
    position: int
    land_type: str
    price_per_m2: int | None  # None: the cell is blank (not transcribed / not published)
    line: int


@dataclass(frozen=True)
class CoefficientRow:
    zone_code: str  # "*" applies to every zone
    land_type: str
    coefficient: Decimal
    line: int


@dataclass(frozen=True)
class PositionFactorRow:
    land_type: str
    position: int
    factor: Decimal
    line: int


@dataclass(frozen=True)
class QuotaRow:
    location: str
    quota_m2: Decimal
    note: str
    line: int


@dataclass(frozen=True)
class FeeRow:
    fee_code: str
    category: str
    amount: int
    online_amount: int | None
    description: str
    line: int


@dataclass(frozen=True)
class PriceBook:
    """A province's land price table, one version. Prices in VND per m2."""

    meta: TableMeta
    rows: tuple[PriceRow, ...]
    _index: dict[tuple[str, int, str], PriceRow] = dc_field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._index.update({(r.zone_code, r.position, r.land_type): r for r in self.rows})

    @property
    def version(self) -> str:
        return self.meta.version

    @property
    def province(self) -> str:
        return self.meta.province

    def price(self, zone_code: str, position: int, land_type: str,
              factors: PositionFactors | None = None, field: str = "table_price_per_m2") -> int:
        """Price per m2; with ``factors``, a missing position falls back to position 1 x factor."""
        index = self._index
        found = index.get((zone_code, position, land_type))
        if found is not None and found.price_per_m2 is not None:
            return found.price_per_m2
        if factors is not None and position != 1:
            base = index.get((zone_code, 1, land_type))
            if base is not None and base.price_per_m2 is not None:
                return round_dong(base.price_per_m2 * factors.factor(land_type, position, field))
        raise CaseError(field, f"no {land_type} price for zone {zone_code!r} position {position} "
                               f"in price table {self.meta.version}")


@dataclass(frozen=True)
class Coefficients:
    meta: TableMeta
    rows: tuple[CoefficientRow, ...]

    def coefficient(self, zone_code: str, land_type: str, field: str = "adjustment_coefficient",
                    ) -> Decimal:
        for wanted in (zone_code, "*"):
            for r in self.rows:
                if r.zone_code == wanted and r.land_type == land_type:
                    return r.coefficient
        raise CaseError(field, f"no adjustment coefficient for {land_type} in zone {zone_code!r} "
                               f"in {self.meta.version}")


@dataclass(frozen=True)
class PositionFactors:
    meta: TableMeta
    rows: tuple[PositionFactorRow, ...]

    def factor(self, land_type: str, position: int, field: str = "position") -> Decimal:
        for r in self.rows:
            if r.land_type == land_type and r.position == position:
                return r.factor
        raise CaseError(field, f"no position factor for {land_type} position {position} in "
                               f"{self.meta.version}")


@dataclass(frozen=True)
class Quotas:
    meta: TableMeta
    rows: tuple[QuotaRow, ...]

    def quota(self, location: str, field: str = "quota_m2") -> Decimal:
        for r in self.rows:
            if r.location == location:
                return r.quota_m2
        raise CaseError(field, f"no residential quota for location {location!r} in "
                               f"{self.meta.version}")


@dataclass(frozen=True)
class FeeSchedule:
    meta: TableMeta
    rows: tuple[FeeRow, ...]

    @property
    def version(self) -> str:
        return self.meta.version

    def fee(self, fee_code: str, category: str, online: bool = False, field: str = "fees",
            ) -> FeeRow:
        for r in self.rows:
            if r.fee_code == fee_code and r.category == category:
                return r
        codes = sorted({f"{r.fee_code}/{r.category}" for r in self.rows})
        raise CaseError(field, f"no fee {fee_code!r} for category {category!r} in "
                               f"{self.meta.version} (known: {', '.join(codes)})")


def in_force(meta: TableMeta, province: str | None, on: date, field: str) -> TableMeta:
    """Check that a data file applies to ``province`` on ``on``: a table is the law of one
    province from its effective date (to its end date, if any). CaseError naming ``field``
    when it does not; never a silent use of another province's or a future table."""
    if province is None:
        raise CaseError("province", f"is required to use {meta.kind} {meta.version} (a table "
                                    f"applies only to its own province)")
    if meta.province != province:
        raise CaseError(field, f"{meta.kind} {meta.version} is for province {meta.province}, "
                               f"the case is in {province}")
    if on < meta.effective_from:
        raise CaseError(field, f"{meta.kind} {meta.version} takes effect on "
                               f"{meta.effective_from.isoformat()}, after "
                               f"{on.isoformat()}")
    if meta.effective_to is not None and on > meta.effective_to:
        raise CaseError(field, f"{meta.kind} {meta.version} ended on "
                               f"{meta.effective_to.isoformat()}, before {on.isoformat()}")
    return meta


# ---------------------------------------------------------------- reading


def _open(src: str | Path | IO[str]) -> tuple[str, str]:
    if isinstance(src, str | Path):
        path = Path(src)
        try:
            return path.read_text(encoding="utf-8"), path.name
        except UnicodeDecodeError as exc:
            raise TableError(f"not UTF-8 text: {exc}", source=path.name) from None
    return src.read(), getattr(src, "name", "<stream>")


def _parse_date(value: str, key: str, line: int, origin: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise TableError(f"not a date YYYY-MM-DD: {value!r}", field=key, line=line,
                         source=origin) from None


def read_table(src: str | Path | IO[str], expected_kind: str | None = None,
               ) -> tuple[TableMeta, list[tuple[int, dict[str, str]]]]:
    """Split a data file into its metadata and its raw rows (line number, column -> text)."""
    text, origin = _open(src)
    lines = text.splitlines()
    meta: dict[str, tuple[str, int]] = {}
    body_start = len(lines)
    for i, raw in enumerate(lines):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            content = stripped.lstrip("#").strip()
            if ":" in content:
                key, _, value = content.partition(":")
                meta[key.strip().lower()] = (value.strip(), i + 1)
            continue
        body_start = i
        break
    for key in REQUIRED_META:
        if key not in meta or not meta[key][0]:
            raise TableError("missing header line '# " + key + ": ...'", field=key,
                             source=origin)
    kind = meta["kind"][0]
    if kind not in KINDS:
        raise TableError(f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})",
                         field="kind", line=meta["kind"][1], source=origin)
    if expected_kind is not None and kind != expected_kind:
        raise TableError(f"is a {kind} file, expected {expected_kind}", field="kind",
                         line=meta["kind"][1], source=origin)
    eff_from = _parse_date(meta["effective_from"][0], "effective_from",
                           meta["effective_from"][1], origin)
    eff_to_raw = meta.get("effective_to", ("", 0))
    eff_to = _parse_date(eff_to_raw[0], "effective_to", eff_to_raw[1], origin) \
        if eff_to_raw[0] else None
    if eff_to is not None and eff_to < eff_from:
        raise TableError("effective_to is before effective_from", field="effective_to",
                         line=eff_to_raw[1], source=origin)
    table_meta = TableMeta(
        kind=kind, province=meta["province"][0], version=meta["version"][0],
        effective_from=eff_from, effective_to=eff_to, source=meta["source"][0],
        status=meta["status"][0], unit=meta.get("unit", ("", 0))[0],
        title=meta.get("title", ("", 0))[0], origin=origin,
    )
    reader = csv.reader(io.StringIO("\n".join(lines[body_start:])))
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    for offset, record in enumerate(reader):
        lineno = body_start + offset + 1
        if not record or all(not c.strip() for c in record):
            continue
        if record[0].strip().startswith("#"):
            continue
        if header is None:
            header = [c.strip() for c in record]
            expected = list(COLUMNS[kind])
            if header != expected:
                missing = [c for c in expected if c not in header]
                extra = [c for c in header if c not in expected]
                detail = (f"missing {missing}" if missing else "") + \
                         (f" unexpected {extra}" if extra else "")
                raise TableError(f"header must be {','.join(expected)} ({detail.strip() or 'order differs'})",
                                 field=(missing or extra or [header[0]])[0], line=lineno,
                                 source=origin)
            continue
        if len(record) != len(header):
            raise TableError(f"has {len(record)} columns, expected {len(header)}",
                             line=lineno, source=origin)
        rows.append((lineno, {h: c.strip() for h, c in zip(header, record, strict=True)}))
    if header is None:
        raise TableError("no header row", source=origin)
    return table_meta, rows


def _int(value: str, field: str, line: int, origin: str, *, allow_blank: bool = False,
         minimum: int = 0) -> int | None:
    if value == "" and allow_blank:
        return None
    try:
        num = int(value.replace("_", ""))
    except ValueError:
        raise TableError(f"not a whole number: {value!r}", field=field, line=line,
                         source=origin) from None
    if num < minimum:
        raise TableError(f"must be at least {minimum}, got {num}", field=field, line=line,
                         source=origin)
    return num


def _dec(value: str, field: str, line: int, origin: str) -> Decimal:
    try:
        dec = Decimal(value)
    except InvalidOperation:
        raise TableError(f"not a decimal number: {value!r}", field=field, line=line,
                         source=origin) from None
    if not dec.is_finite() or dec <= 0:
        raise TableError(f"must be a positive number, got {value!r}", field=field, line=line,
                         source=origin)
    return dec


def _land_type(value: str, line: int, origin: str) -> str:
    if value not in LAND_TYPES:
        raise TableError(f"unknown land type {value!r} (expected one of "
                         f"{', '.join(sorted(LAND_TYPES))})", field="land_type", line=line,
                         source=origin)
    return value


def _required(value: str, field: str, line: int, origin: str) -> str:
    if not value:
        raise TableError("must not be blank", field=field, line=line, source=origin)
    return value


def _no_duplicates(keys: Iterable[tuple[Any, int]], origin: str, field: str) -> None:
    seen: dict[Any, int] = {}
    for key, line in keys:
        if key in seen:
            raise TableError(f"duplicate row {key!r} (first on line {seen[key]})", field=field,
                             line=line, source=origin)
        seen[key] = line


def load_price_book(src: str | Path | IO[str]) -> PriceBook:
    meta, raw = read_table(src, "price_table")
    o = meta.origin
    rows = tuple(
        PriceRow(
            zone_code=_required(r["zone_code"], "zone_code", ln, o),
            street=r["street"], segment_from=r["segment_from"], segment_to=r["segment_to"],
            position=_int(r["position"], "position", ln, o, minimum=1),
            land_type=_land_type(r["land_type"], ln, o),
            price_per_m2=_int(r["price_per_m2"], "price_per_m2", ln, o, allow_blank=True,
                              minimum=1),
            line=ln,
        )
        for ln, r in raw
    )
    _no_duplicates((((r.zone_code, r.position, r.land_type), r.line) for r in rows), o,
                   "zone_code")
    return PriceBook(meta, rows)


def load_coefficients(src: str | Path | IO[str]) -> Coefficients:
    meta, raw = read_table(src, "adjustment_coefficients")
    o = meta.origin
    rows = tuple(
        CoefficientRow(_required(r["zone_code"], "zone_code", ln, o),
                       _land_type(r["land_type"], ln, o),
                       _dec(r["coefficient"], "coefficient", ln, o), ln)
        for ln, r in raw
    )
    _no_duplicates((((r.zone_code, r.land_type), r.line) for r in rows), o, "zone_code")
    return Coefficients(meta, rows)


def load_position_factors(src: str | Path | IO[str]) -> PositionFactors:
    meta, raw = read_table(src, "position_factors")
    o = meta.origin
    rows = tuple(
        PositionFactorRow(_land_type(r["land_type"], ln, o),
                          _int(r["position"], "position", ln, o, minimum=1),
                          _dec(r["factor"], "factor", ln, o), ln)
        for ln, r in raw
    )
    _no_duplicates((((r.land_type, r.position), r.line) for r in rows), o, "position")
    return PositionFactors(meta, rows)


def load_quotas(src: str | Path | IO[str]) -> Quotas:
    meta, raw = read_table(src, "quotas")
    o = meta.origin
    rows = tuple(
        QuotaRow(_required(r["location"], "location", ln, o),
                 _dec(r["quota_m2"], "quota_m2", ln, o), r["note"], ln)
        for ln, r in raw
    )
    _no_duplicates(((r.location, r.line) for r in rows), o, "location")
    return Quotas(meta, rows)


def load_fee_schedule(src: str | Path | IO[str]) -> FeeSchedule:
    meta, raw = read_table(src, "fee_schedule")
    o = meta.origin
    rows = tuple(
        FeeRow(_required(r["fee_code"], "fee_code", ln, o),
               _required(r["category"], "category", ln, o),
               _int(r["amount"], "amount", ln, o),
               _int(r["online_amount"], "online_amount", ln, o, allow_blank=True),
               r["description"], ln)
        for ln, r in raw
    )
    _no_duplicates((((r.fee_code, r.category), r.line) for r in rows), o, "fee_code")
    return FeeSchedule(meta, rows)


LOADERS = {
    "price_table": load_price_book,
    "adjustment_coefficients": load_coefficients,
    "position_factors": load_position_factors,
    "quotas": load_quotas,
    "fee_schedule": load_fee_schedule,
}


def load_table(src: str | Path | IO[str]) -> Any:
    """Load any data file, dispatching on its ``# kind:`` header."""
    if isinstance(src, str | Path):
        meta, _ = read_table(src)
        return LOADERS[meta.kind](src)
    text = src.read()
    meta, _ = read_table(io.StringIO(text))
    return LOADERS[meta.kind](io.StringIO(text))


def iter_data_files(data_dir: str | Path | None = None) -> list[Path]:
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    return sorted(root.rglob("*.csv"))


@lru_cache(maxsize=32)
def _find(kind: str, version: str, root: str) -> Any:
    for path in iter_data_files(root):
        meta, _ = read_table(path)
        if meta.kind == kind and meta.version == version:
            return LOADERS[kind](path)
    return None


def find_table(kind: str, version: str, data_dir: str | Path | None = None,
               field: str = "version") -> Any:
    """Load the data file of ``kind`` whose header says ``version`` (CaseError if none)."""
    root = str(Path(data_dir) if data_dir is not None else default_data_dir())
    found = _find(kind, version, root)
    if found is None:
        raise CaseError(field, f"no {kind} data file with version {version!r}")
    return found
