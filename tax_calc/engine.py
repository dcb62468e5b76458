"""The rules engine: a case in, an assessment out. Pure: no I/O except reading a versioned
data file from ``data/`` when the case refers to one by version and the caller did not pass it.

Each procedure is a list of obligations; each obligation lives in its own module
(``registration_fee``, ``income_tax``, ``levy``, ``rent``, ``nonagri``, ``fees``,
``interest``) and reads the case through a ``Ctx``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import localcontext
from pathlib import Path

from .context import Ctx
from .errors import CaseError
from .fees import provincial_fee_lines
from .income_tax import gift_lines, transfer_lines
from .interest import late_interest, late_interest_lines
from .levy import allocation_lines, change_of_use_lines, extension_lines, recognition_lines
from .model import Assessment, Case, Line
from .nonagri import consolidated_lines, non_agricultural_lines
from .parse import case_from_dict
from .rent import rent_annual_lines, rent_one_time_lines
from .tables import FeeSchedule, PositionFactors, PriceBook

__all__ = ["assess", "late_interest"]

_PROCEDURES: dict[str, Callable[[Ctx], list[Line]]] = {
    "transfer": transfer_lines,
    "gift": gift_lines,
    "inheritance": gift_lines,
    "allocation": allocation_lines,
    "change_of_use": change_of_use_lines,
    "recognition": recognition_lines,
    "extension": extension_lines,
    "land_rent_annual": rent_annual_lines,
    "land_rent_one_time": rent_one_time_lines,
    "non_agricultural_tax": non_agricultural_lines,
    "consolidated_non_agricultural_tax": consolidated_lines,
    "provincial_fee": provincial_fee_lines,
    "late_interest": late_interest_lines,
}


def assess(case: dict | Case, *, price_book: PriceBook | None = None,
           position_factors: PositionFactors | None = None,
           fee_schedule: FeeSchedule | None = None,
           data_dir: str | Path | None = None) -> Assessment:
    """Assess every obligation of a case (a dict in the CLI's JSON format, or a ``Case``)."""
    if not isinstance(case, Case):
        case = case_from_dict(case)
    if price_book is not None and case.price_table_version is not None \
            and price_book.version != case.price_table_version:
        raise CaseError("price_table_version",
                        f"case names {case.price_table_version!r} but price table "
                        f"{price_book.version!r} was given")
    ctx = Ctx(case, price_book, position_factors, fee_schedule,
              Path(data_dir) if data_dir is not None else None)
    # Exact arithmetic: with the input bounds of ``parse`` no product needs more than about
    # 30 significant digits; 60 keeps every intermediate exact before the one rounding.
    with localcontext() as dec_ctx:
        dec_ctx.prec = 60
        lines = tuple(_PROCEDURES[case.procedure](ctx))
    versions = tuple(sorted((code, "+".join(sorted(v))) for code, v in ctx.used.items()))
    return Assessment(
        procedure=case.procedure, valid_on=case.valid_on, lines=lines,
        rule_versions=versions, price_table_version=case.price_table_version,
        province=case.province, notice_date=case.notice_date, extra=tuple(ctx.extra),
        review_reasons=tuple(ctx.reasons),
    )
