"""The registry holds the truth: who holds each parcel (with history), moved only by
completing a dossier; one open dossier per parcel; parties checked against the holders."""

from __future__ import annotations

import threading
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.app.bank import notification
from tests.app.test_api import dossier_body, token
from tests.conftest import login, post_form

AN = ("Nguyễn Văn An", "079080000001")
BINH = ("Trần Thị Bình", "079085000002")
CUONG = ("Lê Văn Cường", "079070000003")


def count(app, model, *where):
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def holdings_of(app, parcel_id):
    """[(citizen id, share, open?, certificate no)] of the parcel, oldest first."""
    from app.extensions import db
    from app.models import Holding

    with app.app_context():
        rows = db.session.scalars(select(Holding).where(Holding.parcel_id == parcel_id)
                                  .order_by(Holding.id)).all()
        return [(h.party.citizen_id, h.share_text, h.valid_to is None,
                 h.dossier.certificate_no if h.dossier else None) for h in rows]


def pay(app, world, notice_code):
    """The buyer pays the notice at the bank (the bank's signed notification)."""
    from app.extensions import db
    from app.models import Notice, Party, User
    from app.services import paying

    with app.test_request_context():
        notice = db.session.scalar(select(Notice).where(Notice.code == notice_code))
        payer = db.session.scalar(select(User).join(Party, User.party_id == Party.id)
                                  .where(Party.id == notice.payer_id))
        order, _url = paying.start_payment(payer, notice)
        ref, amount = order.ref, order.amount
    answer = app.test_client().post("/bank/notify", data=notification(ref, amount))
    assert answer.get_json()["RspCode"] == "00"


def complete(app, world, code):
    from app.extensions import db
    from app.models import Dossier
    from app.services.dossiers import complete_dossier

    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        return complete_dossier(world.officer_for(dossier.parcel_id), dossier).certificate_no


def transfer_to_the_end(app, world, **kwargs) -> tuple[str, str]:
    """File, confirm, pay and complete: (dossier code, certificate number)."""
    code, notice_code = world.file_and_confirm(**kwargs)
    pay(app, world, notice_code)
    return code, complete(app, world, code)


# --- holdings move on completion --------------------------------------------------------


def test_completing_a_transfer_moves_the_holding(app, world):
    from app.extensions import db
    from app.models import Dossier, Event, Holding

    client = app.test_client()
    registry = token(client, "registry")
    before = client.get("/api/v1/parcels", headers=registry).get_json()["items"]
    first = next(p for p in before if p["id"] == world.parcel_id)
    assert first["holders"] == [{"full_name": AN[0], "citizen_id": AN[1], "share": "1/1",
                                 "since": None, "certificate_no": None}]
    assert first["holder"] == {"full_name": AN[0], "citizen_id": AN[1]}
    assert first["open_dossier"] is None

    code, certificate = transfer_to_the_end(app, world)

    assert certificate and certificate.startswith("CS")
    assert holdings_of(app, world.parcel_id) == [
        (AN[1], "1/1", False, None), (BINH[1], "1/1", True, certificate)]
    with app.app_context():
        dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
        old, new = db.session.scalars(select(Holding).where(Holding.parcel_id == world.parcel_id)
                                      .order_by(Holding.id)).all()
        # One instant: the old holding ends when the new one begins, at the completion.
        assert old.valid_to == new.valid_from == dossier.completed_at
        assert new.dossier_id == dossier.id and dossier.certificate_no == certificate
        event = db.session.scalar(select(Event).where(Event.kind == "dossier_completed"))
        assert event.data["certificate_no"] == certificate
    after = client.get("/api/v1/parcels", headers=registry).get_json()["items"]
    first = next(p for p in after if p["id"] == world.parcel_id)
    assert [(h["citizen_id"], h["share"], h["certificate_no"]) for h in first["holders"]] == [
        (BINH[1], "1/1", certificate)]
    assert first["holder"]["citizen_id"] == BINH[1]
    dossier = client.get(f"/api/v1/dossiers/{code}", headers=registry).get_json()
    assert dossier["certificate_no"] == certificate
    # The officer's dossier page shows the certificate too.
    login(client, "registry")
    assert certificate in client.get(f"/registry/dossiers/{code}").get_data(as_text=True)


