"""The documented production setup, started for real: gunicorn with the package's own settings
(``gunicorn -c python:app.gunicorn_conf``), production configuration, PostgreSQL, from a
directory other than the project's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import ROOT, _migrate, _postgres_database, worker_id
from tests.stack import free_port, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

WORKERS = 2


def _clean_env() -> dict:
    """The caller's environment without any setting of ours or a path to the project."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("LANDPAY_", "BANK_", "PORTAL_", "VIETQR_", "RECEIPT_"))
            and k not in ("DATABASE_URL", "SECRET_KEY", "PYTHONPATH", "FLASK_APP",
                          "WEB_CONCURRENCY", "TRUSTED_PROXIES")}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from payments.receipts import generate_signing_key

    tmp = tmp_path_factory.mktemp("production")
    url = _postgres_database(f"landpay_gunicorn_{worker_id()}")
    _migrate(url)
    key = tmp / "receipt-key.pem"
    key.write_text(generate_signing_key())
    key.chmod(0o600)
    port = free_port()
    access_log = tmp / "access.log"
    env = dict(
        _clean_env(),
        LANDPAY_ENV="production",
        DATABASE_URL=url,
        SECRET_KEY="production-test-secret-key",
        PUBLIC_BASE_URL="https://landpay.example",
        BANK_BASE_URL="https://bank.example",
        BANK_SECRET="production-test-bank-secret",
        PORTAL_BASE_URL="https://portal.example",
        PORTAL_SECRET="production-test-portal-secret",
        VIETQR_ACQUIRER_ID="970436",
        VIETQR_ACCOUNT="0011001932418",
        RECEIPT_SIGNING_KEY_FILE=str(key),
        LANDPAY_INSTANCE_DIR=str(tmp / "instance"),
        LANDPAY_BIND=f"127.0.0.1:{port}",
        LANDPAY_WORKERS=str(WORKERS),
        LANDPAY_ACCESS_LOG=str(access_log),
    )
    log = tmp / "gunicorn.log"
    with log.open("w") as handle:
        # Started from the temporary directory: nothing may depend on the project folder
        # being the current directory.
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_conf"],
                                cwd=tmp, env=env, stdout=handle, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthz", proc, log, timeout=60)
        yield {"base": base, "proc": proc, "access_log": access_log, "log": log}
    finally:
        proc.terminate()
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def test_gunicorn_serves_pages_with_its_workers_on_postgresql(served):
    health = requests.get(served["base"] + "/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    page = requests.get(served["base"] + "/login", timeout=10)
    assert page.status_code == 200, page.text[:500]
    assert 'name="csrf_token"' in page.text
    # Production settings: the __Host- cookie, which browsers accept only over HTTPS.
    assert "__Host-landpay_session" in page.headers.get("Set-Cookie", "")
    # Pre-fork: the master and its workers, as many as LANDPAY_WORKERS says.
    deadline = time.monotonic() + 20
    while len(_children(served["proc"].pid)) != WORKERS and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_children(served["proc"].pid)) == WORKERS


def test_access_log_keeps_no_token_query_or_referrer(served):
    token, signature = "tok3n-of-the-payer", "5ignature0f7hebank"
    requests.get(f"{served['base']}/pay/payments/{token}?lp_secure_hash={signature}",
                 headers={"Referer": f"https://bank.example/checkout?lp_secure_hash={signature}"},
                 timeout=10)
    deadline = time.monotonic() + 10
    while "/pay/payments/" not in served["access_log"].read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    logged = served["access_log"].read_text()
    assert '"GET /pay/payments/*** HTTP/1.1"' in logged
    assert token not in logged
    assert signature not in logged
    assert "/healthz" in logged


def test_the_package_imports_from_any_directory(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import app, app.config, app.gunicorn_conf; print(app.__file__)"],
        cwd=tmp_path, env=_clean_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).resolve() == (ROOT / "app" / "__init__.py").resolve()
