"""The shared World with the adjustment coefficients the income tax rule needs, and an unpaid
notice of the buyer's to pay without an account."""

from __future__ import annotations

import pytest

from tests.app.conftest import add_coefficients
from tests.conftest import World


@pytest.fixture
def world(app):
    built = World(app)
    add_coefficients(app, {"*": "1.0"})
    return built


@pytest.fixture
def unpaid(world):
    """(notice code, citizen id of the party who owes it)."""
    _dossier, code = world.file_and_confirm()
    return code, world.buyer_party[1]
