"""Over real HTTP, separate processes: a payment the bank took twice is refunded by the refund
worker through the mock bank, and the bank's books then equal LandPay's, order by order."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.e2e.test_flow_http import PAYS, Api, file_dossier, pay_at_bank
from tests.stack import BACKENDS, ROOT, stack_database, start_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("refund-stack")
    running = start_stack(tmp, stack_database(request.param, tmp, "refunds"), extra_parcels=1)
    yield running
    running.stop()


def _landpay_books(database_url: str) -> dict[str, dict[str, int]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            paid = conn.execute(text(
                "SELECT ref, amount FROM payment_orders WHERE status = 'succeeded'")).all()
            refunded = dict(conn.execute(text(
                "SELECT p.ref, SUM(r.amount) FROM refunds r JOIN payment_orders p ON p.id = r.payment_id "
                "WHERE r.state = 'succeeded' GROUP BY p.ref")).all())
    finally:
        engine.dispose()
    return {ref: {"paid": amount, "refunded": int(refunded.get(ref, 0))} for ref, amount in paid}


def test_duplicate_refunded_through_the_bank_and_books_agree(stack):
    _code, notice = file_dossier(stack)
    buyer = Api(stack.app_url, "binh")
    first = buyer.post(f"/notices/{notice}/payments").json()
    second = buyer.post(f"/notices/{notice}/payments").json()  # the first expires here
    assert pay_at_bank(stack, second["redirect_url"], PAYS)["response_code"] == "00"
    # The payer also confirms the first, older bank page: the bank takes the money again.
    assert pay_at_bank(stack, first["redirect_url"], PAYS)["response_code"] == "00"
    assert buyer.get(f"/payments/{first['ref']}").json()["status"] == "succeeded"

    run = [sys.executable, "-m", "flask", "send-refunds"]
    done = subprocess.run(run, cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "requested (duplicate" in done.stdout and "refunded" in done.stdout

    bank = requests.get(f"{stack.bank_url}/test/books", timeout=10).json()
    ours = _landpay_books(stack.env["DATABASE_URL"])
    theirs = {ref: {"paid": o["paid"], "refunded": o["refunded"]} for ref, o in bank["orders"].items()}
    assert theirs == ours
    assert ours[first["ref"]]["refunded"] == ours[first["ref"]]["paid"]
    assert ours[second["ref"]]["refunded"] == 0
    assert bank["refunded_to_accounts"] == {PAYS: ours[first["ref"]]["paid"]}
