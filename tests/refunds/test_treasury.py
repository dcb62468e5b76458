"""Each notice line carries its State budget classification and collecting treasury account,
from one data file, fixed when the notice is issued and carried onto the receipt."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from app.services.treasury import DATA_FILE, UnknownClassification, classify, load

ROOT = Path(__file__).resolve().parents[2]


def _rule_obligations() -> set[str]:
    """Every obligation code the rules engine can put on a line."""
    found = set()
    for path in (ROOT / "tax_calc").glob("*.py"):
        found |= set(re.findall(r'obligation="([a-z_]+)"', path.read_text(encoding="utf-8")))
    return found


def test_every_obligation_of_the_rules_engine_is_classified():
    obligations = _rule_obligations()
    assert {"registration_fee", "personal_income_tax", "land_use_levy",
            "non_agricultural_tax", "late_interest"} <= obligations
    for obligation in obligations:
        found = classify(obligation, "HCM")
        assert re.fullmatch(r"\d{3}-\d{4}", found.code), (obligation, found.code)


def test_unverified_codes_are_marked_and_never_reported_verified():
    table = load()
    assert all(entry.get("verified") is False for entry in table["obligations"].values())
    assert classify("registration_fee", "HN").verified is False
    assert "verified = false" in DATA_FILE.read_text(encoding="utf-8")


def test_missing_entries_are_errors_not_guesses():
    with pytest.raises(UnknownClassification):
        classify("registration_fee", "XX")
    with pytest.raises(UnknownClassification):
        classify("no_such_obligation", "HCM")
    assert classify("land_rent_annual", "HN").account_label.startswith("7111")
    assert classify("registration_fee", "HN").code != classify("personal_income_tax", "HN").code


def test_lines_are_classified_at_issuance_and_on_the_receipt(app, payer, bank):
    from app.extensions import db
    from app.models import Notice, PaymentOrder

    p = payer()
    ref, amount = p.start()
    p.notify(ref, amount)
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == p.notice_code))
        province = notice.dossier.parcel.province
        for line in notice.lines:
            expected = classify(line.obligation, province)
            assert (line.budget_code, line.treasury_account) == (expected.code, expected.account_label)
        order = db.session.scalar(select(PaymentOrder).where(PaymentOrder.ref == ref))
        claims = order.receipt.claims["lines"]
        assert {(c["obligation"], c["budget_code"]) for c in claims} == \
            {(line.obligation, line.budget_code) for line in notice.lines if line.paid}
