"""Jobs: the `job` and `job_item` tables reshaped for generation jobs (issue 16).

Nothing ever wrote the tables of revision 0001, so they are dropped and made anew: a job belongs to an
account, its name and spec are sealed with the account's keys (`key_check` names the data key), and
its runner says it is alive through `heartbeat_at`. Each item holds its sealed inputs and seed, is
unique per (job, index), and names the example made from it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_job_item_job_id", table_name="job_item")
    op.drop_table("job_item")
    op.drop_table("job")
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.LargeBinary(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("dataset.id", ondelete="CASCADE"), nullable=True),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("template.id", ondelete="SET NULL"), nullable=True),
        sa.Column("spec", sa.LargeBinary(), nullable=False),
        sa.Column("key_check", sa.LargeBinary(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("pause_reason", sa.String(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("runner_host", sa.String(), nullable=True),
        sa.Column("runner_pid", sa.Integer(), nullable=True),
        sa.Column("heartbeat_at", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_job_owner_id", "job", ["owner_id"])
    op.create_table(
        "job_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("job.id", ondelete="CASCADE"), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.LargeBinary(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("error_kind", sa.String(), nullable=True),
        sa.Column("example_id", sa.String(), sa.ForeignKey("example.id", ondelete="SET NULL"), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.UniqueConstraint("job_id", "idx"),
    )
    op.create_index("ix_job_item_job_id_status_idx", "job_item", ["job_id", "status", "idx"])
    op.create_index("ix_job_item_example_id", "job_item", ["example_id"])


def downgrade() -> None:
    op.drop_index("ix_job_item_example_id", table_name="job_item")
    op.drop_index("ix_job_item_job_id_status_idx", table_name="job_item")
    op.drop_table("job_item")
    op.drop_index("ix_job_owner_id", table_name="job")
    op.drop_table("job")
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("dataset.id", ondelete="CASCADE"), nullable=True),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("template.id", ondelete="SET NULL"), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
    )
    op.create_table(
        "job_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("job.id", ondelete="CASCADE"), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("example_id", sa.String(), sa.ForeignKey("example.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_job_item_job_id", "job_item", ["job_id"])
