"""The command line: python -m tax_calc [FILE|-]."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers_tax import transfer_case

ROOT = Path(__file__).resolve().parents[2]


def run(args, stdin=None):
    return subprocess.run([sys.executable, "-m", "tax_calc", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_file_in_json_out(tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(transfer_case()), encoding="utf-8")
    proc = run([str(path)])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["total"] == 200_000_000
    assert [ln["obligation"] for ln in out["lines"]] == ["registration_fee",
                                                         "personal_income_tax"]
    assert out["lines"][0]["rate"] == "0.005"


def test_stdin_with_json_decimals():
    text = json.dumps(transfer_case()).replace('"120.5"', "120.5")  # a JSON number is fine
    proc = run(["-"], stdin=text)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["lines"][1]["amount"] == 160_000_000


def test_bad_input_exit_2_names_the_field():
    proc = run(["-"], stdin=json.dumps(transfer_case(parcel={"land_type": "castle"})))
    assert proc.returncode == 2
    assert "parcels[0].land_type" in proc.stderr and proc.stdout == ""


def test_invalid_json_and_missing_file(tmp_path):
    proc = run(["-"], stdin="{not json")
    assert proc.returncode == 2 and "json" in proc.stderr
    proc = run([str(tmp_path / "missing.json")])
    assert proc.returncode == 2 and "file" in proc.stderr


def test_package_stays_pure():
    code = ("import sys, tax_calc, tax_calc.cli, tax_calc.tables; "
            "bad = {m.split('.')[0] for m in sys.modules} & "
            "{'flask', 'sqlalchemy', 'app', 'payments', 'requests'}; "
            "assert not bad, bad")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_hostile_input_in_a_real_process_never_shows_a_traceback(tmp_path):
    deep = run(["-"], stdin="[" * 100_000 + "]" * 100_000)
    huge = run(["-"], stdin=json.dumps(transfer_case()).replace("8000000000", "9" * 5000))
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"province": "H\xe0 N\xf4i"}')
    latin1 = run([str(path)])
    for proc, field in ((deep, "json"), (huge, "declared_price"), (latin1, "file")):
        assert proc.returncode == 2 and proc.stdout == ""
        assert proc.stderr.startswith(f"error: {field}: ") and "Traceback" not in proc.stderr


def test_a_fault_in_the_engine_is_one_line_and_exit_3(monkeypatch):
    import io

    import tax_calc.cli

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(tax_calc.cli, "assess", broken)
    out, err = io.StringIO(), io.StringIO()
    code = tax_calc.cli.main(["-"], stdin=io.StringIO(json.dumps(transfer_case())), stdout=out,
                             stderr=err)
    assert code == 3 and out.getvalue() == ""
    assert err.getvalue() == "error: internal: ZeroDivisionError: division by zero second line\n"
