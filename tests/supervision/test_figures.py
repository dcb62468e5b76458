"""The dashboard's figures equal figures recomputed here, independently, from the event
table: this file counts working days with the `holidays` calendar directly and the rule of
the limits written out again, without the clocks module."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from datetime import date, datetime, timedelta

import holidays
import pytest
from sqlalchemy import select

from tests.clocks.factory import VN, make_dossier
from tests.conftest import PASSWORD, login

CAL = holidays.country_holidays("VN", years=range(2025, 2028))


def _working(day: date) -> bool:
    return CAL.is_working_day(day)


def _received(t: datetime) -> date:
    local = t.astimezone(VN)
    day = local.date()
    if _working(day) and local.hour < 17:
        return day
    day += timedelta(days=1)
    while not _working(day):
        day += timedelta(days=1)
    return day


def _used(start: date, end: date) -> int:
    return sum(1 for i in range((end - start).days) if _working(start + timedelta(days=i + 1)))


def _day(t: datetime) -> date:
    return t.astimezone(VN).date()


def _stamp(t: datetime) -> str:
    return t.astimezone(VN).strftime("%Y-%m-%d %H:%M")


def build(db, seed: int) -> None:
    """Dossiers of both offices and two procedures, filed through 2026 at random hours,
    each going as far as chance takes it, some taking long."""
    # Cases on the edges of the limits, so that a limit or a rule off by one shows.
    flow = ("dossier_filed", "cadastral_data_sent_to_tax")
    for filed, notice, paid, completed in (
            ("2026-02-27 09:00", "2026-03-02 08:00", "2026-03-02 10:00", "2026-03-12 16:00"),  # 8
            ("2026-02-27 09:00", "2026-03-02 08:00", "2026-03-02 10:00", "2026-03-13 09:00"),  # 9
            ("2026-03-02 09:00", "2026-03-09 11:00", None, None),  # tax: 5 of 5
            ("2026-03-02 09:00", "2026-03-10 11:00", None, None),  # tax: 6 of 5
            ("2026-09-07 09:00", "2026-09-10 11:00", None, None),  # tax: 3 of 3
            ("2026-10-16 17:00", "2026-10-22 11:00", None, None),  # received Monday: 3 of 3
            ("2026-10-16 16:59", "2026-10-22 11:00", None, None)):  # received Friday: 4 of 3
        events = [(kind, filed) for kind in flow] + [("notice_issued", notice)]
        if paid:
            events += [("payment_confirmed", paid), ("dossier_completed", completed)]
        make_dossier(db, events=events, due_on=date(2026, 3, 12))
    rng = random.Random(seed)
    for _ in range(10):
        filed = datetime(2026, rng.randint(1, 10), rng.randint(1, 28), rng.randint(7, 19),
                         rng.choice((0, 30)), tzinfo=VN)
        notice = filed + timedelta(days=rng.choice((0, 1, 3, 6, 9)), hours=rng.randint(0, 5))
        paid = notice + timedelta(days=rng.randint(0, 30), hours=rng.randint(1, 9))
        done = paid + timedelta(days=rng.choice((0, 2, 7, 11, 16)), hours=rng.randint(0, 6))
        stage = rng.choice(("tax", "citizen", "registry", "done", "done", "done"))
        events = [("dossier_filed", _stamp(filed)), ("cadastral_data_sent_to_tax", _stamp(filed))]
        if stage != "tax":
            events.append(("notice_issued", _stamp(notice)))
        if stage in ("registry", "done"):
            events.append(("payment_confirmed", _stamp(paid)))
        if stage == "done":
            events.append(("dossier_completed", _stamp(done)))
        make_dossier(db, office=rng.choice(("REG1", "REG2")), procedure=rng.choice(("transfer", "gift")),
                     events=events, due_on=filed.date() + timedelta(days=rng.randint(8, 20)))


def independent(db) -> list[dict]:
    """One row per finished step, from the event table alone."""
    from app.models import Dossier, Event, Office

    offices = dict(db.session.execute(select(Office.id, Office.code)).all())
    dossiers = {d.id: d for d in db.session.scalars(select(Dossier))}
    first: dict[int, dict[str, datetime]] = {}
    for dossier_id, kind, at in db.session.execute(
            select(Event.dossier_id, Event.kind, Event.at).order_by(Event.at, Event.id)):
        first.setdefault(dossier_id, {}).setdefault(kind, at if at.tzinfo else at.replace(tzinfo=VN.utc))
    rows = []
    for dossier_id, t in first.items():
        d = dossiers[dossier_id]
        common = {"code": d.code, "procedure": d.procedure}
        if "notice_issued" in t:
            start = _received(t["cadastral_data_sent_to_tax"])
            limit = 5 if start < date(2026, 7, 1) else 3  # Decree 126/2020; Decree 252/2026
            used = _used(start, _day(t["notice_issued"]))
            rows.append({**common, "agency": "tax", "office": offices[d.tax_office_id],
                         "on_time": used <= limit, "period": _day(t["notice_issued"]).strftime("%Y-%m")})
        if "dossier_completed" in t:
            used = _used(_received(t["dossier_filed"]), _day(t["cadastral_data_sent_to_tax"])) + \
                _used(_received(t["payment_confirmed"]), _day(t["dossier_completed"]))
            rows.append({**common, "agency": "registry", "office": offices[d.registry_office_id],
                         "on_time": used <= 8, "period": _day(t["dossier_completed"]).strftime("%Y-%m")})
    return rows


def expected_groups(rows: list[dict], by: str) -> dict[str, tuple[int, int]]:
    finished, on_time = Counter(), Counter()
    for row in rows:
        finished[row[by]] += 1
        on_time[row[by]] += row["on_time"]
    return {k: (finished[k], on_time[k]) for k in finished}


@pytest.fixture
def figures_world(app, world, monkeypatch):
    from app.extensions import db
    from app.supervision import figures

    monkeypatch.setattr(figures, "fetch_portal_figures", lambda: None)
    with app.app_context():
        build(db, seed=2026)
        rows = independent(db)
    verdicts = {r["on_time"] for r in rows}
    assert verdicts == {True, False}, "the data must hold on-time and late steps"
    return rows


def _token(client, username="supervisor"):
    return client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]


def test_api_figures_equal_the_independent_count(app, figures_world):
    client = app.test_client()
    answer = client.get("/api/v1/supervision/figures",
                        headers={"Authorization": f"Bearer {_token(client)}"})
    assert answer.status_code == 200
    data = answer.get_json()
    for by in ("agency", "procedure", "office", "period"):
        got = {g[by]: (g["finished"], g["on_time"]) for g in data["by"][by] if g["finished"]}
        assert got == expected_groups(figures_world, by), by
        for g in data["by"][by]:
            if g["finished"]:
                assert g["on_time_rate"] == round(g["on_time"] / g["finished"], 4)
    total = len(figures_world)
    assert (data["total"]["finished"], data["total"]["on_time"]) == \
        (total, sum(r["on_time"] for r in figures_world))
    # Filters narrow the same count.
    only = client.get("/api/v1/supervision/figures?agency=tax&office=TAX1",
                      headers={"Authorization": f"Bearer {_token(client)}"}).get_json()
    expected = [r for r in figures_world if r["agency"] == "tax" and r["office"] == "TAX1"]
    assert (only["total"]["finished"], only["total"]["on_time"]) == \
        (len(expected), sum(r["on_time"] for r in expected))


def test_drill_down_and_csv_name_the_late_dossiers(app, figures_world):
    client = app.test_client()
    login(client, "supervisor")
    page = client.get("/supervision/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<svg") >= 4 and 'id="sync-dossiers"' in html
    late_finished = {(r["code"], r["agency"]) for r in figures_world if not r["on_time"]}
    listed = client.get("/supervision/late").get_data(as_text=True)
    for code, agency in late_finished:
        assert f'data-code="{code}" data-agency="{agency}"' in listed
    exported = list(csv.DictReader(io.StringIO(
        client.get("/supervision/steps.csv").get_data(as_text=True))))
    done = {(r["dossier_code"], r["agency"]): r["on_time"] == "yes"
            for r in exported if r["state"] == "done"}
    assert done == {(r["code"], r["agency"]): r["on_time"] for r in figures_world}


def test_side_by_side_with_the_portal(app, figures_world, monkeypatch):
    """Ours by the portal's rule (completed by the due date the dossier carries), recounted
    here; the portal's figures beside them; agreement only where the numbers are equal."""
    from app.extensions import db
    from app.models import Dossier, Event
    from app.supervision import figures

    with app.app_context():
        completed = dict(db.session.execute(
            select(Event.dossier_id, Event.at).where(Event.kind == "dossier_completed")).all())
        mine: dict[str, dict] = {}
        for d in db.session.scalars(select(Dossier)):
            row = mine.setdefault(d.procedure, {"procedure": d.procedure, "dossiers": 0,
                                                "completed": 0, "on_time": 0})
            row["dossiers"] += 1
            if d.id in completed:
                at = completed[d.id]
                row["completed"] += 1
                row["on_time"] += _day(at if at.tzinfo else at.replace(tzinfo=VN.utc)) <= d.due_on
    portal = {"procedures": [dict(mine["transfer"]),
                             {**mine["gift"], "on_time": mine["gift"]["on_time"] + 1}]}
    monkeypatch.setattr(figures, "fetch_portal_figures", lambda: portal)
    client = app.test_client()
    data = client.get("/api/v1/supervision/figures",
                      headers={"Authorization": f"Bearer {_token(client)}"}).get_json()
    rows = {r["procedure"]: r for r in data["portal_comparison"]["procedures"]}
    for procedure, counts in mine.items():
        assert {k: rows[procedure]["ours"][k] for k in counts} == counts
    assert rows["transfer"]["agree"] is True and rows["gift"]["agree"] is False


def test_officers_and_landholders_may_not_see_the_figures(app, world):
    client = app.test_client()
    for username in ("registry", "tax", "binh", "accountant"):
        assert client.get("/api/v1/supervision/figures",
                          headers={"Authorization": f"Bearer {_token(client, username)}"}).status_code == 403