def test_each_completion_issues_a_new_certificate_number(app, world):
    _code, first = transfer_to_the_end(app, world)
    _code, second = transfer_to_the_end(app, world, transferor=BINH, transferee=CUONG)
    assert first != second
    assert holdings_of(app, world.parcel_id) == [
        (AN[1], "1/1", False, None), (BINH[1], "1/1", False, first),
        (CUONG[1], "1/1", True, second)]


def test_a_completion_that_fails_moves_nothing(app, world, monkeypatch):
    """The certificate number clashes with one already issued: the completion fails at the
    database, and the dossier's state, its event and the holdings are all as before."""
    from sqlalchemy.exc import IntegrityError

    from app.extensions import db
    from app.models import Dossier, Event
    from app.services import holdings

    other_code, _notice = world.file_and_confirm(parcel=world.parcel2_id, price=9_000_000_000)
    with app.app_context():
        db.session.scalar(select(Dossier).where(Dossier.code == other_code)).certificate_no = "CS-TAKEN"
        db.session.commit()
    code, notice_code = world.file_and_confirm()
    pay(app, world, notice_code)
    events_before = count(app, Event)
    monkeypatch.setattr(holdings, "certificate_number", lambda dossier, at: "CS-TAKEN")
    with pytest.raises(IntegrityError):
        complete(app, world, code)
    with app.app_context():
        assert db.session.scalar(select(Dossier.status).where(Dossier.code == code)).value == "paid"
        assert db.session.scalar(select(Dossier.certificate_no).where(Dossier.code == code)) is None
    assert count(app, Event) == events_before
    assert holdings_of(app, world.parcel_id) == [(AN[1], "1/1", True, None)]


# --- one open dossier per parcel ---------------------------------------------------------


def test_a_second_filing_while_one_is_open_is_refused_naming_it(app, world):
    from app.models import Dossier, Event, Party

    client = app.test_client()
    registry = token(client, "registry")
    first = client.post("/api/v1/dossiers", json=dossier_body(world), headers=registry)
    assert first.status_code == 201
    first_code = first.get_json()["code"]
    events, parties = count(app, Event), count(app, Party)

    again = client.post("/api/v1/dossiers", headers=registry, json=dossier_body(
        world, transferee={"full_name": "Phạm Văn Dũng", "citizen_id": "001090000004"}))
    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "conflict" and first_code in error["message"]
    assert first_code in error["fields"]["parcel_id"]
    items = client.get("/api/v1/parcels", headers=registry).get_json()["items"]
    assert next(p for p in items if p["id"] == world.parcel_id)["open_dossier"] == first_code
    assert (count(app, Dossier), count(app, Event), count(app, Party)) == (1, events, parties)

    # The form: a friendly page saying the same.
    login(client, "registry")
    page = post_form(client, f"/registry/dossiers/new?parcel_id={world.parcel_id}",
                     "/registry/dossiers/new", {
                         "parcel_id": world.parcel_id, "transferor_name": AN[0],
                         "transferor_citizen_id": AN[1], "transferee_name": BINH[0],
                         "transferee_citizen_id": BINH[1], "declared_price": "12000000000",
                         "relationship": ""})
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert first_code in html and 'class="flash error"' in html and "<form" in html
    assert count(app, Dossier) == 1


def test_after_completion_only_the_new_holder_may_transfer(app, world):
    from app.models import Dossier

    transfer_to_the_end(app, world)
    client = app.test_client()
    registry = token(client, "registry")
    by_old = client.post("/api/v1/dossiers", headers=registry, json=dossier_body(
        world, transferee={"full_name": CUONG[0], "citizen_id": CUONG[1]}))
    assert by_old.status_code == 422
    assert "transferor_citizen_id" in by_old.get_json()["error"]["fields"]
    assert BINH[0] in by_old.get_json()["error"]["message"]  # who the registry says holds it
    assert count(app, Dossier) == 1
    by_new = client.post("/api/v1/dossiers", headers=registry, json=dossier_body(
        world, transferor={"full_name": BINH[0], "citizen_id": BINH[1]},
        transferee={"full_name": CUONG[0], "citizen_id": CUONG[1]}))
    assert by_new.status_code == 201, by_new.get_json()
    assert count(app, Dossier) == 2


