"""The client's address behind proxies: believed from X-Forwarded-For only as far as
TRUSTED_PROXIES says, never from a client talking to the app directly."""

from __future__ import annotations

import pytest
from flask import request

from app import create_app


def _app(tmp_path, proxies: int):
    application = create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                                      "TRUSTED_PROXIES": proxies})
    application.add_url_rule("/client-address", "client_address",
                             lambda: f"{request.remote_addr} {request.scheme}")
    return application


@pytest.mark.parametrize(("proxies", "seen"), [
    (0, "10.0.0.2 http"),          # no proxy configured: the forwarded header is a claim
    (1, "203.0.113.7 https"),      # one proxy: the address it saw
    (2, "198.51.100.1 https"),     # two: the address the outer one saw
])
def test_client_address_is_the_one_the_trusted_proxies_saw(tmp_path, proxies, seen):
    client = _app(tmp_path, proxies).test_client()
    answer = client.get("/client-address", environ_base={"REMOTE_ADDR": "10.0.0.2"},
                        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7",
                                 "X-Forwarded-Proto": "https, https"})
    assert answer.get_data(as_text=True) == seen
