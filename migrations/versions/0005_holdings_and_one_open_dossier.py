"""holdings with history, certificate numbers, one open dossier per parcel

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:00:00

Each parcel's holder becomes a holding with a share of 1 (held since before the registry
kept history: no start). Transfers completed before this revision are replayed in the order
they were completed, so the registry learns their outcome: each closes the holding of its
transferor and opens one for its transferee, with a certificate number. A completed transfer
whose transferor no longer held the parcel (a second sale of the same parcel) cannot be
replayed: it is listed in the log for the registry to review. Party names are stored in
Unicode NFC form. The upgrade stops, naming them, if a parcel has several open dossiers.
"""
import logging
import unicodedata
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

log = logging.getLogger('alembic.runtime.migration')
LOCAL_TZ = ZoneInfo('Asia/Ho_Chi_Minh')
OPEN = "status NOT IN ('COMPLETED')"

parcels = sa.table('parcels', sa.column('id', sa.Integer()), sa.column('holder_id', sa.Integer()))
parties = sa.table('parties', sa.column('id', sa.Integer()), sa.column('full_name', sa.String()))
dossiers = sa.table(
    'dossiers', sa.column('id', sa.Integer()), sa.column('code', sa.String()),
    sa.column('parcel_id', sa.Integer()), sa.column('status', sa.String()),
    sa.column('transferor_id', sa.Integer()), sa.column('transferee_id', sa.Integer()),
    sa.column('completed_at', sa.DateTime(timezone=True)),
    sa.column('certificate_no', sa.String()))
holdings = sa.table(
    'holdings', sa.column('id', sa.Integer()), sa.column('parcel_id', sa.Integer()),
    sa.column('party_id', sa.Integer()), sa.column('share_num', sa.Integer()),
    sa.column('share_den', sa.Integer()), sa.column('position', sa.Integer()),
    sa.column('valid_from', sa.DateTime(timezone=True)),
    sa.column('valid_to', sa.DateTime(timezone=True)), sa.column('dossier_id', sa.Integer()))