def test_the_database_refuses_a_second_open_dossier_by_itself(app, world, monkeypatch):
    """Without the service's own check, the partial unique index still refuses, and the
    refusal is the same clear conflict naming the open dossier."""
    from app.errors import Conflict
    from app.models import Dossier
    from app.services import dossiers

    first = world.file()
    monkeypatch.setattr(dossiers, "_refuse_if_open", lambda parcel: None)
    with pytest.raises(Conflict) as refused:
        world.file()
    assert first in refused.value.message
    assert count(app, Dossier) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("service_check", [True, False], ids=["locks", "index-only"])
def test_two_officers_filing_at_once_make_one_dossier(pg_app, pg_world, monkeypatch, service_check):
    """Two officers of the office file for the same parcel at the same moment, each on its
    own connection: exactly one dossier is created, the other gets the conflict naming it.
    With ``index-only`` the service neither locks the parcel nor looks for an open dossier:
    the database's index decides alone."""
    from app.errors import Conflict
    from app.extensions import db
    from app.models import Dossier, Office, Parcel, Role, User
    from app.services import dossiers

    app, world = pg_app, pg_world
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "REG1"))
        second = User(username="registry-b", full_name="B", role=Role.REGISTRY_OFFICER, office=office)
        second.set_password("x" * 12)
        db.session.add(second)
        db.session.commit()
    if not service_check:
        monkeypatch.setattr(dossiers, "_refuse_if_open", lambda parcel: None)
        monkeypatch.setattr(dossiers, "_lock_parcel", lambda parcel_id: db.session.get(Parcel, parcel_id))
    barrier = threading.Barrier(2, timeout=30)
    results: dict[str, object] = {}

    def officer(username):
        with app.app_context():
            user = world.user(username)
            data = world.transfer_input()
            barrier.wait()
            try:
                results[username] = dossiers.file_transfer(user, data).code
            except Conflict as err:
                results[username] = err
            finally:
                db.session.remove()

    threads = [threading.Thread(target=officer, args=(name,)) for name in ("registry", "registry-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = [r for r in results.values() if isinstance(r, str)]
    refusals = [r for r in results.values() if isinstance(r, Conflict)]
    assert len(codes) == 1 and len(refusals) == 1, results
    assert codes[0] in refusals[0].message
    with app.app_context():
        assert db.session.scalars(select(Dossier.code)).all() == codes


# --- parties checked against the holders --------------------------------------------------


def test_a_name_typed_in_nfd_is_the_same_name(app, world):
    from app.extensions import db
    from app.models import Party

    client = app.test_client()
    nfd = unicodedata.normalize("NFD", AN[0].upper())  # decomposed, and in capitals
    assert nfd.casefold() != AN[0].casefold()  # a plain case-insensitive comparison fails
    new_name = unicodedata.normalize("NFD", "Phạm Thị Hồng Nhung")
    body = dossier_body(world, transferor={"full_name": nfd, "citizen_id": AN[1]},
                        transferee={"full_name": new_name, "citizen_id": "001090000004"})
    created = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))
    assert created.status_code == 201, created.get_json()
    with app.app_context():
        stored = db.session.scalar(select(Party.full_name).where(Party.citizen_id == "001090000004"))
    assert stored == unicodedata.normalize("NFC", new_name) and stored != new_name


BAD_IDS = [
    ("full-width digits", "０７９０８５０００００２"),
    ("11 digits", "07908500000"),
    ("13 digits", "0790850000021"),
    ("no such province", "003085000002"),
    ("province 999", "999085000002"),
    ("a newline after it", "079085000002\n0"),
]


