"""anyone may pay: payments started without an account, and their idempotency keys

Revision ID: 0011
Revises: 0010

A payment made on the public /pay page has no user: it keeps the name the paying person
gave and the party of the notice's side they named. The API's idempotency keys of such
callers have no user either; their key (a hash of the client's key and the notice code) is
unique among them. The look-up rate limit reuses the login throttle table.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


ONE_SUCCESS = sa.text("status = 'succeeded' AND NOT needs_refund")


def _payment_orders(change) -> None:
    """Alter payment_orders; on SQLite the table is copied, so its partial unique index is
    dropped before and made again after, never copied without its condition."""
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        op.drop_index('uq_payment_orders_one_success', table_name='payment_orders')
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        change(batch_op)
    if sqlite:
        op.create_index('uq_payment_orders_one_success', 'payment_orders', ['notice_id'], unique=True,
                        sqlite_where=ONE_SUCCESS, postgresql_where=ONE_SUCCESS)


def upgrade():
    def add(batch_op):
        batch_op.add_column(sa.Column('payer_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('paid_for_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_payment_orders_paid_for_id_parties'), 'parties',
                                    ['paid_for_id'], ['id'])

    _payment_orders(add)
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
    op.create_index('uq_idempotency_keys_anonymous_key', 'idempotency_keys', ['key'], unique=True,
                    sqlite_where=sa.text('user_id IS NULL'), postgresql_where=sa.text('user_id IS NULL'))


def downgrade():
    op.drop_index('uq_idempotency_keys_anonymous_key', table_name='idempotency_keys',
                  sqlite_where=sa.text('user_id IS NULL'), postgresql_where=sa.text('user_id IS NULL'))
    op.execute("DELETE FROM idempotency_keys WHERE user_id IS NULL")
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)

    def drop(batch_op):
        batch_op.drop_constraint(batch_op.f('fk_payment_orders_paid_for_id_parties'), type_='foreignkey')
        batch_op.drop_column('paid_for_id')
        batch_op.drop_column('payer_name')

    _payment_orders(drop)
