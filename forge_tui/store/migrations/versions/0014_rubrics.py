"""Custom judge rubrics of each account: name, template and few-shot count sealed with the account's
keys, found by a keyed hash of the name.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rubric",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name_tag", sa.LargeBinary(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("key_check", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("owner_id", "name_tag"),
    )
    op.create_index("ix_rubric_owner_id", "rubric", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_rubric_owner_id", table_name="rubric")
    op.drop_table("rubric")
