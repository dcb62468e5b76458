"""Every list is served by indexes: on a large generated table (200,000 dossiers with their
parcels, parties, assessments, notices and events), the query each list runs, built by the
same code the pages and the API use (app/services/lists.py, paged by app/services/pages.py),
runs on PostgreSQL without reading the whole of dossiers, assessments, notices or events: no
Seq Scan of them, and no more than a few thousand of their rows read for a page (an index
walked end to end, or rows read and dropped by a filter, would read a part of the table that
grows with it), on its first page and on a later one. Then the pages and the API are asked for
those lists and every statement they run is checked the same way."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import event, select

from tests.conftest import PASSWORD, login
from tests.lists.generate import generate

pytestmark = pytest.mark.postgres

#: Tables a list must never read whole.
GUARDED = {"dossiers", "assessments", "notices", "events"}


#: At most this many rows of a guarded table read for one page (the tables hold 200,000 to
#: 600,000): a page reads its own rows, not a part of the table that grows with it.
MAX_READ = 5000


def seq_scans(plan) -> list[str]:
    """What a plan (EXPLAIN ANALYZE, FORMAT JSON) does wrong with the guarded tables: a
    sequential scan of one, or more than ``MAX_READ`` of its rows read (an index walked end to
    end, rows read and dropped by a filter)."""
    found = []

    def walk(node):
        table = node.get("Relation Name")
        if table in GUARDED:
            if node.get("Node Type") == "Seq Scan":
                found.append(f"Seq Scan of {table}")
            read = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                    + node.get("Rows Removed by Index Recheck", 0)) * node.get("Actual Loops", 1)
            if read > MAX_READ:
                found.append(f"{read} rows of {table} read ({node['Node Type']})")
        for child in node.get("Plans", ()):
            walk(child)

    for root in plan:
        walk(root["Plan"])
    return found


def rows_read(plan) -> int:
    """How many rows of the guarded tables the plan read, all nodes together."""
    def walk(node):
        own = 0
        if node.get("Relation Name") in GUARDED:
            own = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
                   + node.get("Rows Removed by Index Recheck", 0)) * node.get("Actual Loops", 1)
        return own + sum(walk(child) for child in node.get("Plans", ()))

    return sum(walk(root["Plan"]) for root in plan)


def explain(conn, sql: str, params=None):
    raw = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params or {}).scalar_one()
    return json.loads(raw) if isinstance(raw, str) else raw


@pytest.fixture
def big(pg_app, pg_world):
    from app.extensions import db
    from app.models import Party, Role, User

    with pg_app.app_context():
        with db.engine.begin() as conn:
            ids = generate(conn)
        # A landholder of the generated data: a transferor of some dossiers and the
        # transferee (payer) of others.
        party = db.session.get(Party, ids["p0"] + 8)
        user = User(username="gen", full_name=party.full_name, role=Role.LANDHOLDER, party=party)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        ids["citizen_id"] = party.citizen_id
    yield ids
    # Emptied at once: deleting row by row (as after other tests) checks every reference of
    # every row.
    with pg_app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} CASCADE")


def cases(big):
    from app.services import lists
    from app.services.lists import Filters as F

    citizen = big["citizen_id"]
    return [
        ("registry inbox", "registry", lambda u: lists.dossiers(u, F())),
        ("registry inbox, one state", "registry", lambda u: lists.dossiers(u, F(status="paid"))),
        ("registry inbox, dates", "registry",
         lambda u: lists.dossiers(u, F(since=date(2024, 6, 1), until=date(2024, 6, 30)))),
        ("registry inbox, code", "registry", lambda u: lists.dossiers(u, F(code="HSG000000010"))),
        ("registry inbox, citizen id", "registry", lambda u: lists.dossiers(u, F(citizen_id=citizen))),
        ("registry inbox, parcel", "registry", lambda u: lists.dossiers(u, F(parcel="G10/10"))),
        ("registry, paid and ready", "registry", lambda u: lists.paid_ready(u)),
        ("tax office's dossiers", "tax", lambda u: lists.dossiers(u, F())),
        ("every dossier", "admin", lambda u: lists.dossiers(u, F())),
        ("every dossier, one state", "admin", lambda u: lists.dossiers(u, F(status="awaiting_payment"))),
        ("landholder's dossiers", "gen", lambda u: lists.dossiers(u, F())),
        ("tax queue", "tax", lambda u: lists.assessments(u, F(status="pending"))),
        ("tax queue, dates", "tax2",
         lambda u: lists.assessments(u, F(status="pending", since=date(2025, 1, 1), until=date(2025, 3, 1)))),
        ("tax queue, code", "tax", lambda u: lists.assessments(u, F(code="HSG000000010"))),
        ("tax office's assessments", "tax", lambda u: lists.assessments(u, F(), with_lines=True)),
        ("every assessment", "admin", lambda u: lists.assessments(u, F(status="pending"))),
        ("recently confirmed", "tax", lambda u: lists.recently_confirmed(u)),
        ("landholder's notices", "gen", lambda u: lists.notices(u, F())),
        ("landholder's notices, unpaid", "gen", lambda u: lists.notices(u, F(status="unpaid"), full=True)),
        ("tax office's notices", "tax", lambda u: lists.notices(u, F(), full=True)),
        ("registry office's notices", "registry2", lambda u: lists.notices(u, F())),
        ("every notice", "admin", lambda u: lists.notices(u, F())),
        ("notices, payer", "tax", lambda u: lists.notices(u, F(citizen_id=citizen))),
        ("notices, code", "tax", lambda u: lists.notices(u, F(code="TBG000000010"))),
        ("landholder's annual notices", "gen", lambda u: lists.annual_notices(u, F())),
        ("reconciliation queue", "accountant", lambda u: lists.reconciliation_items(F(status="open"))),
        ("dead letter", "admin", lambda u: lists.dead_letter()),
        ("parcels", "registry", lambda u: lists.parcels(u)),
    ]


def test_every_list_query_is_served_by_indexes(pg_app, pg_world, big):
    from app.extensions import db
    from app.models import User
    from app.services import pages

    problems = []
    with pg_app.app_context():
        dialect = db.engine.dialect
        with db.engine.connect() as conn:
            for name, username, build in cases(big):
                user = db.session.scalar(select(User).where(User.username == username))
                listing = build(user)
                first = pages.fetch(listing, {"limit": "20"})
                afters = [None]
                if first.next_cursor:
                    afters.append(pages.decode_cursor(listing, first.next_cursor))
                for after in afters:
                    stmt = pages.statement(listing, after, 20)
                    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
                    plan = explain(conn, sql)
                    print(f"{name:36} {'later' if after else 'first'} page: {rows_read(plan):5} rows of "
                          f"{'/'.join(sorted(GUARDED))} read, {plan[0]['Execution Time']:7.2f} ms")
                    scanned = seq_scans(plan)
                    if scanned:
                        problems.append((name, "later page" if after else "first page", scanned))
                db.session.rollback()
    assert not problems, problems


#: The list pages and API lists, as each user asks for them (a second page too).
REQUESTS = [
    ("registry", "/registry/"), ("registry", "/registry/?status=paid"),
    ("registry", "/registry/?citizen_id={citizen}"), ("registry", "/registry/?from=2024-06-01&to=2024-06-30"),
    ("tax", "/tax/"), ("gen", "/me/"), ("accountant", "/accounting/"),
    # The administrator's page of the dead letter is not here: beside the list it shows the
    # portal's completeness figures, whose totals are exact counts (checked below); its list is
    # checked through the API below and in the test above.
]
API_REQUESTS = [
    ("registry", "/api/v1/dossiers"), ("tax", "/api/v1/assessments?status=pending"),
    ("tax", "/api/v1/notices"), ("gen", "/api/v1/notices"), ("gen", "/api/v1/dossiers"),
    ("registry", "/api/v1/parcels"), ("accountant", "/api/v1/reconciliation/items"),
    ("admin", "/api/v1/sync/dead-letter"),
]


def test_every_statement_of_the_list_pages_is_served_by_indexes(pg_app, pg_world, big):
    """What the pages and the API actually run for a list (the list, the related rows loaded in
    bulk, the deadline clocks' events), each planned with its own parameters."""
    from app.extensions import db

    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            statements.append((statement, parameters))

    client = pg_app.test_client()
    with pg_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        seen = []
        for username, url in REQUESTS:
            login(client, username)
            statements.clear()
            page = client.get(url.format(citizen=big["citizen_id"]) + ("&" if "?" in url else "?") + "limit=5")
            assert page.status_code == 200, (url, page.status_code)
            seen.append((username, url, list(statements)))
            client.post("/logout", data={"csrf_token": _token(client)})
        for username, url in API_REQUESTS:
            token = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]
            statements.clear()
            answer = client.get(url + ("&" if "?" in url else "?") + "limit=5", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, (url, answer.get_json())
            if answer.get_json()["next_cursor"]:
                answer = client.get(answer.headers["Link"].split(">")[0][1:], headers={"Authorization": f"Bearer {token}"})
                assert answer.status_code == 200, (url, answer.get_json())
            seen.append((username, url, list(statements)))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    problems = []
    with engine.connect() as conn:
        for username, url, run in seen:
            assert run, url
            for statement, parameters in run:
                scanned = seq_scans(explain(conn, statement, parameters))
                if scanned:
                    problems.append((username, url, scanned, statement[:300]))
    assert not problems, problems


#: Tables the completeness figures must not read row by row beyond the backlog.
SYNC_TABLES = {"dossiers", "outbox", "outbox_archive", "events"}


def test_sync_completeness_reads_the_backlog_and_counts_from_indexes(pg_app, pg_world, big):
    """``/admin/`` and ``GET /api/v1/sync/status``: the undelivered messages are read through
    the index on the state (a few thousand of 100,000 here), and the exact totals are counted
    from an index alone (no table row read once the tables are vacuumed, as autovacuum keeps
    them), never by a sequential scan or a join of dossiers against the outbox."""
    from app.extensions import db
    from app.services.delivery import sync_status

    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    with pg_app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE dossiers, outbox, outbox_archive")
        event.listen(engine, "before_cursor_execute", record)
        try:
            status = sync_status()
        finally:
            event.remove(engine, "before_cursor_execute", record)
        db.session.rollback()
    # The generated outbox: 100,000 messages, one in fifty dead, the rest delivered.
    assert status["events"] == {"local": 100_000, "acknowledged": 98_000}
    assert status["dead_letter"] == 2000
    assert status["dossiers"]["acknowledged"] == status["dossiers"]["local"]

    def wrong(node) -> list:
        found = []
        table = node.get("Relation Name")
        if table in SYNC_TABLES:
            read = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) \
                * node.get("Actual Loops", 1)
            # An exact total may walk a whole index, never the table. (Heap fetches are not
            # judged: they depend on how recently vacuum saw the pages, not on the plan.)
            whole = node["Node Type"] == "Index Only Scan"
            # (A sequential scan of an empty table, the archive here, reads nothing.)
            if (node["Node Type"] == "Seq Scan" and read) or (read > MAX_READ and not whole):
                found.append((node["Node Type"], table, read))
        return found + [f for child in node.get("Plans", ()) for f in wrong(child)]

    problems = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = explain(conn, statement, parameters)
            print(f"sync status: {plan[0]['Execution Time']:7.2f} ms  {' '.join(statement.split())[:90]}")
            problems += [(statement[:200], *f) for root in plan for f in wrong(root["Plan"])]
    assert statements and not problems, problems


def _token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/help/")
