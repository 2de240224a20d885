"""An opened data directory: the config and the migrated SQLite file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from forge_tui.core.errors import ForgeError
from forge_tui.services.config import DB_FILE, AppConfig, load_config, resolve_home
from forge_tui.store.db import current_revision, make_engine, migrate
from forge_tui.store.vault import KdfParams


@dataclass
class Home:
    path: Path
    config: AppConfig
    engine: Engine

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    @property
    def kdf_params(self) -> KdfParams:
        sec = self.config.security
        return KdfParams(memory_kib=sec.kdf_memory_kib, iterations=sec.kdf_iterations, lanes=1)

    def schema_revision(self) -> str | None:
        return current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def open_home(explicit: str | Path | None = None) -> Home:
    """Open (creating if needed) the data directory and bring its database to the current schema."""
    path = resolve_home(explicit)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ForgeError(f"Cannot create the data directory {path}: {exc.strerror}") from None
    config = load_config(path)
    engine = make_engine(path / DB_FILE)
    migrate(engine)
    return Home(path=path, config=config, engine=engine)
