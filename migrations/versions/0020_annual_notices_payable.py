"""annual non-agricultural land use tax notices are payable: a notice may have no dossier

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('dossier_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('assessment_id', existing_type=sa.Integer(), nullable=True)
    # An annual notice's payable notice is the notice of the same code: no new column.


def downgrade():
    # Notices without a dossier (the annual tax's) cannot be kept by the older schema. Those
    # never paid are dropped (a re-run of the batch issues them again after an upgrade); one
    # with a payment attempt is money on record: the downgrade stops rather than lose it.
    bind = op.get_bind()
    paid = bind.execute(sa.text(
        "SELECT count(*) FROM payment_orders WHERE notice_id IN "
        "(SELECT id FROM notices WHERE dossier_id IS NULL)")).scalar()
    if paid:
        raise RuntimeError(f"{paid} payment orders belong to notices without a dossier (annual "
                           "tax); they cannot be kept by revision 0019")
    op.execute("DELETE FROM notice_lines WHERE notice_id IN "
               "(SELECT id FROM notices WHERE dossier_id IS NULL)")
    op.execute("DELETE FROM notices WHERE dossier_id IS NULL")
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.alter_column('assessment_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('dossier_id', existing_type=sa.Integer(), nullable=False)
