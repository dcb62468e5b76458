"""The obligation calculator's forms: one per procedure, each asking for what its procedure
needs, in the reader's language, and turned into the rules engine's case (the JSON that
POST /api/v1/tax/assess takes)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from app.forms import AmountField
from tax_calc.parse import LAND_TYPES

#: The procedures the calculator offers as forms (the others: the JSON form, or the API).
PROCEDURES = {
    "transfer": _l("Transfer"),
    "gift": _l("Gift"),
    "inheritance": _l("Inheritance"),
    "allocation": _l("Land allocation with land use levy"),
    "change_of_use": _l("Change of land use purpose"),
    "recognition": _l("First certificate: recognition of land use rights"),
    "extension": _l("Extension of the land use term"),
    "land_rent_annual": _l("Annual land rent"),
    "land_rent_one_time": _l("One-time land rent"),
    "non_agricultural_tax": _l("Non-agricultural land use tax"),
    "late_interest": _l("Late-payment interest"),
}
_PARCEL = ("land_type", "area_m2", "table_price_per_m2", "adjustment_coefficient")
#: The fields each procedure's form asks for, in order.
FIELDS: dict[str, tuple[str, ...]] = {
    "transfer": ("valid_on", "notice_date", *_PARCEL, "declared_price", "relationship",
                 "sole_residence_183_days"),
    "gift": ("valid_on", "notice_date", *_PARCEL, "relationship"),
    "inheritance": ("valid_on", "notice_date", *_PARCEL, "relationship"),
    "allocation": ("valid_on", "notice_date", *_PARCEL, "infrastructure_cost_per_m2",
                   "first_certificate"),
    "change_of_use": ("valid_on", "notice_date", *_PARCEL, "old_table_price_per_m2", "quota_m2",
                      "special_same_parcel"),
    "recognition": ("valid_on", "notice_date", *_PARCEL),
    "extension": ("valid_on", "notice_date", *_PARCEL, "months_extended"),
    "land_rent_annual": ("valid_on", "tax_year", *_PARCEL, "rent_rate_percent", "first_year"),
    "land_rent_one_time": ("valid_on", "notice_date", *_PARCEL, "lease_term_years"),
    "non_agricultural_tax": ("valid_on", "tax_year", *_PARCEL, "quota_m2"),
    "late_interest": ("valid_on", "amount", "due_date", "paid_on"),
}
#: Fields that belong to the parcel in the engine's case; the rest belong to the case.
_PARCEL_FIELDS = {"land_type", "area_m2", "table_price_per_m2", "adjustment_coefficient",
                  "infrastructure_cost_per_m2", "old_table_price_per_m2", "quota_m2",
                  "lease_term_years"}
#: What a procedure's case always says, whatever is typed: (case keys, parcel keys).
_FIXED: dict[str, tuple[dict, dict]] = {
    "recognition": ({"recognition_kind": "without_authority_no_payment_proof"}, {}),
    "land_rent_annual": ({}, {"lease": "annual"}),
    "land_rent_one_time": ({}, {"lease": "one_time"}),
}
_DECIMAL_TEXT = re.compile(r"[0-9]{1,12}(?:[.,][0-9]{1,6})?")
_LAND_TYPE_NAMES = {
    "residential": _l("Residential land"),
    "agricultural": _l("Agricultural land"),
    "commercial": _l("Commercial and service land"),
    "production_business": _l("Non-agricultural production and business land"),
    "non_agricultural_other": _l("Other non-agricultural land"),
}


def _decimal_text(form, field):
    """A decimal written with a point or a comma ("120.5", "120,5"), kept as exact text."""
    text = (field.data or "").strip()
    if not text:
        return
    if not _DECIMAL_TEXT.fullmatch(text):
        raise ValidationError(_("Enter a number such as 120.5."))
    field.data = text.replace(",", ".")


def _field(name: str):
    """A new field of the calculator's forms (labels translated, amounts with separators)."""
    from app.registry import RELATIONSHIP_CHOICES

    required = InputRequired(message=_l("This field is required."))
    positive = NumberRange(min=0, max=10**15, message=_l("Enter a positive amount in dong."))
    catalogue = {
        "valid_on": lambda: DateField(_l("Date the dossier became valid"), validators=[required],
                                      default=date.today),
        "notice_date": lambda: DateField(_l("Date of the notice (optional: due dates count from it)"),
                                         validators=[Optional()]),
        "tax_year": lambda: IntegerField(_l("Tax year"), default=lambda: date.today().year,
                                         validators=[required, NumberRange(min=2012, max=2100)]),
        "land_type": lambda: SelectField(
            _l("Land type"), default="residential",
            choices=[SelectChoice(c, _LAND_TYPE_NAMES.get(c, c)) for c in sorted(LAND_TYPES)]),
        "area_m2": lambda: StringField(_l("Area (m²)"), validators=[required, _decimal_text]),
        "table_price_per_m2": lambda: AmountField(_l("Price-table price per m² (VND)"),
                                                  validators=[required, positive]),
        "adjustment_coefficient": lambda: StringField(_l("Adjustment coefficient of the province"),
                                                      default="1", validators=[Optional(), _decimal_text]),
        "declared_price": lambda: AmountField(_l("Declared contract price (VND)"),
                                              validators=[required, positive]),
        "relationship": lambda: SelectField(_l("Family relationship"), choices=RELATIONSHIP_CHOICES,
                                            default=""),
        "sole_residence_183_days": lambda: BooleanField(
            _l("Transferor's sole residence, held at least 183 days, transferred whole")),
        "infrastructure_cost_per_m2": lambda: AmountField(_l("Infrastructure cost per m² (VND)"),
                                                          validators=[Optional(), positive]),
        "first_certificate": lambda: BooleanField(_l("First certificate")),
        "old_table_price_per_m2": lambda: AmountField(_l("Table price per m2 of the land before (VND)"),
                                                      validators=[required, positive]),
        "quota_m2": lambda: StringField(_l("Residential allocation quota (m²)"),
                                        validators=[Optional(), _decimal_text]),
        "special_same_parcel": lambda: BooleanField(
            _l("Garden or pond land in the same residential parcel (30% / 50% / 100% by quota)")),
        "months_extended": lambda: IntegerField(_l("Months of extension"),
                                                validators=[required, NumberRange(min=1, max=24)]),
        "rent_rate_percent": lambda: StringField(_l("Annual rent rate of the province (%)"),
                                                 default="1", validators=[required, _decimal_text]),
        "first_year": lambda: BooleanField(_l("First year of the lease")),
        "lease_term_years": lambda: StringField(_l("Lease term (years)"),
                                                validators=[required, _decimal_text]),
        "amount": lambda: AmountField(_l("Amount paid late (VND)"), validators=[required, positive]),
        "due_date": lambda: DateField(_l("Date it was due"), validators=[required]),
        "paid_on": lambda: DateField(_l("Date it is paid"), validators=[required]),
    }
    return catalogue[name]()


