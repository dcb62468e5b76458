"""due terms, instalments, review reasons with texts, a price table's last day

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 07:00:00

"""
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

#: Reasons stored before the rules engine gave its own, as codes only: their texts.
LEGACY_REASONS = {
    'declared_price_below_table_price': (
        'declared_price', 'Giá kê khai thấp hơn giá theo bảng giá đất',
        'Declared price below the table price'),
    'office_confirms_every_assessment': (
        'tax_office', 'Cơ quan thuế này xác nhận mọi trường hợp',
        'This office confirms every assessment'),
    'total_above_auto_confirmation_ceiling': (
        'tax_office', 'Tổng số tiền vượt ngưỡng xác nhận tự động',
        'Total above the auto-confirmation ceiling'),
}

price_table_versions = sa.table(
    'price_table_versions', sa.column('id', sa.Integer()), sa.column('parameters', sa.JSON()),
    sa.column('effective_to', sa.Date()))
assessment_lines = sa.table(
    'assessment_lines', sa.column('id', sa.Integer()), sa.column('amount', sa.BigInteger()),
    sa.column('due_terms', sa.JSON()))
#: The terms every line had before the rules engine gave them: the whole amount 30 days
#: after the notice. A line assessed then and confirmed after this upgrade keeps them.
LEGACY_TERMS = [{'share': '1', 'days_after_notice': 30, 'on': None}]
assessments = sa.table(
    'assessments', sa.column('id', sa.Integer()), sa.column('review_reasons', sa.JSON()))
notice_lines = sa.table(
    'notice_lines', sa.column('id', sa.Integer()), sa.column('notice_id', sa.Integer()),
    sa.column('amount', sa.BigInteger()), sa.column('due_on', sa.Date()),
    sa.column('installments', sa.JSON()))
notices = sa.table(
    'notices', sa.column('id', sa.Integer()), sa.column('issued_at', sa.DateTime(timezone=True)),
    sa.column('due_on', sa.Date()))


def upgrade():
    with op.batch_alter_table('price_table_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_to', sa.Date(), nullable=True))
    with op.batch_alter_table('assessment_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_terms', sa.JSON(), server_default=sa.text("'[]'"),
                                      nullable=False))
    with op.batch_alter_table('notice_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('installments', sa.JSON(), server_default=sa.text("'[]'"),
                                      nullable=False))
        batch_op.alter_column('due_on', existing_type=sa.Date(), nullable=True)
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('due_on', existing_type=sa.Date(), nullable=True)

    conn = op.get_bind()
    # The imported file's header (kept in parameters) holds its last day.
    for row_id, parameters in conn.execute(
            sa.select(price_table_versions.c.id, price_table_versions.c.parameters)).all():
        effective_to = (parameters or {}).get('effective_to')
        if effective_to:
            conn.execute(price_table_versions.update()
                         .where(price_table_versions.c.id == row_id)
                         .values(effective_to=date.fromisoformat(effective_to)))
    # Reasons stored as bare codes get the shape and texts of the newer ones.
    for row_id, reasons in conn.execute(
            sa.select(assessments.c.id, assessments.c.review_reasons)).all():
        if not reasons or all(isinstance(r, dict) for r in reasons):
            continue
        converted = []
        for r in reasons:
            if isinstance(r, dict):
                converted.append(r)
                continue
            field, text_vi, text_en = LEGACY_REASONS.get(r, (None, r, r))
            converted.append({'code': r, 'field': field, 'text_vi': text_vi, 'text_en': text_en})
        conn.execute(assessments.update().where(assessments.c.id == row_id)
                     .values(review_reasons=converted))
    conn.execute(assessment_lines.update().where(assessment_lines.c.amount > 0)
                 .values(due_terms=LEGACY_TERMS))
    # A line issued before instalments were stored was due whole on its one date.
    for row_id, amount, due_on in conn.execute(
            sa.select(notice_lines.c.id, notice_lines.c.amount, notice_lines.c.due_on)
            .where(notice_lines.c.amount > 0, notice_lines.c.due_on.is_not(None))).all():
        conn.execute(notice_lines.update().where(notice_lines.c.id == row_id).values(
            installments=[{'due_on': due_on.isoformat(), 'amount': amount}]))


def downgrade():
    conn = op.get_bind()
    # A notice or line with nothing due gets the notice's issue date back (the columns were
    # required); reasons go back to bare codes.
    for notice_id, issued_at in conn.execute(
            sa.select(notices.c.id, notices.c.issued_at)).all():
        issued = issued_at.date() if isinstance(issued_at, datetime) else \
            date.fromisoformat(str(issued_at)[:10])
        conn.execute(notices.update().where(notices.c.id == notice_id, notices.c.due_on.is_(None))
                     .values(due_on=issued))
        conn.execute(notice_lines.update()
                     .where(notice_lines.c.notice_id == notice_id, notice_lines.c.due_on.is_(None))
                     .values(due_on=issued))
    for row_id, reasons in conn.execute(
            sa.select(assessments.c.id, assessments.c.review_reasons)).all():
        if reasons and any(isinstance(r, dict) for r in reasons):
            conn.execute(assessments.update().where(assessments.c.id == row_id).values(
                review_reasons=[r['code'] if isinstance(r, dict) else r for r in reasons]))
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('due_on', existing_type=sa.Date(), nullable=False)
    with op.batch_alter_table('notice_lines', schema=None) as batch_op:
        batch_op.alter_column('due_on', existing_type=sa.Date(), nullable=False)
        batch_op.drop_column('installments')
    with op.batch_alter_table('assessment_lines', schema=None) as batch_op:
        batch_op.drop_column('due_terms')
    with op.batch_alter_table('price_table_versions', schema=None) as batch_op:
        batch_op.drop_column('effective_to')
