"""The delivery bench runs (a few dossiers, no timing asserted)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.stack import ROOT

pytestmark = pytest.mark.e2e


def test_bench_portal_delivery_runs(capsys):
    spec = importlib.util.spec_from_file_location("bench_portal", ROOT / "bench" / "bench_portal_delivery.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["--dossiers", "5", "--live", "2", "--rate", "20", "--sqlite"])
    assert result["backlog_events"] == 15 and result["live_events"] == 6
    assert result["events"] == 21 and result["acknowledged"] == 21 and result["portal_events"] == 21
    assert 0 <= result["p50"] <= result["p95"]
    out = capsys.readouterr().out
    assert "events/s" in out and "p95" in out
