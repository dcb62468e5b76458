"""The short crash trials of ``make soak`` (scripts/soak.py) on PostgreSQL: the web process
is killed with SIGKILL while payments and bank notifications are in flight, the portal is
down for a while, and afterwards the books must balance in the three databases."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, REQUIRE_PG, worker_id
from tests.stack import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


def _postgres_or_skip() -> None:
    engine = create_engine(PG_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # noqa: BLE001 - any reason it cannot be reached
        if REQUIRE_PG:
            raise RuntimeError(f"PostgreSQL is required but not usable at {PG_URL}: {err}") from err
        pytest.skip(f"PostgreSQL not available: {err}")
    finally:
        engine.dispose()


def test_kills_mid_flight_lose_no_money_and_no_event(tmp_path):
    _postgres_or_skip()
    report = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "soak.py"), "--short", "--seed", "11",
         "--postgres-url", PG_URL, "--db-prefix", f"landpay_soakt_{worker_id()}", "--report", str(report)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    output = done.stdout[-6000:] + done.stderr[-3000:]
    assert report.exists(), output
    figures = json.loads(report.read_text())
    assert figures["error"] is None, output
    assert figures["violations"] == [], output
    assert done.returncode == 0, output
    # Not vacuous: every trial killed the app while something was in flight, the kills broke
    # requests or notifications that recovery then had to make good, and the portal was down
    # while events waited for it.
    assert figures["trials"] == figures["kills"] == 2, output
    assert figures["kills_with_work_in_flight"] == 2, output
    assert figures["broken_requests"] + figures["failed_notifications"] > 0, output
    assert figures["portal_outages"] == 1 and figures["waited_for_portal"] > 0, output
    books = figures["books"]
    assert books["bank_paid"] == books["counted"] == books["receipts"] == books["paid_notices"] == 8, output
    assert books["portal_events"] == books["events"] > 0, output
