"""procedures: recognition, allocation, lease, annual rent, extension

Revision ID: 0012
Revises: 0011

A dossier gets the fields of the procedures beyond transfers and changes of use: the case of
a recognition, the infrastructure cost of an allocation, a lease's rent mode, term and rate,
an extension's months and the term's end before and after. A parcel records the end of its
land use term. Completed leases are recorded in ``leases``; each year of annual rent is a
notice recorded once in ``lease_rent_years`` (what makes the yearly batch safe to re-run).
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

MONEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.add_column(sa.Column('term_ends_on', sa.Date(), nullable=True))
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recognition_kind', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('infrastructure_cost_per_m2', MONEY, nullable=True))
        batch_op.add_column(sa.Column('rent_mode', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('lease_term_years', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rent_rate', sa.Numeric(8, 6), nullable=True))
        batch_op.add_column(sa.Column('months_extended', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('old_term_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('new_term_end', sa.Date(), nullable=True))
    op.create_table(
        'leases',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('parcel_id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('rent_mode', sa.String(length=10), nullable=False),
        sa.Column('rent_rate', sa.Numeric(8, 6), nullable=True),
        sa.Column('term_years', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'],
                                name=op.f('fk_leases_dossier_id_dossiers')),
        sa.ForeignKeyConstraint(['parcel_id'], ['parcels.id'],
                                name=op.f('fk_leases_parcel_id_parcels')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_leases')),
        sa.UniqueConstraint('dossier_id', name=op.f('uq_leases_dossier_id')),
    )
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leases_parcel_id'), ['parcel_id'], unique=False)
    op.create_table(
        'lease_rent_years',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lease_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['lease_id'], ['leases.id'],
                                name=op.f('fk_lease_rent_years_lease_id_leases')),
        sa.ForeignKeyConstraint(['notice_id'], ['notices.id'],
                                name=op.f('fk_lease_rent_years_notice_id_notices')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lease_rent_years')),
        sa.UniqueConstraint('lease_id', 'year', name=op.f('uq_lease_rent_years_lease_id')),
        sa.UniqueConstraint('notice_id', name=op.f('uq_lease_rent_years_notice_id')),
    )


def downgrade():
    op.drop_table('lease_rent_years')
    with op.batch_alter_table('leases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leases_parcel_id'))
    op.drop_table('leases')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        for column in ('new_term_end', 'old_term_end', 'months_extended', 'rent_rate',
                       'lease_term_years', 'rent_mode', 'infrastructure_cost_per_m2',
                       'recognition_kind'):
            batch_op.drop_column(column)
    with op.batch_alter_table('parcels', schema=None) as batch_op:
        batch_op.drop_column('term_ends_on')
