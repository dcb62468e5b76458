"""Test hooks: off by default; their request and answer formats."""

from __future__ import annotations

import requests
from bankkit import OK_ACCOUNT, SECRET, checkout_params

import mock_bank
from payments.signing import verify_params


def test_hooks_are_disabled_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("MOCK_BANK_TEST_HOOKS", raising=False)
    app = mock_bank.create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite3",
            "MERCHANTS": f"LANDPAY01:{SECRET}:http://127.0.0.1:9/n",
        }
    )
    client = app.test_client()
    body = dict(checkout_params(), test_account=OK_ACCOUNT)
    assert client.post("/test/pay", data=body).status_code == 404
    assert client.post("/test/renotify/MB1").status_code == 404
    assert client.get("/admin/transactions.json").json["transactions"] == []


def test_hooks_enabled_by_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCK_BANK_TEST_HOOKS", "1")
    app = mock_bank.create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/b.sqlite3"})
    assert app.test_client().post("/test/pay", data={}).status_code == 400


def test_pay_accepts_json(bank):
    body = dict(checkout_params(), test_account=OK_ACCOUNT)
    answer = requests.post(f"{bank.url}/test/pay", json=body, timeout=5).json()
    assert answer["response_code"] == "00"
    assert answer["return_url"].startswith("https://landpay.example/payments/return?")
    assert verify_params(answer["return_params"], SECRET)
    assert answer["notifications"][0]["rsp_code"] == "00"


def test_pay_errors(bank):
    url = f"{bank.url}/test/pay"
    bad = dict(checkout_params(), test_account=OK_ACCOUNT, lp_amount="1")
    r = requests.post(url, data=bad, timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "bad_signature"
    r = requests.post(url, data=dict(checkout_params(), test_account="42"), timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "unknown_account"
    r = requests.post(url, json=["not", "an", "object"], timeout=5)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    ok = dict(checkout_params(), test_account=OK_ACCOUNT)
    assert requests.post(url, data=ok, timeout=5).status_code == 200
    r = requests.post(url, data=ok, timeout=5)
    assert r.status_code == 409 and r.json()["error"] == "duplicate_order"


def test_renotify_unknown_transaction(bank):
    r = requests.post(f"{bank.url}/test/renotify/MB-NOPE", timeout=5)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
