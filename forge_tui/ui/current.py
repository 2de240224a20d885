"""The current dataset as screens and widgets read it: the app's `dataset` reactive, typed.

Screens cannot import the app (it imports them); they read the reactive through this Protocol. An app
without one (a test harness) has no current dataset."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.dom import DOMNode

from forge_tui.core.models import DatasetInfo
from forge_tui.i18n import _


@runtime_checkable
class HoldsDataset(Protocol):
    dataset: DatasetInfo | None


def current_dataset(node: DOMNode) -> DatasetInfo | None:
    app = node.app
    return app.dataset if isinstance(app, HoldsDataset) else None


def no_dataset(datasets_key: str) -> str:
    """What a screen that shows the current dataset says when there is none (`datasets_key` opens Datasets)."""
    if datasets_key:
        return _("There is no current dataset: make one on the Datasets screen ({key}).").format(key=datasets_key)
    return _("There is no current dataset: make one on the Datasets screen.")