def _aware(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def certificate_number(dossier_id, completed_at):
    """The same numbering as app.services.holdings.certificate_number."""
    return f"CS{completed_at.astimezone(LOCAL_TZ).year}-{dossier_id:07d}"


def upgrade():
    conn = op.get_bind()
    several = conn.execute(
        sa.select(dossiers.c.parcel_id, sa.func.count())
        .where(dossiers.c.status != 'COMPLETED')
        .group_by(dossiers.c.parcel_id).having(sa.func.count() > 1)).all()
    if several:
        detail = []
        for parcel_id, _n in several:
            codes = conn.execute(sa.select(dossiers.c.code).where(
                dossiers.c.parcel_id == parcel_id, dossiers.c.status != 'COMPLETED')
                .order_by(dossiers.c.id)).scalars().all()
            detail.append(f"parcel {parcel_id}: {', '.join(codes)}")
        raise RuntimeError("several open dossiers for one parcel; resolve them before "
                           "upgrading: " + "; ".join(detail))

    op.create_table('holdings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('share_num', sa.Integer(), nullable=False),
    sa.Column('share_den', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('share_num > 0 AND share_den > 0 AND share_num <= share_den',
                       name=op.f('ck_holdings_share')),
    sa.CheckConstraint('valid_to IS NULL OR valid_from IS NULL OR valid_from <= valid_to',
                       name=op.f('ck_holdings_period')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_holdings_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_holdings_parcel_id_parcels')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_holdings_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holdings'))
    )
    with op.batch_alter_table('holdings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_holdings_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdings_parcel_id'), ['parcel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_holdings_party_id'), ['party_id'], unique=False)
        batch_op.create_index('uq_holdings_current_party', ['parcel_id', 'party_id'], unique=True,
                              sqlite_where=sa.text('valid_to IS NULL'),
                              postgresql_where=sa.text('valid_to IS NULL'))
        batch_op.create_index('uq_holdings_current_position', ['parcel_id', 'position'], unique=True,
                              sqlite_where=sa.text('valid_to IS NULL'),
                              postgresql_where=sa.text('valid_to IS NULL'))
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_no', sa.String(length=30), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_dossiers_certificate_no'), ['certificate_no'])

    # Each parcel's holder: a holding with a share of 1.
    conn.execute(holdings.insert().from_select(
        ['parcel_id', 'party_id', 'share_num', 'share_den', 'position'],
        sa.select(parcels.c.id, parcels.c.holder_id, sa.literal(1), sa.literal(1), sa.literal(1))))
    # Completed transfers, replayed in the order they were completed.
    done = conn.execute(
        sa.select(dossiers.c.id, dossiers.c.code, dossiers.c.parcel_id, dossiers.c.transferor_id,
                  dossiers.c.transferee_id, dossiers.c.completed_at)
        .where(dossiers.c.status == 'COMPLETED')
        .order_by(dossiers.c.completed_at, dossiers.c.id)).all()
    for dossier_id, code, parcel_id, transferor_id, transferee_id, completed_at in done:
        completed_at = _aware(completed_at) or datetime.now(UTC)
        current = conn.execute(sa.select(holdings.c.id, holdings.c.party_id).where(
            holdings.c.parcel_id == parcel_id, holdings.c.valid_to.is_(None))).all()
        if [party for _id, party in current] != [transferor_id]:
            log.warning("dossier %s: its transferor did not hold parcel %s when it was "
                        "completed; holders not moved, review it", code, parcel_id)
            continue
        conn.execute(holdings.update().where(holdings.c.id == current[0][0])
                     .values(valid_to=completed_at))
        conn.execute(holdings.insert().values(
            parcel_id=parcel_id, party_id=transferee_id, share_num=1, share_den=1, position=1,
            valid_from=completed_at, dossier_id=dossier_id))
        conn.execute(dossiers.update().where(dossiers.c.id == dossier_id).values(
            certificate_no=certificate_number(dossier_id, completed_at)))
    # Names in one Unicode form, so the same name typed two ways is the same name.
    for party_id, name in conn.execute(sa.select(parties.c.id, parties.c.full_name)).all():
        normal = unicodedata.normalize('NFC', name)
        if normal != name:
            conn.execute(parties.update().where(parties.c.id == party_id)
                         .values(full_name=normal))

    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index('uq_dossiers_one_open_per_parcel', ['parcel_id'], unique=True,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parcels_holder_id'))
        batch_op.drop_constraint(batch_op.f('fk_parcels_holder_id_parties'), type_='foreignkey')
        batch_op.drop_column('holder_id')
        batch_op.create_index('ix_parcels_office_sheet_no',
                              ['registry_office_id', 'map_sheet', 'parcel_no'], unique=False)


def downgrade():
    # Only the first-named current holder survives: co-holders and history are lost.
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_index('ix_parcels_office_sheet_no')
        batch_op.add_column(sa.Column('holder_id', sa.Integer(), nullable=True))
    conn = op.get_bind()
    for parcel_id, party_id in conn.execute(
            sa.select(holdings.c.parcel_id, holdings.c.party_id).where(
                holdings.c.valid_to.is_(None), holdings.c.position == 1)).all():
        conn.execute(parcels.update().where(parcels.c.id == parcel_id).values(holder_id=party_id))
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.alter_column('holder_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_parcels_holder_id_parties'), 'parties',
                                    ['holder_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_parcels_holder_id'), ['holder_id'], unique=False)
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('uq_dossiers_one_open_per_parcel')
        batch_op.drop_constraint(batch_op.f('uq_dossiers_certificate_no'), type_='unique')
        batch_op.drop_column('certificate_no')
    with op.batch_alter_table('holdings', schema=None) as batch_op:
        batch_op.drop_index('uq_holdings_current_position')
        batch_op.drop_index('uq_holdings_current_party')
        batch_op.drop_index(batch_op.f('ix_holdings_party_id'))
        batch_op.drop_index(batch_op.f('ix_holdings_parcel_id'))
        batch_op.drop_index(batch_op.f('ix_holdings_dossier_id'))
    op.drop_table('holdings')
