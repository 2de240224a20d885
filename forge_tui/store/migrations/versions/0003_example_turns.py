"""Examples of several turns (imported conversations): a sealed `turns` column, NULL for one exchange.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no table rebuild, so no foreign-key cascade can touch the rows.
    op.add_column("example", sa.Column("turns", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("example") as batch:
        batch.drop_column("turns")