@pytest.mark.parametrize("case, citizen_id", BAD_IDS, ids=[c for c, _ in BAD_IDS])
def test_a_bad_citizen_id_is_refused_and_nothing_is_written(app, world, case, citizen_id):
    from app.models import Dossier, Event, Party

    client = app.test_client()
    parties = count(app, Party)
    body = dossier_body(world, transferee={"full_name": "Phạm Văn Dũng", "citizen_id": citizen_id})
    response = client.post("/api/v1/dossiers", json=body, headers=token(client, "registry"))
    assert response.status_code == 422
    message = response.get_json()["error"]["fields"]["transferee_citizen_id"]
    assert message
    login(client, "registry")
    page = post_form(client, f"/registry/dossiers/new?parcel_id={world.parcel_id}",
                     "/registry/dossiers/new", {
                         "parcel_id": world.parcel_id, "transferor_name": AN[0],
                         "transferor_citizen_id": AN[1], "transferee_name": "Phạm Văn Dũng",
                         "transferee_citizen_id": citizen_id, "declared_price": "12000000000",
                         "relationship": ""})
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    field = html[html.index('name="transferee_citizen_id"'):]
    assert 'class="error"' in field[:600]
    assert (count(app, Dossier), count(app, Event), count(app, Party)) == (0, 0, parties)


def test_the_service_checks_citizen_ids_itself(app, world):
    """Not only the forms: a caller of the service with a full-width id is refused."""
    from app.errors import ValidationFailed
    from app.models import Party

    parties = count(app, Party)
    with pytest.raises(ValidationFailed) as refused:
        world.file(transferee=("Phạm Văn Dũng", "０７９０８５０００００４"))
    assert "transferee_citizen_id" in refused.value.fields
    assert count(app, Party) == parties


def test_citizen_id_rules(app):
    from app.citizen_ids import PROVINCE_CODES, is_citizen_id

    assert len(PROVINCE_CODES) == 63
    assert PROVINCE_CODES["001"] == "Hà Nội" and PROVINCE_CODES["079"] == "Hồ Chí Minh"
    assert all(len(code) == 3 and code.isascii() and code.isdigit() for code in PROVINCE_CODES)
    with app.test_request_context():
        assert is_citizen_id("001090000004") and is_citizen_id("096190000001")
        assert not is_citizen_id("000090000004") and not is_citizen_id("097090000004")
        assert not is_citizen_id("٠٧٩٠٨٥٠٠٠٠٠٢")  # Arabic-Indic digits
        assert not is_citizen_id(" 079085000002") and not is_citizen_id(None)


def test_a_joint_holding_is_transferred_by_every_holder_or_not_at_all(app, world):
    from app.models import Dossier

    parcel = world.add_parcel({AN[1]: "1/2", CUONG[1]: "1/2"})
    client = app.test_client()
    registry = token(client, "registry")
    items = client.get("/api/v1/parcels", headers=registry).get_json()["items"]
    joint = next(p for p in items if p["id"] == parcel)
    assert [(h["citizen_id"], h["share"]) for h in joint["holders"]] == [(AN[1], "1/2"), (CUONG[1], "1/2")]
    response = client.post("/api/v1/dossiers", headers=registry,
                           json=dossier_body(world, parcel_id=parcel))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert CUONG[0] in error["message"] and CUONG[0] in error["fields"]["transferor_citizen_id"]
    assert count(app, Dossier) == 0


# --- the filing form finds the parcel -----------------------------------------------------


def test_the_form_finds_parcels_of_the_office_and_fills_in_the_holder(app, world):
    other_office = world.add_parcel(office="REG2", price_key="Q3-VO-VAN-TAN")
    client = app.test_client()
    login(client, "registry")
    blank = client.get("/registry/dossiers/new").get_data(as_text=True)
    assert 'name="q"' in blank and "12 Lê Lợi" not in blank  # no list of every parcel

    def found(q):
        html = client.get("/registry/dossiers/new", query_string={"q": q}).get_data(as_text=True)
        return {int(part.split('"')[0]) for part in html.split('data-parcel-id="')[1:]}

    assert found("10/101") == {world.parcel_id}
    assert found("10 / 101") == {world.parcel_id}
    assert found("lê lợi") == {world.parcel_id} or found("Lê Lợi") == {world.parcel_id}
    assert found(AN[1]) == {world.parcel_id}  # parcel 2 is An's too, but of another office
    assert found(BINH[1]) == set()
    assert found("20/202") == set() and other_office not in found("Đường Thử")
    assert found("100%") == set()  # a wildcard typed in is a character, not a pattern

    page = client.get(f"/registry/dossiers/new?parcel_id={world.parcel_id}").get_data(as_text=True)
    assert f'value="{AN[1]}"' in page and f'value="{AN[0]}"' in page
    assert "1/1" in page and 'name="csrf_token"' in page
    # A parcel of another office cannot be chosen.
    page = client.get(f"/registry/dossiers/new?parcel_id={world.parcel2_id}").get_data(as_text=True)
    assert AN[1] not in page


