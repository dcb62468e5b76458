"""money: bank credits by transfer, bank statements, the reconciliation queue

Revision ID: 0009
Revises: 0008

A transfer's credit is kept once per bank transaction id (``bank_credits``); each daily
statement once per account and day, with its lines; each finding that needs a person once per
key (``reconciliation_items``). Payment orders say how the money came (``channel``).
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

MONEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STAMP = sa.DateTime(timezone=True)


def upgrade():
    # A plain ADD COLUMN (not a batch copy): SQLite keeps the table and its partial index.
    op.add_column('payment_orders',
                  sa.Column('channel', sa.String(length=10), server_default='card', nullable=False))
    op.create_table(
        'bank_statements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=19), nullable=False),
        sa.Column('statement_date', sa.Date(), nullable=False),
        sa.Column('opening_balance', MONEY, nullable=False),
        sa.Column('closing_balance', MONEY, nullable=False),
        sa.Column('credit_total', MONEY, nullable=False),
        sa.Column('debit_total', MONEY, nullable=False),
        sa.Column('signature', sa.String(length=128), nullable=False),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.Column('imported_at', STAMP, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_statements')),
        sa.UniqueConstraint('account', 'statement_date', name='uq_bank_statements_account_date'),
    )
    op.create_table(
        'statement_lines',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('statement_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('transaction_id', sa.String(length=60), nullable=False),
        sa.Column('direction', sa.String(length=10), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('purpose', sa.String(length=255), nullable=False),
        sa.Column('value_date', sa.Date(), nullable=False),
        sa.Column('booked_at', STAMP, nullable=False),
        sa.Column('match', sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(['statement_id'], ['bank_statements.id'],
                                name=op.f('fk_statement_lines_statement_id_bank_statements')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines')),
        sa.UniqueConstraint('statement_id', 'position', name='uq_statement_lines_position'),
    )
    op.create_index(op.f('ix_statement_lines_statement_id'), 'statement_lines', ['statement_id'])
    op.create_index(op.f('ix_statement_lines_transaction_id'), 'statement_lines', ['transaction_id'])
    op.create_table(
        'bank_credits',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('transaction_id', sa.String(length=60), nullable=False),
        sa.Column('account', sa.String(length=19), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('purpose', sa.String(length=255), nullable=False),
        sa.Column('payer_name', sa.String(length=120), nullable=False),
        sa.Column('payer_account', sa.String(length=40), nullable=False),
        sa.Column('value_date', sa.Date(), nullable=False),
        sa.Column('booked_at', STAMP, nullable=False),
        sa.Column('received_at', STAMP, nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('notice_code', sa.String(length=30), nullable=True),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=True),
        sa.Column('payment_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_bank_credits_notice_id_notices')),
        sa.ForeignKeyConstraint(['payment_id'], ['payment_orders.id'],
                                name=op.f('fk_bank_credits_payment_id_payment_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_credits')),
        sa.UniqueConstraint('payment_id', name=op.f('uq_bank_credits_payment_id')),
        sa.UniqueConstraint('transaction_id', name=op.f('uq_bank_credits_transaction_id')),
    )
    op.create_index(op.f('ix_bank_credits_notice_id'), 'bank_credits', ['notice_id'])
    op.create_index(op.f('ix_bank_credits_value_date'), 'bank_credits', ['value_date'])
    op.create_table(
        'reconciliation_items',
        sa.Column('id', BIGID, nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.Enum('unknown_credit', 'short', 'over', 'duplicate', 'missing_from_statement',
                                  'other_day', 'amount_differs', 'unknown_debit', name='itemkind',
                                  native_enum=False, length=30), nullable=False),
        sa.Column('status', sa.Enum('open', 'matched', 'refund_requested', 'accepted', name='itemstatus',
                                    native_enum=False, length=20), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('transaction_id', sa.String(length=60), nullable=True),
        sa.Column('statement_date', sa.Date(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('credit_id', BIGID, nullable=True),
        sa.Column('payment_id', sa.Integer(), nullable=True),
        sa.Column('notice_id', sa.Integer(), nullable=True),
        sa.Column('created_at', STAMP, nullable=False),
        sa.Column('resolved_at', STAMP, nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.Column('resolution_reason', sa.Text(), nullable=True),
        sa.Column('refund_ref', sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(['credit_id'], ['bank_credits.id'],
                                name=op.f('fk_reconciliation_items_credit_id_bank_credits')),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_reconciliation_items_notice_id_notices')),
        sa.ForeignKeyConstraint(['payment_id'], ['payment_orders.id'],
                                name=op.f('fk_reconciliation_items_payment_id_payment_orders')),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'],
                                name=op.f('fk_reconciliation_items_resolved_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_items')),
        sa.UniqueConstraint('key', name=op.f('uq_reconciliation_items_key')),
    )
    for column in ('credit_id', 'kind', 'notice_id', 'payment_id', 'status', 'transaction_id'):
        op.create_index(op.f(f'ix_reconciliation_items_{column}'), 'reconciliation_items', [column])


def downgrade():
    for column in ('credit_id', 'kind', 'notice_id', 'payment_id', 'status', 'transaction_id'):
        op.drop_index(op.f(f'ix_reconciliation_items_{column}'), table_name='reconciliation_items')
    op.drop_table('reconciliation_items')
    op.drop_index(op.f('ix_bank_credits_value_date'), table_name='bank_credits')
    op.drop_index(op.f('ix_bank_credits_notice_id'), table_name='bank_credits')
    op.drop_table('bank_credits')
    op.drop_index(op.f('ix_statement_lines_transaction_id'), table_name='statement_lines')
    op.drop_index(op.f('ix_statement_lines_statement_id'), table_name='statement_lines')
    op.drop_table('statement_lines')
    op.drop_table('bank_statements')
    with op.batch_alter_table('payment_orders') as batch:
        batch.drop_column('channel')
