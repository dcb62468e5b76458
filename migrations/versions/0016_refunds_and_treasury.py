"""refunds through the bank, and each notice line's treasury classification

Revision ID: 0016
Revises: 0015

A payment's money is now kept split by notice line (payment_lines), and so is each refund
(refund_lines). Payments made before this revision get their split from their receipt's
lines, matched to the notice's lines by obligation. Notice lines gain the State budget
classification and collecting treasury account they were issued with (None for older ones).
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

MONEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    # Plain ADD COLUMN: no table copy on SQLite.
    op.add_column('notice_lines', sa.Column('budget_code', sa.String(length=20), nullable=True))
    op.add_column('notice_lines', sa.Column('treasury_account', sa.String(length=120), nullable=True))
    op.create_table(
        'payment_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('notice_line_id', sa.Integer(), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.ForeignKeyConstraint(['notice_line_id'], ['notice_lines.id'],
                                name=op.f('fk_payment_lines_notice_line_id_notice_lines')),
        sa.ForeignKeyConstraint(['payment_id'], ['payment_orders.id'],
                                name=op.f('fk_payment_lines_payment_id_payment_orders')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_lines')),
    )
    op.create_index(op.f('ix_payment_lines_notice_line_id'), 'payment_lines', ['notice_line_id'])
    op.create_index(op.f('ix_payment_lines_payment_id'), 'payment_lines', ['payment_id'])
    op.create_table(
        'refunds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ref', sa.String(length=40), nullable=False),
        sa.Column('payment_id', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('amount', MONEY, nullable=False),
        sa.Column('reason', sa.Enum('duplicate', 'overpayment', 'cancelled', 'correction',
                                    name='refundreason', native_enum=False, length=20), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('state', sa.Enum('requested', 'succeeded', 'failed', name='refundstate',
                                   native_enum=False, length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.Column('bank_ref', sa.String(length=60), nullable=True),
        sa.Column('response_code', sa.String(length=10), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], name=op.f('fk_refunds_notice_id_notices')),
        sa.ForeignKeyConstraint(['payment_id'], ['payment_orders.id'],
                                name=op.f('fk_refunds_payment_id_payment_orders')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_refunds_requested_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
        sa.UniqueConstraint('bank_ref', name=op.f('uq_refunds_bank_ref')),
        sa.UniqueConstraint('ref', name=op.f('uq_refunds_ref')),
    )
    op.create_index(op.f('ix_refunds_notice_id'), 'refunds', ['notice_id'])
    op.create_index(op.f('ix_refunds_payment_id'), 'refunds', ['payment_id'])
    op.create_index(op.f('ix_refunds_state'), 'refunds', ['state'])
    op.create_table(
        'refund_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('refund_id', sa.Integer(), nullable=False),
        sa.Column('notice_line_id', sa.Integer(), nullable=True),
        sa.Column('amount', MONEY, nullable=False),
        sa.ForeignKeyConstraint(['notice_line_id'], ['notice_lines.id'],
                                name=op.f('fk_refund_lines_notice_line_id_notice_lines')),
        sa.ForeignKeyConstraint(['refund_id'], ['refunds.id'],
                                name=op.f('fk_refund_lines_refund_id_refunds')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refund_lines')),
    )
    op.create_index(op.f('ix_refund_lines_notice_line_id'), 'refund_lines', ['notice_line_id'])
    op.create_index(op.f('ix_refund_lines_refund_id'), 'refund_lines', ['refund_id'])
    _backfill_payment_lines()


def _backfill_payment_lines():
    """The split of each counted payment made before this revision, from its receipt."""
    bind = op.get_bind()
    receipts = bind.execute(sa.text(
        "SELECT r.payment_id, r.notice_id, r.claims FROM receipts r "
        "JOIN payment_orders p ON p.id = r.payment_id "
        "WHERE p.status = 'succeeded' AND NOT p.needs_refund")).fetchall()
    for payment_id, notice_id, claims in receipts:
        if isinstance(claims, str):
            claims = json.loads(claims)
        lines = bind.execute(sa.text(
            "SELECT id, obligation FROM notice_lines WHERE notice_id = :n ORDER BY id"),
            {"n": notice_id}).fetchall()
        by_obligation = {}
        for line_id, obligation in lines:
            by_obligation.setdefault(obligation, line_id)
        for share in (claims or {}).get("lines", []):
            line_id = by_obligation.get(share.get("obligation"))
            if line_id is not None and share.get("amount"):
                bind.execute(sa.text(
                    "INSERT INTO payment_lines (payment_id, notice_line_id, amount) "
                    "VALUES (:p, :l, :a)"), {"p": payment_id, "l": line_id, "a": int(share["amount"])})


def downgrade():
    op.drop_index(op.f('ix_refund_lines_refund_id'), table_name='refund_lines')
    op.drop_index(op.f('ix_refund_lines_notice_line_id'), table_name='refund_lines')
    op.drop_table('refund_lines')
    op.drop_index(op.f('ix_refunds_state'), table_name='refunds')
    op.drop_index(op.f('ix_refunds_payment_id'), table_name='refunds')
    op.drop_index(op.f('ix_refunds_notice_id'), table_name='refunds')
    op.drop_table('refunds')
    op.drop_index(op.f('ix_payment_lines_payment_id'), table_name='payment_lines')
    op.drop_index(op.f('ix_payment_lines_notice_line_id'), table_name='payment_lines')
    op.drop_table('payment_lines')
    with op.batch_alter_table('notice_lines', schema=None) as batch_op:
        batch_op.drop_column('treasury_account')
        batch_op.drop_column('budget_code')
