from __future__ import annotations

import pytest

from tests.stack import start_portal


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """One real test portal process (HTTP, its own SQLite database) for the module."""
    running = start_portal(tmp_path_factory.mktemp("portal"))
    yield running
    running.stop()


@pytest.fixture
def fresh_portal(portal):
    portal.hook("POST", "/reset")
    return portal


def configure(app, portal, **overrides):
    app.config.update({"PORTAL_BASE_URL": portal.url, "PORTAL_TIMEOUT": 3, "PORTAL_RETRY_BASE": 0.01,
                       "PORTAL_RETRY_MAX": 0.05, "PORTAL_MAX_ATTEMPTS": 50, **overrides})
    return app
