"""Operators' commands, run as ``flask --app app <command>``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo accounts only, refused in production


def register_cli(app: Flask) -> None:
    from app.cli_annual import assess_annual_rent, assess_annual_tax
    from app.cli_history import seal_history, verify_history
    from app.cli_keys import list_receipt_keys, revoke_receipt_key, rotate_receipt_key
    from app.cli_money import import_statement_cmd
    from app.cli_notify import remind_due_notices_cmd, send_notifications
    from app.cli_portal import archive_outbox, check_portal_sync, deliver_outbox, replay_dead_letter
    from app.cli_refunds import send_refunds
    from app.cli_worker import worker

    app.cli.add_command(import_data)
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)
    app.cli.add_command(end_sessions)
    app.cli.add_command(send_notifications)
    app.cli.add_command(remind_due_notices_cmd)
    app.cli.add_command(worker)
    app.cli.add_command(seal_history)
    app.cli.add_command(verify_history)
    app.cli.add_command(check_pending_payments)
    app.cli.add_command(purge_idempotency_keys)
    app.cli.add_command(purge_throttles_cmd)
    app.cli.add_command(assess_annual_tax)
    app.cli.add_command(assess_annual_rent)
    app.cli.add_command(deliver_outbox)
    app.cli.add_command(check_portal_sync)
    app.cli.add_command(replay_dead_letter)
    app.cli.add_command(archive_outbox)
    app.cli.add_command(import_statement_cmd)
    app.cli.add_command(send_refunds)
    app.cli.add_command(rotate_receipt_key)
    app.cli.add_command(revoke_receipt_key)
    app.cli.add_command(list_receipt_keys)


@click.command("import-data")
@with_appcontext
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def import_data(paths: tuple[Path, ...]) -> None:
    """Import versioned data files (price tables, coefficients, quotas, fees). Safe to re-run."""
    from app.services.data_import import ImportConflict, import_file
    from tax_calc.errors import TableError
    from tax_calc.tables import iter_data_files

    files = list(paths) or iter_data_files()
    for path in files:
        try:
            message, _new = import_file(path)
        except (ImportConflict, TableError) as err:
            db.session.rollback()
            raise click.ClickException(f"{path.name}: {err}") from err
        db.session.commit()
        click.echo(f"{path.name}: {message}")


@click.command("check-pending-payments")
@with_appcontext
@click.option("--older-than", "older_than", default=15, show_default=True,
              help="Only orders started at least this many minutes ago.")
def check_pending_payments(older_than: int) -> None:
    """Ask the bank about payments whose notification has not come, and record the answers.

    Run it every few minutes from the scheduler: a payment the bank took is never left
    unconfirmed because its notification was lost."""
    from datetime import timedelta

    from app.services.paying import settle_pending

    checked, outcomes, unanswered = settle_pending(timedelta(minutes=older_than))
    for outcome in outcomes:
        click.echo(outcome)
    for order_id in unanswered:
        click.echo(f"order {order_id}: the bank could not be asked; will retry", err=True)
    click.echo(f"{checked} pending payment(s) checked, {len(unanswered)} not answered")
    if unanswered:
        raise SystemExit(1)


@click.command("purge-throttles")
@with_appcontext
def purge_throttles_cmd() -> None:
    """Delete failed-attempt counters (logins, public notice look-ups) idle for a day."""
    from app.auth import purge_throttles

    click.echo(f"purged {purge_throttles()} idle throttle rows")


@click.command("purge-idempotency-keys")
@with_appcontext
def purge_idempotency_keys() -> None:
    """Delete the API's idempotency keys older than a day (their answers are no longer replayed)."""
    from app.api.idempotency import purge_expired

    count = purge_expired()
    db.session.commit()
    click.echo(f"{count} expired idempotency key(s) deleted")


@click.command("create-user")
@with_appcontext
@click.option("--username", required=True)
@click.option("--full-name", required=True)
@click.option("--role", type=click.Choice(["landholder", "tax_officer", "registry_officer", "admin"]), required=True)
@click.option("--office", "office_code", default=None, help="Office code for officers.")
@click.password_option()
def create_user(username, full_name, role, office_code, password) -> None:
    """Create a user account (the password is asked for and stored hashed)."""
    from app.models import Office, Role, User

    office = None
    if office_code:
        office = db.session.scalar(select(Office).where(Office.code == office_code))
        if office is None:
            raise click.ClickException(f"no office {office_code}")
    user = User(username=username, full_name=full_name, role=Role(role), office=office)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"created {role} {username}")


@click.command("end-sessions")
@click.argument("username")
@with_appcontext
def end_sessions(username: str) -> None:
    """Log a user out everywhere: end their browser sessions and revoke their API tokens
    (after a stolen password or device, or when they leave)."""
    from app.auth import end_all_sessions
    from app.models import User

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    ended = end_all_sessions(user)
    db.session.commit()
    click.echo(f"{username}: {ended} sessions and tokens ended")


