"""What an unlocked user works with: one object the UI holds and drops when it locks."""

from __future__ import annotations

from dataclasses import dataclass

from forge_tui.core.models import DatasetInfo, UserInfo
from forge_tui.services.accounts import Unlocked
from forge_tui.services.datasets import DatasetService
from forge_tui.services.examples import BrokenExample, ExampleService
from forge_tui.services.home import Home
from forge_tui.services.settings import SettingsService
from forge_tui.services.templates import TemplateService


@dataclass(frozen=True)
class VerifyReport:
    dataset: str
    total: int
    broken: list[BrokenExample]
    resealed: int = 0  # rows from before presence binding, bound now (ExampleService.reseal_legacy)


@dataclass
class Workspace:
    home: Home
    unlocked: Unlocked
    datasets: DatasetService
    examples: ExampleService
    settings: SettingsService
    templates: TemplateService

    @classmethod
    def open(cls, home: Home, unlocked: Unlocked) -> Workspace:
        return cls(
            home=home,
            unlocked=unlocked,
            datasets=DatasetService(home, unlocked.user),
            examples=ExampleService(home, unlocked),
            settings=SettingsService(home, unlocked.user),
            templates=TemplateService(home, unlocked),
        )

    @property
    def user(self) -> UserInfo:
        return self.unlocked.user

    def lock(self) -> None:
        """Drops the data key and every key derived from it."""
        self.examples.forget_keys()
        self.unlocked.lock()

    def resume(self, unlocked: Unlocked) -> None:
        """Takes the keys back after a lock; the same user must have unlocked. The services stay the
        same objects: screens and widgets opened before the lock hold them."""
        self.unlocked.take_key(unlocked)

    def verify(self, dataset: DatasetInfo) -> VerifyReport:
        """Opens every sealed field of the dataset; rows that fail are listed, the rest are fine.
        Rows sealed before the presence marker existed are re-sealed with it first."""
        resealed = self.examples.reseal_legacy(dataset.id)
        total = 0
        broken: list[BrokenExample] = []
        for item in self.examples.scan(dataset.id):
            total += 1
            if isinstance(item, BrokenExample):
                broken.append(item)
        return VerifyReport(dataset=dataset.name, total=total, broken=broken, resealed=resealed)
