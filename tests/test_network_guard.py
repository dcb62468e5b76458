"""The suite itself cannot reach the outside network: only loopback."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import NetworkBlocked


@pytest.mark.parametrize("address", [("192.0.2.1", 80), ("8.8.8.8", 53), ("10.0.0.1", 5432)])
def test_outside_addresses_are_refused(address):
    with socket.socket() as sock, pytest.raises(NetworkBlocked):
        sock.connect(address)


def test_loopback_is_allowed():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.socket() as client:
            client.connect(server.getsockname())
