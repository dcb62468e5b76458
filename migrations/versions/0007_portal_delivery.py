"""portal delivery

Revision ID: 0007
Revises: 0006

The outbox learns how its delivery goes: the dossier of each message (delivery keeps the
order per dossier; existing rows get it from their event), a state (pending, delivered,
dead), the time of the next attempt and the portal's acknowledgement time. Rows delivered
before this revision (none: nothing delivered them) would be marked delivered.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossier_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('state', sa.String(length=12), server_default='pending',
                                      nullable=False))
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbox_dossier_id_dossiers'), 'dossiers',
                                    ['dossier_id'], ['id'])
        batch_op.create_index('ix_outbox_state_next_attempt', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_dossier_order', ['dossier_id', 'id'], unique=False)
    op.execute(
        "UPDATE outbox SET dossier_id = (SELECT events.dossier_id FROM events "
        "WHERE events.uid = outbox.event_uid)"
    )
    op.execute("UPDATE outbox SET state = 'delivered' WHERE delivered_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_dossier_order')
        batch_op.drop_index('ix_outbox_state_next_attempt')
        batch_op.drop_constraint(batch_op.f('fk_outbox_dossier_id_dossiers'), type_='foreignkey')
        batch_op.drop_column('acknowledged_at')
        batch_op.drop_column('next_attempt_at')
        batch_op.drop_column('state')
        batch_op.drop_column('dossier_id')
