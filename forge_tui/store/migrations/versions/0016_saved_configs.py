"""Saved job configurations of each account: each one sealed whole with the account's keys, found by
a keyed hash of its name.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_config",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name_tag", sa.LargeBinary(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("key_check", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("owner_id", "name_tag"),
    )
    op.create_index("ix_saved_config_owner_id", "saved_config", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_saved_config_owner_id", table_name="saved_config")
    op.drop_table("saved_config")
