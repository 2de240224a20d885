"""Text that follows the interface language: what draws it runs again when the language changes.

A widget or screen whose text depends on the language is `Localized`: its `draw_text()` sets that text,
once when it mounts and again after every switch (`redraw_text`, which the app runs over every live
screen). `TLabel`, `TStatic`, `TButton` and `TInput` do it for a fixed message: `TLabel(N_("Username"))`.
Binding descriptions, screen titles and the palette's commands are message ids translated where they
are shown (the footer, F1 help, the palette), so they follow a switch without any of this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual import events
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from forge_tui.i18n import _


class Localized:
    """Mixin for a widget or screen: `draw_text()` sets every text it shows that depends on the language."""

    def draw_text(self) -> None:
        raise NotImplementedError

    def _on_mount(self, _event: events.Mount) -> None:
        self.draw_text()


def translated(message: str, values: dict[str, Any]) -> str:
    text = _(message)
    return text.format(**values) if values else text


class TLabel(Localized, Label):
    """A Label of one message (an N_() constant), with {name} fields filled from `values`."""

    def __init__(self, message: str, *, id: str | None = None, classes: str = "", **values: Any) -> None:
        super().__init__(translated(message, values), id=id, classes=classes, markup=False)
        self.message = message
        self.values = values

    def draw_text(self) -> None:
        self.update(translated(self.message, self.values))


class TStatic(Localized, Static):
    """A Static of one message (wrapped to its width), with {name} fields filled from `values`."""

    def __init__(self, message: str, *, id: str | None = None, classes: str = "", **values: Any) -> None:
        super().__init__(translated(message, values), id=id, classes=classes, markup=False)
        self.message = message
        self.values = values

    def draw_text(self) -> None:
        self.update(translated(self.message, self.values))


class TButton(Localized, Button):
    """A Button whose label is one message."""

    def __init__(self, message: str, **options: Any) -> None:
        super().__init__(_(message), **options)
        self.message = message

    def draw_text(self) -> None:
        self.label = _(self.message)


class TInput(Localized, Input):
    """An Input whose placeholder is one message."""

    def __init__(self, value: str | None = None, *, placeholder: str = "", **options: Any) -> None:
        super().__init__(value, placeholder=_(placeholder) if placeholder else "", **options)
        self.message = placeholder

    def draw_text(self) -> None:
        if self.message:
            self.placeholder = _(self.message)


def localized_nodes(screens: Iterable[Screen[Any]]) -> list[DOMNode]:
    """Every Localized node of `screens`, each screen after its widgets."""
    found: list[DOMNode] = []
    for screen in screens:
        found += [node for node in screen.walk_children(with_self=False) if isinstance(node, Localized)]
        if isinstance(screen, Localized):
            found.append(screen)
    return found


def redraw_text(screens: Iterable[Screen[Any]]) -> None:
    """After a language switch: every Localized node draws its text again, and every footer and
    help list reads the (translated) binding descriptions again. Nothing is rebuilt, so every
    widget keeps its state (an Input its value, a streaming card its text)."""
    screens = list(screens)
    for node in localized_nodes(screens):
        if isinstance(node, Localized):
            node.draw_text()
    for screen in screens:
        screen.refresh_bindings()
