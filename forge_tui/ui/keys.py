"""Key names for messages, from the bindings in use (so a key remapped in config.toml reads right)."""

from __future__ import annotations

from textual.app import App
from textual.binding import BindingsMap
from textual.dom import DOMNode


def key_for(node: DOMNode, action: str) -> str:
    """The key that runs `action` bound on `node` (a screen or widget), remapped by the app's keymap
    and written as the footer writes it; "" when none does. Unlike Screen.active_bindings this does
    not depend on what has focus: an Input in focus hides the letter keys from that."""
    return _key_in(node._bindings, node.app, action)


def class_key(app: App[object], kind: type[DOMNode], action: str) -> str:
    """As key_for, for a widget or dialog that is not on screen now (the detail view named in help)."""
    merged = kind._merged_bindings
    return _key_in(merged if merged is not None else BindingsMap(), app, action)


def _key_in(bindings: BindingsMap, app: App[object], action: str) -> str:
    bindings = bindings.copy()
    bindings.apply_keymap(app._keymap)  # what Screen._binding_chain does with it
    for key_bindings in bindings.key_to_bindings.values():
        for binding in key_bindings:
            if binding.action == action:
                return app.get_key_display(binding)
    return ""
