"""What the benchmarks share: the scratch databases they make and drop, a free port on
loopback, and an API token of a demo user."""

from __future__ import annotations

import socket

from sqlalchemy import create_engine, text

#: The demo users' password (flask seed-demo).
PASSWORD = "demo-pass-2026"  # noqa: S105 - the demo logins of flask seed-demo


def admin(server: str, sql: str) -> None:
    """Run one statement that cannot run in a transaction (CREATE/DROP DATABASE)."""
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token_headers(client, username: str) -> dict:
    """The Authorization header of a demo user's API token, taken through a test client."""
    answer = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD})
    return {"Authorization": "Bearer " + answer.get_json()["token"]}
