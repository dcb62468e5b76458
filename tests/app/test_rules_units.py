"""Unit tables: working-day deadlines, the dossier state machine, configuration."""

from __future__ import annotations

from datetime import date

import pytest

from app.deadlines import add_working_days, is_working_day
from app.models import DossierStatus as S

# (start, working days, expected due date, why)
DEADLINES = [
    (date(2026, 11, 27), 8, date(2026, 12, 9), "Friday start: weekends skipped"),
    (date(2026, 11, 19), 1, date(2026, 11, 20), "next day"),
    (date(2026, 11, 23), 1, date(2026, 11, 25), "Vietnam Cultural Day 24/11 skipped"),
    (date(2026, 11, 28), 1, date(2026, 11, 30), "Saturday start counts from Monday"),
    (date(2026, 8, 28), 3, date(2026, 9, 7), "National Day 1-2 September and the substituted 31/8 skipped"),
    (date(2026, 4, 24), 3, date(2026, 5, 4), "Hung Kings (observed 27/4), 30/4 and 1/5 skipped"),
    (date(2026, 2, 13), 1, date(2026, 2, 23), "Tet holidays 16-20/2 skipped"),
    (date(2026, 12, 31), 1, date(2027, 1, 4), "New Year's Day skipped across the year end"),
    (date(2026, 11, 27), 0, date(2026, 11, 27), "zero days is the same day"),
]


@pytest.mark.parametrize("start, days, due, why", DEADLINES, ids=[d[3] for d in DEADLINES])
def test_working_day_deadlines(start, days, due, why):
    assert add_working_days(start, days) == due


def test_holidays_are_not_working_days():
    assert not is_working_day(date(2026, 9, 2))
    assert not is_working_day(date(2026, 1, 1))
    assert is_working_day(date(2026, 11, 27))


def test_negative_days_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 1, 5), -1)


#: Every change a dossier may make (docs/architecture.md, docs/decisions.md), written out.
ALLOWED = {
    (None, S.FILED),
    (S.FILED, S.AWAITING_CONFIRMATION),
    (S.FILED, S.AWAITING_PAYMENT),
    (S.AWAITING_CONFIRMATION, S.AWAITING_PAYMENT),
    (S.AWAITING_PAYMENT, S.PAID),
    (S.PAID, S.COMPLETED),
    # An adjustment that leaves more to pay on a paid dossier.
    (S.PAID, S.AWAITING_PAYMENT),
    # Returned for a missing paper before completion, and back where it was.
    (S.FILED, S.RETURNED), (S.AWAITING_CONFIRMATION, S.RETURNED),
    (S.AWAITING_PAYMENT, S.RETURNED), (S.PAID, S.RETURNED),
    (S.RETURNED, S.FILED), (S.RETURNED, S.AWAITING_CONFIRMATION),
    (S.RETURNED, S.AWAITING_PAYMENT), (S.RETURNED, S.PAID),
    # Rejected by the registry or withdrawn by a landholder, from any state before completion.
    *{(state, end) for state in (S.FILED, S.AWAITING_CONFIRMATION, S.AWAITING_PAYMENT, S.PAID, S.RETURNED)
      for end in (S.REJECTED, S.WITHDRAWN)},
}


@pytest.mark.parametrize("current", [None, *S])
@pytest.mark.parametrize("new", list(S))
def test_every_dossier_transition(current, new):
    from app.errors import Conflict
    from app.services.workflow import check_transition

    if (current, new) in ALLOWED:
        assert check_transition(current, new)
    else:
        with pytest.raises(Conflict):
            check_transition(current, new)


def test_production_refuses_to_start_without_secrets(monkeypatch):
    from app.config import ConfigError, Production

    for name in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "BANK_SECRET", "RECEIPT_SIGNING_KEY"):
        monkeypatch.setattr(Production, name, None)
    with pytest.raises(ConfigError) as err:
        Production.validate()
    for name in ("SECRET_KEY", "DATABASE_URL", "BANK_SECRET", "RECEIPT_SIGNING_KEY"):
        assert name in str(err.value)
    monkeypatch.setattr(Production, "SECRET_KEY", "s")
    monkeypatch.setattr(Production, "SQLALCHEMY_DATABASE_URI", "postgresql://x/y")
    monkeypatch.setattr(Production, "BANK_SECRET", "b")
    monkeypatch.setattr(Production, "RECEIPT_SIGNING_KEY", "k")
    for name in ("PUBLIC_BASE_URL", "BANK_BASE_URL"):
        monkeypatch.setattr(Production, name, None)
    with pytest.raises(ConfigError) as err:
        Production.validate()
    assert "PUBLIC_BASE_URL" in str(err.value) and "BANK_BASE_URL" in str(err.value)
    monkeypatch.setattr(Production, "PUBLIC_BASE_URL", "https://landpay.example")
    monkeypatch.setattr(Production, "BANK_BASE_URL", "https://bank.example")
    for name in ("PORTAL_BASE_URL", "PORTAL_SECRET"):
        monkeypatch.setattr(Production, name, None)
    with pytest.raises(ConfigError) as err:
        Production.validate()
    assert "PORTAL_BASE_URL" in str(err.value) and "PORTAL_SECRET" in str(err.value)
    monkeypatch.setattr(Production, "PORTAL_BASE_URL", "https://portal.example")
    monkeypatch.setattr(Production, "PORTAL_SECRET", "p")
    for name in ("VIETQR_ACQUIRER_ID", "VIETQR_ACCOUNT"):
        monkeypatch.setattr(Production, name, None)
    with pytest.raises(ConfigError) as err:
        Production.validate()
    assert "VIETQR_ACQUIRER_ID" in str(err.value) and "VIETQR_ACCOUNT" in str(err.value)
    monkeypatch.setattr(Production, "VIETQR_ACQUIRER_ID", "970436")
    monkeypatch.setattr(Production, "VIETQR_ACCOUNT", "0011001932418")
    Production.validate()


def test_unknown_environment_name_is_refused():
    from app.config import ConfigError, get_config

    with pytest.raises(ConfigError):
        get_config("staging-typo")
