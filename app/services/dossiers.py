"""Use cases of the registry and the tax office: file a dossier, assess it,
confirm the assessment into a payment notice, complete the dossier.

Each public function is one step and one transaction: it commits once at the
end, or raises and changes nothing.
"""

from __future__ import annotations

import calendar
import dataclasses
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale, format_decimal
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

import tax_calc
from app.citizen_ids import citizen_id_problem
from app.deadlines import REGISTRY_DUE_WORKING_DAYS, add_working_days, registry_due_working_days
from app.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.models import (
    CLOSED_STATUSES,
    TAX_PAYER_CLAUSES,
    Assessment,
    AssessmentLine,
    AssessmentStatus,
    Dossier,
    DossierParty,
    DossierStatus,
    Notice,
    NoticeLine,
    NoticeStatus,
    Office,
    Parcel,
    Party,
    PartyRole,
    PriceEntry,
    PriceTableVersion,
    Role,
    User,
)
from app.services import holdings, treasury, workflow
from app.services.data_import import adjustment_coefficient, price_version_in_force
from tax_calc.context import Ctx
from tax_calc.parse import LAND_TYPES, LEASES, MAX_LEASE_YEARS, RECOGNITION_KINDS
from tax_calc.registration_fee import registration_fee_line
from tax_calc.rules import FAMILY_RELATIONSHIPS

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: Family relationships that exempt a transfer: the rules engine's own list.
RELATIONSHIPS = FAMILY_RELATIONSHIPS


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


def _code(prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(8))


@dataclass(frozen=True)
class PartyInput:
    full_name: str
    citizen_id: str


@dataclass(frozen=True)
class TransferInput:
    """A dossier to file. The parties are either the lists ``transferors`` and
    ``transferees`` (each transferee with a share, the shares adding up to 1), or the single
    ``transferor`` and ``transferee`` of older clients (the transferee then gets the whole
    parcel). A change of use names no parties: its holders are the parcel's."""

    parcel_id: int
    transferor: PartyInput | None = None
    transferee: PartyInput | None = None
    declared_price: int | None = None
    relationship: str | None = None
    sole_residence: bool = False
    transferors: tuple[PartyInput, ...] = ()
    transferees: tuple[tuple[PartyInput, Fraction], ...] = ()
    procedure: str = "transfer"
    tax_payer_clause: str = "default"
    new_land_type: str | None = None
    old_table_price_per_m2: int | None = None
    old_land_money: int | None = None
    #: Recognition: the case of the levy (``tax_calc``'s ``recognition_kind``).
    recognition_kind: str | None = None
    #: Allocation: the infrastructure cost per m2 the transfer form shows.
    infrastructure_cost_per_m2: int | None = None
    #: Lease: ``one_time`` or ``annual`` rent, the term in years, the annual rate.
    rent_mode: str | None = None
    lease_term_years: int | None = None
    rent_rate: Decimal | None = None
    #: Extension: the months granted.
    months_extended: int | None = None


#: Procedures a registry officer files, each with the registry's time limit.
PROCEDURES = tuple(REGISTRY_DUE_WORKING_DAYS)
#: Procedures by which the State gives land to applicants who hold none of it yet: the
#: parcel has no holder, the applicants (the dossier's transferees, with shares) become its
#: holders on completion.
ACQUIRING_PROCEDURES = frozenset({"recognition", "allocation", "lease"})
#: Procedures that move the parcel from its transferors (none for an acquiring one) to its
#: transferees.
MOVING_PROCEDURES = frozenset({"transfer", "gift", "inheritance"}) | ACQUIRING_PROCEDURES
#: Procedures filed for the parcel's holders, who stay its holders.
HOLDER_PROCEDURES = frozenset({"change_of_use", "extension"})
#: Procedures whose notice also carries the registration fee: the State's grant is registered
#: like any acquisition (Decree 10/2022; a lease with annual rent is exempt, which the rule
#: itself says).
REGISTRATION_FEE_PROCEDURES = ACQUIRING_PROCEDURES
#: Each procedure's own input fields: any of them given to another procedure is refused.
OWN_FIELDS: dict[str, frozenset[str]] = {
    "transfer": frozenset({"declared_price", "tax_payer_clause", "relationship",
                           "sole_residence"}),
    "gift": frozenset({"relationship"}),
    "inheritance": frozenset({"relationship"}),
    "change_of_use": frozenset({"new_land_type", "old_table_price_per_m2", "old_land_money"}),
    "recognition": frozenset({"recognition_kind"}),
    "allocation": frozenset({"infrastructure_cost_per_m2"}),
    "lease": frozenset({"rent_mode", "lease_term_years", "rent_rate"}),
    "extension": frozenset({"months_extended"}),
}
#: The input fields ``OWN_FIELDS`` distributes, with the value each has when not given.
_OPTIONAL_FIELDS = {"declared_price": None, "tax_payer_clause": "default", "relationship": None,
                    "sole_residence": False, "new_land_type": None,
                    "old_table_price_per_m2": None, "old_land_money": None,
                    "recognition_kind": None, "infrastructure_cost_per_m2": None,
                    "rent_mode": None, "lease_term_years": None, "rent_rate": None,
                    "months_extended": None}
