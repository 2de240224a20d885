"""The details of the model under the cursor (Ollama's /api/show), as plain text that scrolls."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from forge_tui.core.model_catalog import ModelDetails
from forge_tui.i18n import _
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.plain import PlainStatic

_TEMPLATE_LINES = 12


def details_text(details: ModelDetails) -> str:
    license_line = details.license.strip().splitlines()[0] if details.license.strip() else "—"
    lines = [
        _("{name} on {endpoint}").format(name=details.name, endpoint=details.endpoint),
        _("Family: {family} · parameters: {params} · quantisation: {quant}").format(
            family=details.family or "—", params=details.parameter_size or "—", quant=details.quantization or "—"
        ),
        _("Context length: {context} · capabilities: {capabilities}").format(
            context=details.context_length or "—", capabilities=", ".join(details.capabilities) or "—"
        ),
        _("License: {license}").format(license=license_line),
    ]
    if details.parameters.strip():
        lines += ["", _("Parameters:"), details.parameters.rstrip()]
    if details.template.strip():
        template = details.template.rstrip().splitlines()
        lines += ["", _("Template:"), *template[:_TEMPLATE_LINES]]
        if len(template) > _TEMPLATE_LINES:
            lines.append("…")
    return "\n".join(lines)


class ModelDetailsPane(Localized, VerticalScroll):
    """Shows one model's details, a line saying why there are none, or a hint."""

    DEFAULT_CSS = """
    ModelDetailsPane {
        height: 1fr;
        border-top: solid $primary;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, can_focus=True)
        self._draw: Callable[[], str] = lambda: _("Choose a model to see its details.")
        self.details: ModelDetails | None = None

    def compose(self) -> ComposeResult:
        yield PlainStatic("", id="model-details-text")

    def draw_text(self) -> None:
        self.query_one("#model-details-text", Static).update(self._draw())

    def show(self, details: ModelDetails) -> None:
        self.details = details
        self._draw = lambda: details_text(details)
        self.draw_text()
        self.scroll_home(animate=False)

    def say(self, text: Callable[[], str]) -> None:
        """A line in place of details (a problem, or "loading"), drawn again after a language switch."""
        self.details = None
        self._draw = text
        self.draw_text()
