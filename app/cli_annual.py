"""The operators' command for the annual non-agricultural land use tax batch."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("assess-annual-tax")
@click.option("--year", type=int, required=True, help="Tax year, e.g. 2027.")
@click.option("--province", default=None, help="Only this province's parcels (e.g. HCM).")
@click.option("--batch-size", type=click.IntRange(min=1), default=20000, show_default=True,
              help="Parcels per transaction.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show a progress bar.")
@with_appcontext
def assess_annual_tax(year: int, province: str | None, batch_size: int, progress: bool) -> None:
    """Assess the year's non-agricultural land use tax of every residential parcel as notices,
    each payable online unless exempt. Safe to re-run: notices already issued for the year are
    kept, none is duplicated, and those not yet payable are made so."""
    from app.services.annual_tax import AnnualTaxError, run_annual_tax

    try:
        summary = run_annual_tax(year, province=province, progress=progress,
                                 batch_size=batch_size)
    except AnnualTaxError as err:
        raise click.ClickException(str(err)) from err
    for line in summary.lines():
        click.echo(line)


@click.command("assess-annual-rent")
@click.option("--year", type=int, required=True, help="Rent year, e.g. 2027.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Show a progress bar.")
@with_appcontext
def assess_annual_rent(year: int, progress: bool) -> None:
    """Issue the year's rent notice of every lease with annual rent, to the parcel's holders
    on record. Safe to re-run: a lease's notice for a year is issued once."""
    from app.services.annual_tax import AnnualTaxError, run_annual_rent

    try:
        summary = run_annual_rent(year, progress=progress)
    except AnnualTaxError as err:
        raise click.ClickException(str(err)) from err
    for line in summary.lines():
        click.echo(line)
