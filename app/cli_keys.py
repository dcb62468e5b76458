"""Operators' commands for the e-receipt signing keys (docs/protocols/e-receipt.md)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("rotate-receipt-key")
@with_appcontext
def rotate_receipt_key() -> None:
    """Add a new active signing key and retire the current one.

    Receipts signed with the retired key still verify: it stays in the published key set."""
    from app.services.keys import key_dir, rotate

    key = rotate()
    click.echo(f"active receipt key: {key.kid} (private key in {key_dir()})")


@click.command("revoke-receipt-key")
@with_appcontext
@click.argument("kid")
def revoke_receipt_key(kid: str) -> None:
    """Withdraw a compromised retired key: receipts it signed stop verifying."""
    from app.services.keys import revoke

    try:
        key = revoke(kid)
    except (LookupError, ValueError) as err:
        raise click.ClickException(str(err).strip("'\"")) from None
    click.echo(f"revoked receipt key: {key.kid}")


@click.command("list-receipt-keys")
@with_appcontext
def list_receipt_keys() -> None:
    """Every receipt key with its status (public parts only)."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models.keys import ReceiptKey
    from app.services.keys import published_keys

    published_keys()  # imports the configured key on first use
    for key in db.session.scalars(select(ReceiptKey).order_by(ReceiptKey.id)):
        click.echo(f"{key.kid}\t{key.status.value}\t{key.created_at:%Y-%m-%d}\t{key.public_key}")
    db.session.commit()
