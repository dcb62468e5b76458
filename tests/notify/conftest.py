"""The mail sink as a separate process on free loopback ports, as ``make run`` starts it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from tests.app.conftest import world  # noqa: F401 - the world with coefficients, as in tests/app
from tests.stack import ROOT, free_port, wait_for


@pytest.fixture(scope="module")
def mail_sink(tmp_path_factory):
    smtp_port, web_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("mail") / "mock_mail.log"
    env = dict(os.environ, MOCK_MAIL_SMTP_PORT=str(smtp_port), MOCK_MAIL_PORT=str(web_port))
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "mock_mail"], cwd=ROOT, env=env,  # noqa: S603
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{web_port}"
    try:
        wait_for(url + "/api/messages", proc, log)
        yield {"smtp_port": smtp_port, "url": url}
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def sink(mail_sink):
    requests.delete(mail_sink["url"] + "/api/messages", timeout=5)
    return mail_sink
