"""Shared fixtures: an app on SQLite and on PostgreSQL, migrated with the real
migrations, emptied after each test; helpers to create data and post forms."""

from __future__ import annotations

import os
import re
import socket
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get(
    "LANDPAY_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_PG = os.environ.get("LANDPAY_REQUIRE_POSTGRES") == "1"


class NetworkBlocked(RuntimeError):
    """A test tried to reach a host other than this machine."""


def _loopback_only(connect):
    """Wrap ``socket.connect``: loopback and local (Unix) sockets only, so no test can depend on
    or leak to the outside network; the processes the tests start talk over 127.0.0.1."""
    import ipaddress

    def guarded(sock, address, *args, **kwargs):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            try:
                loopback = ipaddress.ip_address(host.split("%")[0]).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise NetworkBlocked(f"tests may only connect to loopback, not {host}")
        return connect(sock, address, *args, **kwargs)

    return guarded


def pytest_configure(config):
    socket.socket.connect = _loopback_only(socket.socket.connect)
    socket.socket.connect_ex = _loopback_only(socket.socket.connect_ex)


def worker_id() -> str:
    """The name of this test process's databases; ``LANDPAY_TEST_DB_TAG`` keeps two suites
    run at once on one PostgreSQL server apart."""
    return os.environ.get("LANDPAY_TEST_DB_TAG", "") + os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_database(name: str) -> str:
    """Create a fresh database for this worker and return its URL."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:
        if REQUIRE_PG:
            raise RuntimeError(f"PostgreSQL is required but not usable at {PG_URL}: {err}") from err
        pytest.skip(f"PostgreSQL not available: {err}")
    finally:
        admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """Lazily created database URLs per backend for this test worker."""
    cache: dict[str, str] = {}

    def get(backend: str) -> str:
        if backend not in cache:
            if backend == "sqlite":
                path = tmp_path_factory.mktemp("db") / "landpay.db"
                cache[backend] = f"sqlite:///{path}"
            else:
                cache[backend] = _postgres_database(f"landpay_test_{worker_id()}")
            _migrate(cache[backend])
        return cache[backend]

    return get


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    from app import create_app

    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        from app.extensions import db

        db.engine.dispose()


def _empty(db) -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def app(backend, database_urls):

    yield from _app(database_urls(backend))


@pytest.fixture
def pg_app(database_urls):
    """An app on PostgreSQL only (for row-locking and concurrency tests)."""
    yield from _app(database_urls("postgresql"))


def _app(url: str):
    """An app with no context held: each request (and each ``with app.app_context()``
    block in a test) gets its own context and database session, as in production."""
    from app import create_app
    from app.extensions import db

    application = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    # Every API answer a test gets is checked against the OpenAPI document.
    from tests.api_schema import SchemaCheckingClient

    application.test_client_class = SchemaCheckingClient
    yield application
    with application.app_context():
        db.session.remove()
        _empty(db)
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


# --- data -------------------------------------------------------------------------------------

PASSWORD = "correct horse battery"


class World:
    """A small, complete set of data: two offices of each kind, parcels, users."""

    def __init__(self, app):
        with app.app_context():
            from app.extensions import db

            self._build(db)
        self.app = app

    def _build(self, db):
        from datetime import date

        from app.models import (
            Office,
            OfficeKind,
            Parcel,
            Party,
            PriceEntry,
            PriceTableVersion,
            Role,
            User,
        )

        self.db = db
        version = PriceTableVersion(
            province="HCM", label="HCM-TEST-1", effective_from=date(2026, 1, 1),
            source="test data", checksum="0" * 64, parameters={},
        )
        db.session.add(version)
        db.session.flush()
        db.session.add_all([
            PriceEntry(version_id=version.id, price_key="Q1-LE-LOI", position=1,
                       land_type="residential", price_per_m2=200_000_000, label="Lê Lợi"),
            PriceEntry(version_id=version.id, price_key="Q3-VO-VAN-TAN", position=1,
                       land_type="residential", price_per_m2=100_000_000, label="Võ Văn Tần"),
        ])
        self.tax = Office(code="TAX1", name="Tax office 1", kind=OfficeKind.TAX, province="HCM",
                          auto_confirm=False)
        self.registry = Office(code="REG1", name="Registry 1", kind=OfficeKind.REGISTRY,
                               province="HCM", tax_office=self.tax)
        self.tax2 = Office(code="TAX2", name="Tax office 2", kind=OfficeKind.TAX, province="HCM",
                           auto_confirm=True, auto_confirm_max_total=10**12)
        self.registry2 = Office(code="REG2", name="Registry 2", kind=OfficeKind.REGISTRY,
                                province="HCM", tax_office=self.tax2)
        db.session.add_all([self.tax, self.registry, self.tax2, self.registry2])
        self.seller = Party(full_name="Nguyễn Văn An", citizen_id="079080000001")
        self.buyer = Party(full_name="Trần Thị Bình", citizen_id="079085000002")
        self.stranger = Party(full_name="Lê Văn Cường", citizen_id="079070000003")
        db.session.add_all([self.seller, self.buyer, self.stranger])
        self.parcel = Parcel(province="HCM", map_sheet="10", parcel_no="101", address="12 Lê Lợi",
                             land_type="residential", area_m2=Decimal("50.00"), price_key="Q1-LE-LOI",
                             position=1, registry_office=self.registry, holder=self.seller)
        self.parcel2 = Parcel(province="HCM", map_sheet="20", parcel_no="202", address="5 Võ Văn Tần",
                              land_type="residential", area_m2=Decimal("80.00"), price_key="Q3-VO-VAN-TAN",
                              position=1, registry_office=self.registry2, holder=self.seller)
        db.session.add_all([self.parcel, self.parcel2])

        def user(username, role, office=None, party=None):
            u = User(username=username, full_name=username.title(), role=role, office=office, party=party)
            u.set_password(PASSWORD)
            db.session.add(u)
            return u

        self.registry_officer = user("registry", Role.REGISTRY_OFFICER, self.registry)
        self.registry_officer2 = user("registry2", Role.REGISTRY_OFFICER, self.registry2)
        self.tax_officer = user("tax", Role.TAX_OFFICER, self.tax)
        self.tax_officer2 = user("tax2", Role.TAX_OFFICER, self.tax2)
        self.admin = user("admin", Role.ADMIN)
        self.accountant = user("accountant", Role.ACCOUNTANT)
        self.supervisor = user("supervisor", Role.SUPERVISOR)
        self.seller_user = user("an", Role.LANDHOLDER, party=self.seller)
        self.buyer_user = user("binh", Role.LANDHOLDER, party=self.buyer)
        self.stranger_user = user("cuong", Role.LANDHOLDER, party=self.stranger)
        db.session.commit()
        self.parcel_id, self.parcel2_id = self.parcel.id, self.parcel2.id
        self.seller_party = (self.seller.full_name, self.seller.citizen_id)
        self.buyer_party = (self.buyer.full_name, self.buyer.citizen_id)
        self.tax_id, self.tax2_id = self.tax.id, self.tax2.id

    def user(self, username: str):
        """The user, loaded in the current app context."""
        from sqlalchemy import select

        from app.extensions import db
        from app.models import User

        return db.session.scalar(select(User).where(User.username == username))

    def transfer_input(self, parcel=None, price=12_000_000_000, relationship=None,
                       transferor=None, transferee=None, clause="buyer_pays_all", **more):
        from app.services.dossiers import PartyInput, TransferInput

        return TransferInput(
            parcel_id=parcel or self.parcel_id,
            transferor=PartyInput(*(transferor or self.seller_party)),
            transferee=PartyInput(*(transferee or self.buyer_party)),
            declared_price=price,
            relationship=relationship,
            # One notice for the buyer, unless a test names another clause (the payer split
            # has its own tests).
            tax_payer_clause=clause,
            **more,
        )

    def add_parcel(self, holders=None, office: str = "REG1", price_key: str = "Q1-LE-LOI",
                   area: str = "50.00") -> int:
        """Another parcel of ``office``; ``holders`` maps citizen ids to shares (default: the
        seller alone). Returns its id."""
        from fractions import Fraction

        from sqlalchemy import func, select

        from app.extensions import db
        from app.models import Holding, Office, Parcel, Party

        with self.app.app_context():
            count = db.session.scalar(select(func.count()).select_from(Parcel))
            parcel = Parcel(province="HCM", map_sheet="30", parcel_no=str(1000 + count),
                            address=f"{1000 + count} Đường Thử", land_type="residential",
                            area_m2=Decimal(area), price_key=price_key, position=1,
                            registry_office_id=db.session.scalar(
                                select(Office.id).where(Office.code == office)))
            for position, (citizen_id, share) in enumerate(
                    (holders or {self.seller_party[1]: 1}).items(), start=1):
                share = Fraction(share)
                parcel.holdings.append(Holding(
                    party_id=db.session.scalar(select(Party.id).where(Party.citizen_id == citizen_id)),
                    share_num=share.numerator, share_den=share.denominator, position=position))
            db.session.add(parcel)
            db.session.commit()
            return parcel.id

    def officer_for(self, parcel_id: int):
        """The registry officer of the parcel's office, loaded in the current app context."""
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Parcel, Role, User

        office_id = db.session.get(Parcel, parcel_id).registry_office_id
        return db.session.scalar(select(User).where(
            User.office_id == office_id, User.role == Role.REGISTRY_OFFICER))

    def file(self, **kwargs) -> str:
        """File a transfer dossier through the service; returns its code."""
        from app.services.dossiers import file_transfer

        with self.app.app_context():
            officer = self.officer_for(kwargs.get("parcel") or self.parcel_id)
            return file_transfer(officer, self.transfer_input(**kwargs)).code

    def file_and_confirm(self, **kwargs) -> tuple[str, str]:
        """A dossier whose notice is issued and waits for payment: (dossier code, notice code)."""
        from sqlalchemy import select

        from app.extensions import db
        from app.models import Assessment, Dossier, Notice
        from app.services.dossiers import confirm_assessment

        code = self.file(**kwargs)
        with self.app.app_context():
            dossier = db.session.scalar(select(Dossier).where(Dossier.code == code))
            assessment = db.session.scalar(select(Assessment).where(Assessment.dossier_id == dossier.id))
            if assessment.status.value == "pending":
                officer = self.user("tax" if dossier.tax_office_id == self.tax_id else "tax2")
                confirm_assessment(officer, assessment)
            notice = db.session.scalar(select(Notice).where(Notice.dossier_id == dossier.id))
            return code, notice.code


@pytest.fixture
def world(app):
    return World(app)


@pytest.fixture
def pg_world(pg_app):
    return World(pg_app)


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1) or match.group(2)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def post_form(client, form_url: str, action: str, data: dict | None = None, **kwargs):
    """Post a form the way a browser would: with the CSRF token of the page it is on."""
    body = dict(data or {})
    body["csrf_token"] = csrf_token(client, form_url)
    return client.post(action, data=body, **kwargs)
