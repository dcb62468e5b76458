"""Counting the SQL statements a request sends to the database, and one whole transfer flow
over the API step by step: what ``bench/bench_statements.py`` prints and what
``tests/perf/test_statement_budgets.py`` holds to budgets.

Every statement the driver executes is counted (``before_cursor_execute``: a batched insert
sent as one ``executemany`` counts once, as it is one round trip); transaction control
(``BEGIN``, ``COMMIT``) is not a statement and is counted apart, as commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class Count:
    """What one counted block sent: its statements (the text of each) and its commits."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0

    def __len__(self) -> int:
        return len(self.statements)


@contextmanager
def counting(engine: Engine) -> Iterator[Count]:
    """Count what ``engine`` executes inside the block, on any of its connections."""
    found = Count()

    def before(_conn, _cursor, statement, _params, _context, _executemany):
        found.statements.append(statement)

    def commit(_conn):
        found.commits += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", commit)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)


#: The steps of one transfer, in order, as the bench prints them.
STEPS = ("file", "confirm", "start payment", "bank notification", "payment state", "receipt",
         "complete")


def transfer_flow(app, world) -> dict[str, Count]:
    """Drive one transfer through the API (filing to completion, the bank's notification in
    between) on ``world``'s first parcel, and count each step's statements. A first transfer
    of another parcel of the same street goes through uncounted, so the counts are those of a
    running server (what it reads once, such as a price table's prices, it has read). Each
    request is checked for the answer the flow needs, so a count is never that of a failed
    step."""
    from app.auth import issue_token

    with app.app_context():
        tokens = {name: issue_token(world.user(name))[0] for name in ("registry", "tax", "binh")}
    client = app.test_client()
    _flow(client, tokens, world, world.add_parcel(), {})
    counts: dict[str, Count] = {}
    _flow(client, tokens, world, world.parcel_id, counts)
    return counts


def _flow(client, tokens: dict[str, str], world, parcel_id: int, counts: dict[str, Count]) -> None:
    from app.extensions import db
    from tests.app.bank import notification

    with client.application.app_context():
        engine = db.engine

    def step(name: str, method: str, url: str, *, status: int, user: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {tokens[user]}"} if user else None
        with counting(engine) as count:
            response = client.open(url, method=method, headers=headers, **kwargs)
        assert response.status_code == status, (name, response.status_code, response.get_data(as_text=True))
        counts[name] = count
        return response

    filed = step("file", "POST", "/api/v1/dossiers", status=201, user="registry", json={
        "parcel_id": parcel_id,
        "transferor": {"full_name": world.seller_party[0], "citizen_id": world.seller_party[1]},
        "transferee": {"full_name": world.buyer_party[0], "citizen_id": world.buyer_party[1]},
        "declared_price": 12_000_000_000, "tax_payer_clause": "buyer_pays_all",
    }).get_json()
    assert filed["status"] == "awaiting_confirmation", filed["status"]
    notice = step("confirm", "POST", f"/api/v1/assessments/{filed['assessment']['id']}/confirm",
                  status=201, user="tax").get_json()
    payment = step("start payment", "POST", f"/api/v1/notices/{notice['code']}/payments",
                   status=201, user="binh").get_json()
    answer = step("bank notification", "POST", "/bank/notify", status=200,
                  data=notification(payment["ref"], payment["amount"])).get_json()
    assert answer["RspCode"] == "00", answer
    paid = step("payment state", "GET", f"/api/v1/payments/{payment['ref']}", status=200,
                user="binh").get_json()
    assert paid["status"] == "succeeded", paid
    step("receipt", "GET", f"/api/v1/receipts/{paid['receipt_number']}", status=200, user="binh")
    done = step("complete", "POST", f"/api/v1/dossiers/{filed['code']}/complete", status=200,
                user="registry").get_json()
    assert done["status"] == "completed", done["status"]


#: The list pages counted at two lengths: (who, path). A list's count should not grow with it.
LISTS = (
    ("registry", "/api/v1/dossiers"),
    ("tax", "/api/v1/assessments"),
    ("binh", "/api/v1/notices"),
    ("registry", "/registry/"),
    ("tax", "/tax/"),
    ("binh", "/me/"),
)


def list_counts(app, world, sizes=(10, 100)) -> dict[int, dict[str, int]]:
    """Statements of each list page (``LISTS``) when the office has ``sizes`` dossiers, each
    confirmed (so each has a notice the buyer sees). Returns {size: {"who path": count}}."""
    from app.auth import issue_token
    from app.extensions import db
    from tests.conftest import login

    with app.app_context():
        tokens = {name: issue_token(world.user(name))[0] for name in ("registry", "tax", "binh")}
        engine = db.engine
    pages = {}
    for name in ("registry", "tax", "binh"):
        pages[name] = app.test_client()
        login(pages[name], name)
    found: dict[int, dict[str, int]] = {}
    made = 0
    for size in sizes:
        while made < size:
            world.file_and_confirm(parcel=world.add_parcel())
            made += 1
        found[size] = {}
        for who, path in LISTS:
            api = path.startswith("/api/")
            client = app.test_client() if api else pages[who]
            headers = {"Authorization": f"Bearer {tokens[who]}"} if api else None
            with counting(engine) as count:
                response = client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
            found[size][f"{who} {path}"] = len(count)
    return found
