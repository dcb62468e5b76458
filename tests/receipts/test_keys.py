"""Receipt key rotation: the configured key is imported first, rotation adds and retires,
retired keys still verify, revoked ones are withdrawn."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.receipts.conftest import pay


def _jwks_kids(client) -> list[str]:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert all("d" not in key for key in keys)  # never a private part
    return [key["kid"] for key in keys]


def _verify(client, token: str):
    return client.post("/api/v1/receipts/verify", json={"token": token})


def _receipt(app, number):
    from app.extensions import db
    from app.models import Receipt

    with app.app_context():
        receipt = db.session.scalar(select(Receipt).where(Receipt.number == number))
        return receipt.token, receipt.kid


def test_configured_key_is_the_first_key(app, world, paid):
    from app.extensions import db
    from app.models import KeySource, KeyStatus, ReceiptKey
    from app.services.keys import receipt_signer

    token, kid = _receipt(app, paid["number"])
    assert kid == app.config["RECEIPT_KEY_ID"]
    with app.app_context():
        rows = db.session.scalars(select(ReceiptKey)).all()
        assert [(r.kid, r.status, r.source) for r in rows] == [(kid, KeyStatus.ACTIVE, KeySource.CONFIG)]
        assert rows[0].public_key == receipt_signer().public_jwk()["x"]
    assert _jwks_kids(app.test_client()) == [kid]


def test_rotation_keeps_old_receipts_valid(app, world, tmp_path):
    from app.extensions import db
    from app.models import KeyStatus, ReceiptKey

    app.config["RECEIPT_KEY_DIR"] = str(tmp_path / "keys")
    client = app.test_client()
    first = pay(app, world)
    old_token, old_kid = _receipt(app, first["number"])

    result = app.test_cli_runner().invoke(args=["rotate-receipt-key"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = db.session.scalars(select(ReceiptKey).order_by(ReceiptKey.id)).all()
        assert [r.status for r in rows] == [KeyStatus.RETIRED, KeyStatus.ACTIVE]
        new_kid = rows[1].kid
        assert rows[0].retired_at is not None
    assert new_kid in result.output and new_kid != old_kid and len(new_kid) <= 12
    key_file = tmp_path / "keys" / f"{new_kid}.pem"
    assert key_file.exists() and (key_file.stat().st_mode & 0o077) == 0
    assert _jwks_kids(client) == [old_kid, new_kid]
    listed = app.test_cli_runner().invoke(args=["list-receipt-keys"]).output.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [[old_kid, "retired"], [new_kid, "active"]]

    # The old receipt still verifies; a new one is signed with the new key.
    assert _verify(client, old_token).status_code == 200
    second = pay(app, world, parcel=world.parcel2_id)
    new_token, kid = _receipt(app, second["number"])
    assert kid == new_kid
    assert _verify(client, new_token).get_json()["valid"] is True

    # Revoking the retired key withdraws it: its receipts no longer verify.
    revoked = app.test_cli_runner().invoke(args=["revoke-receipt-key", old_kid])
    assert revoked.exit_code == 0, revoked.output
    assert _jwks_kids(client) == [new_kid]
    refused = _verify(client, old_token)
    assert refused.status_code == 422
    assert _verify(client, new_token).status_code == 200


def test_active_key_cannot_be_revoked_and_unknown_kid_is_refused(app, world, paid):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["revoke-receipt-key", app.config["RECEIPT_KEY_ID"]])
    assert result.exit_code != 0 and "rotate first" in result.output
    result = runner.invoke(args=["revoke-receipt-key", "no-such-key"])
    assert result.exit_code != 0 and "no receipt key" in result.output
    assert _jwks_kids(app.test_client()) == [app.config["RECEIPT_KEY_ID"]]


def test_a_changed_configured_key_is_refused(app, world, paid):
    """Another private key under the same kid would sign receipts nobody can verify."""
    from payments.receipts import generate_signing_key

    app.extensions.pop("landpay_receipt_signers", None)
    app.config["RECEIPT_SIGNING_KEY"] = generate_signing_key()
    with app.app_context(), pytest.raises(RuntimeError, match="does not match"):
        from app.services.keys import receipt_signer

        receipt_signer()
