"""The top line: app name, the current dataset, and who is signed in."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from forge_tui.core.models import DatasetInfo
from forge_tui.i18n import _
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.plain import PlainLabel


class ForgeHeader(Localized, Horizontal):
    DEFAULT_CSS = """
    ForgeHeader {
        dock: top;
        height: 1;
        background: $primary-background;
        color: $foreground;

        #header-app {
            width: auto;
            text-style: bold;
            padding: 0 1;
            background: $primary;
            color: $text;
        }
        #header-dataset {
            width: 1fr;
            padding: 0 2;
            text-style: bold;
        }
        #header-user {
            width: auto;
            padding: 0 1;
            color: $text-muted;
        }
        #header-backend {
            width: auto;
            padding: 0 1;
            color: $success;
        }
        #header-backend.down {
            color: $error;
            text-style: bold;
        }
        #header-backend.busy {
            color: $warning;
        }
    }
    """

    def compose(self) -> ComposeResult:
        yield Label("forge-tui", id="header-app")
        yield PlainLabel("", id="header-dataset")
        yield PlainLabel("", id="header-backend")
        yield PlainLabel("", id="header-user")

    def on_mount(self) -> None:
        self.watch(self.app, "dataset", self._set_dataset, init=True)
        self.watch(self.app, "username", self._set_user, init=True)
        self.watch(self.app, "backend_status", self._set_backend, init=True)

    def draw_text(self) -> None:
        self._set_dataset(self.app_dataset)

    @property
    def app_dataset(self) -> DatasetInfo | None:
        dataset = getattr(self.app, "dataset", None)
        return dataset if isinstance(dataset, DatasetInfo) else None

    def _set_dataset(self, dataset: DatasetInfo | None) -> None:
        self.query_one("#header-dataset", Label).update(
            _("dataset: {name}").format(name=dataset.name) if dataset else _("no dataset")
        )

    def _set_user(self, name: str) -> None:
        self.query_one("#header-user", Label).update(name)

    def _set_backend(self, status: str) -> None:
        label = self.query_one("#header-backend", Label)
        label.update(status)
        label.set_class(status.startswith("✗"), "down")
        label.set_class(status.startswith("◐"), "busy")
