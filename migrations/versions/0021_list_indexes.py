"""indexes and orderings that serve every paginated list

Each list is read a page at a time in the order of its key (app/services/lists.py); these
indexes hold the rows of each list in that order, so a page reads its own rows only. On
PostgreSQL they are built without locking the tables against writes (CONCURRENTLY, outside
the migration's transaction).

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_dossiers_registry_filed", "dossiers", ["registry_office_id", "filed_at", "id"]),
    ("ix_dossiers_registry_status_filed", "dossiers", ["registry_office_id", "status", "filed_at", "id"]),
    ("ix_dossiers_tax_filed", "dossiers", ["tax_office_id", "filed_at", "id"]),
    ("ix_dossiers_filed", "dossiers", ["filed_at", "id"]),
    ("ix_dossiers_parcel", "dossiers", ["parcel_id"]),
    ("ix_assessments_office_status_created", "assessments", ["tax_office_id", "status", "created_at", "id"]),
    ("ix_assessments_office_status_confirmed", "assessments",
     ["tax_office_id", "status", "confirmed_at", "id"]),
    ("ix_assessments_office_created", "assessments", ["tax_office_id", "created_at", "id"]),
    ("ix_assessments_created", "assessments", ["created_at", "id"]),
    ("ix_notices_issued", "notices", ["issued_at", "id"]),
    ("ix_annual_tax_notices_holder_year", "annual_tax_notices", ["holder_id", "tax_year", "id"]),
]


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _postgres():
        with op.get_context().autocommit_block():
            for name, table, columns in INDEXES:
                op.create_index(name, table, columns, postgresql_concurrently=True, if_not_exists=True)
    else:
        for name, table, columns in INDEXES:
            op.create_index(name, table, columns)


def downgrade():
    if _postgres():
        with op.get_context().autocommit_block():
            for name, table, _columns in reversed(INDEXES):
                op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
    else:
        for name, table, _columns in reversed(INDEXES):
            op.drop_index(name, table_name=table)