@click.command("seed-demo")
@click.option("--extra-parcels", default=0, show_default=True, type=click.IntRange(0, 1000),
              help="More parcels held by the demo landholder An in Quận 1 (for test runs that "
                   "file many dossiers: a parcel has one open dossier at a time).")
@with_appcontext
def seed_demo(extra_parcels: int) -> None:
    """Load the sample data files and demo offices, parcels and users (not in production)."""
    from app.models import (
        Holding,
        Office,
        OfficeKind,
        Parcel,
        Party,
        PriceEntry,
        PriceTableVersion,
        Role,
        User,
    )

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("demo data is never seeded in production")
    import_data.callback(())
    _demo_coefficients("HCM")
    if db.session.scalar(select(User).where(User.username == "registry")):
        click.echo("demo data already present")
        _print_logins()
        return
    tax_office = Office(code="CCT-HCM-Q1", name="Chi cục Thuế khu vực Quận 1", kind=OfficeKind.TAX,
                        province="HCM", auto_confirm=True, auto_confirm_max_total=500_000_000)
    registry_office = Office(code="VPDK-HCM-Q1", name="Chi nhánh Văn phòng đăng ký đất đai Quận 1",
                             kind=OfficeKind.REGISTRY, province="HCM", tax_office=tax_office)
    other_tax = Office(code="CCT-HCM-Q3", name="Chi cục Thuế khu vực Quận 3", kind=OfficeKind.TAX,
                       province="HCM", auto_confirm=False)
    other_registry = Office(code="VPDK-HCM-Q3", name="Chi nhánh Văn phòng đăng ký đất đai Quận 3",
                            kind=OfficeKind.REGISTRY, province="HCM", tax_office=other_tax)
    db.session.add_all([tax_office, registry_office, other_tax, other_registry])
    an = Party(full_name="Nguyễn Văn An", citizen_id="079080000001", address="Quận 1, TP. Hồ Chí Minh")
    binh = Party(full_name="Trần Thị Bình", citizen_id="079085000002", address="Quận 3, TP. Hồ Chí Minh")
    cuong = Party(full_name="Lê Văn Cường", citizen_id="079070000003", address="Quận 1, TP. Hồ Chí Minh")
    db.session.add_all([an, binh, cuong])
    version = db.session.scalar(
        select(PriceTableVersion).where(PriceTableVersion.province == "HCM")
        .order_by(PriceTableVersion.effective_from.desc())
    )
    if version is None:
        raise click.ClickException("no HCM price table among the data files")
    entries = db.session.scalars(
        select(PriceEntry).where(PriceEntry.version_id == version.id, PriceEntry.land_type == "residential")
        .order_by(PriceEntry.id).limit(4)
    ).all()
    holders = [an, cuong, an, cuong]
    areas = [Decimal("72.50"), Decimal("120.00"), Decimal("45.30"), Decimal("96.00")]
    for i, entry in enumerate(entries):
        office = registry_office if i < 3 else other_registry
        db.session.add(Parcel(
            province="HCM", map_sheet=str(10 + i), parcel_no=str(101 + i * 7),
            address=f"Số {12 + i * 4} {(entry.label or entry.price_key).split(' (')[0]}, phường Sài Gòn, "
            "TP. Hồ Chí Minh", land_type="residential",
            area_m2=areas[i], price_key=entry.price_key, position=entry.position,
            registry_office=office, holder=holders[i],
        ))
    # A parcel held jointly by spouses, half each: both must transfer it.
    hoa = Party(full_name="Đặng Thị Hoa", citizen_id="079072000004", address="Quận 1, TP. Hồ Chí Minh")
    joint = Parcel(province="HCM", map_sheet="14", parcel_no="129", address=f"Số 28 {(entries[0].label or entries[0].price_key).split(' (')[0]}, phường Sài Gòn, TP. Hồ Chí Minh",
                   land_type="residential", area_m2=Decimal("64.00"), price_key=entries[0].price_key,
                   position=entries[0].position, registry_office=registry_office)
    joint.holdings.extend([Holding(party=cuong, share_num=1, share_den=2, position=1),
                           Holding(party=hoa, share_num=1, share_den=2, position=2)])
    db.session.add_all([hoa, joint])
    # An's garden (agricultural land) in Quận 1: the README's change of land use.
    db.session.add(Parcel(
        province="HCM", map_sheet="15", parcel_no="136",
        address=f"Số 36 {(entries[0].label or entries[0].price_key).split(' (')[0]}, phường Sài Gòn, TP. Hồ Chí Minh",
        land_type="agricultural", area_m2=Decimal("40.00"), price_key=entries[0].price_key,
        position=entries[0].position, registry_office=registry_office, holder=an))
    for i in range(extra_parcels):
        entry = entries[i % len(entries)]
        db.session.add(Parcel(
            province="HCM", map_sheet="90", parcel_no=str(1 + i),
            address=f"Số {100 + i} {(entry.label or entry.price_key).split(' (')[0]}, phường Sài "
                    "Gòn, TP. Hồ Chí Minh", land_type="residential", area_m2=Decimal("50.00"),
            price_key=entry.price_key, position=entry.position, registry_office=registry_office,
            holder=an,
        ))
    users = [
        ("admin", "Quản trị hệ thống", Role.ADMIN, None, None),
        ("registry", "Phạm Thu Hà (Văn phòng đăng ký Q1)", Role.REGISTRY_OFFICER, registry_office, None),
        ("tax", "Đỗ Minh Tuấn (Chi cục Thuế Q1)", Role.TAX_OFFICER, tax_office, None),
        ("registry3", "Vũ Lan (Văn phòng đăng ký Q3)", Role.REGISTRY_OFFICER, other_registry, None),
        ("tax3", "Hồ Quang (Chi cục Thuế Q3)", Role.TAX_OFFICER, other_tax, None),
        ("an", an.full_name, Role.LANDHOLDER, None, an),
        ("binh", binh.full_name, Role.LANDHOLDER, None, binh),
        ("cuong", cuong.full_name, Role.LANDHOLDER, None, cuong),
        ("accountant", "Ngô Thị Kim (Kho bạc Nhà nước TP.HCM)", Role.ACCOUNTANT, None, None),
        ("supervisor", "Lãnh đạo UBND TP. Hồ Chí Minh", Role.SUPERVISOR, None, None),
    ]
    for username, name, role, office, party in users:
        user = User(username=username, full_name=name, role=role, office=office, party=party)
        if role == Role.LANDHOLDER:  # their notifications land in the mail sink of `make run`
            user.email = f"{username}@example.vn"
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
    db.session.commit()
    click.echo("demo data seeded")
    _print_logins()


