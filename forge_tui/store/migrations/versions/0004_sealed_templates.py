"""Templates, their system-prompt history, custom export formats and example parameters are sealed.

Sealing needs an account's data key, which a migration does not have. So this revision moves the
plaintext aside into `legacy` columns and marks every account `seal_pending`; the account's next
unlock seals it and clears those columns (services/legacy_seal.py). Custom formats, shared by every
account until now, get an owner: one copy per account (none while there is no account yet; the
first account made adopts them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TEMPLATE_FIELDS = ("name", "system_prompt", "user_prompt", "slots", "is_tool_calling", "tools")


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("seal_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    conn.exec_driver_sql("UPDATE user SET seal_pending = 1")

    # template: the plaintext fields become one JSON value in `legacy`.
    op.add_column("template", sa.Column("legacy", sa.Text(), nullable=True))
    found = conn.exec_driver_sql(f"SELECT id, {', '.join(_TEMPLATE_FIELDS)} FROM template").all()
    for row_id, name, system_prompt, user_prompt, slots, is_tool_calling, tools in found:
        fields = {
            "name": name,
            "system_prompt": system_prompt,
            "user_prompt": user_prompt,
            "slots": _json(slots),
            "is_tool_calling": bool(is_tool_calling),
            "tools": _json(tools),
        }
        conn.exec_driver_sql("UPDATE template SET legacy = ? WHERE id = ?", (json.dumps(fields), row_id))
    with op.batch_alter_table("template", recreate="always") as batch:
        for column in _TEMPLATE_FIELDS:
            batch.drop_column(column)
        batch.add_column(sa.Column("name_tag", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("key_check", sa.LargeBinary(), nullable=True))
        batch.create_unique_constraint("uq_template_owner_id_name_tag", ["owner_id", "name_tag"])

    with op.batch_alter_table("system_prompt_history") as batch:
        batch.alter_column(
            "text", new_column_name="legacy_text", existing_type=sa.String(), type_=sa.Text(), nullable=True
        )
    op.add_column("system_prompt_history", sa.Column("text", sa.LargeBinary(), nullable=True))

    # export_template: one owned copy per account.
    op.add_column("export_template", sa.Column("owner_id", sa.Integer(), nullable=True))
    op.add_column("export_template", sa.Column("legacy", sa.Text(), nullable=True))
    formats = conn.exec_driver_sql("SELECT id, name, body FROM export_template WHERE builtin = 0").all()
    users = [row[0] for row in conn.exec_driver_sql("SELECT id FROM user ORDER BY id").all()]
    for format_id, name, body in formats:
        legacy = json.dumps({"name": name, "body": body})
        conn.exec_driver_sql("UPDATE export_template SET legacy = ? WHERE id = ?", (legacy, format_id))
        for user_id in users:
            conn.exec_driver_sql(
                "INSERT INTO export_template (name, category, body, builtin, created_at, owner_id, legacy)"
                " SELECT ?, category, body, builtin, created_at, ?, legacy FROM export_template WHERE id = ?",
                (f"{user_id}|{name}", user_id, format_id),  # the name column goes below; it must stay unique
            )
        if users:
            conn.exec_driver_sql("DELETE FROM export_template WHERE id = ?", (format_id,))
    with op.batch_alter_table("export_template", recreate="always") as batch:
        batch.drop_column("name")
        batch.drop_column("body")
        batch.add_column(sa.Column("name_tag", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("key_check", sa.LargeBinary(), nullable=True))
        batch.create_foreign_key("fk_export_template_owner", "user", ["owner_id"], ["id"], ondelete="CASCADE")
        batch.create_unique_constraint("uq_export_template_owner_id_name_tag", ["owner_id", "name_tag"])

    with op.batch_alter_table("example") as batch:
        batch.alter_column("params", new_column_name="legacy_params", existing_type=sa.JSON(), nullable=True)
    op.add_column("example", sa.Column("params", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    raise RuntimeError(
        "Revision 0004 sealed templates, formats and example parameters with each account's key; "
        "an older schema cannot hold them."
    )
