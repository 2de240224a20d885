"""The footer, without rebuilding itself when the keys it shows did not change.

Textual's Footer removes and mounts all its keys on every focus change. Moving between audition
cards (which all have the same keys) would then cost a recompose each time, which on a small
machine holds the event loop for over 100 ms while cards stream.

Binding descriptions are message ids (N_("Templates")): the footer shows them translated, and a
language switch (which refreshes the bindings) draws them again.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

from forge_tui.i18n import _, current


class ForgeFooter(Footer):
    def __init__(self) -> None:
        super().__init__()
        self._shown_keys: Hashable | None = None

    def _keys(self, screen: Screen[object]) -> Hashable:
        return current(), tuple(
            (binding.key, binding.action, binding.description, binding.show, enabled, tooltip, id(binding.group))
            for _node, binding, enabled, tooltip in screen.active_bindings.values()
        )

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.description = _(widget.description) if widget.description else ""
                widget.tooltip = _(str(widget.tooltip)) if isinstance(widget.tooltip, str) and widget.tooltip else None
            elif isinstance(widget, FooterLabel) and isinstance(widget.content, str):
                widget.update(_(widget.content))
            yield widget

    def bindings_changed(self, screen: Screen[object]) -> None:
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            super().bindings_changed(screen)
            return
        keys = self._keys(screen)
        if keys == self._shown_keys:
            return
        self._shown_keys = keys
        super().bindings_changed(screen)
