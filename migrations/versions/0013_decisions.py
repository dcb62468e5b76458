"""officers' decisions: versions, returns, rejections, withdrawals

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

Money = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OPEN_BEFORE = "status NOT IN ('COMPLETED')"
_OPEN_AFTER = "status NOT IN ('COMPLETED', 'REJECTED', 'WITHDRAWN')"


def _open_index(where: str) -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('uq_dossiers_one_open_per_parcel')
        batch_op.create_index('uq_dossiers_one_open_per_parcel', ['parcel_id'], unique=True,
                              sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('supersedes_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_assessments_supersedes_id_assessments', 'assessments',
                                    ['supersedes_id'], ['id'])
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_notices_replaces_id_notices', 'notices',
                                    ['replaces_id'], ['id'])
    # A rejected or withdrawn dossier frees its parcel like a completed one.
    _open_index(_OPEN_AFTER)

    op.create_table(
        'assessment_adjustments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('new_assessment_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.Enum('PENDING_APPROVAL', 'APPLIED', 'DISCARDED',
                                    name='adjustmentstatus', native_enum=False, length=20),
                  nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('total_before', Money, nullable=False),
        sa.Column('total_after', Money, nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('approved_by_id', sa.Integer(), nullable=True),
        sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id']),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id']),
        sa.ForeignKeyConstraint(['new_assessment_id'], ['assessments.id']),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['approved_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('assessment_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_adjustments_dossier_id'), ['dossier_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_assessment_adjustments_assessment_id'),
                              ['assessment_id'], unique=False)
        batch_op.create_index('uq_assessment_adjustments_one_pending', ['dossier_id'], unique=True,
                              sqlite_where=sa.text("status = 'PENDING_APPROVAL'"),
                              postgresql_where=sa.text("status = 'PENDING_APPROVAL'"))

    op.create_table(
        'dossier_returns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dossier_id', sa.Integer(), nullable=False),
        sa.Column('returned_from', sa.String(length=30), nullable=False),
        sa.Column('missing', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('returned_by_id', sa.Integer(), nullable=False),
        sa.Column('returned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('supplied_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('supplied_by_id', sa.Integer(), nullable=True),
        sa.Column('supplied_how', sa.String(length=20), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('file_name', sa.String(length=200), nullable=True),
        sa.Column('file_path', sa.String(length=300), nullable=True),
        sa.Column('file_type', sa.String(length=60), nullable=True),
        sa.Column('file_size', sa.Integer(), nullable=True),
        sa.Column('file_sha256', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['dossier_id'], ['dossiers.id']),
        sa.ForeignKeyConstraint(['returned_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['supplied_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('dossier_returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossier_returns_dossier_id'), ['dossier_id'],
                              unique=False)
        batch_op.create_index('uq_dossier_returns_one_open', ['dossier_id'], unique=True,
                              sqlite_where=sa.text("supplied_at IS NULL"),
                              postgresql_where=sa.text("supplied_at IS NULL"))


def downgrade():
    with op.batch_alter_table('dossier_returns', schema=None) as batch_op:
        batch_op.drop_index('uq_dossier_returns_one_open')
        batch_op.drop_index(batch_op.f('ix_dossier_returns_dossier_id'))
    op.drop_table('dossier_returns')
    with op.batch_alter_table('assessment_adjustments', schema=None) as batch_op:
        batch_op.drop_index('uq_assessment_adjustments_one_pending')
        batch_op.drop_index(batch_op.f('ix_assessment_adjustments_assessment_id'))
        batch_op.drop_index(batch_op.f('ix_assessment_adjustments_dossier_id'))
    op.drop_table('assessment_adjustments')
    _open_index(_OPEN_BEFORE)
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_constraint('fk_notices_replaces_id_notices', type_='foreignkey')
        batch_op.drop_column('replaces_id')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_constraint('fk_assessments_supersedes_id_assessments', type_='foreignkey')
        batch_op.drop_column('supersedes_id')
        batch_op.drop_column('version')
