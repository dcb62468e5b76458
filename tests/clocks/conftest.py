"""The World with the adjustment coefficients the flow needs (as in tests/app)."""

from __future__ import annotations

import pytest

from tests.app.conftest import add_coefficients
from tests.conftest import World


@pytest.fixture
def world(app):
    built = World(app)
    add_coefficients(app, {"*": "1.0"})
    return built
