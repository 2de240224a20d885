"""Where an example came from and whether a person accepted it; the language flag of a job's answer.

`example.source` (audition, import, job, playground), `example.job_id` (the job that made it),
`example.review` (accepted, unreviewed, rejected) and `example.language_flag` are plain, so the
Examples table and export filter on them in SQL. Rows from before: an example with neither a template
nor a model was imported, every other one came from Audition; all were chosen by a person (accepted).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: no table rebuild, so no foreign-key cascade can touch the rows.
    op.add_column("example", sa.Column("source", sa.String(), nullable=False, server_default="audition"))
    op.add_column("example", sa.Column("job_id", sa.Integer(), nullable=True))
    op.add_column("example", sa.Column("review", sa.String(), nullable=False, server_default="accepted"))
    op.add_column("example", sa.Column("language_flag", sa.String(), nullable=True))
    op.execute("UPDATE example SET source = 'import' WHERE template_id IS NULL AND model = ''")
    op.create_index("ix_example_dataset_id_review_id", "example", ["dataset_id", "review", "id", "insert_id"])
    op.create_index("ix_example_job_id", "example", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_example_job_id", table_name="example")
    op.drop_index("ix_example_dataset_id_review_id", table_name="example")
    with op.batch_alter_table("example") as batch:
        batch.drop_column("language_flag")
        batch.drop_column("review")
        batch.drop_column("job_id")
        batch.drop_column("source")
