from __future__ import annotations

import pytest

from tests.conftest import _postgres_database, worker_id
from tests.stack import start_stack


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stack(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stack")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'landpay.db'}"
    else:
        url = _postgres_database(f"landpay_e2e_{worker_id()}")
    running = start_stack(tmp, url)
    yield running
    running.stop()
