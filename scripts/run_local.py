"""Start every LandPay process on loopback for a local demo, print where they are, and
stop them all on Ctrl-C.

The web app and the mock bank are separate processes with separate databases,
talking over HTTP exactly as they would in production.
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


def wait_for(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from config import instance_secret

    bank_secret = os.environ.get("BANK_SECRET") or instance_secret("bank-secret")
    python = sys.executable
    app_url = f"http://127.0.0.1:{APP_PORT}"
    bank_url = f"http://127.0.0.1:{BANK_PORT}"
    bank_env = dict(
        os.environ,
        MOCK_BANK_HOST="127.0.0.1",
        MOCK_BANK_PORT=str(BANK_PORT),
        MOCK_BANK_DATABASE_URL=f"sqlite:///{ROOT / 'instance' / 'mock_bank.db'}",
        MOCK_BANK_MERCHANTS=f"LANDPAY:{bank_secret}:{app_url}/bank/notify",
        MOCK_BANK_SECRET_KEY=os.environ.get("MOCK_BANK_SECRET_KEY") or instance_secret("mock-bank-key"),
    )
    app_env = dict(
        os.environ,
        LANDPAY_ENV=os.environ.get("LANDPAY_ENV", "development"),
        BANK_BASE_URL=bank_url,
        BANK_SECRET=bank_secret,
        PUBLIC_BASE_URL=app_url,
    )
    procs = [
        subprocess.Popen([python, "-m", "mock_bank"], cwd=ROOT, env=bank_env),  # noqa: S603
        subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            [python, "-m", "waitress", "--listen", f"127.0.0.1:{APP_PORT}", "--threads", "8",
             "--call", "app:create_app"],
            cwd=ROOT, env=app_env,
        ),
    ]
    try:
        wait_for(bank_url + "/")
        wait_for(app_url + "/healthz")
        print()
        print("LandPay is running:")
        print(f"  web app and API  {app_url}   (API document: {app_url}/api/v1/openapi.json)")
        print(f"  mock bank        {bank_url}")
        print("  demo logins: registry, tax, an, binh, cuong, admin  password: demo-pass-2026")
        print("Press Ctrl-C to stop.")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    sys.exit(main())