_LATER_FIELDS = frozenset({"recognition_kind", "infrastructure_cost_per_m2", "rent_mode",
                           "lease_term_years", "rent_rate", "months_extended"})


def add_months(day: date | None, months: int | None) -> date | None:
    """The same day ``months`` calendar months later (the month's last day when it is
    shorter): how a term given in months or years runs."""
    if day is None or months is None:
        return None
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def line_payer(procedure: str, clause: str, obligation: str) -> PartyRole:
    """Who owes a line. A transfer: by law the transferees the registration fee and the
    transferors the income tax (and anything else the transferees), unless the contract puts
    every line on one side (``buyer_pays_all``, ``seller_pays_all``). A gift or an
    inheritance: the transferees (the fee and the tax on what they receive). A change of
    use: the holders."""
    if procedure in HOLDER_PROCEDURES:
        return PartyRole.HOLDER
    if procedure == "transfer":
        if clause == "buyer_pays_all":
            return PartyRole.TRANSFEREE
        if clause == "seller_pays_all":
            return PartyRole.TRANSFEROR
        if obligation == "personal_income_tax":
            return PartyRole.TRANSFEROR
    return PartyRole.TRANSFEREE


def parse_share(value) -> Fraction:
    """A share as an exact fraction: ``"1/2"``, ``"0.5"`` or a whole number (never a
    float). Raises ValueError when it is not a share between 0 (excluded) and 1."""
    if isinstance(value, bool) or isinstance(value, float) or value is None:
        raise ValueError(value)
    if isinstance(value, int):
        share = Fraction(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*(\d{1,9}\s*/\s*\d{1,9}|\d{1,3}(\.\d{1,9})?)\s*",
                                                  value):
        share = Fraction(value.replace(" ", ""))
    else:
        raise ValueError(value)
    if not 0 < share <= 1:
        raise ValueError(value)
    return share


def _field(prefix: str, key: str) -> str:
    """The name of a party's input field: ``transferor_name`` for the single fields,
    ``transferees[1].full_name`` for an item of a list."""
    if "[" in prefix:
        return f"{prefix}.{'full_name' if key == 'name' else key}"
    return f"{prefix}_{key}"


def _sides(data: TransferInput) -> tuple[list[tuple[PartyInput, str]],
                                         list[tuple[PartyInput, Fraction, str]]]:
    """The transferors and the transferees (with shares), each with its field prefix."""
    if data.transferors:
        transferors = [(p, f"transferors[{i}]") for i, p in enumerate(data.transferors)]
    elif data.transferor is not None:
        transferors = [(data.transferor, "transferor")]
    else:
        transferors = []
    if data.transferees:
        transferees = [(p, share, f"transferees[{i}]")
                       for i, (p, share) in enumerate(data.transferees)]
    elif data.transferee is not None:
        transferees = [(data.transferee, Fraction(1), "transferee")]
    else:
        transferees = []
    return transferors, transferees


def _check_parties(transferors, transferees, *, acquiring: bool = False) -> None:
    """Both sides given (an acquisition from the State: the applicants only), citizen ids
    well formed, nobody twice, shares adding up to 1."""
    if acquiring and transferors:
        raise ValidationFailed(_("Invalid input."), fields={
            "transferors": _("Land the State recognises, allocates or leases has no transferor.")})
    if not transferors and not acquiring:
        raise ValidationFailed(_("Invalid input."),
                               fields={"transferors": _("Give at least one transferor.")})
    if not transferees:
        raise ValidationFailed(_("Invalid input."),
                               fields={"transferees": _("Give at least one transferee.")})
    everyone = [(p, prefix) for p, prefix in transferors] + \
        [(p, prefix) for p, _share, prefix in transferees]
    problems = {_field(prefix, "citizen_id"): problem for p, prefix in everyone
                if (problem := citizen_id_problem(p.citizen_id)) is not None}
    if problems:
        raise ValidationFailed(_("A citizen id is not valid."), fields=problems)
    seen: dict[str, str] = {}
    for p, prefix in everyone:
        if p.citizen_id in seen:
            same_side = seen[p.citizen_id].startswith(prefix.split("[")[0].rstrip("s"))
            raise ValidationFailed(
                _("A person appears twice in the dossier.") if same_side else
                _("Transferor and transferee must be different people."),
                fields={_field(prefix, "citizen_id"): _("Same as the transferor.")
                        if not same_side else _("Given twice.")},
            )
        seen[p.citizen_id] = prefix
    if sum((share for _p, share, _prefix in transferees), Fraction(0)) != 1:
        raise ValidationFailed(
            _("The transferees' shares must add up to 1."),
            fields={"transferees": _("The shares add up to %(total)s, not 1.",
                                     total=str(sum((s for _p, s, _x in transferees), Fraction(0))))},
        )


def _parties_by_citizen_id(citizen_ids: list[str]) -> dict[str, Party]:
    """The parties known by these citizen ids, read in one statement."""
    if not citizen_ids:
        return {}
    return {party.citizen_id: party for party in db.session.scalars(
        select(Party).where(Party.citizen_id.in_(sorted(set(citizen_ids)))))}


