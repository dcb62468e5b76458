"""The layout tells the architecture: tax_calc is pure, payments does not know the app,
the mock bank knows none of our packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# package -> top-level modules it must never import
FORBIDDEN = {
    "tax_calc": {"flask", "flask_sqlalchemy", "sqlalchemy", "app", "payments", "mock_bank", "requests"},
    "payments": {"app", "tax_calc", "mock_bank", "flask_sqlalchemy"},
    "mock_bank": {"app", "tax_calc", "payments", "mock_portal", "mock_mail"},
    "mock_portal": {"app", "tax_calc", "payments", "mock_bank", "mock_mail"},
    "mock_mail": {"app", "tax_calc", "payments", "mock_bank", "mock_portal"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layers(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    offences = {
        str(f.relative_to(ROOT)): sorted(imported_modules(f) & FORBIDDEN[package]) for f in files
    }
    assert {f: bad for f, bad in offences.items() if bad} == {}
