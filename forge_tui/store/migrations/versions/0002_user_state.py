"""Per-user state: the current dataset (kept across restarts) and settings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("current_dataset_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("settings", sa.JSON(), nullable=False, server_default="{}"))
        batch.create_foreign_key(
            "fk_user_current_dataset", "dataset", ["current_dataset_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_constraint("fk_user_current_dataset", type_="foreignkey")
        batch.drop_column("settings")
        batch.drop_column("current_dataset_id")
