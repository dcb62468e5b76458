"""Start the web app and the mock bank as separate processes on loopback, each with
its own database, talking over real HTTP as in production."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SECRET = "e2e-bank-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited early:\n{log.read_text()[-3000:]}")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout} s:\n{log.read_text()[-3000:]}")


@dataclass
class Stack:
    app_url: str
    bank_url: str
    env: dict
    procs: list = field(default_factory=list)
    logs: list = field(default_factory=list)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def start_stack(tmp: Path, database_url: str, *, extra_parcels: int = 16) -> Stack:
    app_port, bank_port = free_port(), free_port()
    app_url, bank_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bank_port}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LANDPAY_", "MOCK_BANK_", "BANK_"))}
    app_env = dict(
        base,
        LANDPAY_ENV="development",
        DATABASE_URL=database_url,
        SECRET_KEY="e2e-secret-key",
        BANK_BASE_URL=bank_url,
        BANK_SECRET=SECRET,
        PUBLIC_BASE_URL=app_url,
        RECEIPT_SIGNING_KEY_FILE=str(tmp / "receipt-key.pem"),
        FLASK_APP="app",
    )
    bank_env = dict(
        base,
        MOCK_BANK_HOST="127.0.0.1",
        MOCK_BANK_PORT=str(bank_port),
        MOCK_BANK_DATABASE_URL=f"sqlite:///{tmp / 'bank.db'}",
        MOCK_BANK_MERCHANTS=f"LANDPAY:{SECRET}:{app_url}/bank/notify",
        # LandPay's VietQR collecting account (config.Development's test values).
        MOCK_BANK_COLLECTING=f"0011001932418:LANDPAY:{app_url}/bank/credits",
        MOCK_BANK_CREDIT_BACKOFF="0.2,0.4",
        MOCK_BANK_TEST_HOOKS="1",
        MOCK_BANK_IPN_BACKOFF="0.2,0.4",
        MOCK_BANK_IPN_DELAY="0.5",
        MOCK_BANK_SECRET_KEY="e2e-bank-session-key",
    )
    flask = [sys.executable, "-m", "flask"]
    # Each test files its own dossier and a parcel has one open dossier at a time: seed spare
    # parcels for An.
    for command in (["db", "upgrade"], ["seed-demo", "--extra-parcels", str(extra_parcels)]):
        done = subprocess.run(flask + command, cwd=ROOT, env=app_env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    stack = Stack(app_url, bank_url, app_env)
    for name, cmd, env, url in (
        ("bank", [sys.executable, "-m", "mock_bank"], bank_env, bank_url + "/"),
        ("app", [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{app_port}", "--threads", "8",
                 "--call", "app:create_app"], app_env, app_url + "/healthz"),
    ):
        log = tmp / f"{name}.log"
        handle = log.open("w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        stack.procs.append(proc)
        stack.logs.append(log)
        try:
            wait_for(url, proc, log)
        except Exception:
            stack.stop()
            raise
    return stack


@dataclass
class LocalRun:
    """``scripts/run_local.py`` started as ``make run`` starts it, on free ports."""

    app_url: str
    bank_url: str
    env: dict
    proc: subprocess.Popen
    log: Path

    def stop(self, sig: int = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            return self.proc.wait(10)


def local_env(tmp: Path, database_url: str) -> dict:
    """The environment ``make run`` gives its commands, with our own ports, instance folder
    and database (the developer's ``instance/`` is never touched)."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("LANDPAY_", "MOCK_BANK_", "BANK_", "MOCK_PORTAL_", "PORTAL_"))}
    base.pop("DATABASE_URL", None)
    instance = tmp / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    return dict(
        base,
        LANDPAY_ENV="development",
        FLASK_APP="app",
        LANDPAY_INSTANCE_DIR=str(instance),
        DATABASE_URL=database_url,
        LANDPAY_PORT=str(free_port()),
        MOCK_BANK_PORT=str(free_port()),
        MOCK_PORTAL_PORT=str(free_port()),
        MOCK_MAIL_PORT=str(free_port()),
        MOCK_MAIL_SMTP_PORT=str(free_port()),
    )


def seed(env: dict) -> None:
    """``make seed``: migrate, then load the demo data."""
    flask = [sys.executable, "-m", "flask"]
    for command in (["db", "upgrade"], ["seed-demo"]):
        done = subprocess.run(flask + command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def start_local(tmp: Path, env: dict, timeout: float = 40) -> LocalRun:
    """Start ``scripts/run_local.py`` in its own process group; wait until it says it runs."""
    log = tmp / "run_local.log"
    proc = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / "scripts" / "run_local.py")], cwd=ROOT, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    run = LocalRun(f"http://127.0.0.1:{env['LANDPAY_PORT']}", f"http://127.0.0.1:{env['MOCK_BANK_PORT']}",
                   env, proc, log)
    deadline = time.monotonic() + timeout
    while "Press Ctrl-C to stop" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            run.stop()
            raise RuntimeError(f"run_local did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return run


PORTAL_SECRET = "test-portal-secret"  # noqa: S105 - the test suite's own value (config.Test)


@dataclass
class Portal:
    """``python -m mock_portal`` on a free port, with its test hooks on."""

    url: str
    proc: subprocess.Popen
    log: Path

    def hook(self, method: str, path: str, **body):
        response = requests.request(method, self.url + "/test" + path, json=body or None, timeout=10)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_portal(tmp: Path, secret: str = PORTAL_SECRET, **env) -> Portal:
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("MOCK_PORTAL_")}
    portal_env = dict(base, MOCK_PORTAL_HOST="127.0.0.1", MOCK_PORTAL_PORT=str(port),
                      MOCK_PORTAL_DATABASE_URL=f"sqlite:///{tmp / 'portal.db'}",
                      MOCK_PORTAL_SECRET=secret, MOCK_PORTAL_TEST_HOOKS="1", **env)
    log = tmp / "portal.log"
    proc = subprocess.Popen([sys.executable, "-m", "mock_portal"], cwd=ROOT, env=portal_env,  # noqa: S603
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/api/figures", proc, log)
    except Exception:
        proc.kill()
        raise
    return Portal(url, proc, log)


def stack_database(backend: str, tmp: Path, name: str) -> str:
    """A fresh database for a stack of processes: a SQLite file in ``tmp``, or a new
    PostgreSQL database named after ``name`` and this test worker."""
    if backend == "sqlite":
        return f"sqlite:///{tmp / 'landpay.db'}"
    from tests.conftest import _postgres_database, worker_id

    return _postgres_database(f"landpay_{name}_{worker_id()}")


#: Parameters of a stack fixture that runs each of its tests on both databases.
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

