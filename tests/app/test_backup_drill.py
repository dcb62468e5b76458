"""The backup procedure of docs/operations.md, run for real on PostgreSQL: dump the database
with ``pg_dump --format=custom``, restore it into a new database with ``pg_restore``, check the
schema with ``flask db upgrade``, start the app on the copy and verify every receipt there."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from tests.app.bank import notification
from tests.conftest import PG_URL, login, post_form, worker_id

pytestmark = pytest.mark.skipif(shutil.which("pg_dump") is None or shutil.which("pg_restore") is None,
                                reason="the PostgreSQL client tools are not installed")


def _libpq(url: str) -> str:
    """The URL as the PostgreSQL tools take it (no driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pay_one_notice(app, world) -> None:
    from app.extensions import db
    from app.models import PaymentOrder

    _code, notice_code = world.file_and_confirm()
    buyer = app.test_client()
    login(buyer, "binh")
    post_form(buyer, f"/me/notices/{notice_code}", f"/me/notices/{notice_code}/pay")
    with app.app_context():
        order = db.session.scalar(select(PaymentOrder))
        ref, amount = order.ref, order.amount
    answer = app.test_client().post("/bank/notify", data=notification(ref, amount))
    assert answer.get_json()["RspCode"] == "00"


def test_dump_restore_and_every_receipt_still_verifies(pg_app, pg_world, tmp_path):
    from app import create_app
    from app.extensions import db
    from app.models import Receipt

    app, world = pg_app, pg_world
    _pay_one_notice(app, world)
    with app.app_context():
        tokens = {r.number: r.token for r in db.session.scalars(select(Receipt))}
        source_url = db.engine.url.render_as_string(hide_password=False)
    assert tokens

    dump = tmp_path / "landpay.dump"
    subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), _libpq(source_url)],  # noqa: S603,S607
                   check=True, capture_output=True)
    target = f"landpay_restore_{worker_id()}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target}"'))
    target_url = make_url(PG_URL).set(database=target).render_as_string(hide_password=False)
    try:
        subprocess.run(["pg_restore", "--no-owner", "--dbname", _libpq(target_url), str(dump)],  # noqa: S603,S607
                       check=True, capture_output=True)
        restored = create_app("test", {"SQLALCHEMY_DATABASE_URI": target_url})
        upgrade = restored.test_cli_runner().invoke(args=["db", "upgrade"])
        assert upgrade.exit_code == 0, upgrade.output
        client = restored.test_client()
        assert client.get("/healthz").get_json() == {"status": "ok"}
        with restored.app_context():
            assert {r.number for r in db.session.scalars(select(Receipt))} == set(tokens)
            db.engine.dispose()
        for number, token in tokens.items():
            answer = client.post("/api/v1/receipts/verify", json={"token": token})
            assert answer.status_code == 200, (number, answer.get_json())
            assert answer.get_json()["claims"]["receipt_id"] == number
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        admin.dispose()
