"""tamper-evident history: the events' hash chain and its signed checkpoints

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', BIG_ID, nullable=True))
        batch_op.add_column(sa.Column('chain_prev', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('chain_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_events_chain_seq'), ['chain_seq'])
    op.create_table(
        'history_head',
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('seq', BIG_ID, nullable=False),
        sa.Column('head', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_history_head')),
    )
    op.create_table(
        'history_checkpoints',
        sa.Column('seq', BIG_ID, autoincrement=False, nullable=False),
        sa.Column('head', sa.String(length=64), nullable=False),
        sa.Column('token', sa.Text(), nullable=False),
        sa.Column('kid', sa.String(length=40), nullable=False),
        sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_history_checkpoints')),
    )


def downgrade():
    op.drop_table('history_checkpoints')
    op.drop_table('history_head')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_events_chain_seq'), type_='unique')
        batch_op.drop_column('chain_hash')
        batch_op.drop_column('chain_prev')
        batch_op.drop_column('chain_seq')