def test_the_search_shows_at_most_twenty(app, world):
    for _ in range(21):
        world.add_parcel()
    client = app.test_client()
    login(client, "registry")
    html = client.get("/registry/dossiers/new", query_string={"q": "Đường Thử"}).get_data(as_text=True)
    assert html.count("data-parcel-id=") == 20
    api = client.get("/api/v1/parcels", query_string={"q": AN[1]},
                     headers=token(client, "registry")).get_json()["items"]
    assert len(api) == 20


# --- the annual tax goes to the holders on record -----------------------------------------


def test_the_annual_notice_goes_to_the_holder_on_record_on_1_january(app, world):
    from app.extensions import db
    from app.models import AnnualTaxNotice, Party
    from app.services.annual_tax import run_annual_tax
    from tests.app.test_annual_tax import add_quotas

    with app.app_context():
        add_quotas(db, [("*", "160")])
        db.session.commit()
    from app.services.dossiers import today_local

    transfer_to_the_end(app, world)  # completed today
    year = today_local().year
    with app.app_context():
        run_annual_tax(year)
        run_annual_tax(year + 1)
        holder = {(n.tax_year, n.parcel_id): db.session.get(Party, n.holder_id).citizen_id
                  for n in db.session.scalars(select(AnnualTaxNotice))}
    assert holder[(year, world.parcel_id)] == AN[1]  # An held it on 1 January this year
    assert holder[(year + 1, world.parcel_id)] == BINH[1]  # sold since: Bình's notice
    assert holder[(year + 1, world.parcel2_id)] == AN[1]


# --- the invariants, whatever the sequence ------------------------------------------------

PEOPLE = [AN, BINH, CUONG]
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("file"), st.integers(0, 1), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("complete"), st.integers(0, 1), st.just(0), st.just(0)),
    ),
    min_size=1, max_size=8,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_each_parcel_has_one_set_of_holders_and_at_most_one_open_dossier(app, world, steps):
    """Filings (right or wrong transferor, anyone as transferee) and completions, in any
    order: a filing is accepted exactly when the parcel has no open dossier and the
    transferor holds it; after every step each parcel has one current set of holders whose
    shares add up to 1, and at most one open dossier."""
    from app.errors import AppError
    from app.extensions import db
    from app.models import CLOSED_STATUSES, Dossier, Holding, Notice
    from app.services.holdings import shares_add_up

    # Fresh parcels of the office whose tax office confirms at once (each example).
    parcels = [world.add_parcel(office="REG2", price_key="Q3-VO-VAN-TAN", area="80.00")
               for _ in range(2)]
    holder = {p: AN for p in parcels}  # the model: who holds each parcel
    open_code: dict[int, str | None] = {p: None for p in parcels}
    for action, which, a, b in steps:
        parcel = parcels[which]
        if action == "file":
            transferor, transferee = PEOPLE[a], PEOPLE[b]
            expected = open_code[parcel] is None and transferor == holder[parcel] \
                and transferee != transferor
            try:
                code = world.file(parcel=parcel, price=9_000_000_000, transferor=transferor,
                                  transferee=transferee)
            except AppError as err:
                assert not expected, err.message
                if open_code[parcel] is not None and transferor == holder[parcel] \
                        and transferee != transferor:
                    assert open_code[parcel] in err.message
            else:
                assert expected
                open_code[parcel] = code
        elif open_code[parcel] is not None:
            code = open_code[parcel]
            with app.app_context():
                dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
                notice_code = db.session.scalar(select(Notice.code).where(Notice.dossier_id == dossier.id))
                buyer = next(p for p in PEOPLE if p[1] == dossier.transferee.citizen_id)
            pay(app, world, notice_code)
            complete(app, world, code)
            holder[parcel], open_code[parcel] = buyer, None
        with app.app_context():
            for p in parcels:
                current = db.session.scalars(select(Holding).where(
                    Holding.parcel_id == p, Holding.valid_to.is_(None))).all()
                assert shares_add_up(current)
                assert [h.party.citizen_id for h in current] == [holder[p][1]]
                opened = db.session.scalar(select(func.count()).select_from(Dossier).where(
                    Dossier.parcel_id == p, Dossier.status.not_in(CLOSED_STATUSES)))
                assert opened == (open_code[p] is not None) and opened <= 1


