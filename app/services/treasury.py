"""Where each obligation's money goes in the State budget: its budget chapter and sub-item,
and the treasury account that collects it in the parcel's province.

The table is data (data/treasury/classification.toml), read once; a notice line keeps the
classification it was issued with, so a later version of the table changes no issued notice.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "treasury" / "classification.toml"


class UnknownClassification(LookupError):
    """No classification for an obligation or a province: the table must be completed."""


@dataclass(frozen=True)
class Classification:
    chapter: str  #: budget chapter (chuong)
    sub_item: str  #: budget sub-item (tieu muc)
    treasury: str  #: the State Treasury office that collects
    account: str  #: its revenue account
    verified: bool  #: every part checked against its public source
    version: str

    @property
    def code(self) -> str:
        """The revenue classification as printed on a payment: chapter-sub-item."""
        return f"{self.chapter}-{self.sub_item}"

    @property
    def account_label(self) -> str:
        return f"{self.account} - {self.treasury}"


@lru_cache(maxsize=4)
def load(path: str | None = None) -> dict:
    with open(path or DATA_FILE, "rb") as fh:
        table = tomllib.load(fh)
    for key in ("version", "chapter", "obligations", "provinces"):
        if key not in table:
            raise UnknownClassification(f"treasury table lacks {key!r}")
    return table


def classify(obligation: str, province: str, *, path: str | None = None) -> Classification:
    """The classification of ``obligation`` collected in ``province``. Raises
    UnknownClassification when either is missing from the table (never a guess)."""
    table = load(str(path) if path else None)
    entry = table["obligations"].get(obligation)
    if entry is None:
        raise UnknownClassification(f"no budget sub-item for obligation {obligation!r}")
    place = table["provinces"].get(province)
    if place is None:
        raise UnknownClassification(f"no treasury account for province {province!r}")
    chapter = table["chapter"]
    return Classification(
        chapter=chapter["code"], sub_item=entry["sub_item"], treasury=place["treasury"],
        account=place["account"],
        verified=bool(chapter.get("verified") and entry.get("verified") and place.get("verified")),
        version=table["version"],
    )


def stamp(line, province: str) -> None:
    """Store on a notice line the classification of its obligation in ``province``. A gap in
    the table must not stop a notice being issued: the line is left unclassified (None) and
    the gap logged, for the table to be completed."""
    try:
        found = classify(line.obligation, province)
    except UnknownClassification as err:
        log.warning("notice line left unclassified: %s", err)
        line.budget_code = line.treasury_account = None
        return
    line.budget_code = found.code
    line.treasury_account = found.account_label
