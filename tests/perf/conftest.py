"""The perf tests use the data set of tests/app (with the adjustment coefficients a transfer's
income tax needs)."""

from tests.app.conftest import pg_world, world  # noqa: F401
