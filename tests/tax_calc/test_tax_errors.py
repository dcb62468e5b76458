"""Bad cases raise CaseError (a ValueError) naming the field."""

from __future__ import annotations

import pytest
from helpers_tax import transfer_case

import tax_calc
from tax_calc import CaseError


@pytest.mark.parametrize(
    ("case", "field"),
    [
        (transfer_case(parcel={"land_type": "castle"}), "parcels[0].land_type"),
        (transfer_case(parcel={"area_m2": "-1"}), "parcels[0].area_m2"),
        (transfer_case(parcel={"area_m2": 120.5}), "parcels[0].area_m2"),  # float refused
        (transfer_case(parcel={"area_m2": "abc"}), "parcels[0].area_m2"),
        (transfer_case(parcel={"area_m2": "1e30"}), "parcels[0].area_m2"),  # absurdly large
        (transfer_case(parcel={"area_m2": "1e-30"}), "parcels[0].area_m2"),  # absurdly precise
        (transfer_case(declared_price="9" * 40), "declared_price"),
        (transfer_case(parcel={"table_price_per_m2": None}), "parcels[0].table_price_per_m2"),
        (transfer_case(parcel={"table_price_per_m2": "1.5"}), "parcels[0].table_price_per_m2"),
        (transfer_case(parcel={"adjustment_coefficient": "0"}),
         "parcels[0].adjustment_coefficient"),
        (transfer_case(parcel={"apartment": True}), "parcels[0].allocation_coefficient"),
        (transfer_case(parcel={"colour": "red"}), "parcels[0].colour"),
        (transfer_case(valid_on="2020-01-01"), "valid_on"),  # no rule covers the date
        (transfer_case(valid_on="27/11/2026"), "valid_on"),
        (transfer_case(valid_on=None), "valid_on"),
        (transfer_case(notice_date="2026-13-01"), "notice_date"),
        (transfer_case(declared_price=None), "declared_price"),
        (transfer_case(declared_price=-5), "declared_price"),
        (transfer_case(relationship="cousin"), "relationship"),
        (transfer_case(sole_residence_183_days="yes"), "sole_residence_183_days"),
        (transfer_case(procedure="sale"), "procedure"),
        (transfer_case(parcels=[]), "parcels"),
        (transfer_case(parcels="x"), "parcels"),
        (transfer_case(surprise=1), "surprise"),
        (transfer_case(price_table_version="HCM-1999", parcels=[
            {"land_type": "residential", "area_m2": "1", "zone_code": "Z"}]),
         "price_table_version"),
        (transfer_case(parcels=[{"land_type": "residential", "area_m2": "1",
                                 "zone_code": "HCM-NOWHERE"}]), "parcels[0].table_price_per_m2"),
        ({"procedure": "non_agricultural_tax", "valid_on": "2027-01-01",
          "parcels": [{"land_type": "residential", "area_m2": "1", "table_price_per_m2": 1}]},
         "parcels[0].quota_m2"),
        ({"procedure": "extension", "valid_on": "2027-01-01",
          "parcels": [{"land_type": "residential", "area_m2": "1", "table_price_per_m2": 1}]},
         "months_extended"),
        ({"procedure": "recognition", "valid_on": "2025-06-01",
          "recognition_kind": "without_authority_no_payment_proof",
          "parcels": [{"land_type": "residential", "area_m2": "1", "table_price_per_m2": 1}]},
         "valid_on"),
        ({"procedure": "change_of_use", "valid_on": "2027-01-01",
          "parcels": [{"land_type": "residential", "area_m2": "1", "table_price_per_m2": 1}]},
         "parcels[0].old_table_price_per_m2"),
        ({"procedure": "land_rent_one_time", "valid_on": "2027-01-01",
          "parcels": [{"land_type": "commercial", "area_m2": "1", "table_price_per_m2": 1}]},
         "parcels[0].lease_term_years"),
        ({"procedure": "late_interest", "valid_on": "2027-01-01", "amount": 1},
         "due_date"),
        ([], "case"),
    ],
)
def test_bad_case_names_the_field(case, field):
    with pytest.raises(CaseError) as exc:
        tax_calc.assess(case)
    assert exc.value.field == field
    assert isinstance(exc.value, ValueError)
    assert str(exc.value).startswith(field)
