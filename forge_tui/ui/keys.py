"""Key names for messages, from the bindings in use (so a key remapped in config.toml reads right)."""

from __future__ import annotations

from textual.dom import DOMNode


def key_for(node: DOMNode, action: str) -> str:
    """The key that runs `action` bound on `node` (a screen or widget), remapped by the app's keymap
    and written as the footer writes it; "" when none does. Unlike Screen.active_bindings this does
    not depend on what has focus: an Input in focus hides the letter keys from that."""
    bindings = node._bindings.copy()
    bindings.apply_keymap(node.app._keymap)  # what Screen._binding_chain does with it
    for key_bindings in bindings.key_to_bindings.values():
        for binding in key_bindings:
            if binding.action == action:
                return node.app.get_key_display(binding)
    return ""
