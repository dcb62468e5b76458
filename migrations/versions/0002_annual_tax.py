"""annual non-agricultural land use tax: notices and batch runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 16:41:11.249136

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('annual_tax_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tax_year', sa.Integer(), nullable=False),
    sa.Column('province', sa.String(length=10), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('parcels_seen', sa.Integer(), nullable=False),
    sa.Column('notices_created', sa.Integer(), nullable=False),
    sa.Column('missing_price', sa.Integer(), nullable=False),
    sa.Column('missing_quota', sa.Integer(), nullable=False),
    sa.Column('invalid_data', sa.Integer(), nullable=False),
    sa.Column('price_table_versions', sa.JSON(), nullable=False),
    sa.Column('rule_version', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_tax_runs'))
    )
    with op.batch_alter_table('annual_tax_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_tax_runs_tax_year'), ['tax_year'], unique=False)

    op.create_table('annual_tax_notices',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('parcel_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('tax_year', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('exempt', sa.Boolean(), nullable=False),
    sa.Column('price_table_version', sa.String(length=40), nullable=False),
    sa.Column('quota_m2', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('quota_version', sa.String(length=40), nullable=False),
    sa.Column('rule_version', sa.String(length=60), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['holder_id'], ['parties.id'], name=op.f('fk_annual_tax_notices_holder_id_parties')),
    sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'], name=op.f('fk_annual_tax_notices_parcel_id_parcels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annual_tax_notices')),
    sa.UniqueConstraint('code', name=op.f('uq_annual_tax_notices_code')),
    sa.UniqueConstraint('parcel_id', 'tax_year', name=op.f('uq_annual_tax_notices_parcel_id'))
    )
    with op.batch_alter_table('annual_tax_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annual_tax_notices_holder_id'), ['holder_id'], unique=False)



def downgrade():
    with op.batch_alter_table('annual_tax_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_tax_notices_holder_id'))

    op.drop_table('annual_tax_notices')
    with op.batch_alter_table('annual_tax_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annual_tax_runs_tax_year'))

    op.drop_table('annual_tax_runs')