# Every procedure that changes holders: a grant of the State on a parcel nobody holds, a
# transfer, gift or inheritance of a held one; one or two transferees (halves).
GRANTS = {
    "recognition": {"recognition_kind": "without_authority_no_payment_proof"},
    "allocation": {},
    "lease": {"rent_mode": "annual", "lease_term_years": 20, "rent_rate": "0.01"},
    "lease_one_time": {"rent_mode": "one_time", "lease_term_years": 30},
}
MOVES = ("transfer", "gift", "inheritance")
RECEIVERS = [(BINH,), (CUONG,), (BINH, CUONG), (AN,), (AN, CUONG)]
ANY_STEPS = st.lists(
    st.one_of(
        # (file, parcel, procedure, transferors: "right" = the current holders for a move
        #  and nobody for a grant, "binh" = Bình alone, "none", receivers)
        # The procedure: one of the list, or "fits" = one that fits the parcel's state (a
        # move when it is held, a grant when not), so that many filings are accepted.
        st.tuples(st.just("file"), st.integers(0, 1),
                  st.sampled_from([*MOVES, *GRANTS, *["fits"] * 7]),
                  st.sampled_from(["right", "right", "right", "binh", "none"]),
                  st.integers(0, len(RECEIVERS) - 1)),
        st.tuples(st.just("complete"), st.integers(0, 1), st.just(""), st.just(""),
                  st.just(0)),
        # A cancellation: the registry rejects the open dossier, or a landholder of it
        # withdraws it, before or after paying its notices.
        st.tuples(st.just("cancel"), st.integers(0, 1),
                  st.sampled_from(["reject", "withdraw", "pay_then_withdraw"]), st.just(""), st.just(0)),
    ),
    min_size=3, max_size=10,
)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ANY_STEPS)
def test_every_procedure_keeps_one_set_of_holders_and_one_open_dossier(app, world, steps):
    """Filings of every holder-changing procedure (right or wrong parties, on a held parcel
    or on one nobody holds), completions and cancellations (rejected or withdrawn, paid or
    not), in any order: a filing is accepted exactly when
    the model says so; after every step each parcel held has exactly one set of holders whose
    shares add up to 1 (one nobody holds has none), and at most one open dossier."""
    from decimal import Decimal
    from fractions import Fraction

    from app.errors import AppError
    from app.extensions import db
    from app.models import (
        CLOSED_STATUSES,
        Assessment,
        AssessmentStatus,
        Dossier,
        Holding,
        Notice,
        NoticeStatus,
        Party,
        User,
    )
    from app.services import decisions
    from app.services.dossiers import (
        PartyInput,
        TransferInput,
        confirm_assessment,
        file_transfer,
    )
    from app.services.holdings import shares_add_up

    held = world.add_parcel(office="REG2", price_key="Q3-VO-VAN-TAN", area="80.00")
    bare = world.add_parcel(office="REG2", price_key="Q3-VO-VAN-TAN", area="80.00")
    with app.app_context():
        for h in db.session.scalars(select(Holding).where(Holding.parcel_id == bare)):
            db.session.delete(h)
        db.session.commit()
    parcels = [held, bare]
    holders: dict[int, tuple] = {held: (AN,), bare: ()}  # the model
    open_code: dict[int, str | None] = {p: None for p in parcels}
    pending_receivers: dict[int, tuple] = {}  # who an open dossier gives the parcel to
    for action, which, procedure, giving, receiving in steps:
        parcel = parcels[which]
        if action == "file":
            if procedure == "fits":
                procedure = ([*MOVES] if holders[parcel] else [*GRANTS])[receiving % 3]
            grant = procedure in GRANTS
            transferors = {"right": () if grant else holders[parcel], "binh": (BINH,),
                           "none": ()}[giving]
            receivers = RECEIVERS[receiving]
            expected = open_code[parcel] is None and not set(transferors) & set(receivers) and (
                (grant and not holders[parcel] and not transferors)
                or (not grant and holders[parcel] and transferors
                    and set(transferors) == set(holders[parcel])))
            share = Fraction(1, len(receivers))
            extra = dict(GRANTS.get(procedure, {}))
            if "rent_rate" in extra:
                extra["rent_rate"] = Decimal(extra["rent_rate"])
            data = TransferInput(
                parcel_id=parcel, procedure="lease" if procedure.startswith("lease") else procedure,
                transferors=tuple(PartyInput(*p) for p in transferors),
                transferees=tuple((PartyInput(*p), share) for p in receivers),
                declared_price=9_000_000_000 if procedure == "transfer" else None, **extra)
            with app.app_context():
                try:
                    code = file_transfer(world.user("registry2"), data).code
                except AppError as err:
                    assert not expected, (procedure, err.message, err.fields)
                    if open_code[parcel] is not None and expected is False and (
                            (grant and not transferors and not holders[parcel]) or
                            (not grant and set(transferors) == set(holders[parcel])
                             and transferors and not set(transferors) & set(receivers))):
                        assert open_code[parcel] in err.message
                else:
                    assert expected, (procedure, transferors, receivers, holders[parcel])
                    open_code[parcel] = code
                    assessment = db.session.scalar(select(Assessment).join(Dossier).where(
                        Dossier.code == code))
                    if assessment.status is AssessmentStatus.PENDING:
                        confirm_assessment(world.user("tax2"), assessment)
                    pending_receivers[parcel] = receivers
        elif action == "cancel" and open_code[parcel] is not None:
            code = open_code[parcel]
            if procedure == "pay_then_withdraw":
                with app.app_context():
                    unpaid = db.session.scalars(select(Notice.code).join(Dossier).where(
                        Dossier.code == code, Notice.status == NoticeStatus.UNPAID)).all()
                for notice_code in unpaid:
                    pay(app, world, notice_code)
            with app.app_context():
                dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
                if procedure == "reject":
                    decisions.reject(world.user("registry2"), dossier, legal_ground="Land Law 2024 art. 151",
                                     reason="The papers do not match the parcel.")
                else:
                    party = pending_receivers[parcel][0]
                    landholder = db.session.scalar(select(User).join(Party, User.party_id == Party.id)
                                                   .where(Party.citizen_id == party[1]))
                    decisions.withdraw(landholder, dossier, reason="The buyer changed their mind.")
            open_code[parcel] = None  # the holders stay as they were; the parcel is free
        elif action == "complete" and open_code[parcel] is not None:
            code = open_code[parcel]
            with app.app_context():
                unpaid = db.session.scalars(select(Notice.code).join(Dossier).where(
                    Dossier.code == code, Notice.status != NoticeStatus.PAID)).all()
            for notice_code in unpaid:
                pay(app, world, notice_code)
            complete(app, world, code)
            holders[parcel], open_code[parcel] = pending_receivers[parcel], None
        with app.app_context():
            for p in parcels:
                current = db.session.scalars(select(Holding).where(
                    Holding.parcel_id == p, Holding.valid_to.is_(None))).all()
                assert sorted(h.party.citizen_id for h in current) == \
                    sorted(person[1] for person in holders[p])
                assert shares_add_up(current) == bool(holders[p])
                opened = db.session.scalar(select(func.count()).select_from(Dossier).where(
                    Dossier.parcel_id == p, Dossier.status.not_in(CLOSED_STATUSES)))
                assert opened == (open_code[p] is not None) and opened <= 1

