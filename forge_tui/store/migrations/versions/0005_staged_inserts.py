"""Staged inserts: an import writes in short transactions, its rows hidden until one last step.

`example.insert_id` names the staged insert that wrote a row; a row whose insert is still in
`pending_insert` is hidden. The (dataset_id, id) index gains insert_id so that counting and paging
test visibility without reading rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no table rebuild, so no foreign-key cascade can touch the rows.
    op.add_column("example", sa.Column("insert_id", sa.Integer(), nullable=True))
    op.create_index("ix_example_dataset_id_id_insert_id", "example", ["dataset_id", "id", "insert_id"])
    op.drop_index("ix_example_dataset_id_id", table_name="example")
    op.create_table(
        "pending_insert",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False),
        sa.Column("host", sa.String(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    # Rows of an unfinished insert would show once the column is gone: delete them first.
    op.execute("DELETE FROM example WHERE insert_id IN (SELECT id FROM pending_insert)")
    op.drop_table("pending_insert")
    op.create_index("ix_example_dataset_id_id", "example", ["dataset_id", "id"])
    op.drop_index("ix_example_dataset_id_id_insert_id", table_name="example")
    with op.batch_alter_table("example") as batch:
        batch.drop_column("insert_id")
