"""Start every LandPay process on loopback for a local demo, print where they are, and
stop them all on Ctrl-C or SIGTERM.

The web app, the mock bank, the mock national portal and the mail sink are separate
processes with separate state, talking over HTTP (and SMTP) exactly as they would in
production; one worker runs every background job (``flask worker``: delivery to the portal,
history sealing, notifications, refunds, pending payments, statements, archiving).

Ports: ``LANDPAY_PORT`` (default 5000), ``MOCK_BANK_PORT`` (default 5001),
``MOCK_PORTAL_PORT`` (default 5002), ``MOCK_MAIL_PORT`` (default 5003; its SMTP port
``MOCK_MAIL_SMTP_PORT``, default 1025). The
instance folder (SQLite databases, development secrets, the receipt key) is
``LANDPAY_INSTANCE_DIR`` (default ``instance/``). Stopping: Ctrl-C in the terminal;
``kill <pid>`` (SIGTERM) or SIGHUP to this process or to ``make run``; when ``make run``
was started in the background, ``kill -TERM -<process group id>`` stops the whole group.
Every way ends the app and the bank and exits with status 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
APP_PORT = int(os.environ.get("LANDPAY_PORT", "5000"))
BANK_PORT = int(os.environ.get("MOCK_BANK_PORT", "5001"))
PORTAL_PORT = int(os.environ.get("MOCK_PORTAL_PORT", "5002"))
MAIL_PORT = int(os.environ.get("MOCK_MAIL_PORT", "5003"))
MAIL_SMTP_PORT = int(os.environ.get("MOCK_MAIL_SMTP_PORT", "1025"))


class Stop(Exception):
    """A signal asked us to stop."""


def _stop(signum, _frame):
    # Further signals while stopping are ignored: the children are being stopped already.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise Stop(signal.Signals(signum).name)


def wait_for(url: str, procs, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise SystemExit(f"a process exited while starting; {url} is not up")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def main() -> int:
    # SIGINT is ignored in a job started in the background by a non-interactive shell;
    # SIGTERM and SIGHUP always stop us, the same way as Ctrl-C.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _stop)
    sys.path.insert(0, str(ROOT))
    from app.cli import DEMO_LOGINS, DEMO_PASSWORD
    from app.config import INSTANCE_DIR, instance_secret

    bank_secret = os.environ.get("BANK_SECRET") or instance_secret("bank-secret")
    portal_secret = os.environ.get("PORTAL_SECRET") or instance_secret("portal-secret")
    python = sys.executable
    app_url = f"http://127.0.0.1:{APP_PORT}"
    bank_url = f"http://127.0.0.1:{BANK_PORT}"
    portal_url = f"http://127.0.0.1:{PORTAL_PORT}"
    mail_url = f"http://127.0.0.1:{MAIL_PORT}"
    mail_env = dict(os.environ, MOCK_MAIL_HOST="127.0.0.1", MOCK_MAIL_PORT=str(MAIL_PORT),
                    MOCK_MAIL_SMTP_PORT=str(MAIL_SMTP_PORT))
    portal_env = dict(
        os.environ,
        MOCK_PORTAL_HOST="127.0.0.1",
        MOCK_PORTAL_PORT=str(PORTAL_PORT),
        MOCK_PORTAL_DATABASE_URL=os.environ.get("MOCK_PORTAL_DATABASE_URL")
        or f"sqlite:///{INSTANCE_DIR / 'mock_portal.db'}",
        MOCK_PORTAL_SECRET=portal_secret,
    )
    bank_env = dict(
        os.environ,
        MOCK_BANK_HOST="127.0.0.1",
        MOCK_BANK_PORT=str(BANK_PORT),
        MOCK_BANK_DATABASE_URL=os.environ.get("MOCK_BANK_DATABASE_URL")
        or f"sqlite:///{INSTANCE_DIR / 'mock_bank.db'}",
        MOCK_BANK_MERCHANTS=f"LANDPAY:{bank_secret}:{app_url}/bank/notify",
        # LandPay's VietQR collecting account: transfers to it are notified to /bank/credits.
        MOCK_BANK_COLLECTING=f"{os.environ.get('VIETQR_ACCOUNT', '0011001932418')}:LANDPAY:{app_url}/bank/credits",
        MOCK_BANK_SECRET_KEY=os.environ.get("MOCK_BANK_SECRET_KEY") or instance_secret("mock-bank-key"),
    )
    app_env = dict(
        os.environ,
        LANDPAY_ENV=os.environ.get("LANDPAY_ENV", "development"),
        BANK_BASE_URL=bank_url,
        BANK_SECRET=bank_secret,
        PUBLIC_BASE_URL=app_url,
        PORTAL_BASE_URL=portal_url,
        PORTAL_SECRET=portal_secret,
        SMTP_HOST=os.environ.get("SMTP_HOST", "127.0.0.1"),
        SMTP_PORT=os.environ.get("SMTP_PORT", str(MAIL_SMTP_PORT)),
        SMS_GATEWAY_URL=os.environ.get("SMS_GATEWAY_URL", mail_url + "/api/sms"),
        FLASK_APP="app",
    )
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen([python, "-m", "mock_bank"], cwd=ROOT, env=bank_env))  # noqa: S603
        procs.append(subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            [python, "-m", "waitress", "--listen", f"127.0.0.1:{APP_PORT}", "--threads", "8",
             "--call", "app:create_app"],
            cwd=ROOT, env=app_env,
        ))
        procs.append(subprocess.Popen([python, "-m", "mock_portal"], cwd=ROOT, env=portal_env))  # noqa: S603
        procs.append(subprocess.Popen([python, "-m", "mock_mail"], cwd=ROOT, env=mail_env))  # noqa: S603
        procs.append(subprocess.Popen(  # noqa: S603 - the worker: every background job (app/worker.py)
            [python, "-m", "flask", "worker"], cwd=ROOT, env=app_env,
        ))
        wait_for(bank_url + "/", procs)
        wait_for(portal_url + "/api/figures", procs)
        wait_for(mail_url + "/api/messages", procs)
        wait_for(app_url + "/healthz", procs)
        print()
        print("LandPay is running:")
        print(f"  web app and API  {app_url}")
        print(f"  API reference    {app_url}/api/v1/docs   (OpenAPI: {app_url}/api/v1/openapi.json)")
        print(f"  mock bank        {bank_url}   (a test bank: test accounts on its start page)")
        print(f"  mock portal      {portal_url}   (a test national portal: what it received)")
        print(f"  mail sink        {mail_url}   (every mail and text message LandPay sent)")
        print(f"demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role, office, citizen_id, what in DEMO_LOGINS:
            where = office or (f"citizen id {citizen_id}" if citizen_id else "")
            print(f"  {username:10s} {role:17s} {where:24s} {what}")
        print(f"Press Ctrl-C to stop (or: kill -TERM {os.getpid()}).", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("a process stopped unexpectedly; stopping the others", file=sys.stderr)
        return 1
    except (Stop, KeyboardInterrupt):
        return 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if procs:
            print("LandPay stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
