"""The World of tests/conftest.py, with the adjustment coefficients its province needs: the
income tax rule in force from 01/07/2026 multiplies the table price by them, and a dossier
filed without a table in force is refused."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import World


def add_coefficients(app, rows: dict[str, str], *, label: str = "HCM-K-TEST-1",
                     province: str = "HCM", effective_from: date = date(2026, 1, 1),
                     effective_to: date | None = None) -> None:
    """An adjustment coefficient table: ``rows`` maps a zone code ("*" for every zone) to
    the residential coefficient."""
    from app.extensions import db
    from app.models import DataTable

    with app.app_context():
        db.session.add(DataTable(
            kind="adjustment_coefficients", province=province, label=label,
            effective_from=effective_from, effective_to=effective_to, source="test data",
            checksum="2" * 64,
            rows=[{"zone_code": zone, "land_type": "residential", "coefficient": coefficient}
                  for zone, coefficient in rows.items()],
        ))
        db.session.commit()


@pytest.fixture
def world(app):
    built = World(app)
    add_coefficients(app, {"*": "1.0"})
    return built


@pytest.fixture
def pg_world(pg_app):
    built = World(pg_app)
    add_coefficients(pg_app, {"*": "1.0"})
    return built
