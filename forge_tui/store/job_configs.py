"""Saved job configurations of one account (saved_config rows): the whole configuration is one sealed
JSON value, and `name_tag` (a keyed hash) finds a name (store.named_sealed)."""

from __future__ import annotations

from forge_tui.core.job_configs import AnyConfig, from_document, to_document
from forge_tui.store.named_sealed import NamedSealed
from forge_tui.store.tables import SavedConfigRow


def _name(config: AnyConfig) -> str:
    return config.name


ROWS: NamedSealed[SavedConfigRow, AnyConfig] = NamedSealed(
    SavedConfigRow, "saved_config", to_document, from_document, _name
)
open_row = ROWS.open_row
list_for_owner = ROWS.list_for_owner
get_by_name = ROWS.get_by_name
save = ROWS.save
reseal = ROWS.reseal
