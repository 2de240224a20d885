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
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

from forge_tui.i18n import _, current


class ForgeFooter(Footer):
    DEFAULT_CSS = """
    ForgeFooter > .footer-keys {
        width: 1fr;
        height: 1;
        overflow: hidden hidden;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown_keys: Hashable | None = None

    def _keys(self, screen: Screen[object]) -> Hashable:
        return current(), tuple(
            (binding.key, binding.action, binding.description, binding.show, enabled, tooltip, id(binding.group))
            for _node, binding, enabled, tooltip in screen.active_bindings.values()
        )

    def compose(self) -> ComposeResult:
        # The keys sit in a container that ends where the palette key begins, so the keys that do not
        # fit are clipped there instead of running on beneath it: the compositor cuts a line at every
        # widget's edge, and an edge beneath the palette key would cut a wide (CJK) character of its
        # label in half, which shows as blanks.
        palette: FooterKey | None = None
        with Horizontal(classes="footer-keys"):
            for widget in super().compose():
                if isinstance(widget, FooterKey):
                    widget.description = _(widget.description) if widget.description else ""
                    tooltip = widget.tooltip
                    widget.tooltip = _(str(tooltip)) if isinstance(tooltip, str) and tooltip else None
                    if widget.has_class("-command-palette"):
                        palette = widget
                        continue
                elif isinstance(widget, FooterLabel) and isinstance(widget.content, str):
                    widget.update(_(widget.content))
                yield widget
        if palette is not None:
            yield palette

    def bindings_changed(self, screen: Screen[object]) -> None:
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            super().bindings_changed(screen)
            return
        keys = self._keys(screen)
        if keys == self._shown_keys:
            return
        self._shown_keys = keys
        super().bindings_changed(screen)
