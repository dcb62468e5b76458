"""Who holds each parcel: the current set of holders, the check of a dossier's transferors
against it, and the move of the holdings when a dossier is completed. Nothing here commits:
the use cases in ``app.services.dossiers`` do, once."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.models import Dossier, Holding, Parcel, Party, User
from app.services.scoping import parcels_for

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: How many parcels a search shows at most.
SEARCH_LIMIT = 20


# --------------------------------------------------------------------------- names


def normalise_name(name: str) -> str:
    """A name as stored: Unicode NFC, inner runs of spaces made one, no outer spaces."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def name_key(name: str) -> str:
    """What two spellings of one name share: NFC, then case-folded (and NFC again, since
    folding may decompose)."""
    return unicodedata.normalize("NFC", normalise_name(name).casefold())


def same_name(a: str, b: str) -> bool:
    return name_key(a) == name_key(b)


# --------------------------------------------------------------------------- reading


def current_holdings(parcel_id: int) -> list[Holding]:
    """The parcel's current holders, in the order of the certificate (read from the
    database, so after a row lock it is what was committed)."""
    return list(db.session.scalars(
        select(Holding).where(Holding.parcel_id == parcel_id, Holding.valid_to.is_(None))
        .order_by(Holding.position).options(joinedload(Holding.party))
        .execution_options(populate_existing=True)
    ))


def shares_add_up(holdings: Sequence[Holding]) -> bool:
    return bool(holdings) and sum((h.share for h in holdings), Fraction(0)) == 1


def holders_text(holdings: Sequence[Holding]) -> str:
    return ", ".join(f"{h.party.full_name} ({h.party.citizen_id})" for h in holdings)


def search_parcels(user: User, q: str, limit: int = SEARCH_LIMIT) -> tuple[list[Parcel], bool]:
    """Parcels the user may see matching ``q``: ``sheet/number`` (map sheet and parcel
    number), a current holder's 12-digit citizen id, or else part of the address. At most
    ``limit``; the flag says whether there were more."""
    q = normalise_name(q or "")
    if not q:
        return [], False
    query: Select = parcels_for(user)
    sheet_no = re.fullmatch(r"([^/\s]+)\s*/\s*([^/\s]+)", q)
    if re.fullmatch(r"[0-9]{12}", q):
        query = query.where(Parcel.id.in_(
            select(Holding.parcel_id).join(Party, Party.id == Holding.party_id)
            .where(Party.citizen_id == q, Holding.valid_to.is_(None))
        ))
    elif sheet_no:
        query = query.where(Parcel.map_sheet == sheet_no.group(1),
                            Parcel.parcel_no == sheet_no.group(2))
    else:
        # As typed, or ignoring case (SQLite's lower() folds ASCII letters only).
        query = query.where(or_(
            Parcel.address.contains(q, autoescape=True),
            func.lower(Parcel.address).contains(q.lower(), autoescape=True),
        ))
    found = list(db.session.scalars(
        query.order_by(Parcel.id).limit(limit + 1)
        .options(selectinload(Parcel.holdings).selectinload(Holding.party))
    ))
    return found[:limit], len(found) > limit


# --------------------------------------------------------------------------- checking


def check_transferors(parcel: Parcel, transferors: Sequence[tuple[str, str]],
                      field: str = "transferor") -> list[Party]:
    """The transferors, given as (name, citizen id), must be exactly the parcel's current
    holders, each under the name the registry has for them. Returns their parties."""
    holdings = current_holdings(parcel.id)
    by_id = {h.party.citizen_id: h.party for h in holdings}
    parties = []
    for name, citizen_id in transferors:
        party = by_id.get(citizen_id)
        if party is None:
            raise ValidationFailed(
                _("The transferor is not a holder of this parcel; the registry records: "
                  "%(holders)s.", holders=holders_text(holdings)),
                fields={f"{field}_citizen_id": _("Not a holder of the parcel.")},
            )
        if not same_name(name, party.full_name):
            raise ValidationFailed(
                _("The citizen id belongs to someone with another name."),
                fields={f"{field}_name": _("Does not match the name registered for this "
                                           "citizen id.")},
            )
        parties.append(party)
    missing = [h for h in holdings if h.party not in parties]
    if missing:
        raise ValidationFailed(
            _("The parcel is held jointly: every holder must transfer it. Missing: "
              "%(holders)s.", holders=holders_text(missing)),
            fields={f"{field}_citizen_id": _("Co-holders missing: %(holders)s.",
                                             holders=holders_text(missing))},
        )
    return parties


# --------------------------------------------------------------------------- moving


def certificate_number(dossier: Dossier, at: datetime) -> str:
    """The number of the certificate issued when ``dossier`` is completed at ``at``: new on
    every completion (a dossier is completed once), unique in the database."""
    return f"CS{at.astimezone(LOCAL_TZ).year}-{dossier.id:07d}"


def move_holdings(dossier: Dossier, from_parties: Sequence[Party],
                  to: Sequence[tuple[Party, Fraction]], at: datetime) -> list[Holding]:
    """Close the parcel's current holdings (those of ``from_parties``, exactly) at ``at``
    and open the new ones from ``at``. The caller holds the parcel's row lock."""
    if sum((share for _party, share in to), Fraction(0)) != 1 or any(s <= 0 for _p, s in to):
        raise ValueError("the new holders' shares must be positive and add up to 1")
    current = current_holdings(dossier.parcel_id)
    if {h.party_id for h in current} != {p.id for p in from_parties}:
        raise Conflict(
            _("The holders of parcel %(parcel)s are no longer the dossier's transferors; "
              "the registry records: %(holders)s.", parcel=dossier.parcel.label,
              holders=holders_text(current))
        )
    for holding in current:
        holding.valid_to = at
    db.session.flush()  # the old set is closed before the new one takes its places
    opened = []
    for position, (party, share) in enumerate(to, start=1):
        holding = Holding(parcel_id=dossier.parcel_id, party=party, share_num=share.numerator,
                          share_den=share.denominator, position=position, valid_from=at,
                          dossier=dossier)
        db.session.add(holding)
        opened.append(holding)
    db.session.flush()
    return opened
