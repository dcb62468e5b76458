"""Helpers and fixtures for the test bank: it runs for real on loopback, with a small merchant beside it.

The merchant side verifies signatures with ``payments.signing`` (tests may import both sides;
the packages themselves never import each other).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

import mock_bank
from payments.signing import sign_params, verify_params

MERCHANT = "LANDPAY01"
SECRET = "TESTSECRET-DO-NOT-USE"
OK_ACCOUNT = "9704000000000018"
POOR_ACCOUNT = "9704000000000026"
TWICE_ACCOUNT = "9704000000000034"
SILENT_ACCOUNT = "9704000000000042"
DELAYED_ACCOUNT = "9704000000000059"


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 on a free port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Receiver:
    """A merchant's notification endpoint that records what it gets.

    ``script`` holds what to do with the next notifications, one entry each: a RspCode to
    answer, "500" for an HTTP error, "garbage" for a body that is not JSON, or
    ("sleep", seconds, code). When it is empty the answer is 00 (or 97 for a bad signature).
    """

    received: list[dict[str, str]] = field(default_factory=list)
    signature_ok: list[bool] = field(default_factory=list)
    script: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("receiver")

        @app.post("/notify")
        def notify():  # type: ignore[no-untyped-def]
            params = request.form.to_dict()
            good = verify_params(params, SECRET)
            with self.lock:
                self.received.append(params)
                self.signature_ok.append(good)
                step = self.script.pop(0) if self.script else None
            if isinstance(step, tuple):
                time.sleep(step[1])
                step = step[2]
            if step == "500":
                return "boom", 500
            if step == "garbage":
                return "<html>not json</html>", 200
            code = step or ("00" if good else "97")
            return jsonify({"RspCode": code, "Message": "test"})

        return app

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return
            time.sleep(0.02)
        raise AssertionError(f"expected {count} notifications, got {len(self.received)}")


def checkout_params(
    order_ref: str = "PAY-0001",
    *,
    amount: int = 12_500_000,
    created: datetime | None = None,
    secret: str = SECRET,
    **overrides: str,
) -> dict[str, str]:
    params = {
        "lp_version": "1",
        "lp_command": "pay",
        "lp_merchant_id": MERCHANT,
        "lp_order_ref": order_ref,
        "lp_amount": str(amount),
        "lp_currency": "VND",
        "lp_order_info": "Nộp lệ phí trước bạ TB-2025-000123",
        "lp_locale": "vn",
        "lp_return_url": "https://landpay.example/payments/return",
        "lp_create_date": (created or datetime.now(UTC)).strftime("%Y%m%d%H%M%S"),
    }
    params.update(overrides)
    params["lp_secure_hash"] = sign_params(params, secret)
    return params


def query_params(order_ref: str, *, secret: str = SECRET, **overrides: str) -> dict[str, str]:
    params = {
        "lp_version": "1",
        "lp_command": "query",
        "lp_merchant_id": MERCHANT,
        "lp_order_ref": order_ref,
        "lp_request_id": "Q-1",
        "lp_request_date": datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
    }
    params.update(overrides)
    params["lp_secure_hash"] = sign_params(params, secret)
    return params


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


@dataclass
class Bank:
    url: str
    app: Flask
    receiver: Receiver

    def transactions(self) -> list[dict[str, Any]]:
        return self.app.test_client().get("/admin/transactions.json").json["transactions"]


BankFactory = Callable[..., Bank]


@pytest.fixture
def bank_factory(tmp_path) -> Iterator[BankFactory]:  # type: ignore[no-untyped-def]
    """Start a merchant receiver and a test bank wired to it; options override the config."""
    stack: list[Any] = []

    def start(notify_url: str | None = None, **config: Any) -> Bank:
        receiver = Receiver()
        recv_cm = serving(receiver.app())
        recv_url = recv_cm.__enter__()
        stack.append(recv_cm)
        url = notify_url or f"{recv_url}/notify"
        settings = {
            "DATABASE_URL": f"sqlite:///{tmp_path}/bank-{len(stack)}.sqlite3",
            "MERCHANTS": f"{MERCHANT}:{SECRET}:{url}",
            "SECRET_KEY": "test-key",
            "TEST_HOOKS": True,
            "IPN_BACKOFF": [0.0],
            "IPN_TIMEOUT": 2.0,
            "IPN_DELAY": 0.2,
        }
        settings.update(config)
        app = mock_bank.create_app(settings)
        bank_cm = serving(app)
        bank_url = bank_cm.__enter__()
        stack.append(bank_cm)
        return Bank(bank_url, app, receiver)

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture
def bank(bank_factory: BankFactory) -> Bank:
    return bank_factory()


@pytest.fixture
def app(tmp_path):  # type: ignore[no-untyped-def]
    """A test bank used through Flask's test client only (no network)."""
    return mock_bank.create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/bank.sqlite3",
            "MERCHANTS": f"{MERCHANT}:{SECRET}:http://127.0.0.1:9/notify",
            "SECRET_KEY": "test-key",
            "IPN_ATTEMPTS": 1,
            "IPN_TIMEOUT": 0.5,
        }
    )
