"""The tables of the documentation that mirror the code cannot drift from it."""

from __future__ import annotations

import re

from tests.stack import ROOT


def test_api_table_lists_every_operation_of_the_openapi_document():
    from app.api.openapi import document

    text = (ROOT / "docs" / "api.md").read_text()
    table = text[text.index("## Endpoints"):]
    rows = set()
    for line in table.splitlines():
        match = re.match(r"\| `([A-Z]+) ([^`]+)`", line)
        if match:
            rows.add((match.group(1).lower(), re.sub(r"\[\?.*\]$", "", match.group(2))))
    operations = {(method, path) for path, methods in document()["paths"].items() for method in methods}
    assert rows == operations


def test_readme_lists_every_demo_login_with_its_citizen_id():
    from app.cli import DEMO_LOGINS, DEMO_PASSWORD

    readme = (ROOT / "README.md").read_text()
    assert DEMO_PASSWORD in readme
    for username, role, office, citizen_id, _what in DEMO_LOGINS:
        row = next((line for line in readme.splitlines() if line.startswith(f"| `{username}` |")), None)
        assert row, username
        assert role in row and (office or citizen_id or "") in row, row


def test_seed_creates_exactly_the_demo_logins_it_prints(tmp_path):
    """seed-demo's printout (and run_local's) comes from DEMO_LOGINS: it must be what is seeded."""
    import subprocess
    import sys

    from tests.stack import local_env, seed

    env = local_env(tmp_path, f"sqlite:///{tmp_path / 'landpay.db'}")
    seed(env)
    done = subprocess.run([sys.executable, "-m", "flask", "seed-demo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    from sqlalchemy import create_engine, text

    from app.cli import DEMO_LOGINS

    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        users = {row.username: row.citizen_id for row in conn.execute(text(
            "SELECT u.username, p.citizen_id FROM users u LEFT JOIN parties p ON p.id = u.party_id"))}
    engine.dispose()
    assert users == {username: citizen_id for username, _r, _o, citizen_id, _w in DEMO_LOGINS}
    for username in users:
        assert f"  {username} " in done.stdout
