"""Jobs on a pool of model servers: the per-endpoint figures the runner writes with its heartbeat,
and whether a pause lets the requests in flight finish or cancels them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a table rebuild would cascade-delete the job's items on SQLite.
    op.add_column("job", sa.Column("endpoint_stats", sa.JSON(), nullable=True))
    op.add_column("job", sa.Column("pause_in_flight", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.drop_column("pause_in_flight")
        batch.drop_column("endpoint_stats")
