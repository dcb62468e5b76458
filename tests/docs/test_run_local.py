"""``make run`` stops cleanly: scripts/run_local.py ends the app, the bank, the portal and
the delivery worker and exits with status 0 on Ctrl-C (SIGINT), on SIGTERM and on SIGHUP."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import requests

from tests.stack import local_env, start_local

pytestmark = pytest.mark.e2e


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig, to_group", [
    (signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGHUP, False), (signal.SIGTERM, True),
])
def test_run_local_stops_every_process(tmp_path, sig, to_group):
    env = local_env(tmp_path, f"sqlite:///{tmp_path / 'landpay.db'}")
    run = start_local(tmp_path, env)
    try:
        kids = children(run.proc.pid)
        assert len(kids) == 5, kids  # the app, the bank, the portal, the mail sink and the worker
        assert requests.get(run.app_url + "/healthz", timeout=5).status_code == 200
        assert requests.get(run.bank_url + "/", timeout=5).status_code == 200
        portal = f"http://127.0.0.1:{env['MOCK_PORTAL_PORT']}"
        assert requests.get(portal + "/api/figures", timeout=5).status_code == 200
        printed = run.log.read_text()
        for username in ("registry", "tax", "registry3", "tax3", "an", "binh", "cuong", "admin"):
            assert f"  {username} " in printed
        for citizen_id in ("079080000001", "079085000002", "079070000003"):
            assert citizen_id in printed
        if to_group:
            os.killpg(run.proc.pid, sig)  # what `kill -TERM -<pgid>` does
        else:
            run.proc.send_signal(sig)
        assert run.proc.wait(20) == 0, run.log.read_text()[-2000:]
        assert not [pid for pid in kids if alive(pid)]
        assert "LandPay stopped." in run.log.read_text()
        # Nothing was written to the developer's instance folder.
        assert (tmp_path / "instance" / "mock_bank.db").exists()
    finally:
        if run.proc.poll() is None:
            os.killpg(run.proc.pid, signal.SIGKILL)


def test_sigint_ignored_in_background_still_stops_on_sigterm(tmp_path):
    """A job started in the background by a non-interactive shell ignores SIGINT: the
    documented SIGTERM still stops everything."""
    import subprocess
    import sys

    from tests.stack import ROOT

    env = local_env(tmp_path, f"sqlite:///{tmp_path / 'landpay.db'}")
    log = tmp_path / "bg.log"
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", "import signal, runpy, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
         f"sys.argv = ['run_local.py']; runpy.run_path({str(ROOT / 'scripts' / 'run_local.py')!r}, run_name='__main__')"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        import time

        deadline = time.monotonic() + 40
        while "Press Ctrl-C" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        kids = children(proc.pid)
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text()[-2000:]
        assert kids and not [pid for pid in kids if alive(pid)]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
