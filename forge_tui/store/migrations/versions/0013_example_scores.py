"""An LLM judge's score on each example (plain, indexed for sorting and filtering) and the rest of
its judgement (sub-scores, reason: content, sealed with the account's keys) in a table of its own.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a table rebuild would cascade-delete rows that refer to examples.
    op.add_column("example", sa.Column("score", sa.Float(), nullable=True))
    op.create_index("ix_example_dataset_id_score_id", "example", ["dataset_id", "score", "id", "insert_id"])
    op.create_table(
        "example_judgement",
        sa.Column("example_id", sa.String(), sa.ForeignKey("example.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("key_check", sa.LargeBinary(), nullable=False),
        sa.Column("judged_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_example_judgement_dataset_id", "example_judgement", ["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_example_judgement_dataset_id", table_name="example_judgement")
    op.drop_table("example_judgement")
    op.drop_index("ix_example_dataset_id_score_id", table_name="example")
    with op.batch_alter_table("example") as batch:
        batch.drop_column("score")
