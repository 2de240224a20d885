"""Key rotation: the plan of a rotation in progress, and the re-sealed rows waiting for their switch.

`key_rotation` holds, per account, the new data key wrapped under the current one, so a rotation
cut off midway (a kill, a power loss) is finished by the next run with the same new key.
`reseal_shadow` holds a dataset's rows re-sealed under the new key, written in short transactions,
until one transaction switches the whole dataset over (store.key_rotation).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_rotation",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("old_check", sa.LargeBinary(), nullable=False),
        sa.Column("new_check", sa.LargeBinary(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "reseal_shadow",
        sa.Column("example_id", sa.String(), sa.ForeignKey("example.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False),
        sa.Column("old_digest", sa.LargeBinary(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_reseal_shadow_dataset_id", "reseal_shadow", ["dataset_id"])


def downgrade() -> None:
    op.drop_index("ix_reseal_shadow_dataset_id", table_name="reseal_shadow")
    op.drop_table("reseal_shadow")
    op.drop_table("key_rotation")