def _party(data: PartyInput, field: str, known: dict[str, Party]) -> Party:
    """The party with this citizen id (``known``: those read already, by citizen id; a new
    party is added to it), or a new one; the name must be the same (compared in NFC form,
    case-folded) and is stored in NFC form."""
    party = known.get(data.citizen_id)
    if party is None:
        party = Party(full_name=holdings.normalise_name(data.full_name), citizen_id=data.citizen_id)
        db.session.add(party)
        known[data.citizen_id] = party
    elif not holdings.same_name(party.full_name, data.full_name):
        raise ValidationFailed(
            _("The citizen id belongs to someone with another name."),
            fields={_field(field, "name"): _("Does not match the name registered for this citizen id.")},
        )
    return party


def _require_role(user: User, *roles: Role) -> None:
    if user.role not in roles:
        raise Forbidden(_("Your role may not do this."))


#: The open dossier of each parcel locked in this transaction, read with the lock.
_OPEN_CODES = "landpay_open_dossier_codes"


def _lock_parcel(parcel_id: int) -> Parcel | None:
    """The parcel, its row locked: filings and completions of one parcel take turns. Its
    registry office and that office's tax office come in the same statement (not locked), and
    the code of its open dossier if it has one (``_refuse_if_open``)."""
    open_code = (select(Dossier.code).where(Dossier.parcel_id == Parcel.id,
                                            Dossier.status.not_in(CLOSED_STATUSES))
                 .limit(1).scalar_subquery())
    row = db.session.execute(
        select(Parcel, open_code).where(Parcel.id == parcel_id)
        .options(joinedload(Parcel.registry_office).joinedload(Office.tax_office))
        .with_for_update(of=Parcel)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        return None
    db.session.info.setdefault(_OPEN_CODES, {})[parcel_id] = row[1]
    return row[0]


def _lock_parcel_and_dossier(dossier_id: int) -> tuple[Parcel, Dossier]:
    """The dossier's parcel, then the dossier (the order filing locks them in too), both rows
    locked and read afresh in one statement, with the dossier's parties (not locked)."""
    parcel, dossier = db.session.execute(
        select(Parcel, Dossier).join(Dossier, Dossier.parcel_id == Parcel.id)
        .where(Dossier.id == dossier_id)
        .options(joinedload(Dossier.parties).joinedload(DossierParty.party))
        .with_for_update(of=[Parcel, Dossier])
        .execution_options(populate_existing=True)
    ).unique().one()
    set_committed_value(dossier, "parcel", parcel)  # the same row: no lookup when it is shown
    return parcel, dossier


def open_dossier(parcel_id: int) -> Dossier | None:
    """The parcel's open dossier (one at most: a partial unique index sees to it)."""
    return db.session.scalar(
        select(Dossier).where(Dossier.parcel_id == parcel_id,
                              Dossier.status.not_in(CLOSED_STATUSES)).limit(1)
    )


def _already_open(label: str, code: str) -> Conflict:
    return Conflict(
        _("Parcel %(parcel)s already has an open dossier, %(code)s: a new one can be filed "
          "once it is completed.", parcel=label, code=code),
        fields={"parcel_id": _("Open dossier %(code)s.", code=code)},
    )


def _refuse_if_open(parcel: Parcel) -> None:
    """Refuse a filing for a parcel with an open dossier: the one read with the parcel's lock
    (a filing committed while this one waited for the lock is not seen there: the partial
    unique index refuses the second open dossier then, ``file_transfer``), else looked up."""
    known = db.session.info.get(_OPEN_CODES, {})
    if parcel.id in known:
        code = known.pop(parcel.id)
    else:
        existing = open_dossier(parcel.id)
        code = existing.code if existing is not None else None
    if code is not None:
        raise _already_open(parcel.label, code)


def _check_procedure(data: TransferInput, parcel: Parcel) -> None:
    """The procedure and its own fields."""
    if data.procedure not in PROCEDURES:
        raise ValidationFailed(_("Unknown procedure."),
                               fields={"procedure": _("Choose from the list.")})
    if data.tax_payer_clause not in TAX_PAYER_CLAUSES:
        raise ValidationFailed(_("Invalid input."),
                               fields={"tax_payer_clause": _("Choose from the list.")})
    if data.tax_payer_clause != "default" and data.procedure != "transfer":
        raise ValidationFailed(
            _("Invalid input."),
            fields={"tax_payer_clause": _("Only a transfer's contract may move the tax.")})
    if data.relationship is not None and data.relationship not in RELATIONSHIPS:
        raise ValidationFailed(
            _("Unknown family relationship."), fields={"relationship": _("Choose from the list.")}
        )
    if data.procedure == "transfer" and not data.declared_price:
        raise ValidationFailed(_("Invalid input."),
                               fields={"declared_price": _("Enter a positive amount in dong.")})
    # Older clients send a transfer's fields with a gift or a change of use (they are
    # ignored there): only the fields of the later procedures, and every field given to one
    # of them, are held to ``OWN_FIELDS``.
    strict = data.procedure in ACQUIRING_PROCEDURES | {"extension"}
    foreign = {name: _("Not a field of this procedure.") for name, empty in _OPTIONAL_FIELDS.items()
               if getattr(data, name) != empty and name not in OWN_FIELDS[data.procedure]
               and (strict or name in _LATER_FIELDS)}
    if foreign:
        raise ValidationFailed(_("Invalid input."), fields=foreign)
    if data.procedure in ACQUIRING_PROCEDURES:
        current = holdings.current_holdings(parcel.id)
        if current:
            raise ValidationFailed(
                _("Parcel %(parcel)s already has holders (%(holders)s): the State recognises, "
                  "allocates or leases only land nobody holds.", parcel=parcel.label,
                  holders=holdings.holders_text(current)),
                fields={"parcel_id": _("The parcel already has holders.")})
    if data.procedure == "recognition" and data.recognition_kind not in RECOGNITION_KINDS:
        raise ValidationFailed(_("Invalid input."),
                               fields={"recognition_kind": _("Choose from the list.")})
    if data.procedure == "lease":
        problems = {}
        if data.rent_mode not in LEASES:
            problems["rent_mode"] = _("Choose from the list.")
        if data.lease_term_years is None or not 1 <= data.lease_term_years <= MAX_LEASE_YEARS:
            problems["lease_term_years"] = _("A whole number of years from 1 to %(n)s.",
                                             n=MAX_LEASE_YEARS)
        if data.rent_mode == "annual" and data.rent_rate is None:
            problems["rent_rate"] = _("Required for annual rent.")
        if data.rent_mode == "one_time" and data.rent_rate is not None:
            problems["rent_rate"] = _("Only annual rent has a rate.")
        if problems:
            raise ValidationFailed(_("Invalid input."), fields=problems)
    if data.procedure == "extension":
        if not data.months_extended or data.months_extended < 1:
            raise ValidationFailed(_("Invalid input."),
                                   fields={"months_extended": _("A whole number of months.")})
        if parcel.term_ends_on is None:
            raise ValidationFailed(
                _("Parcel %(parcel)s has no land use term on record to extend.",
                  parcel=parcel.label),
                fields={"parcel_id": _("No land use term on record.")})
    if data.procedure != "change_of_use":
        return
    if data.transferee is not None or data.transferees:
        raise ValidationFailed(
            _("Invalid input."),
            fields={"transferees": _("A change of use has no transferee.")})
    if data.new_land_type not in LAND_TYPES or data.new_land_type == parcel.land_type:
        raise ValidationFailed(
            _("Invalid input."),
            fields={"new_land_type": _("Choose a land type other than the parcel's.")})
    if (data.old_table_price_per_m2 is None) == (data.old_land_money is None):
        raise ValidationFailed(
            _("Invalid input."),
            fields={"old_table_price_per_m2": _("Give the old table price per m2 or the land "
                                                "money before (one of them).")})


def file_transfer(officer: User, data: TransferInput) -> Dossier:
    """File a dossier of any procedure (``PROCEDURES``), send it to tax at once and assess
    it. A transfer's, gift's or inheritance's transferors must be exactly the parcel's current
    holders; a recognition, allocation or lease is for a parcel nobody holds (its applicants
    are the transferees); a change of use or an extension is filed for the current holders.
    The parcel must have no open dossier."""
    _require_role(officer, Role.REGISTRY_OFFICER)
    transferors_in, transferees_in = _sides(data)
    if data.procedure not in PROCEDURES:
        raise ValidationFailed(_("Unknown procedure."),
                               fields={"procedure": _("Choose from the list.")})
    if data.procedure in HOLDER_PROCEDURES:
        if transferors_in or transferees_in:
            raise ValidationFailed(_("Invalid input."), fields={
                "transferees": _("This procedure is filed for the parcel's holders: give no "
                                 "parties.")})
    else:
        _check_parties(transferors_in, transferees_in,
                       acquiring=data.procedure in ACQUIRING_PROCEDURES)
    parcel = _lock_parcel(data.parcel_id)
    if parcel is None or parcel.registry_office_id != officer.office_id:
        raise ValidationFailed(
            _("Choose a parcel of your office."), fields={"parcel_id": _("Unknown parcel.")}
        )
    _check_procedure(data, parcel)
    office = officer.office
    if office is None or office.tax_office_id is None:
        raise ValidationFailed(_("Your office has no tax office configured."))
    if data.procedure in HOLDER_PROCEDURES:
        current = holdings.current_holdings(parcel.id)
        if not current:
            raise ValidationFailed(
                _("Parcel %(parcel)s has no holder on record.", parcel=parcel.label),
                fields={"parcel_id": _("No holder on record.")})
        parties = [DossierParty(party=h.party, role=PartyRole.HOLDER, position=position)
                   for position, h in enumerate(current, start=1)]
    elif data.procedure in ACQUIRING_PROCEDURES:
        parties = []
    else:
        field = "transferor" if data.transferor is not None and not data.transferors \
            else "transferors"
        transferors = holdings.check_transferors(
            parcel, [(p.full_name, p.citizen_id) for p, _prefix in transferors_in], field=field)
        parties = [DossierParty(party=party, role=PartyRole.TRANSFEROR, position=position)
                   for position, party in enumerate(transferors, start=1)]
    _refuse_if_open(parcel)
    if data.procedure not in HOLDER_PROCEDURES:
        known = _parties_by_citizen_id([p.citizen_id for p, _share, _prefix in transferees_in])
        for position, (p, share, prefix) in enumerate(transferees_in, start=1):
            parties.append(DossierParty(
                party=_party(p, prefix, known), role=PartyRole.TRANSFEREE, position=position,
                share_num=share.numerator, share_den=share.denominator))
    today = today_local()
    dossier = Dossier(
        code=_code("HS"),
        procedure=data.procedure,
        parcel=parcel,
        parcel_id=parcel.id,
        registry_office=office,
        registry_office_id=office.id,
        tax_office=office.tax_office,
        tax_office_id=office.tax_office_id,
        parties=parties,
        events=[],
        declared_price=data.declared_price or 0,
        relationship_kind=data.relationship,
        sole_residence=data.sole_residence,
        tax_payer_clause=data.tax_payer_clause,
        new_land_type=data.new_land_type if data.procedure == "change_of_use" else None,
        old_table_price_per_m2=data.old_table_price_per_m2,
        old_land_money=data.old_land_money,
        recognition_kind=data.recognition_kind,
        infrastructure_cost_per_m2=data.infrastructure_cost_per_m2,
        rent_mode=data.rent_mode,
        lease_term_years=data.lease_term_years,
        rent_rate=data.rent_rate,
        months_extended=data.months_extended,
        old_term_end=parcel.term_ends_on if data.procedure == "extension" else None,
        new_term_end=add_months(parcel.term_ends_on, data.months_extended)
        if data.procedure == "extension" else None,
        filed_by=officer,
        valid_on=today,
        due_on=add_working_days(today, registry_due_working_days(data.procedure)),
    )
    db.session.add(dossier)
    parcel_id, label = parcel.id, parcel.label
    try:
        # The dossier, its parties, its assessment and its notices (when auto-confirmed) are
        # written in one flush, every event of the filing after them in one batch.
        with workflow.recorded_after_flush(), db.session.no_autoflush:
            workflow.move(dossier, DossierStatus.FILED, actor=officer)
            workflow.record(
                dossier, "cadastral_data_sent_to_tax", actor=officer,
                data={"tax_office": dossier.tax_office.code},
            )
            _assess(dossier)
            db.session.flush()
    except IntegrityError:
        # Another filing for this parcel got in first (the database's partial unique index).
        db.session.rollback()
        existing = open_dossier(parcel_id)
        if existing is None:
            raise
        raise _already_open(label, existing.code) from None
    workflow.commit()
    return dossier


def _price_version(province: str, on: date) -> PriceTableVersion:
    version = price_version_in_force(province, on)
    if version is None:
        raise ValidationFailed(
            _("No land price table is in force for this province on this date."),
            fields={"parcel_id": _("No price table.")},
        )
    return version


#: The prices read from stored price table versions, per application: a version is never
#: changed once imported (a new table is a new version), so its prices are read once.
_TABLE_PRICES = "landpay_table_prices"
_TABLE_PRICES_KEPT = 100_000


def _table_price(version: PriceTableVersion, price_key: str, position: int,
                 land_type: str) -> int | None:
    """The version's price per m2 for a street segment, position and land type (None when
    the table has none), read once per version (its checksum in the key: a database restored
    under the same ids is another table)."""
    prices = current_app.extensions.setdefault(_TABLE_PRICES, {})
    key = (version.id, version.checksum, price_key, position, land_type)
    if key not in prices:
        if len(prices) >= _TABLE_PRICES_KEPT:
            prices.clear()
        prices[key] = db.session.scalar(select(PriceEntry.price_per_m2).where(
            PriceEntry.version_id == version.id, PriceEntry.price_key == price_key,
            PriceEntry.position == position, PriceEntry.land_type == land_type))
    return prices[key]


def build_case(dossier: Dossier) -> tuple[dict, dict]:
    """The dossier's case for the rules engine, with the prices in force on the valid date,
    and the versions of the data it used. A change of use is priced at the new land type."""
    parcel = dossier.parcel
    change_of_use = dossier.procedure == "change_of_use"
    land_type = dossier.new_land_type if change_of_use else parcel.land_type
    version = _price_version(parcel.province, dossier.valid_on)
    price_per_m2 = _table_price(version, parcel.price_key, parcel.position, land_type)
    if price_per_m2 is None:
        raise ValidationFailed(
            _("The parcel's street and position are not in the land price table."),
            fields={"new_land_type" if change_of_use else "parcel_id":
                    _("No price for this parcel.")},
        )
    coefficient, coefficient_version = adjustment_coefficient(
        parcel.province, parcel.price_key, land_type, dossier.valid_on,
        required=change_of_use or dossier.procedure == "allocation"
        or (dossier.procedure in {"transfer", "gift", "inheritance"}
            and _floor_uses_coefficient(dossier.valid_on)),
    )
    case_parcel = {
        "land_type": land_type,
        "area_m2": str(parcel.area_m2),
        "table_price_per_m2": price_per_m2,
        "adjustment_coefficient": str(coefficient),
    }
    if change_of_use:
        if dossier.old_land_money is not None:
            case_parcel["old_land_money"] = dossier.old_land_money
        else:
            case_parcel["old_table_price_per_m2"] = dossier.old_table_price_per_m2
    if dossier.procedure == "allocation" and dossier.infrastructure_cost_per_m2:
        case_parcel["infrastructure_cost_per_m2"] = dossier.infrastructure_cost_per_m2
    if dossier.procedure == "lease":
        case_parcel["lease"] = dossier.rent_mode
        case_parcel["lease_term_years"] = str(dossier.lease_term_years)
    case = {
        "procedure": _case_procedure(dossier),
        "valid_on": dossier.valid_on.isoformat(),
        "notice_date": today_local().isoformat(),
        "province": parcel.province,
        "price_table_version": version.label,
        "parcels": [case_parcel],
    }
    if dossier.procedure in {"transfer", "gift", "inheritance"}:
        case.update({
            "declared_price": dossier.declared_price if dossier.procedure == "transfer" else None,
            "relationship": dossier.relationship_kind,
            "sole_residence_183_days": dossier.sole_residence,
        })
    elif dossier.procedure == "recognition":
        case.update(recognition_kind=dossier.recognition_kind, first_certificate=True)
    elif dossier.procedure == "extension":
        case["months_extended"] = str(dossier.months_extended)
    elif dossier.procedure == "lease" and dossier.rent_mode == "annual":
        case.update(rent_rate=str(dossier.rent_rate), first_year=True,
                    tax_year=dossier.valid_on.year)
    return case, {"price_table": version.label, "adjustment_coefficients": coefficient_version}


def _case_procedure(dossier: Dossier) -> str:
    """The rules engine's procedure for the dossier's (a lease is its rent mode's)."""
    if dossier.procedure == "lease":
        return "land_rent_annual" if dossier.rent_mode == "annual" else "land_rent_one_time"
    return dossier.procedure


def _case_error(err: tax_calc.CaseError) -> ValidationFailed:
    """The rules engine's refusal, on the dossier's field it comes from (a parcel's value is
    the chosen parcel's)."""
    field = getattr(err, "field", "case") or "case"
    if field.startswith("parcels["):
        name = field.split(".", 1)[-1]
        field = name if name in _OPTIONAL_FIELDS else "parcel_id"
    return ValidationFailed(_("The obligations could not be assessed: %(reason)s",
                              reason=str(err)), fields={field: str(err)})


def _with_registration_fee(case: dict, result: tax_calc.Assessment) -> tax_calc.Assessment:
    """The assessment with the rules engine's registration fee line added (the engine lists
    the fee with transfers, gifts and inheritances only; a grant of the State is registered
    too). Computed by the engine's own rule on the same case."""
    parsed = tax_calc.case_from_dict(case)
    ctx = Ctx(parsed, None, None, None, None)
    with localcontext() as dec_ctx:
        dec_ctx.prec = 60  # as the engine does: exact until the one rounding
        line = registration_fee_line(ctx)
    versions = dict(result.rule_versions)
    for code, used in ctx.used.items():
        versions[code] = "+".join(sorted(set(versions.get(code, "").split("+")) - {""} | used))
    known = {(r.code, r.field) for r in result.review_reasons}
    return dataclasses.replace(
        result, lines=(*result.lines, line), rule_versions=tuple(sorted(versions.items())),
        review_reasons=(*result.review_reasons,
                        *(r for r in ctx.reasons if (r.code, r.field) not in known)))


def _floor_uses_coefficient(valid_on: date) -> bool:
    """Whether the income tax rule in force multiplies the table price by the adjustment
    coefficient (the rules engine's parameter; from 01/07/2026 it does)."""
    try:
        rule = tax_calc.rule_for("personal_income_tax", valid_on)
    except tax_calc.CaseError as err:
        raise ValidationFailed(
            _("The obligations could not be assessed: %(reason)s", reason=str(err)),
            fields={getattr(err, "field", "valid_on"): str(err)},
        ) from err
    return bool(rule.params["floor_uses_adjustment_coefficient"])


def _office_reason(code: str, text: Callable[[], str]) -> dict:
    """A reason of the tax office's own policy (not of the law), in the shape of the rules
    engine's ``ReviewReason.to_dict()``, its text in both languages."""
    with force_locale("vi"):
        text_vi = text()
    with force_locale("en"):
        text_en = text()
    return {"code": code, "field": "tax_office", "text_vi": text_vi, "text_en": text_en}


def review_reasons(result: tax_calc.Assessment, office) -> list[dict]:
    """Why the assessment waits for a tax officer: the rules engine's reasons (the law:
    a declared price below the floor, a claimed exemption...), then the office's policy."""
    reasons = [reason.to_dict() for reason in result.review_reasons]
    if not office.auto_confirm:
        reasons.append(_office_reason(
            "office_confirms_every_assessment",
            lambda: _("This office confirms every assessment"),
        ))
    elif office.auto_confirm_max_total is not None and result.total > office.auto_confirm_max_total:
        ceiling = office.auto_confirm_max_total
        reasons.append(_office_reason(
            "total_above_auto_confirmation_ceiling",
            lambda: _("Total above the auto-confirmation ceiling (%(ceiling)s VND)",
                      ceiling=format_decimal(ceiling)),
        ))
    return reasons


def assessment_lines(result: tax_calc.Assessment) -> list[AssessmentLine]:
    """The rules engine's lines as stored (an assessment's first version or an adjusted one)."""
    return [
        AssessmentLine(
            obligation=line.obligation,
            base=line.base,
            base_method=line.base_method,
            rate=str(line.rate),
            amount=line.amount,
            rounding=line.rounding,
            legal_basis=line.legal_basis,
            rule_version=line.rule_version,
            explanation_vi=line.explanation_vi,
            explanation_en=line.explanation_en,
            due_terms=[term.to_dict() for term in line.due_terms],
        )
        for line in result.lines
    ]


def _assess(dossier: Dossier) -> Assessment:
    case, data_versions = build_case(dossier)
    try:
        result = tax_calc.assess(case)
        if dossier.procedure in REGISTRATION_FEE_PROCEDURES:
            result = _with_registration_fee(case, result)
    except tax_calc.CaseError as err:
        raise _case_error(err) from err
    reasons = review_reasons(result, dossier.tax_office)
    assessment = Assessment(
        dossier=dossier,
        tax_office_id=dossier.tax_office_id,
        status=AssessmentStatus.PENDING,
        total=result.total,
        price_table_version=str(result.price_table_version),
        rule_versions={**dict(result.rule_versions), "data": data_versions},
        valid_on=result.valid_on,
        case=case,
        review_reasons=reasons,
    )
    assessment.lines.extend(assessment_lines(result))
    db.session.add(assessment)
    if reasons:
        workflow.move(
            dossier, DossierStatus.AWAITING_CONFIRMATION, actor_label="tax_calc",
            # The id once the assessment is written (workflow.recorded_after_flush).
            data={"assessment_id": lambda: assessment.id, "total": assessment.total,
                  "reasons": [reason["code"] for reason in reasons]},
        )
    else:
        _confirm(assessment, officer=None)
    return assessment


def _notice_line(line: AssessmentLine, issued: date) -> NoticeLine:
    """The notice line of an assessment line, its instalments dated for the issue date by
    the rules engine (no due-date arithmetic here)."""
    terms = [tax_calc.DueTerm.from_dict(term) for term in line.due_terms or ()]
    parts = tax_calc.schedule(line.amount, terms, issued)
    installments = [{"due_on": on.isoformat() if on else None, "amount": amount}
                    for on, amount in parts]
    return NoticeLine(
        assessment_line=line, obligation=line.obligation, amount=line.amount, paid=0, refunded=0,
        installments=installments, due_on=parts[-1][0] if parts else None,
    )


def _notice_due_on(lines: list[NoticeLine]) -> date | None:
    """What the landholder sees as "due by": the first date on which a part of the notice
    falls due (nothing is paid yet when a notice is issued). Paying the notice by then keeps
    every part on time; a later part's own date is on its line. None when nothing is due."""
    dates = [date.fromisoformat(part["due_on"]) for line in lines
             for part in line.installments if part["due_on"] and part["amount"] > 0]
    return min(dates, default=None)


def _confirm(assessment: Assessment, officer: User | None) -> list[Notice]:
    """Issue the notices: one per payer side (``line_payer``), each with its own lines, code
    and total; a notice with nothing to pay is fulfilled at once, and the dossier is paid
    when every notice is."""
    assessment.status = AssessmentStatus.CONFIRMED
    assessment.confirmed_at = datetime.now(LOCAL_TZ)
    assessment.confirmed_by = officer
    assessment.auto_confirmed = officer is None
    dossier = assessment.dossier
    issued = today_local()
    groups: dict[PartyRole, list[AssessmentLine]] = {}
    for line in assessment.lines:
        role = line_payer(dossier.procedure, dossier.tax_payer_clause, line.obligation)
        groups.setdefault(role, []).append(line)
    notices = []
    for role, lines_of in groups.items():
        lines = [_notice_line(line, issued) for line in lines_of]
        for notice_line in lines:
            treasury.stamp(notice_line, dossier.parcel.province)
        notice = Notice(
            code=_code("TB"),
            dossier=dossier,
            assessment=assessment,
            payer=dossier.parties_in(role)[0].party,
            payer_role=role.value,
            status=NoticeStatus.UNPAID,
            total=sum(line.amount for line in lines),
            due_on=_notice_due_on(lines),
            lines=lines,
        )
        db.session.add(notice)
        notices.append(notice)
    workflow.move(
        dossier, DossierStatus.AWAITING_PAYMENT,
        actor=officer, actor_label=None if officer else "auto-confirmation",
        data={"notice_code": notices[0].code, "total": assessment.total,
              "due_on": notices[0].due_on.isoformat() if notices[0].due_on else None,
              "notices": [{"notice_code": n.code, "payer_role": n.payer_role, "total": n.total,
                           "due_on": n.due_on.isoformat() if n.due_on else None}
                          for n in notices]},
    )
    for notice in notices:
        if notice.total == 0:
            # Nothing to pay (every line exempt): this part is fulfilled at once.
            notice.refresh_status()
            notice.paid_at = assessment.confirmed_at
    if all(n.status is NoticeStatus.PAID for n in notices):
        workflow.move(dossier, DossierStatus.PAID, actor_label="system",
                      data={"notice_code": notices[0].code, "exempt": True})
    return notices


def confirm_assessment(officer: User, assessment: Assessment) -> list[Notice]:
    """Confirm a pending assessment: its notices are issued. The assessment's row is locked
    here, so two officers confirming at once issue one set of notices."""
    _require_role(officer, Role.TAX_OFFICER)
    assessment = db.session.scalars(
        select(Assessment).where(Assessment.id == assessment.id)
        .options(joinedload(Assessment.lines),
                 joinedload(Assessment.dossier).joinedload(Dossier.parcel),
                 joinedload(Assessment.dossier).joinedload(Dossier.parties)
                 .joinedload(DossierParty.party))
        .with_for_update(of=Assessment)
        .execution_options(populate_existing=True)
    ).unique().one()
    if assessment.tax_office_id != officer.office_id:
        raise Forbidden(_("This assessment belongs to another tax office."))
    if assessment.status is not AssessmentStatus.PENDING:
        raise Conflict(_("This assessment is already confirmed."))
    workflow.require(workflow.Decision.CONFIRM, officer, assessment.dossier)
    from app.services.decisions import pending_adjustment

    if pending_adjustment(assessment.dossier) is not None:
        raise Conflict(_("An adjustment of this dossier waits for approval."))
    notices = _confirm(assessment, officer)
    workflow.commit()
    return notices


def complete_dossier(officer: User, dossier: Dossier) -> Dossier:
    """Complete a paid dossier in one transaction: a transfer, gift or inheritance closes the
    transferors' holdings and opens the transferees' with their shares, and issues the
    certificate number; a recognition, allocation or lease opens the applicants' holdings (a
    lease is recorded and sets the parcel's term); a change of use changes the parcel's land
    type, an extension moves its term's end (the event records before and after), and both
    keep its holders."""
    _require_role(officer, Role.REGISTRY_OFFICER)
    if dossier.registry_office_id != officer.office_id:
        raise Forbidden(_("This dossier belongs to another office."))
    # Lock the parcel, then the dossier (the order filing uses too): two officers completing
    # at once record one completion, and no filing reads holders that are being moved.
    parcel, dossier = _lock_parcel_and_dossier(dossier.id)
    now = datetime.now(UTC)
    certificate_no = holdings.certificate_number(dossier, now)
    data = {"certificate_no": certificate_no}
    if dossier.procedure == "change_of_use":
        data.update(land_type_before=parcel.land_type, land_type_after=dossier.new_land_type)
    if dossier.procedure == "extension":
        data.update(term_end_before=dossier.old_term_end.isoformat(),
                    term_end_after=dossier.new_term_end.isoformat())
    lease_start = now.astimezone(LOCAL_TZ).date()
    if dossier.procedure == "lease":
        data.update(rent_mode=dossier.rent_mode, lease_term_years=dossier.lease_term_years,
                    term_end=_lease_end(lease_start, dossier.lease_term_years).isoformat())
    from app.services.decisions import pending_adjustment

    if pending_adjustment(dossier) is not None:
        raise Conflict(_("An adjustment of this dossier waits for approval."))
    workflow.move(dossier, DossierStatus.COMPLETED, actor=officer, data=data)
    dossier.completed_at = now
    dossier.certificate_no = certificate_no
    if dossier.procedure in HOLDER_PROCEDURES:
        current = holdings.current_holdings(parcel.id)
        if {h.party_id for h in current} != {p.id for p in dossier.holders}:
            raise Conflict(
                _("The holders of parcel %(parcel)s are no longer the dossier's transferors; "
                  "the registry records: %(holders)s.", parcel=parcel.label,
                  holders=holdings.holders_text(current)))
    if dossier.procedure == "change_of_use":
        dossier.old_land_type = parcel.land_type
        parcel.land_type = dossier.new_land_type
    elif dossier.procedure == "extension":
        if parcel.term_ends_on != dossier.old_term_end:
            raise Conflict(_("The land use term of parcel %(parcel)s changed since the dossier "
                             "was filed.", parcel=parcel.label))
        parcel.term_ends_on = dossier.new_term_end
    else:
        holdings.move_holdings(
            dossier, dossier.transferors,
            [(p.party, p.share) for p in dossier.parties_in(PartyRole.TRANSFEREE)], now)
        if dossier.procedure == "lease":
            _record_lease(dossier, lease_start)
    workflow.commit()
    return dossier


def _lease_end(start: date, years: int) -> date:
    """The last day of a lease of ``years`` years from ``start``."""
    return add_months(start, 12 * years) - timedelta(days=1)


def _record_lease(dossier: Dossier, start: date) -> None:
    """Record the completed lease; its term is the parcel's. With annual rent the lease
    dossier's own notice is the first year's rent (the yearly batch issues the later ones)."""
    from app.models.annual import Lease, LeaseRentYear

    ends = _lease_end(start, dossier.lease_term_years)
    lease = Lease(parcel_id=dossier.parcel_id, dossier=dossier, rent_mode=dossier.rent_mode,
                  rent_rate=dossier.rent_rate, term_years=dossier.lease_term_years,
                  starts_on=start, ends_on=ends)
    db.session.add(lease)
    dossier.parcel.term_ends_on = ends
    if dossier.rent_mode == "annual":
        notice = db.session.scalar(select(Notice).where(Notice.dossier_id == dossier.id)
                                   .order_by(Notice.id).limit(1))
        db.session.add(LeaseRentYear(lease=lease, year=dossier.valid_on.year,
                                     notice_id=notice.id))
