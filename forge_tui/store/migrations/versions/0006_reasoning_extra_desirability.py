"""Reasoning, kept-aside fields and KTO desirability on examples.

`example.reasoning` and `example.extra` are sealed like `turns` (NULL when empty; their presence is
bound into the seal of `output`, and rows sealed before keep opening: their marker names only turns).
`example.desirability` is plain, so the Examples table filters on it through its own index.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: no table rebuild, so no foreign-key cascade can touch the rows.
    op.add_column("example", sa.Column("reasoning", sa.LargeBinary(), nullable=True))
    op.add_column("example", sa.Column("extra", sa.LargeBinary(), nullable=True))
    op.add_column("example", sa.Column("desirability", sa.Boolean(), nullable=True))
    op.create_index(
        "ix_example_dataset_id_desirability_id", "example", ["dataset_id", "desirability", "id", "insert_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_example_dataset_id_desirability_id", table_name="example")
    with op.batch_alter_table("example") as batch:
        batch.drop_column("desirability")
        batch.drop_column("extra")
        batch.drop_column("reasoning")
