"""portal delivery at volume: batches and archive

An index for the delivery claim (pending rows in id order), and the archive of delivered
outbox rows (app/models/archive.py): ``flask archive-outbox``
moves delivered rows older than the retention period here, so the outbox that every
delivery claim reads stays small.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    # The delivery claim reads pending rows in id order (app/models/archive.py says why).
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_state_id', ['state', 'id'], unique=False)
    op.create_table(
        'outbox_archive',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False,
                  nullable=False),
        sa.Column('event_uid', sa.String(length=36), nullable=False),
        sa.Column('destination', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('archived_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'],
                                name=op.f('fk_outbox_archive_dossier_id_dossiers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_archive')),
        sa.UniqueConstraint('event_uid', name=op.f('uq_outbox_archive_event_uid')),
    )
    with op.batch_alter_table('outbox_archive', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_archive_dossier_id'), ['dossier_id'], unique=False)


def downgrade():
    # Archived rows go back to the outbox (as delivered) before the archive is dropped.
    op.execute(
        "INSERT INTO outbox (id, event_uid, destination, payload, dossier_id, created_at, delivered_at, "
        "acknowledged_at, attempts, last_error, state) SELECT id, event_uid, destination, payload, "
        "dossier_id, created_at, delivered_at, acknowledged_at, attempts, last_error, 'delivered' "
        "FROM outbox_archive"
    )
    with op.batch_alter_table('outbox_archive', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_archive_dossier_id'))
    op.drop_table('outbox_archive')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_state_id')