def procedure_form(procedure: str) -> FlaskForm:
    """The calculator's form for ``procedure``: its own fields, and the CSRF token."""
    fields = {name: _field(name) for name in FIELDS[procedure]}
    return type(f"Calculator_{procedure}", (FlaskForm,), fields)()


def case_from_form(procedure: str, form: FlaskForm) -> dict:
    """The engine's case (the JSON the API takes) from a procedure's form."""
    fixed_case, fixed_parcel = _FIXED.get(procedure, ({}, {}))
    case: dict = {"procedure": procedure, **fixed_case}
    parcel: dict = dict(fixed_parcel)
    for name in FIELDS[procedure]:
        value = form[name].data
        if name == "relationship":
            value = value or ("other" if procedure in ("gift", "inheritance") else None)
            case[name] = value
            continue
        if value is None or value == "":
            continue
        if name == "rent_rate_percent":
            case["rent_rate"] = str((Decimal(value) / 100).normalize())
            continue
        if isinstance(value, date):
            value = value.isoformat()
        (parcel if name in _PARCEL_FIELDS else case)[name] = value
    if parcel:
        case["parcels"] = [parcel]
    return case


def field_of(error_field: str, form: FlaskForm | None) -> str | None:
    """The form's field an engine error names ("parcels[0].area_m2" is ``area_m2``)."""
    if form is None:
        return None
    name = error_field.rsplit(".", 1)[-1]
    if name == "rent_rate":
        name = "rent_rate_percent"
    return name if name in form else None
