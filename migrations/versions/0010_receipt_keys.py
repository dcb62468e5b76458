"""receipt signing keys and their rotation

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_ONE_ACTIVE = "status = 'active'"


def upgrade():
    op.create_table(
        'receipt_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kid', sa.String(length=40), nullable=False),
        sa.Column('public_key', sa.String(length=64), nullable=False),
        sa.Column('status', sa.Enum('active', 'retired', 'revoked', name='keystatus',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('source', sa.Enum('config', 'file', name='keysource',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_keys')),
        sa.UniqueConstraint('kid', name=op.f('uq_receipt_keys_kid')),
    )
    with op.batch_alter_table('receipt_keys', schema=None) as batch_op:
        batch_op.create_index('uq_receipt_keys_one_active', ['status'], unique=True,
                              sqlite_where=sa.text(_ONE_ACTIVE),
                              postgresql_where=sa.text(_ONE_ACTIVE))


def downgrade():
    with op.batch_alter_table('receipt_keys', schema=None) as batch_op:
        batch_op.drop_index('uq_receipt_keys_one_active', sqlite_where=sa.text(_ONE_ACTIVE),
                            postgresql_where=sa.text(_ONE_ACTIVE))
    op.drop_table('receipt_keys')
