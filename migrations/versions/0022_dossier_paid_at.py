"""the time a dossier became paid, and the index of the registry's paid list

The registry's list of paid dossiers was sorted by the receipts' time across a join of
notices, receipts and payments, which reads and sorts every paid dossier of the office. The
dossier now keeps the time it became paid (set with its state), filled here from the
receipts it already has, and the list is read in the order of an index on it.

On PostgreSQL the index is built without locking the table against writes (CONCURRENTLY,
outside the migration's transaction).

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

INDEX = ("ix_dossiers_registry_status_paid", "dossiers", ["registry_office_id", "status", "paid_at", "id"])

# A paid (or since completed) dossier: its last receipt for money that settled something.
BACKFILL = """
UPDATE dossiers SET paid_at = (
    SELECT max(receipts.issued_at) FROM receipts
    JOIN notices ON notices.id = receipts.notice_id
    JOIN payment_orders ON payment_orders.id = receipts.payment_id
    WHERE notices.dossier_id = dossiers.id AND NOT payment_orders.needs_refund)
WHERE status IN ('PAID', 'COMPLETED')
"""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    with op.batch_alter_table("dossiers") as batch:
        batch.add_column(sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)
    name, table, columns = INDEX
    if _postgres():
        with op.get_context().autocommit_block():
            op.create_index(name, table, columns, postgresql_concurrently=True, if_not_exists=True)
    else:
        op.create_index(name, table, columns)


def downgrade():
    name, table, _columns = INDEX
    if _postgres():
        with op.get_context().autocommit_block():
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
    else:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("dossiers") as batch:
        batch.drop_column("paid_at")
