"""Messages between the app and its screens: hand-offs and shared state travel here, never as fields on
the services' Workspace. Widget-level messages live beside their widget (e.g. TemplateList.Chosen)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from forge_tui.core.example_filter import ExampleFilter
from forge_tui.core.models import DatasetInfo, Example
from forge_tui.services.comparison import Contender


@dataclass
class DatasetSwitched(Message, bubble=False):
    """The app sends this to every screen when the current dataset changed (switched, renamed, or gone)."""

    dataset: DatasetInfo | None


@dataclass
class SwitchDataset(Message):
    """Asks the app to make a dataset the current one (from a screen or the palette)."""

    dataset_id: int


@dataclass
class SwitchLanguage(Message):
    """Asks the app to show every screen in another language and save it as the account's choice."""

    language: str


@dataclass
class ShowJobExamples(Message):
    """Asks the app to show the examples one job made (in its dataset, made the current one)."""

    dataset_id: int
    job_id: int


class DatasetsChanged(Message):
    """A dataset was created, renamed, archived or filled: the app reads the current one and the
    palette's list again."""


@dataclass
class Regenerate(Message):
    """Examples chosen to be asked again: the app opens Audition with them."""

    examples: list[Example]


@dataclass
class TemplateOpened(Message):
    """The template the user last opened: Audition starts with it."""

    template_id: int


@dataclass
class AskAgain(Message, bubble=False):
    """The app hands Audition the examples of a Regenerate request."""

    examples: list[Example]


@dataclass
class StartWithTemplate(Message, bubble=False):
    """The app tells Audition which template was last opened (from TemplateOpened)."""

    template_id: int


@dataclass
class ReviewExamples(Message):
    """Asks the app to open the review queue on these examples (the Examples screen's filter)."""

    wanted: ExampleFilter


@dataclass
class OpenInPlayground(Message):
    """An example to continue or fix in a chat: the app opens the Playground with it."""

    example: Example


@dataclass
class StartFromExample(Message, bubble=False):
    """The app hands the Playground the example of an OpenInPlayground request."""

    example: Example


@dataclass
class CompareWith(Message):
    """Asks the app to open Audition comparing two models side by side (from the Models screen)."""

    left: Contender
    right: Contender


@dataclass
class CompareModels(Message, bubble=False):
    """The app hands Audition the two models of a CompareWith request."""

    left: Contender
    right: Contender


@dataclass
class TrainBundle(Message):
    """Asks the app to start a training run of the bundle in `folder` and show it (from Export)."""

    folder: Path
