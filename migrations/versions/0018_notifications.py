"""notifications: contact details and preferences of users, messages sent per event

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=5), server_default='vi', nullable=False))
        batch_op.add_column(sa.Column('notify_by_email', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('notify_by_sms', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        'notifications',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('event_uid', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('address', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
        sa.UniqueConstraint('event_uid', 'user_id', 'channel', name=op.f('uq_notifications_event_uid')),
    )
    op.create_index(op.f('ix_notifications_user_id'), 'notifications', ['user_id'], unique=False)
    op.create_index('ix_notifications_due', 'notifications', ['status', 'next_attempt_at'], unique=False)
    op.create_table(
        'notification_cursor',
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('last_event_id', BIG_ID, nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_notification_cursor')),
    )


def downgrade():
    op.drop_table('notification_cursor')
    op.drop_index('ix_notifications_due', table_name='notifications')
    op.drop_index(op.f('ix_notifications_user_id'), table_name='notifications')
    op.drop_table('notifications')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notify_by_sms')
        batch_op.drop_column('notify_by_email')
        batch_op.drop_column('language')
        batch_op.drop_column('phone')
        batch_op.drop_column('email')