def _demo_coefficients(province: str) -> None:
    """The demo's parcels are in ``province``, whose adjustment coefficients are not among
    the data files; the income tax rule in force uses them, so without a table no transfer
    could be assessed. Add a neutral table (1.0), labelled as demo data, unless one is in
    force. Never a province's published values: the demo only."""
    from app.models import DataTable, PriceTableVersion
    from app.services.data_import import data_table
    from app.services.dossiers import today_local

    label = f"{province}-DEMO-K"
    if data_table("adjustment_coefficients", province, today_local()) is not None or \
            db.session.scalar(select(DataTable.id).where(DataTable.label == label)) is not None:
        return
    effective_from = db.session.scalar(
        select(PriceTableVersion.effective_from).where(PriceTableVersion.province == province)
        .order_by(PriceTableVersion.effective_from).limit(1)
    )
    if effective_from is None:
        return
    land_types = ("residential", "commercial", "production_business", "agricultural")
    db.session.add(DataTable(
        kind="adjustment_coefficients", province=province, label=label,
        effective_from=effective_from, effective_to=None,
        source="demo data: a neutral coefficient of 1.0 so the demo can assess transfers; "
               "not the province's published coefficients",
        checksum="0" * 64,
        rows=[{"zone_code": "*", "land_type": lt, "coefficient": "1.0"} for lt in land_types],
    ))
    db.session.commit()
    click.echo(f"{label}: neutral demo adjustment coefficients (1.0)")


#: Every demo login seed-demo creates: username, role, office, citizen id, what it is for.
DEMO_LOGINS = (
    ("registry", "registry officer", "VPDK-HCM-Q1", None, "files dossiers of Quận 1, completes them"),
    ("tax", "tax officer", "CCT-HCM-Q1", None, "confirms Quận 1's assessments"),
    ("registry3", "registry officer", "VPDK-HCM-Q3", None, "files dossiers of Quận 3 (another office)"),
    ("tax3", "tax officer", "CCT-HCM-Q3", None, "confirms every Quận 3 assessment"),
    ("an", "landholder", None, "079080000001", "Nguyễn Văn An: holds parcels in Quận 1, transferor"),
    ("binh", "landholder", None, "079085000002", "Trần Thị Bình: transferee, pays the notice"),
    ("cuong", "landholder", None, "079070000003", "Lê Văn Cường: holds parcels in Quận 1 and Quận 3"),
    ("accountant", "accountant", None, None, "works the reconciliation queue (every office)"),
    ("supervisor", "supervisor", None, None, "reads on-time figures of every office"),
    ("admin", "administrator", None, None, "sees everything"),
)


def _print_logins() -> None:
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, office, citizen_id, what in DEMO_LOGINS:
        where = office or (f"citizen id {citizen_id}" if citizen_id else "")
        click.echo(f"  {username:10s} {role:17s} {where:24s} {what}")
