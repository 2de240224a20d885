"""Per-user settings: the model server, the default models, the theme, the interface language and whether
side-by-side auditions are blind."""

from __future__ import annotations

from pydantic import ValidationError

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import StructuredMode
from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.models import UserInfo
from forge_tui.core.structured_output import MODES
from forge_tui.i18n import LANGUAGES, _
from forge_tui.services.home import Home
from forge_tui.store.db import read_session, write_session
from forge_tui.store.tables import User

_BACKEND_KEY = "backend"
_THEME_KEY = "theme"
_LANGUAGE_KEY = "language"
_BLIND_KEY = "compare_blind"
# Kept apart from the backend settings: a Settings form saved from an older copy must not forget
# what a server was found to take meanwhile.
_STRUCTURED_KEY = "structured_output"


class SettingsService:
    def __init__(self, home: Home, user: UserInfo) -> None:
        self.home = home
        self.user = user

    def backend(self) -> BackendSettings:
        with read_session(self.home.engine) as s:
            row = self._row(s.get(User, self.user.id))
        stored = dict((row.settings or {}).get(_BACKEND_KEY) or {})
        stored["generation_model"] = row.default_generation_model
        stored["paraphrase_model"] = row.default_paraphrase_model
        learned = _learned_modes((row.settings or {}).get(_STRUCTURED_KEY))
        stored["structured_output"] = learned
        try:
            return BackendSettings.model_validate(stored)
        except ValidationError:
            # Settings written by a newer or broken version: keep the models, start the rest afresh.
            return BackendSettings(
                generation_model=row.default_generation_model,
                paraphrase_model=row.default_paraphrase_model,
                structured_output=learned,
            )

    def save_backend(self, settings: BackendSettings) -> BackendSettings:
        data = settings.model_dump(exclude={"generation_model", "paraphrase_model", "structured_output"})
        with write_session(self.home.engine) as s:
            row = self._row(s.get(User, self.user.id))
            row.settings = {**(row.settings or {}), _BACKEND_KEY: data}
            row.default_generation_model = settings.generation_model
            row.default_paraphrase_model = settings.paraphrase_model
        return settings

    def remember_structured_output(self, endpoint: str, mode: StructuredMode) -> None:
        """Saves the structured-output mode an endpoint took (BackendService's `remember`)."""
        with write_session(self.home.engine) as s:
            row = self._row(s.get(User, self.user.id))
            learned = _learned_modes((row.settings or {}).get(_STRUCTURED_KEY))
            row.settings = {**(row.settings or {}), _STRUCTURED_KEY: {**learned, endpoint: mode}}

    def theme(self) -> str | None:
        with read_session(self.home.engine) as s:
            value = (self._row(s.get(User, self.user.id)).settings or {}).get(_THEME_KEY)
        return value if isinstance(value, str) else None

    def save_theme(self, name: str) -> None:
        with write_session(self.home.engine) as s:
            row = self._row(s.get(User, self.user.id))
            row.settings = {**(row.settings or {}), _THEME_KEY: name}

    def language(self) -> str | None:
        """The interface language the user chose ("en", "zh_TW"), or None when they never did."""
        with read_session(self.home.engine) as s:
            value = (self._row(s.get(User, self.user.id)).settings or {}).get(_LANGUAGE_KEY)
        return value if isinstance(value, str) and value in LANGUAGES else None

    def save_language(self, language: str) -> None:
        if language not in LANGUAGES:
            raise InvalidInput(_("forge-tui has no language '{language}'.").format(language=language))
        with write_session(self.home.engine) as s:
            row = self._row(s.get(User, self.user.id))
            row.settings = {**(row.settings or {}), _LANGUAGE_KEY: language}

    def compare_blind(self) -> bool:
        """Whether a side-by-side audition draws which model is shown left, row by row (off until set)."""
        with read_session(self.home.engine) as s:
            value = (self._row(s.get(User, self.user.id)).settings or {}).get(_BLIND_KEY)
        return value is True

    def save_compare_blind(self, blind: bool) -> None:
        with write_session(self.home.engine) as s:
            row = self._row(s.get(User, self.user.id))
            row.settings = {**(row.settings or {}), _BLIND_KEY: blind}

    def _row(self, row: User | None) -> User:
        if row is None:
            raise NotFound(_("The account '{username}' no longer exists.").format(username=self.user.username))
        return row


def _learned_modes(value: object) -> dict[str, StructuredMode]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if v in MODES}
