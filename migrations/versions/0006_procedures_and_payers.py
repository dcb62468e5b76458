"""procedures and payers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 08:00:00

A dossier's parties move to ``dossier_parties`` (role, share, position), so a dossier can
have several transferors and transferees with shares: each existing dossier's transferor and
transferee become its first-named parties of each role (the transferee with a share of 1),
and the two columns go. Dossiers get the contract's tax payer clause (``default`` for the
existing ones) and the fields of a change of use. A notice belongs to one payer side (an
assessment may now have several notices: ``payer_role``, existing notices are the
transferee's); a notice line added when paying (late interest) has no assessment line and
keeps its own detail; a payment order records the late interest it includes.
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OPEN = "status NOT IN ('COMPLETED')"

dossiers = sa.table('dossiers', sa.column('id', sa.Integer()),
                    sa.column('transferor_id', sa.Integer()),
                    sa.column('transferee_id', sa.Integer()))
dossier_parties = sa.table(
    'dossier_parties', sa.column('dossier_id', sa.Integer()), sa.column('party_id', sa.Integer()),
    sa.column('role', sa.String()), sa.column('position', sa.Integer()),
    sa.column('share_num', sa.Integer()), sa.column('share_den', sa.Integer()))


def upgrade():
    op.create_table('dossier_parties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('share_num', sa.Integer(), nullable=True),
    sa.Column('share_den', sa.Integer(), nullable=True),
    sa.CheckConstraint('(share_num IS NULL AND share_den IS NULL) OR '
                       '(share_num > 0 AND share_den > 0 AND share_num <= share_den)',
                       name=op.f('ck_dossier_parties_share')),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id'], name=op.f('fk_dossier_parties_dossier_id_dossiers')),
    sa.ForeignKeyConstraint(['party_id'], ['parties.id'], name=op.f('fk_dossier_parties_party_id_parties')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dossier_parties')),
    sa.UniqueConstraint('dossier_id', 'role', 'position', name=op.f('uq_dossier_parties_dossier_id')),
    sa.UniqueConstraint('dossier_id', 'role', 'party_id', name='uq_dossier_parties_party'),
    )
    with op.batch_alter_table('dossier_parties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_parties_dossier_id'), ['dossier_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossier_parties_party_id'), ['party_id'], unique=False)

    conn = op.get_bind()
    for role, column in (('transferor', dossiers.c.transferor_id),
                         ('transferee', dossiers.c.transferee_id)):
        share = sa.literal(1) if role == 'transferee' else sa.null()
        conn.execute(dossier_parties.insert().from_select(
            ['dossier_id', 'party_id', 'role', 'position', 'share_num', 'share_den'],
            sa.select(dossiers.c.id, column, sa.literal(role), sa.literal(1), share, share)))

    # The partial index is dropped and made again around the table's rebuild (SQLite).
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('uq_dossiers_one_open_per_parcel')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossiers_transferor_id'))
        batch_op.drop_index(batch_op.f('ix_dossiers_transferee_id'))
        batch_op.drop_constraint(batch_op.f('fk_dossiers_transferor_id_parties'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_dossiers_transferee_id_parties'), type_='foreignkey')
        batch_op.drop_column('transferor_id')
        batch_op.drop_column('transferee_id')
        batch_op.add_column(sa.Column('tax_payer_clause', sa.String(length=20),
                                      server_default='default', nullable=False))
        batch_op.add_column(sa.Column('new_land_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('old_land_type', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('old_table_price_per_m2', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('old_land_money', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index('uq_dossiers_one_open_per_parcel', ['parcel_id'], unique=True,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notices_assessment_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_notices_assessment_id'), ['assessment_id'], unique=False)
        batch_op.add_column(sa.Column('payer_role', sa.String(length=20),
                                      server_default='transferee', nullable=False))
    with op.batch_alter_table('notice_lines', schema=None) as batch_op:
        batch_op.alter_column('assessment_line_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('detail', sa.JSON(), nullable=True))
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_interest', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0',
                                      nullable=False))


def downgrade():
    # Only the first-named transferor and transferee survive; a change of use (no
    # transferee) keeps its holder on both sides. Late-interest lines stay as they are.
    with op.batch_alter_table('payment_orders', schema=None) as batch_op:
        batch_op.drop_column('late_interest')
    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM notice_lines WHERE assessment_line_id IS NULL"))
    with op.batch_alter_table('notice_lines', schema=None) as batch_op:
        batch_op.drop_column('detail')
        batch_op.alter_column('assessment_line_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_column('payer_role')
        batch_op.drop_index(batch_op.f('ix_notices_assessment_id'))
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('uq_dossiers_one_open_per_parcel')
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_column('old_land_money')
        batch_op.drop_column('old_table_price_per_m2')
        batch_op.drop_column('old_land_type')
        batch_op.drop_column('new_land_type')
        batch_op.drop_column('tax_payer_clause')
        batch_op.add_column(sa.Column('transferor_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('transferee_id', sa.Integer(), nullable=True))
    conn.execute(sa.text(
        "UPDATE dossiers SET transferor_id = (SELECT party_id FROM dossier_parties p "
        "WHERE p.dossier_id = dossiers.id AND p.role IN ('transferor', 'holder') "
        "ORDER BY p.role = 'holder', p.position LIMIT 1)"))
    conn.execute(sa.text(
        "UPDATE dossiers SET transferee_id = COALESCE((SELECT party_id FROM dossier_parties p "
        "WHERE p.dossier_id = dossiers.id AND p.role = 'transferee' "
        "ORDER BY p.position LIMIT 1), transferor_id)"))
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.alter_column('transferor_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('transferee_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_transferor_id_parties'), 'parties',
                                    ['transferor_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_dossiers_transferee_id_parties'), 'parties',
                                    ['transferee_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_dossiers_transferor_id'), ['transferor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_transferee_id'), ['transferee_id'], unique=False)
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index('uq_dossiers_one_open_per_parcel', ['parcel_id'], unique=True,
                              sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_notices_assessment_id'), ['assessment_id'])
    with op.batch_alter_table('dossier_parties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dossier_parties_party_id'))
        batch_op.drop_index(batch_op.f('ix_dossier_parties_dossier_id'))
    op.drop_table('dossier_parties')
