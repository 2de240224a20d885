"""An index for the Examples table's source filter, as desirability and review have theirs.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_example_dataset_id_source_id", "example", ["dataset_id", "source", "id", "insert_id"])


def downgrade() -> None:
    op.drop_index("ix_example_dataset_id_source_id", table_name="example")
