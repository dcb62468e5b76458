from __future__ import annotations

import pytest
from paykit import MERCHANT, SECRET, serving

import mock_bank


@pytest.fixture
def bank_url(tmp_path):  # type: ignore[no-untyped-def]
    """A running test bank with test hooks; its notifications go to a closed port."""
    app = mock_bank.create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/bank.sqlite3",
            "MERCHANTS": f"{MERCHANT}:{SECRET}:http://127.0.0.1:9/notify",
            "SECRET_KEY": "test-key",
            "TEST_HOOKS": True,
            "IPN_ATTEMPTS": 1,
            "IPN_TIMEOUT": 0.5,
        }
    )
    with serving(app) as url:
        yield url
