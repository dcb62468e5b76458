"""Configuration from the environment, and the process entry point."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

import mock_bank
from mock_bank.config import DEV_SECRET_KEY, parse_merchants


def test_merchants_parse_urls_with_colons():
    merchants = parse_merchants("A1:s1:http://127.0.0.1:5000/notify, B2:s:2:https://x.example/n")
    assert merchants["A1"].notify_url == "http://127.0.0.1:5000/notify"
    assert merchants["A1"].secret == "s1"
    assert merchants["B2"].secret == "s"
    assert merchants["B2"].notify_url == "2:https://x.example/n"
    assert "s1" not in repr(merchants["A1"])


@pytest.mark.parametrize("text", ["A1", "A1:secret", "A1::http://x", ":s:http://x"])
def test_bad_merchant_entries(text):
    with pytest.raises(ValueError):
        parse_merchants(text)


def test_production_needs_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("MOCK_BANK_SECRET_KEY", raising=False)
    monkeypatch.setenv("MOCK_BANK_ENV", "production")
    with pytest.raises(RuntimeError):
        mock_bank.create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite3"})
    monkeypatch.setenv("MOCK_BANK_SECRET_KEY", "real-key")
    app = mock_bank.create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite3"})
    assert app.config["SECRET_KEY"] == "real-key"


def test_development_default_key(tmp_path, monkeypatch):
    monkeypatch.delenv("MOCK_BANK_SECRET_KEY", raising=False)
    monkeypatch.delenv("MOCK_BANK_ENV", raising=False)
    app = mock_bank.create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite3"})
    assert app.config["SECRET_KEY"] == DEV_SECRET_KEY


def test_in_memory_database_works(monkeypatch):
    app = mock_bank.create_app({"DATABASE_URL": "sqlite://"})
    assert app.test_client().get("/admin/transactions.json").json == {"transactions": []}


@pytest.mark.e2e
def test_python_dash_m_serves(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(
        os.environ,
        MOCK_BANK_PORT=str(port),
        MOCK_BANK_HOST="127.0.0.1",
        MOCK_BANK_DATABASE_URL=f"sqlite:///{tmp_path}/proc.sqlite3",
        MOCK_BANK_MERCHANTS="M1:s:http://127.0.0.1:9/n",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_bank"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert r.status_code == 200 and "TEST BANK" in r.text
        assert (tmp_path / "proc.sqlite3").exists()
    finally:
        proc.terminate()
        proc.wait(10)
